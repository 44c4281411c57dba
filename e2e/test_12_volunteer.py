"""Volunteer journey: someone signs up at /volunteer and confirms their email, staff approve
them and open a shift, they take it from their own page, staff check them in and out, and
they download a letter of their hours.

The shift starts less than a minute after staff add it (attendance is recorded once a shift
has started), so the journey waits a few seconds at one point and no longer.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from conftest import (
    STAFF,
    TREASURER,
    expect_error_next_to,
    newest_mail_link,
    pdf_text,
    sign_in,
)

NAME = "Robin Castellanos"
EMAIL = "robin.castellanos@example.net"
OPPORTUNITY = "Welcome sort at the warehouse"
LEAD = timedelta(seconds=40)

story: dict[str, object] = {}


def _mail_dirs(tmp_path_factory) -> list:
    return [d / "mail" for d in tmp_path_factory.getbasetemp().glob("e2e-app*")]


def _local(moment: datetime) -> str:
    """A UTC moment as a datetime-local field takes it (the forms are in UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _grant_report_minutes(page: Page) -> int:
    """The volunteer hours in all on the grant report for this year, in minutes."""
    page.goto("/reports/grant")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grant report")
    total = page.locator("section[aria-labelledby='hours-heading'] tfoot td").nth(1).inner_text()
    found = re.fullmatch(r"(\d+) h(?: (\d+) min)?", total.strip())
    assert found, total
    return int(found.group(1)) * 60 + int(found.group(2) or 0)


def test_the_grant_report_before(page: Page, pages) -> None:
    sign_in(page, pages, TREASURER)
    story["report_minutes"] = _grant_report_minutes(page)
    pages.check("grant report")


def test_someone_signs_up_and_confirms_their_email(page: Page, pages, tmp_path_factory) -> None:
    page.goto("/volunteer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Volunteer with us")
    pages.check("volunteer sign-up")
    page.get_by_role("button", name="Sign up").click()
    expect_error_next_to(page, page.get_by_label("Your name"), re.compile(r"\w"))

    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Your email").fill(EMAIL)
    page.get_by_label("Sorting").check()
    page.get_by_label("I accept the volunteer terms above.").check()
    asked = time.time() - 1
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("status").or_(page.locator(".flash")).first).to_contain_text(EMAIL)

    link = newest_mail_link(_mail_dirs(tmp_path_factory), EMAIL, "/volunteer/confirm/", asked)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email")
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {NAME}")
    expect(page.get_by_text("Your email is confirmed.")).to_be_visible()
    story["my_page"] = page.url


def test_staff_approve_them_and_open_a_shift(page: Page, pages) -> None:
    sign_in(page, pages, STAFF)
    page.goto("/volunteers/?status=pending")
    page.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("dl.facts")).to_contain_text("Approved")

    page.goto("/volunteers/opportunities")
    page.get_by_label("Title").fill(OPPORTUNITY)
    page.get_by_label("Description").fill("Sort the week's donations into kits.")
    page.get_by_role("button", name=re.compile("Add")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(OPPORTUNITY)
    starts = datetime.now(UTC).replace(microsecond=0) + LEAD
    page.get_by_label("Starts (UTC)").fill(_local(starts))
    page.get_by_label("Ends (UTC)").fill(_local(starts + timedelta(hours=3)))
    page.get_by_label("Places").fill("3")
    page.get_by_role("button", name=re.compile("Add")).click()
    expect(page.get_by_text(f"Added the shift of {starts:%Y-%m-%d %H:%M} UTC.")).to_be_visible()
    story["starts"] = starts


def test_they_take_the_shift_from_their_own_page(page: Page, pages) -> None:
    page.goto(str(story["my_page"]))
    row = page.locator("tr").filter(has_text=OPPORTUNITY)
    expect(row).to_contain_text("3")  # places left
    pages.check("volunteer page with an open shift")
    row.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"You are signed up for {OPPORTUNITY}")).to_be_visible()
    upcoming = page.locator("table").first.locator("tr").filter(has_text=OPPORTUNITY)
    expect(upcoming.get_by_role("button", name="Cancel")).to_be_visible()


def test_staff_check_them_in_and_out(page: Page, pages) -> None:
    starts: datetime = story["starts"]  # type: ignore[assignment]
    sign_in(page, pages, STAFF)
    page.goto("/volunteers/opportunities")
    page.get_by_role("link", name=OPPORTUNITY).click()
    page.get_by_role("link", name=re.compile(f"{starts:%Y-%m-%d}")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(OPPORTUNITY)
    card = page.locator("section.card").filter(has_text=NAME)
    pages.check("shift attendance")
    # Recorded once the shift has started: wait for it (under a minute).
    wait = (starts - datetime.now(UTC)).total_seconds() + 2
    if wait > 0:
        time.sleep(wait)
    checked_in = starts - timedelta(minutes=15)
    checked_out = datetime.now(UTC).replace(microsecond=0)
    card.get_by_label("Check-in (UTC)").fill(_local(checked_in))
    card.get_by_label("Check-out (UTC)").fill(_local(checked_out))
    card.get_by_role("button", name="Record attendance").click()
    minutes = int((checked_out - checked_in).total_seconds() // 60)
    story["minutes"] = minutes
    card = page.locator("section.card").filter(has_text=NAME)
    expect(card).to_contain_text("recorded")


def test_they_download_a_letter_of_their_hours(page: Page, pages) -> None:
    page.goto(str(story["my_page"]))
    expect(page.get_by_role("heading", name="Your hours")).to_be_visible()
    pages.check("volunteer page with hours")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("letter of your hours")).click()
    text = pdf_text(download.value.path())
    assert NAME in text
    minutes: int = story["minutes"]  # type: ignore[assignment]
    assert minutes >= 15
    on_page = page.locator("main").inner_text()
    hours_text = re.search(r"In all:\s*(.+)\.", on_page)
    assert hours_text, on_page
    assert hours_text.group(1).strip() in text, (hours_text.group(1), text)


def test_the_grant_report_counts_the_hours(page: Page, pages) -> None:
    sign_in(page, pages, TREASURER)
    minutes: int = story["minutes"]  # type: ignore[assignment]
    assert _grant_report_minutes(page) - story["report_minutes"] == minutes  # type: ignore[operator]
