"""Every page, at both widths: each role visits every page it can reach.

Runs after the journeys (test_01..05) and changes nothing they rely on: it
opens pages, follows links, submits forms empty to see their errors and uses
search forms. What it adds: one unpaid test checkout, cancelled (a pending gift
and its donor, "Page Checker"), so the test payment page and the "cancelled"
page are seen too; and a billing-portal session for a demo monthly gift.

Which pages a role must see comes from the app's URL map and each view's
access declaration (``donations.authz``): every GET page (not a download) a
role may reach. A page several roles may reach is checked once, as the role
that uses it daily (goods: staff; money and donors: treasurer; settings:
admin; a partner agency's requests: partner); every role but partner checks its
own dashboard (a partner login has none). The ids in the addresses come from the
demo data: the test follows links found on the pages it visits, as a person
clicking through the site would.
"""

from __future__ import annotations

import re
from collections import deque
from functools import cache
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from conftest import ADMIN, PARTNER, STAFF, TREASURER

ROLES = ("staff", "treasurer", "admin", "partner", "coalition")
# Who signs in for each role's test (the coalition's admin is no member of any shelter).
COALITION = ("coalition@example.org", "coalition-demo-pass")
# A view declaring every organisation role: the account pages, open to anyone signed in.
EVERYONE_SIGNED_IN = frozenset({"staff", "treasurer", "admin", "partner"})
# Addresses that are not pages: files, redirects to Stripe, machine endpoints.
NOT_PAGES = re.compile(
    r"\.(csv|pdf|svg|json|ico|zip)$|^/(static|healthz|r)(/|$)|^/receipts/year-end/zip"
)
NOT_PAGE_ENDPOINTS = {
    "give.manage_plan",
    "auth.logout",
    "main.healthz",
    "main.favicon",
    "static",
    "campaigns.image",  # a campaign's picture, not a page
    "supporter_public.photo",  # a supporter page's photo, not a page
}
# Public pages reached only through a link sent by mail (reset links and the
# donor's gifts page are secret, so Outgoing mail hides them) or only after
# paying or pledging: the journeys see them with real links (test_01 the
# thank-you page, test_02 the pledge's). Here the ones with a token are opened
# with a link that no longer works, which is a page a person meets too.
JOURNEY_PAGES = {
    "give.thanks",
    "needs.pledge_thanks",
    "receipts_public.my_gifts",
    "auth.reset_password",
    # Two-step sign-in's second step and the one-time recovery codes: test_08.
    "auth.second_step",
    "auth.recovery_codes",
    # A volunteer's links come by mail (confirming the address, their own page).
    "volunteer_public.confirm",
    "volunteer_public.my_page",
    # A fundraising supporter's links come by mail too (confirming the address, the
    # dashboard): test_10 opens the pages through the demo's.
    "supporter_public.confirm",
    "supporter_public.dashboard",
}
# Pages that exist only once a journey has made them (a year-end run; another member's
# surplus offer, which test_09 makes and asks for).
OPTIONAL = {"year_end.run", "surplus.ask"}
# Public pages whose real link only a signed-in role finds (in Outgoing mail).
CHECKED_BY = {"give.test_portal": "treasurer"}


