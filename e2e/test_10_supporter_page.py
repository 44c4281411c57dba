"""Supporter page journey: a donor gives through a demo supporter's page; the page's
total, the campaign page's total and the treasurer's campaign report all move by the
same amount."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import TREASURER, money, sign_in, sign_out

PAGE_TITLE = "Maya runs 10 km for safe beds"  # donations/demo/supporter_pages.py
CAMPAIGN = "Year-end appeal"
GIFT_CENTS = 2_500
DONOR_NAME = "Noor Haddad"
DONOR_EMAIL = "noor.haddad@example.com"


def cents(text: str) -> int:
    """The first money amount in ``text`` in cents: "$1,234.50 raised" -> 123450."""
    found = re.search(r"\$([\d,]+\.\d\d)", text)
    assert found, text
    return int(found.group(1).replace(",", "").replace(".", ""))


def raised_on_public_page(page: Page) -> int:
    return cents(page.locator(".campaign-progress strong").first.inner_text())


def report_figures(page: Page) -> tuple[int, int]:
    """The treasurer's report of the appeal: (campaign raised, the page's raised)."""
    page.goto("/reports/campaigns")
    page.get_by_role("link", name=CAMPAIGN).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CAMPAIGN)
    raised = page.locator("dt", has_text="Raised (net of refunds)").locator(
        "xpath=following-sibling::dd[1]"
    )
    row = page.get_by_role("row").filter(has_text=PAGE_TITLE)
    page_raised = row.locator('td[data-label="Raised"]').inner_text()
    return cents(raised.inner_text()), cents(page_raised)


def test_a_gift_through_a_supporter_page_moves_every_total_alike(page: Page, pages) -> None:
    sign_in(page, pages, TREASURER)
    report_before, report_page_before = report_figures(page)
    pages.check("campaign report with supporters' pages")
    sign_out(page)

    page.goto("/campaigns")
    page.get_by_role("link", name=CAMPAIGN).first.click()
    expect(page.get_by_role("heading", name="Top supporters")).to_be_visible()
    campaign_before = raised_on_public_page(page)
    page.get_by_role("link", name=PAGE_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PAGE_TITLE)
    pages.check("supporter page")
    supporter_before = raised_on_public_page(page)
    assert supporter_before == report_page_before

    page.get_by_role("radio", name="Other amount").check()
    page.get_by_label(re.compile(r"^Your own amount")).fill(str(GIFT_CENTS // 100))
    page.get_by_label("Your name").fill(DONOR_NAME)
    page.get_by_label("Your email").fill(DONOR_EMAIL)
    page.get_by_label(re.compile("Show the amount of my gift")).check()
    page.get_by_role("button", name="Review my gift").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your gift")
    expect(page.get_by_role("definition").filter(has_text=PAGE_TITLE)).to_be_visible()
    page.get_by_role("button", name="Continue to secure payment").click()
    page.get_by_role("button", name=f"Pay {money(GIFT_CENTS)} (test)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")

    page.goto("/campaigns")
    page.get_by_role("link", name=CAMPAIGN).first.click()
    campaign_after = raised_on_public_page(page)
    page.get_by_role("link", name=PAGE_TITLE).click()
    supporter_after = raised_on_public_page(page)
    expect(page.locator(".supporter-donors")).to_contain_text("Noor")
    expect(page.locator("main")).not_to_contain_text(DONOR_EMAIL)
    pages.check("supporter page after a gift")

    sign_in(page, pages, TREASURER)
    report_after, report_page_after = report_figures(page)
    assert supporter_after - supporter_before == GIFT_CENTS
    assert campaign_after - campaign_before == GIFT_CENTS
    assert report_after - report_before == GIFT_CENTS
    assert report_page_after - report_page_before == GIFT_CENTS
