"""A goods drive's progress, and the donor's pages at both widths.

The demo's live hygiene-kit drive (``donations/demo/campaigns.py``) has goods goals. A staff
member records a drive intake of toothbrushes for it, on the intake form's campaign choice;
the campaign's public page then shows the collected figure and its bar moved by exactly that
many. The figure is read off the page first, so the test does not depend on the demo's numbers.

Then the pages a donor meets first are checked (screenshots at 1280 and 375 px, axe): the
donation form, a campaign's page and its compact embed, whose Give button carries the chosen
amount on to the campaign's page.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import PLEDGE_DROPOFF, STAFF, sign_in, sign_out

DRIVE = "Hygiene kit drive"
DRIVE_PAGE = "/give/hygiene-kits"
ITEM = "Toothbrush"
BROUGHT = 17


def collected(page: Page, item: str) -> tuple[int, int, int]:
    """The campaign page's figures for ``item``: collected, goal, and its bar's value."""
    progress = page.get_by_role("region", name="Progress")
    line = progress.get_by_text(re.compile(rf"^{item}: \d+ of \d+ collected$"))
    expect(line).to_have_count(1)
    found = re.match(rf"{item}: (\d+) of (\d+) collected", line.inner_text().strip())
    assert found, line.inner_text()
    bar = line.locator("xpath=following-sibling::progress[1]")
    return int(found.group(1)), int(found.group(2)), int(bar.get_attribute("value") or 0)


def choose_site(page: Page, site: str) -> None:
    select = page.get_by_label("Received at")
    option = select.get_by_role("option", name=re.compile(rf"^{re.escape(site)}\b"))
    select.select_option(option.first.get_attribute("value"))


def test_a_drive_intake_moves_the_drives_progress(page: Page, pages) -> None:
    page.goto(DRIVE_PAGE)
    pages.check("drive campaign page")
    expect(page.get_by_role("heading", level=1)).to_have_text(DRIVE)
    before, goal, bar_before = collected(page, ITEM)
    assert bar_before == min(before, goal)

    sign_in(page, pages, STAFF)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Goods").click()
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Record goods").click()
    page.get_by_role("link", name="Record goods received").click()
    pages.check("drive intake form")
    choose_site(page, PLEDGE_DROPOFF)
    page.get_by_label("A collection drive").check()
    page.get_by_label("Name of the drive").fill(DRIVE)
    page.get_by_label("Campaign", exact=True).select_option(label=DRIVE)
    page.get_by_label("Item, row 1", exact=True).fill(ITEM)
    page.get_by_label("Quantity, row 1", exact=True).fill(str(BROUGHT))
    page.get_by_role("button", name="Record goods received").click()
    pages.check("drive intake recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Intake")
    expect(page.get_by_text(DRIVE).first).to_be_visible()
    sign_out(page)

    page.goto(DRIVE_PAGE)
    pages.check("drive campaign page after the intake")
    after, goal_after, bar_after = collected(page, ITEM)
    assert goal_after == goal
    assert after == before + BROUGHT
    assert bar_after == min(after, goal)


def test_the_donors_pages_at_both_widths(page: Page, pages) -> None:
    page.goto("/give")
    pages.check("donation-form")
    page.goto(DRIVE_PAGE)
    pages.check("campaign-page")

    page.goto(DRIVE_PAGE + "/embed")
    pages.check("campaign-embed")
    expect(page.get_by_role("heading", level=1)).to_have_text(DRIVE)
    tile = page.get_by_role("radio", name="$50")
    tile.check()
    page.get_by_role("radio", name="Every month").check()
    page.get_by_role("button", name="Give").click()
    # In the top window, on the campaign's own page: the full form, with the choice kept.
    expect(page).to_have_url(
        re.compile(r"/give/hygiene-kits\?amount=5000&other_amount=&frequency=monthly$")
    )
    pages.check("campaign-page-from-the-embed")
    expect(page.get_by_role("radio", name="$50")).to_be_checked()
    expect(page.get_by_role("radio", name="Every month")).to_be_checked()
    expect(page.get_by_label("Your name")).to_be_visible()
