"""Donor journey: see what the shelters need now and pledge 10 pairs of socks for a drop-off."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from conftest import (
    PLEDGE_DONOR_EMAIL,
    PLEDGE_DONOR_NAME,
    PLEDGE_DROPOFF,
    PLEDGE_ITEM,
    PLEDGE_QUANTITY,
    STAFF,
    expect_error_next_to,
    sign_in,
    squash,
)

# The demo sites (donations/demo_goods.py): two confidential shelters, a warehouse
# and the one public drop-off point.
CONFIDENTIAL = ["Harbor House", "12 Hidden Lane", "Second Step House", "88 Quiet Court"]
NOT_PUBLIC = [*CONFIDENTIAL, "Main warehouse", "400 Dock Road"]
DROPOFF_ADDRESS = "5 Market Street"
NEED_STATES = {"Needed", "Urgently needed"}


def expect_nothing_private(page: Page) -> None:
    """No confidential site (or any site but the drop-off point) is named on the page."""
    html = page.content()
    for text in NOT_PUBLIC:
        assert text not in html, f"{page.url} shows {text!r}"


def test_donor_pledges_socks(page: Page, pages) -> None:
    page.goto("/")
    pages.check("home")
    expect_nothing_private(page)
    page.get_by_role("main").get_by_role("link", name="See what we need now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What we need now")
    pages.check("what we need now")
    expect_nothing_private(page)

    # Each need says only "Needed" or "Urgently needed": no site, no quantity.
    needs = page.locator(".needs-list > li")
    assert needs.count() > 0
    labels = []
    for row in needs.all():
        label = row.locator(".need-label").inner_text()
        state = row.locator(".need").inner_text()
        assert state in NEED_STATES, f"{label}: {state!r}"
        link = f"Pledge to bring {label}"  # "to bring ..." is for screen readers
        assert squash(row.inner_text()) == f"{label} {state} {link}", row.inner_text()
        labels.append(label)
    assert PLEDGE_ITEM in labels
    assert page.get_by_text(re.compile(r"\bin stock\b|\bon hand\b|\bpar\b", re.I)).count() == 0
    # The drop-off point is where to bring things; its address is public.
    where = page.locator(".dropoff-list")
    expect(where.get_by_role("heading", name=PLEDGE_DROPOFF)).to_be_visible()
    expect(where).to_contain_text(DROPOFF_ADDRESS)
    expect(page.locator(".needs-groups")).not_to_contain_text(DROPOFF_ADDRESS)

    page.get_by_role("link", name=f"Pledge to bring {PLEDGE_ITEM}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pledge to bring items")
    pages.check("pledge form")
    expect_nothing_private(page)
    item = page.get_by_label("Item 1", exact=True)
    expect(item.locator("option:checked")).to_have_text(PLEDGE_ITEM)
    expect(page.get_by_label("Drop-off point").locator("option:checked")).to_have_text(
        PLEDGE_DROPOFF
    )

    # A pledge of 0 pairs is refused next to its field, with the form kept as typed.
    quantity = page.get_by_label("How many of item 1")
    quantity.fill("0")
    bring_on = date.today() + timedelta(days=3)
    page.get_by_label("The day you will bring them").fill(bring_on.isoformat())
    page.get_by_label("Your name").fill(PLEDGE_DONOR_NAME)
    page.get_by_label("Your email").fill(PLEDGE_DONOR_EMAIL)
    page.get_by_role("button", name="Send my pledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pledge to bring items")
    pages.check("pledge form with an error")
    expect_nothing_private(page)
    expect(page.get_by_role("alert")).to_be_visible()
    expect_error_next_to(page, quantity, re.compile(r"from 1 to"))
    expect(quantity).to_have_value("0")
    expect(item.locator("option:checked")).to_have_text(PLEDGE_ITEM)
    expect(page.get_by_label("Your name")).to_have_value(PLEDGE_DONOR_NAME)
    expect(page.get_by_label("The day you will bring them")).to_have_value(bring_on.isoformat())

    quantity.fill(str(PLEDGE_QUANTITY))
    page.get_by_role("button", name="Send my pledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your pledge")
    pages.check("pledge thanks")
    expect_nothing_private(page)
    expect(page.get_by_role("listitem").filter(has_text=PLEDGE_ITEM)).to_have_text(
        f"{PLEDGE_QUANTITY} \N{MULTIPLICATION SIGN} {PLEDGE_ITEM}"
    )
    expect(page.get_by_text(PLEDGE_DROPOFF)).to_be_visible()
    expect(page.get_by_text(DROPOFF_ADDRESS)).to_be_visible()
    expect(page.get_by_text(f"{bring_on:%A, %B} {bring_on.day}, {bring_on.year}")).to_be_visible()

    # Staff see one pledge from this donor: the refused attempt created nothing.
    sign_in(page, pages, STAFF)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Goods").click()
    page.get_by_role("link", name="Pledges").click()
    pages.check("open pledges (staff)")
    rows = page.get_by_role("row").filter(has_text=PLEDGE_DONOR_NAME)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"{PLEDGE_ITEM}: 0 of {PLEDGE_QUANTITY}")
