"""Browser tests: the app served by a real server, driven in Debian's Chromium.

One server per run (``e2e/serve.py``: fresh database, migrations, demo data);
one browser; a fresh browser context (cookies, downloads) per test. The
journeys run in file order and tell one story: the donor's gift of the first
journey is the one the treasurer finds in the fourth.

Every page a journey visits goes through :func:`Pages.check`, which saves a
screenshot at 1280 and at 375 px wide under ``artifacts/e2e/``, fails if the
page scrolls sideways at 375 px, and runs axe-core, failing on any serious or
critical violation, at both widths (some rules depend on the layout). With
E2E_AXE_REPORT=FILE set, violations are written to FILE instead of failing, to see
them all in one run.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
    sync_playwright,
)
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
WIDE, NARROW = 1280, 375

# The demo accounts `flask demo load` creates (README).
ADMIN = ("admin@example.org", "admin-demo-pass")
TREASURER = ("treasurer@example.org", "treasurer-demo-pass")
STAFF = ("staff@example.org", "staff-demo-pass")
# A partner agency's login (Safe Passage clinic), with one open request for staff.
PARTNER = ("partner@example.org", "partner-demo-pass")

# Chromium flags: headless, no GPU, and nothing that reaches for the internet
# (this machine has none; without these Chromium retries blocked connections).
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--metrics-recording-only",
]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    CHROMIUM_ARGS.append("--no-sandbox")

SERIOUS = {"serious", "critical"}

# What scrolls sideways: the page's widths and the first elements past the right edge.
OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const wide = [];
  if (doc.scrollWidth > doc.clientWidth) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > doc.clientWidth + 1 && getComputedStyle(el).position !== 'fixed') {
        const cls = typeof el.className === 'string' && el.className
          ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
        wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls
          + ' right=' + Math.round(r.right));
        if (wide.length > 8) break;
      }
    }
  }
  return {scroll: doc.scrollWidth, client: doc.clientWidth, wide};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app server exited ({proc.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the app server did not answer {url} in {seconds} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[str]:
    """Start ``e2e/serve.py`` on a free loopback port; yield its base URL."""
    workdir = tmp_path_factory.mktemp("e2e-app")
    port = _free_port()
    log = workdir / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "e2e" / "serve.py"), str(workdir), str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/healthz", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        # A 500 anywhere in the run is a failure even if a page looked fine.
        errors = [line for line in log.read_text().splitlines() if '" 500 ' in line]
        assert not errors, "the server answered 500:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.exit(f"{CHROMIUM} is missing: apt-get install -y chromium (make e2e does)", 2)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session", autouse=True)
def _artifacts() -> None:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=server,
        viewport={"width": WIDE, "height": 900},
        accept_downloads=True,
        locale="en-US",
        timezone_id="America/Chicago",
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


class Pages:
    """Checks every visited page: screenshots at two widths, no sideways scroll, axe."""

    def __init__(self, page: Page, axe: Axe, test_name: str) -> None:
        self.page = page
        self.axe = axe
        self.prefix = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")
        self.count = 0
        self.visited: list[str] = []

    def check(self, name: str, *, axe: bool = True) -> None:
        """Check the page as it is now; ``name`` names its screenshots."""
        page = self.page
        page.wait_for_load_state("load")
        self.count += 1
        slug = f"{self.prefix}-{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}"
        self.visited.append(page.url)
        title = page.title()
        assert title.strip(), f"{page.url} has no title"
        assert page.locator("h1").count() >= 1, f"{page.url} ({name}) has no h1"
        page.screenshot(path=str(ARTIFACTS / f"{slug}-{WIDE}.png"), full_page=True)
        if axe:
            self._axe(name, WIDE)
        page.set_viewport_size({"width": NARROW, "height": 800})
        try:
            page.screenshot(path=str(ARTIFACTS / f"{slug}-{NARROW}.png"), full_page=True)
            overflow = page.evaluate(OVERFLOW_JS)
            if axe:  # some rules depend on the layout: a table that scrolls only on a phone
                self._axe(name, NARROW)
            assert overflow["scroll"] <= overflow["client"], (
                f"{name} ({page.url}) scrolls sideways at {NARROW} px: "
                f"{overflow['scroll']} > {overflow['client']}; too wide: {overflow['wide']}"
            )
        finally:
            page.set_viewport_size({"width": WIDE, "height": 900})

    def _axe(self, name: str, width: int) -> None:
        result = self.axe.run(self.page)
        bad = [v for v in result.response["violations"] if v.get("impact") in SERIOUS]
        if bad:
            lines = []
            for v in bad:
                targets = [", ".join(n["target"]) for n in v["nodes"][:5]]
                lines.append(f"{v['impact']} {v['id']}: {v['help']} -> {targets}")
            message = f"axe on {name} ({self.page.url}) at {width} px:\n" + "\n".join(lines)
            if os.environ.get("E2E_AXE_REPORT"):  # collect every page's problems in one run
                with open(os.environ["E2E_AXE_REPORT"], "a") as report:
                    report.write(message + "\n")
                return
            raise AssertionError(message)


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    p = context.new_page()
    yield p
    p.close()


@pytest.fixture
def pages(page: Page, axe: Axe, request) -> Pages:
    return Pages(page, axe, request.node.name)


def sign_in(page: Page, pages: Pages, account: tuple[str, str]) -> None:
    """Sign in through the login form, as a person would."""
    email, password = account
    page.goto("/login")
    pages.check("sign in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Staff sign in")).to_be_visible()


# --- Story constants -----------------------------------------------------------
# The journeys tell one story: what the donors do in test_01 and test_02 is what
# staff and the treasurer find in test_03 and test_04.

# test_01: a one-time gift with the card fee covered (the treasurer finds it).
GIFT_DONOR_NAME = "Lucía Ferreira"
GIFT_DONOR_EMAIL = "lucia.ferreira@example.com"
GIFT_AMOUNT_CENTS = 5000  # before the covered card fee
# What is charged and receipted: the least total that nets $50 after the demo card fee
# (2.9% rounded half up, + $0.30).
# test_01 computes it from the rates the donation page states and checks it equals this.
GIFT_TOTAL_CENTS = 5180
GIFT_FUND = "Survivor services"
# test_01: a monthly gift, typed in, to the default fund, no fee covered.
MONTHLY_DONOR_NAME = "Tomas Berg"
MONTHLY_DONOR_EMAIL = "tomas.berg@example.com"
MONTHLY_AMOUNT_CENTS = 2000

# test_02: a pledge of goods for the public drop-off point (staff receive it).
PLEDGE_DONOR_NAME = "Amara Okafor"
PLEDGE_DONOR_EMAIL = "amara.okafor@example.com"
PLEDGE_ITEM = "Socks (M)"
PLEDGE_QUANTITY = 10
PLEDGE_DROPOFF = "Downtown drop-off"


# --- Shared reading and assertions ----------------------------------------------


def money(cents: int) -> str:
    """Cents as the pages print dollars: $1,234.50."""
    return f"${cents // 100:,}.{cents % 100:02d}"


def squash(text: str) -> str:
    """Text with every run of whitespace made one space (PDF text wraps anywhere)."""
    return " ".join(text.split())


def pdf_text(path: str | Path) -> str:
    """The text of every page of a downloaded PDF."""
    return "\n".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)


def newest_mail(mail_dirs: list[Path], to: str, after: float, containing: str = ""):
    """The newest .eml to ``to``, written after ``after``, whose text holds ``containing``.

    Waits up to 60 s (a loaded CI machine is slow): mail goes out after the commit, from
    the server's mail folder."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in sorted(
            (p for d in mail_dirs for p in d.glob("*.eml") if p.stat().st_mtime >= after),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        ):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            if to not in str(message["To"]):
                continue
            body = message.get_body(preferencelist=("plain",)).get_content()
            if containing in body or containing in str(message["Subject"]):
                return message
        time.sleep(0.25)
    raise AssertionError(f"no mail to {to} holding {containing!r} arrived")


def newest_mail_link(mail_dirs: list[Path], to: str, prefix: str, after: float) -> str:
    """The link starting with ``prefix`` in the newest .eml to ``to`` written after ``after``."""
    message = newest_mail(mail_dirs, to, after, prefix)
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://\S+" + re.escape(prefix) + r"\S+", body)
    assert found, f"the mail to {to} has no {prefix} link"
    return found.group(0)


def expect_error_next_to(page: Page, field: Locator, text: str | re.Pattern) -> None:
    """The field is marked invalid and described by a visible error saying ``text``."""
    expect(field).to_have_attribute("aria-invalid", "true")
    described = (field.get_attribute("aria-describedby") or "").split()
    errors = [page.locator(f"#{i}") for i in described if i.endswith("-error")]
    assert errors, f"the field is not described by an error: {described}"
    expect(errors[0]).to_be_visible()
    expect(errors[0]).to_contain_text(text)
