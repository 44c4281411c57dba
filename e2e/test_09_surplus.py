"""Coalition journey: Harbor Light offers surplus sleeping bags, North Star Refuge asks for
some and receives them; Harbor Light's ledger shows the distribution, North Star's the
intake from Harbor Light, and the coalition report moves by the same number on both sides.

Runs on the demo data alone (two member shelters and the coalition's admin).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import ADMIN, sign_in, sign_out

NORTH_ADMIN = ("dana@northstar.example.org", "north-admin-pass")
COALITION_ADMIN = ("coalition@example.org", "coalition-demo-pass")
ITEM = "Sleeping bag"
GIVEN = 3
HARBOR = "Harbor Light Shelter, Inc."
NORTH = "North Star Refuge"

story: dict[str, int] = {}


def _choose(page: Page, label: str, starts_with: str) -> None:
    """Pick the option of a select whose text starts with ``starts_with``."""
    select = page.get_by_label(label)
    option = select.locator("option").filter(has_text=re.compile(rf"^\s*{starts_with}\b")).first
    select.select_option(value=option.get_attribute("value"))


def _report_cells(page: Page, member: str) -> tuple[int, int]:
    """A member's goods received and distributed on the coalition report."""
    row = page.locator("tbody tr").filter(has_text=member).first

    def number(label: str) -> int:
        return int(row.locator(f'td[data-label="{label}"]').inner_text().replace(",", ""))

    return number("Goods received"), number("Goods distributed")


def _coalition_figures(page: Page, pages, name: str) -> dict[str, tuple[int, int]]:
    sign_in(page, pages, COALITION_ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coalition report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coalition report")
    pages.check(name)
    figures = {member: _report_cells(page, member) for member in (HARBOR, NORTH)}
    sign_out(page)
    return figures


def test_the_coalition_report_before(page: Page, pages) -> None:
    before = _coalition_figures(page, pages, "coalition report before")
    story["harbor_out"] = before[HARBOR][1]
    story["north_in"] = before[NORTH][0]


def test_harbor_light_offers_sleeping_bags(page: Page, pages) -> None:
    sign_in(page, pages, ADMIN)
    page.goto("/inventory/surplus/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Surplus exchange")
    pages.check("surplus exchange")
    _choose(page, "Item", ITEM)
    _choose(page, "Ships from", "Main warehouse")
    page.get_by_label("Quantity offered").fill(str(GIVEN + 2))
    page.get_by_label("Note").fill("Clean, in their bags")
    page.get_by_role("button", name="Offer to the other members").click()
    expect(page.get_by_role("heading", name=re.compile(rf"{GIVEN + 2} .*{ITEM}"))).to_be_visible()
    pages.check("surplus offered")
    sign_out(page)


def test_north_star_asks_for_some(page: Page, pages) -> None:
    sign_in(page, pages, NORTH_ADMIN)
    # Signing in at the root takes North Star's admin to North Star's own pages.
    expect(page).to_have_url(re.compile("/o/north-star/dashboard"))
    page.goto("/o/north-star/inventory/surplus/")
    pages.check("surplus, another member")
    row = page.locator("tbody tr").filter(has_text=ITEM).filter(has_text=HARBOR).first
    expect(row).to_be_visible()
    # Harbor Light's sites are never shown to another member.
    expect(page.locator("body")).not_to_contain_text("Main warehouse")
    row.get_by_role("link", name=re.compile("Request some")).click()
    pages.check("surplus request")
    page.get_by_label("Quantity wanted").fill(str(GIVEN))
    _choose(page, "Deliver to our site", "North Star House")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("body")).to_contain_text("Waiting")
    pages.check("surplus requested")
    sign_out(page)


def test_harbor_light_confirms_and_both_ledgers_agree(page: Page, pages) -> None:
    sign_in(page, pages, ADMIN)
    page.goto("/inventory/surplus/")
    page.get_by_role("button", name=f"Confirm and give {GIVEN}").click()
    pages.check("surplus confirmed")
    page.get_by_role("link", name="our distribution").first.click()
    document = page.locator("main")
    expect(document).to_contain_text(NORTH)
    expect(document).to_contain_text(ITEM)
    pages.check("surplus distribution")
    sign_out(page)

    sign_in(page, pages, NORTH_ADMIN)
    page.goto("/o/north-star/inventory/surplus/")
    page.get_by_role("link", name=re.compile("Our intake")).first.click()
    intake = page.locator("main")
    expect(intake).to_contain_text(HARBOR)
    expect(intake).to_contain_text(ITEM)
    expect(intake).to_contain_text(str(GIVEN))
    pages.check("surplus intake")
    sign_out(page)


def test_the_coalition_report_moves_on_both_sides(page: Page, pages) -> None:
    after = _coalition_figures(page, pages, "coalition report after")
    assert after[HARBOR][1] == story["harbor_out"] + GIVEN
    assert after[NORTH][0] == story["north_in"] + GIVEN