@cache
def _routes() -> tuple[MapAdapter, dict[str, str | frozenset[str]]]:
    """Return a URL matcher and, for each page endpoint, who may reach it."""
    from donations import create_app
    from donations.authz import access_of

    app = create_app({"SECRET_KEY": "e2e-url-map", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    access: dict[str, str | frozenset[str]] = {}
    with app.app_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGE_ENDPOINTS:
                continue
            if NOT_PAGES.search(rule.rule):
                continue
            access[rule.endpoint] = access_of(rule.endpoint)
    return app.url_map.bind("127.0.0.1"), access


def owner(endpoint: str, access: str | frozenset[str]) -> str:
    """Return the role whose test checks a page: the one that uses it daily."""
    if endpoint in CHECKED_BY:
        return CHECKED_BY[endpoint]
    if access == "public":
        return "anonymous"
    for role in ROLES:
        if role in access:
            return role
    raise AssertionError(f"no role may reach a page declared {access!r}")


def pages_for(role: str) -> set[str]:
    """Return the endpoints the test of ``role`` must check."""
    _adapter, access = _routes()
    wanted = {ep for ep, who in access.items() if owner(ep, who) == role}
    if role not in ("anonymous", "partner", "coalition"):  # these have no dashboard
        wanted.add("main.dashboard")
    return wanted - OPTIONAL - JOURNEY_PAGES


def reachable_by(role: str) -> set[str]:
    """Return every page endpoint ``role`` may open."""
    _adapter, access = _routes()
    return {
        ep
        for ep, who in access.items()
        if who == "public" or role in who or (role == "coalition" and who == EVERYONE_SIGNED_IN)
    }


def endpoint_of(url: str) -> str | None:
    """Return the endpoint a same-site address leads to, or None."""
    adapter, access = _routes()
    parts = urlsplit(url)
    try:
        endpoint, _args = adapter.match(parts.path, method="GET")
    except HTTPException:
        return None
    return endpoint if endpoint in access else None


def _links(page: Page) -> list[str]:
    """Return the same-site page addresses linked from the page, in order."""
    here = urlsplit(page.url)
    found = []
    for href in page.eval_on_selector_all(
        "main a[href], nav a[href]", "els => els.map(e => e.href)"
    ):
        parts = urlsplit(href)
        if parts.netloc != here.netloc or NOT_PAGES.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def visit_all(
    page: Page, pages, role: str, start: str, later: frozenset[str] = frozenset()
) -> None:
    """Follow links from ``start`` until every page of ``role`` is checked.

    Each page is checked once, at the first address found for it. A page the
    role may open but another role's test checks is only opened, without
    checking it, when some page is still missing: its links may lead there.
    ``later`` names the pages the test reaches by its own steps afterwards.
    """
    wanted = pages_for(role) | OPTIONAL
    reachable = reachable_by(role)
    opened: set[str] = set()
    queue, transit = deque([start]), deque()
    queued = {start}
    while queue or (transit and pages_for(role) - later - opened):
        own = bool(queue)
        url = queue.popleft() if own else transit.popleft()
        endpoint = endpoint_of(url)
        if endpoint is None or endpoint in opened or endpoint not in reachable:
            continue
        response = page.goto(url)
        assert response is not None and response.ok, (
            f"{url} answered {response and response.status}"
        )
        opened.add(endpoint)
        if own:
            pages.check(endpoint.replace(".", " ").replace("_", " "))
        for link in _links(page):
            if link not in queued:
                queued.add(link)
                (queue if endpoint_of(link) in wanted else transit).append(link)


def assert_covered(role: str, pages) -> None:
    """Fail unless the test checked every page of ``role``."""
    checked = {endpoint_of(url) for url in pages.visited}
    missing = pages_for(role) - checked
    assert not missing, f"{role} never checked: {sorted(missing)}"


def sign_in(page: Page, account: tuple[str, str]) -> None:
    """Sign in through the form (checked once, by the anonymous test)."""
    page.goto("/login")
    page.get_by_label("Email").fill(account[0])
    page.get_by_label("Password").fill(account[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def submit_empty(page: Page, pages, name: str, button: str | re.Pattern) -> None:
    """Submit the form with nothing filled in and check the errors it shows."""
    page.get_by_role("button", name=button).click()
    pages.check(f"{name} with errors")
    expect(page.locator(".form-errors[role=alert]")).to_be_visible()
    first = page.locator("[aria-invalid=true]").first
    expect(first).to_be_visible()
    described = (first.get_attribute("aria-describedby") or "").split()
    assert any(i.endswith("-error") for i in described), f"{name}: error not linked to its field"


# --- anonymous --------------------------------------------------------------


def test_anonymous_pages(page: Page, pages) -> None:
    # A campaign's compact form is linked from no page of ours: other sites frame it.
    visit_all(page, pages, "anonymous", "/", later=frozenset({"give.campaign_embed"}))
    page.goto("/give/hygiene-kits/embed")
    expect(page.get_by_role("button", name="Give")).to_be_visible()
    pages.check("campaign embed")

    # Forms with their errors.
    page.goto("/login")
    page.get_by_label("Email").fill(STAFF[0])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    pages.check("sign in refused")

    page.get_by_role("link", name="Forgot your password?").click()
    pages.check("reset request")
    submit_empty(page, pages, "reset request", "Email me a reset link")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your receipts").click()
    pages.check("my gifts request")
    submit_empty(page, pages, "my gifts request", "Email me a link")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="What we need").click()
    page.get_by_role("link", name=re.compile("pledge", re.I)).first.click()
    pages.check("pledge form")
    submit_empty(page, pages, "pledge", "Send my pledge")

    page.goto("/give")
    submit_empty(page, pages, "give", "Review my gift")

    # A demo supporter's page from its campaign's top supporters, and starting one.
    page.goto("/campaigns")
    page.get_by_role("link", name="Year-end appeal").first.click()
    page.get_by_role("link", name="Maya runs 10 km for safe beds").click()
    pages.check("supporter page")
    page.goto("/campaigns")
    page.get_by_role("link", name="Year-end appeal").first.click()
    page.get_by_role("link", name=re.compile("with your own page")).click()
    submit_empty(page, pages, "start a supporter page", "Start my page")

    # Verifying a code no receipt has.
    page.goto("/verify")
    page.get_by_label("Verification code").fill("NOPE-NOPE-00")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("No receipt has this code")
    pages.check("verify a wrong code")

    # The coalition's needs board, and a second member's own pages from it.
    page.goto("/coalition/needs")
    expect(page.get_by_role("heading", level=1)).to_have_text("What our member shelters need now")
    expect(page.get_by_role("heading", name="North Star Refuge")).to_be_visible()
    pages.check("coalition needs")
    page.get_by_role("link", name="Pledge to North Star Refuge").click()
    expect(page).to_have_url(re.compile("/o/north-star/needs/pledge"))
    pages.check("member pledge form")
    page.goto("/o/north-star/give")
    expect(page.locator(".site-footer")).to_contain_text("North Star Refuge")
    pages.check("member donation page")

    # Error pages, and links that no longer work.
    for url in ["/give/thanks/not-a-token", "/give/test-portal/cus_nobody", "/no-such-page"]:
        response = page.goto(url)
        assert response is not None and response.status == 404
    pages.check("not found")
    # An old link to a donor's gifts says what to do next, and offers a new link.
    response = page.goto("/my-gifts/not-a-token")
    assert response is not None and response.status == 404
    pages.check("old gifts link")
    page.get_by_role("link", name="Email me a new link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your gifts and receipts")
    page.goto("/reset-password/not-a-token")
    expect(page.get_by_role("alert")).to_be_visible()
    pages.check("old reset link")

    # The test-mode payment page, left without paying.
    page.goto("/give")
    page.get_by_role("group", name="Amount").get_by_role("radio").first.check()
    page.get_by_label("Your name").fill("Page Checker")
    page.get_by_label("Your email").fill("page.checker@example.com")
    page.get_by_role("button", name="Review my gift").click()
    pages.check("give review")
    page.get_by_role("button", name="Continue to secure payment").click()
    expect(page).to_have_url(re.compile("/give/test-checkout/"))
    pages.check("test payment page")
    page.get_by_role("button", name="Cancel and go back").click()
    expect(page).to_have_url(re.compile("/give/cancelled/"))
    pages.check("gift cancelled")

    assert_covered("anonymous", pages)


# --- staff ------------------------------------------------------------------


def test_staff_pages(page: Page, pages) -> None:
    sign_in(page, STAFF)
    visit_all(page, pages, "staff", "/dashboard")

    # Searches and lists by date.
    goods = page.get_by_role("navigation", name="Main")
    goods.get_by_role("link", name="Find a donor").click()
    page.get_by_role("searchbox").fill("a")
    page.get_by_role("button", name="Find").click()
    pages.check("donor lookup results")
    goods.get_by_role("link", name="Goods").click()
    page.get_by_role("link", name=re.compile("stock on a past date|as of", re.I)).first.click()
    page.get_by_label("At the end of").fill("2026-01-01")
    page.get_by_role("button", name="Show").click()
    pages.check("stock as of a date")
    page.goto("/inventory/count/new")
    page.get_by_label("Site to count").select_option(index=1)
    page.get_by_role("button", name="List the items").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Count stock at")
    pages.check("count sheet")

    # Every recording form, sent empty: its errors, linked to the fields.
    for name, url, button in [
        ("intake", "/inventory/intake/new", "Record goods received"),
        ("distribution", "/inventory/distribution/new", "Record distribution"),
        ("adjustment", "/inventory/adjustment/new", "Record adjustment"),
        ("kits", "/inventory/kits", "Record"),
        ("new item", "/inventory/catalog/new", "Add item"),
        ("change password", "/account/password", "Change password"),
    ]:
        page.goto(url)
        submit_empty(page, pages, name, re.compile(f"^{button}$"))

    # A page of another role's: refused, with a way back.
    response = page.goto("/gifts/")
    assert response is not None and response.status == 403
    pages.check("forbidden")

    assert_covered("staff", pages)


# --- treasurer --------------------------------------------------------------


def test_treasurer_pages(page: Page, pages) -> None:
    sign_in(page, TREASURER)
    visit_all(
        page,
        pages,
        "treasurer",
        "/dashboard",
        later=frozenset({"gifts.correct", "give.test_portal"}),
    )
    nav = page.get_by_role("navigation", name="Main")

    # Filtering the gifts, then correcting a cheque: the form refuses to go on without a reason.
    nav.get_by_role("link", name="Gifts").click()
    page.get_by_label("Method").select_option(label="Cheque")
    page.get_by_role("button", name="Filter").click()
    pages.check("gifts by cheque")
    page.get_by_role("table").get_by_role("link").first.click()
    page.get_by_role("link", name="Correct this gift").click()
    pages.check("correct a gift")
    submit_empty(page, pages, "correct a gift", "Save the correction")

    nav.get_by_role("link", name="Donors").click()
    page.get_by_role("searchbox").fill("a")
    page.get_by_role("button", name="Search").click()
    pages.check("donor search")

    page.goto("/donors/new")
    submit_empty(page, pages, "new donor", "Add donor")

    # Recording a gift: find the donor first, then the form, sent empty.
    page.goto("/gifts/new")
    page.get_by_role("searchbox").fill("a")
    page.get_by_role("button", name="Search").click()
    pages.check("record a gift: donors found")
    page.get_by_role("link", name=re.compile("^Choose ")).first.click()
    pages.check("record a gift")
    submit_empty(page, pages, "record a gift", "Record gift")

    # A receipt's verification code, checked on the public page.
    nav.get_by_role("link", name="Receipts").click()
    page.get_by_role("table").get_by_role("link").first.click()
    code = page.locator("dt:text-is('Verification code') + dd code").inner_text()
    page.get_by_role("link", name="the verify page").click()
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()
    # The demo runs without Stripe keys: its receipts are test receipts, and /verify says so.
    expect(page.get_by_text("Test", exact=True)).to_be_visible()
    pages.check("verify a real code")

    # A monthly donor's thank-you mail links to the billing portal (the test one).
    nav.get_by_role("link", name="Outgoing mail").click()
    messages = page.get_by_role(
        "link", name=re.compile(r"^\[TEST — not a tax receipt\] Thank you for your gift")
    )
    hrefs = [messages.nth(i).get_attribute("href") for i in range(messages.count())]
    # The demo's supporters' pages mail last (their gifts, the supporters): look one
    # page further back too.
    older = page.get_by_role("link", name="Older")
    if older.count():
        older.first.click()
        hrefs += [messages.nth(i).get_attribute("href") for i in range(messages.count())]
    manage = None
    for href in hrefs:
        page.goto(href)
        found = re.search(r"https?://\S+/give/manage/\S+", page.locator(".mail-body").inner_text())
        if found:
            manage = found.group(0)
            break
    assert manage, "no thank-you mail links to a monthly gift's portal"
    page.goto(manage)
    expect(page).to_have_url(re.compile("/give/test-portal/"))
    pages.check("test billing portal")

    assert_covered("treasurer", pages)


# --- admin ------------------------------------------------------------------


def test_admin_pages(page: Page, pages) -> None:
    sign_in(page, ADMIN)
    visit_all(page, pages, "admin", "/dashboard", later=frozenset({"recipients.new_partner_login"}))

    for name, url, button in [
        ("new user", "/admin/users/new", "Create user"),
        ("new fund", "/admin/funds/new", "Add fund"),
        ("new site", "/inventory/sites/new", "Add site"),
    ]:
        page.goto(url)
        submit_empty(page, pages, name, button)

    # A partner agency's page (a program's has no logins) offers a login for it.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Programs and partners").click()
    page.get_by_role("link", name="Safe Passage clinic", exact=True).click()
    page.get_by_role("link", name="Add a partner login").click()
    pages.check("new partner login")
    submit_empty(page, pages, "new partner login", "Create the partner login")

    assert_covered("admin", pages)


# --- partner ----------------------------------------------------------------


def test_partner_pages(page: Page, pages) -> None:
    """A partner agency's login: its requests, a new one (sent empty), nothing else."""
    sign_in(page, PARTNER)
    visit_all(page, pages, "partner", "/partner/requests")

    page.goto("/partner/requests/new")
    page.get_by_role("button", name="Send the request").click()
    pages.check("new request with errors")
    expect(page.locator(".form-errors[role=alert]")).to_contain_text("at least one item")

    # The organisation's own pages are refused, with a way back.
    response = page.goto("/dashboard")
    assert response is not None and response.status == 403
    pages.check("forbidden to a partner")

    assert_covered("partner", pages)


# --- the coalition's admin ----------------------------------------------------


def test_coalition_pages(page: Page, pages) -> None:
    """The coalition's admin: members, adding one (sent empty), the report; no shelter's
    own pages."""
    sign_in(page, COALITION)
    visit_all(page, pages, "coalition", "/coalition/members")

    page.goto("/coalition/members/new")
    submit_empty(page, pages, "new member", "Add and invite")

    # A shelter's own pages do not exist for someone who is none of its people.
    for url in ("/dashboard", "/donors/", "/o/north-star/gifts/"):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
    pages.check("not a member")

    assert_covered("coalition", pages)
