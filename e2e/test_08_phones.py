"""Phones: at 375 px every list shows its key figures and actions on screen, and the staff
navigation folds into a menu that opens on a click and from the keyboard.

Runs on the demo data alone (a demo donor asks for her gifts link), so it does not depend
on the earlier journeys; every page also goes through ``pages.check`` (both widths, axe).
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

from conftest import ARTIFACTS, NARROW, TREASURER, WIDE, newest_mail_link, sign_in

# A demo donor with an email address and a receipt (donations/demo.py).
DONOR_EMAIL = "mei.chen@example.com"
MONEY = re.compile(r"^-?\$[\d,]+\.\d\d$")


def narrow(page: Page) -> None:
    page.set_viewport_size({"width": NARROW, "height": 800})


def assert_on_screen(cell: Locator, what: str) -> None:
    """The element is visible and lies wholly inside the 375 px wide viewport."""
    cell.scroll_into_view_if_needed()
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert box is not None, f"{what} has no box"
    assert box["width"] > 0 and box["height"] > 0, f"{what} is empty: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW, f"{what} is off screen: {box}"
    # Not clipped by a scrolling wrapper either: the text fits its own box.
    clipped = cell.evaluate(
        "el => { let p = el.parentElement; const r = el.getBoundingClientRect();"
        " while (p) { const s = getComputedStyle(p);"
        " if (s.overflowX !== 'visible') { const q = p.getBoundingClientRect();"
        " if (r.left < q.left - 1 || r.right > q.right + 1) return true; }"
        " p = p.parentElement; } return false; }"
    )
    assert not clipped, f"{what} is clipped by a scrolling box"


def test_the_treasurers_gift_list_shows_gross_fee_and_net(page: Page, pages) -> None:
    sign_in(page, pages, TREASURER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Gifts").click()
    pages.check("gift list")
    narrow(page)
    row = page.locator("table tbody tr").first
    for name in ("Gross", "Fee", "Net"):
        cell = row.locator(f'td[data-label="{name}"]')
        assert_on_screen(cell, f"the first gift's {name.lower()}")
        # The cell shows its column's name and the amount.
        assert MONEY.match(cell.inner_text().strip()), cell.inner_text()
        label = cell.evaluate("el => getComputedStyle(el, '::before').content")
        assert label == f'"{name}"', label
    # The totals of the list too.
    assert_on_screen(
        page.locator("table tfoot tr").first.locator('td[data-label="Net"]'), "net total"
    )


def test_the_stock_table_shows_every_sites_figure(page: Page, pages) -> None:
    sign_in(page, pages, TREASURER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Goods").click()
    pages.check("goods on hand")
    sites = [
        t.strip() for t in page.locator("table.stock thead th").all_text_contents()[1:] if t.strip()
    ]
    assert len(sites) >= 3, sites
    narrow(page)
    row = page.locator("table.stock tbody tr").first
    assert_on_screen(row.locator("th"), "the item")
    for site in sites:
        cell = row.locator(f'td[data-label="{site}"]')
        assert_on_screen(cell, f"the quantity at {site}")
        assert re.match(r"^\d+", cell.inner_text().strip()), cell.inner_text()


def test_the_donors_receipts_show_amount_and_download(
    page: Page, pages, server: str, tmp_path_factory
) -> None:
    mail_dirs = [d / "mail" for d in tmp_path_factory.getbasetemp().glob("e2e-app*")]
    asked = time.time() - 1
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your receipts").click()
    page.get_by_label("Email").fill(DONOR_EMAIL)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status")).to_be_visible()
    link = newest_mail_link(mail_dirs, DONOR_EMAIL, "/my-gifts/", asked)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your gifts and receipts")
    pages.check("donor's gifts and receipts")
    narrow(page)
    rows = page.locator("table").first.locator("tbody tr")
    assert rows.count() >= 1
    for index in range(rows.count()):
        row = rows.nth(index)
        amount = row.locator('td[data-label="Amount"]')
        assert_on_screen(amount, f"receipt {index + 1}'s amount")
        assert MONEY.match(amount.inner_text().split("\n")[-1].strip()) or "Goods" in (
            amount.inner_text()
        )
        download = row.get_by_role("link", name=re.compile("^Download PDF"))
        assert_on_screen(download, f"receipt {index + 1}'s download link")
    # The link works: it is the receipt's PDF (shown inline, so fetched rather than clicked).
    href = rows.first.get_by_role("link", name=re.compile("^Download PDF")).get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.body().startswith(b"%PDF"), response.status


def test_the_staff_menu_folds_and_opens_by_click_and_keyboard(page: Page, pages) -> None:
    sign_in(page, pages, TREASURER)
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.locator("summary")
    gifts = nav.get_by_role("link", name="Gifts")
    # Wide: every link shows, no menu button.
    expect(gifts).to_be_visible()
    expect(menu).to_be_hidden()

    narrow(page)
    expect(menu).to_be_visible()
    expect(menu).to_have_text(re.compile("Menu"))
    expect(gifts).to_be_hidden()
    menu.click()
    expect(gifts).to_be_visible()
    assert_on_screen(nav.get_by_role("link", name="Outgoing mail"), "the last menu link")
    page.screenshot(path=str(ARTIFACTS / "phones-menu-open-375.png"))
    menu.click()
    expect(gifts).to_be_hidden()

    # Keyboard: Tab to the menu, Enter opens it, Tab reaches its first link, Space closes it.
    page.reload()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    else:
        raise AssertionError("Tab never reaches the menu")
    page.keyboard.press("Enter")
    expect(gifts).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Dashboard"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    expect(gifts).to_be_hidden()

    # Back on a wide screen the links show again, whether the menu was left open or not.
    page.set_viewport_size({"width": WIDE, "height": 900})
    expect(gifts).to_be_visible()
    pages.check("menu")
