"""Staff journey: goods in, out, between sites, counted, made into kits, and a pledge received.

Signed in as the demo staff user, through the pages as a person would. Every
quantity is read off the stock page (or an item's page) before and after each
step, so the test does not depend on the demo data's exact numbers.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Locator, Page, expect

from conftest import (
    ADMIN,
    PLEDGE_DONOR_EMAIL,
    PLEDGE_DONOR_NAME,
    PLEDGE_DROPOFF,
    PLEDGE_ITEM,
    PLEDGE_QUANTITY,
    STAFF,
    sign_in,
    sign_out,
)

# The pledge is the one the donor journey (test_02) made; run alone, this
# journey makes it first (make_pledge_as_donor).

HARBOR = "Harbor House"
SECOND = "Second Step House"
WAREHOUSE = "Main warehouse"
DROPOFF = PLEDGE_DROPOFF

INTAKE_DONOR = "Hannah Brooks"  # a demo donor
INTAKE = {"Socks (M)": 12, "Shampoo": 6, "Blanket": 3}
PROGRAM = "Street outreach"  # a demo program
PARTNER = "Riverside legal aid"  # the admin adds this partner agency first
NAME_NOTE = "Given to Maria Gonzalez, room 4, arrived from Houston"
KIT = "Hygiene kit"
KIT_COMPONENTS = ("Toothbrush", "Toothpaste", "Soap", "Shampoo", "Socks (M)")


# --- reading the pages --------------------------------------------------------------


def _number(text: str) -> int:
    found = re.search(r"-?\d+", text.replace(",", ""))
    assert found, f"no number in {text!r}"
    return int(found.group())


def go_goods(page: Page, pages, link: str | None = None) -> None:
    """Open Goods from the main navigation, then ``link`` from the goods navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Goods").click()
    pages.check("goods on hand")
    if link:
        page.get_by_role("navigation", name="Goods").get_by_role("link", name=link).click()
        pages.check(link)


def read_stock(page: Page, pages, items, sites) -> dict[tuple[str, str], int]:
    """Open the stock page and read what each site holds of each item."""
    go_goods(page, pages)
    table = page.get_by_role("table")
    headers = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
    found: dict[tuple[str, str], int] = {}
    for item in items:
        row = table.get_by_role("row").filter(
            has=page.get_by_role("rowheader").filter(
                has=page.get_by_role("link", name=item, exact=True)
            )
        )
        expect(row).to_have_count(1)
        cells = row.get_by_role("cell").all_inner_texts()
        for site in sites:
            column = next(i for i, h in enumerate(headers) if h.startswith(site))
            found[(item, site)] = _number(cells[column - 1])
    return found


def choose_recipient(select: Locator, name: str) -> None:
    """Choose a program or partner agency from the list: "Street outreach (program)"."""
    option = select.get_by_role("option", name=re.compile(rf"^{re.escape(name)} \("))
    select.select_option(option.first.get_attribute("value"))


def choose_site(select: Locator, site: str) -> None:
    """Choose a site in a select whose options read "Harbor House (shelter)"."""
    option = select.get_by_role("option", name=re.compile(rf"^{re.escape(site)}\b"))
    select.select_option(option.first.get_attribute("value"))


def fill_rows(page: Page, lines: dict[str, int | str], *, conditions=None) -> None:
    """Type each item and its quantity into the form's rows, one row each."""
    for number, (item, quantity) in enumerate(lines.items(), start=1):
        page.get_by_label(f"Item, row {number}", exact=True).fill(item)
        page.get_by_label(f"Quantity, row {number}", exact=True).fill(str(quantity))
        if conditions and item in conditions:
            page.get_by_label(f"Condition, row {number}", exact=True).select_option(
                label=conditions[item]
            )


def document_lines(page: Page) -> dict[str, int]:
    """The document page's lines: item label -> signed quantity."""
    table = page.get_by_role("table")
    headers = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
    column = next(i for i, h in enumerate(headers) if h in ("In / out", "Difference"))
    rows = table.get_by_role("row")
    lines: dict[str, int] = {}
    for index in range(1, rows.count()):
        cells = rows.nth(index).get_by_role("cell")
        item = cells.nth(0).get_by_role("link").inner_text().strip()
        lines[item] = lines.get(item, 0) + _number(cells.nth(column).inner_text())
    return lines


# --- the pledge, when the donor journey has not made it ----------------------------


def pledge_is_open(page: Page, pages) -> bool:
    go_goods(page, pages, "Pledges")
    return page.get_by_role("cell", name=PLEDGE_DONOR_NAME, exact=True).count() > 0


def make_pledge_as_donor(page: Page, pages) -> None:
    """Pledge 10 pairs of socks on the public needs list, as the donor journey does."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="What we need").click()
    pages.check("needs list")
    page.get_by_role("link", name="Pledge to bring items").first.click()
    pages.check("pledge form")
    page.get_by_label("Item 1", exact=True).select_option(label=PLEDGE_ITEM)
    page.get_by_label("How many").first.fill(str(PLEDGE_QUANTITY))
    choose_site(page.get_by_label("Drop-off point"), DROPOFF)
    page.get_by_label("The day you will bring them").fill(
        (date.today() + timedelta(days=3)).isoformat()
    )
    page.get_by_label("Your name").fill(PLEDGE_DONOR_NAME)
    page.get_by_label("Your email").fill(PLEDGE_DONOR_EMAIL)
    page.get_by_role("button", name="Send my pledge").click()
    pages.check("pledge thanks")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("thank", re.I))


# --- the journey ----------------------------------------------------------------------


def test_admin_adds_a_partner_agency(page: Page, pages) -> None:
    """Recipients are records an admin keeps; a person's name is refused there too."""
    sign_in(page, pages, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Programs and partners"
    ).click()
    pages.check("programs and partners")
    expect(page.get_by_role("cell", name=PROGRAM, exact=True)).to_be_visible()
    page.get_by_label("Partner agency: another organisation", exact=False).check()
    name = page.get_by_label(re.compile(r"^Name"))
    name.fill("Maria Gonzalez")
    page.get_by_role("button", name="Add", exact=True).click()
    pages.check("recipient refused")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#name-error")).to_contain_text(
        "Don't write the names or contact details of the people you serve"
    )
    name.fill(PARTNER)
    page.get_by_label("Agency contact (partners only)").fill("Intake desk, weekdays")
    page.get_by_role("button", name="Add", exact=True).click()
    pages.check("partner added")
    expect(page.get_by_role("status")).to_contain_text(f"Added partner agency {PARTNER}")
    expect(page.get_by_role("link", name=PARTNER, exact=True)).to_be_visible()
    # The privacy scan of stored notes: the demo's notes hold no one's name.
    page.get_by_role("link", name="Privacy scan of stored notes").click()
    pages.check("privacy scan")
    expect(page.get_by_text("Nothing stored looks like a name")).to_be_visible()
    sign_out(page)


def test_staff_moves_counts_and_kits_goods_and_receives_a_pledge(page: Page, pages) -> None:
    sign_in(page, pages, STAFF)
    pages.check("staff dashboard")

    # --- an intake of three items from a known donor, found by the donor lookup ----
    before = read_stock(page, pages, INTAKE, [HARBOR])
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Record goods").click()
    pages.check("record goods")
    page.get_by_role("link", name="Record goods received").click()
    pages.check("intake form")
    choose_site(page.get_by_label("Received at"), HARBOR)
    page.get_by_label("A known donor").check()
    page.get_by_label("Find the donor by name").fill("Brooks")
    page.get_by_role("button", name=f"Choose {INTAKE_DONOR}").click()
    expect(page.get_by_text(f"Donor: {INTAKE_DONOR}")).to_be_visible()
    pages.check("intake donor chosen")
    fill_rows(page, INTAKE, conditions={"Blanket": "Good used"})
    page.get_by_role("button", name="Record goods received").click()
    pages.check("intake recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Intake")
    expect(page.get_by_text(re.compile(rf"in-kind gift from {INTAKE_DONOR}"))).to_be_visible()
    assert document_lines(page) == INTAKE
    after = read_stock(page, pages, INTAKE, [HARBOR])
    for item, quantity in INTAKE.items():
        assert after[(item, HARBOR)] == before[(item, HARBOR)] + quantity, item

    # --- a distribution larger than the stock is refused, naming the item ---------
    short_item, other_item = "Tampons", "Deodorant"
    before = read_stock(page, pages, [short_item, other_item], [HARBOR])
    on_hand = before[(short_item, HARBOR)]
    assert on_hand > 0 and before[(other_item, HARBOR)] >= 2
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Record goods").click()
    pages.check("record goods")
    page.get_by_role("link", name="Record a distribution").click()
    pages.check("distribution form")
    choose_site(page.get_by_label("Given out from"), HARBOR)
    # The recipient is picked from the list of programs and partners, never typed.
    recipient = page.get_by_label("Program or partner agency")
    expect(recipient.get_by_role("option", name=f"{PARTNER} (partner agency)")).to_have_count(1)
    choose_recipient(recipient, PROGRAM)
    page.get_by_label("Case code (optional)").fill("C-201")
    fill_rows(page, {short_item: on_hand + 5, other_item: 2})
    page.get_by_role("button", name="Record distribution").click()
    pages.check("distribution refused")
    there = f"there {'is' if on_hand == 1 else 'are'} {on_hand}"
    expect(page.get_by_role("alert")).to_contain_text(
        f"Not enough stock. {short_item} at {HARBOR}: asked for {on_hand + 5}, {there}."
    )
    quantity = page.get_by_label("Quantity, row 1", exact=True)
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{quantity.get_attribute('aria-describedby')}")).to_have_text(
        f"Only {on_hand} on hand at {HARBOR} (asked for {on_hand + 5})."
    )
    # What was typed is kept, to correct.
    expect(recipient.locator("option:checked")).to_have_text(f"{PROGRAM} (program)")
    expect(page.get_by_label("Item, row 2", exact=True)).to_have_value(other_item)
    # Nothing moved.
    assert read_stock(page, pages, [short_item, other_item], [HARBOR]) == before

    # --- then what is there goes out, with a case code at most --------------------
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Record goods").click()
    pages.check("record goods")
    page.get_by_role("link", name="Record a distribution").click()
    pages.check("distribution form")
    choose_site(page.get_by_label("Given out from"), HARBOR)
    recipient = page.get_by_label("Program or partner agency")
    choose_recipient(recipient, PARTNER)
    given = {short_item: on_hand, other_item: 2}
    fill_rows(page, given)
    # A note that names the person served is refused, saying why.
    note = page.get_by_label("Note", exact=True)
    note.fill(NAME_NOTE)
    page.get_by_role("button", name="Record distribution").click()
    pages.check("note refused")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#note-error")).to_contain_text(
        "Don't write the names or contact details of the people you serve"
    )
    note.fill("Winter supplies for the partner's drop-in")
    # A case code that could name or reach a person is refused.
    case_code = page.get_by_label("Case code (optional)")
    for identifying, reason in (
        ("Maria Lopez", "looks like a name"),
        ("312-555-0147", "looks like a phone number"),
    ):
        case_code.fill(identifying)
        page.get_by_role("button", name="Record distribution").click()
        pages.check("case code refused")
        expect(case_code).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#case_code-error")).to_contain_text(reason)
    case_code.fill("C-201")
    page.get_by_role("button", name="Record distribution").click()
    pages.check("distribution recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Distribution")
    expect(page.locator("dd", has_text=PARTNER)).to_be_visible()
    expect(page.get_by_text("C-201", exact=True)).to_be_visible()
    expect(page.get_by_text("Maria Gonzalez")).to_have_count(0)
    assert document_lines(page) == {item: -n for item, n in given.items()}
    after = read_stock(page, pages, given, [HARBOR])
    assert after[(short_item, HARBOR)] == 0
    assert after[(other_item, HARBOR)] == before[(other_item, HARBOR)] - 2

    # --- a transfer between two sites changes both balances -----------------------
    moved = {"Toothpaste": 6, "Deodorant": 4}
    before = read_stock(page, pages, moved, [WAREHOUSE, SECOND])
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Record goods").click()
    pages.check("record goods")
    page.get_by_role("link", name="Record a transfer").click()
    pages.check("transfer form")
    choose_site(page.get_by_label("From site"), WAREHOUSE)
    choose_site(page.get_by_label("To site"), SECOND)
    fill_rows(page, moved)
    page.get_by_role("button", name="Record transfer").click()
    pages.check("transfer recorded")
    expect(page.get_by_role("status")).to_contain_text(
        f"10 units moved from {WAREHOUSE} to {SECOND}"
    )
    after = read_stock(page, pages, moved, [WAREHOUSE, SECOND])
    for item, quantity in moved.items():
        assert after[(item, WAREHOUSE)] == before[(item, WAREHOUSE)] - quantity, item
        assert after[(item, SECOND)] == before[(item, SECOND)] + quantity, item

    # --- a shelf count: the difference is shown before it is confirmed -------------
    counted_item = "Soap"
    expected = read_stock(page, pages, [counted_item], [HARBOR])[(counted_item, HARBOR)]
    counted = expected - 2
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Record goods").click()
    pages.check("record goods")
    page.get_by_role("link", name="Count stock").click()
    pages.check("count start")
    choose_site(page.get_by_label("Site to count"), HARBOR)
    page.get_by_role("button", name="List the items").click()
    pages.check("count sheet")
    page.get_by_label(f"Counted {counted_item}", exact=True).fill(str(counted))
    page.get_by_role("button", name="Review the differences").click()
    pages.check("count review")
    row = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=counted_item, exact=True)
    )
    expect(row.get_by_role("cell")).to_have_text([str(expected), str(counted), "-2"])
    expect(page.get_by_text(re.compile(r"1 differs from the records"))).to_be_visible()
    page.get_by_role("button", name="Confirm count").click()
    pages.check("count recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stock count")
    assert document_lines(page) == {counted_item: -2}
    after = read_stock(page, pages, [counted_item], [HARBOR])
    assert after[(counted_item, HARBOR)] == counted

    # --- hygiene kits: the kit stock rises and each component falls ---------------
    kits = 2
    before = read_stock(page, pages, (KIT, *KIT_COMPONENTS), [HARBOR])
    page.get_by_role("link", name=KIT, exact=True).click()
    pages.check("kit item")
    kit_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=HARBOR))
    assert _number(kit_row.get_by_role("cell").nth(1).inner_text()) == before[(KIT, HARBOR)]
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Record goods").click()
    pages.check("record goods")
    page.get_by_role("link", name="Assemble or take apart kits").click()
    pages.check("kits form")
    kit_section = page.get_by_role("region", name=KIT)
    expect(kit_section).to_contain_text("Each kit holds 1 x Toothbrush")
    harbor_row = kit_section.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=HARBOR, exact=True)
    )
    on_shelf, can_make = (_number(t) for t in harbor_row.get_by_role("cell").all_inner_texts())
    assert on_shelf == before[(KIT, HARBOR)]
    assert can_make == min(before[(c, HARBOR)] for c in KIT_COMPONENTS) >= kits
    page.get_by_role("combobox", name="Kit", exact=True).select_option(label=KIT)
    choose_site(page.get_by_role("combobox", name="Site", exact=True), HARBOR)
    page.get_by_label("Number of kits").fill(str(kits))
    page.get_by_label(re.compile("^Assemble")).check()
    page.get_by_role("button", name="Record").click()
    pages.check("kits assembled")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kit assembly")
    expect(page.get_by_role("status")).to_contain_text(f"assembled {kits} x {KIT} at {HARBOR}")
    assert document_lines(page) == {KIT: kits, **{c: -kits for c in KIT_COMPONENTS}}
    after = read_stock(page, pages, (KIT, *KIT_COMPONENTS), [HARBOR])
    assert after[(KIT, HARBOR)] == before[(KIT, HARBOR)] + kits
    for component in KIT_COMPONENTS:
        assert after[(component, HARBOR)] == before[(component, HARBOR)] - kits, component
    page.get_by_role("link", name=KIT, exact=True).click()
    pages.check("kit item after")
    kit_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=HARBOR))
    assert _number(kit_row.get_by_role("cell").nth(1).inner_text()) == after[(KIT, HARBOR)]

    # --- the donor's pledge of socks becomes an intake -----------------------------
    if not pledge_is_open(page, pages):
        sign_out(page)
        make_pledge_as_donor(page, pages)
        sign_in(page, pages, STAFF)
        pledge_is_open(page, pages)
    before = read_stock(page, pages, [PLEDGE_ITEM], [DROPOFF])
    go_goods(page, pages, "Pledges")
    pledge_row = page.get_by_role("row").filter(
        has=page.get_by_role("cell", name=PLEDGE_DONOR_NAME, exact=True)
    )
    expect(pledge_row).to_contain_text(f"{PLEDGE_ITEM}: 0 of {PLEDGE_QUANTITY}")
    pledge_row.get_by_role("link").first.click()
    pages.check("pledge detail")
    expect(page.get_by_role("heading", level=1)).to_contain_text(PLEDGE_DONOR_NAME)
    expect(page.get_by_text(PLEDGE_DONOR_EMAIL)).to_be_visible()
    arrived = page.get_by_label(PLEDGE_ITEM, exact=True)
    expect(arrived).to_have_value(str(PLEDGE_QUANTITY))
    expect(page.get_by_label("Received at")).to_have_value(
        page.get_by_label("Received at")
        .get_by_role("option", name=re.compile(rf"^{DROPOFF}"))
        .get_attribute("value")
    )
    page.get_by_role("button", name="Record the intake").click()
    pages.check("pledge received")
    expect(page.get_by_role("status")).to_contain_text("The pledge is closed")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Intake")
    assert document_lines(page) == {PLEDGE_ITEM: PLEDGE_QUANTITY}
    page.get_by_role("link", name=re.compile(r"^pledge #\d+$")).click()
    pages.check("pledge detail received")
    expect(page.get_by_text("received", exact=True)).to_be_visible()
    after = read_stock(page, pages, [PLEDGE_ITEM], [DROPOFF])
    assert after[(PLEDGE_ITEM, DROPOFF)] == before[(PLEDGE_ITEM, DROPOFF)] + PLEDGE_QUANTITY
    # It has left the open pledges for the received ones.
    page.get_by_role("navigation", name="Goods").get_by_role("link", name="Pledges").click()
    pages.check("open pledges")
    expect(page.get_by_role("cell", name=PLEDGE_DONOR_NAME, exact=True)).to_have_count(0)
    page.get_by_role("navigation", name="Filter by status").get_by_role(
        "link", name="Received"
    ).click()
    pages.check("received pledges")
    pledge_row = page.get_by_role("row").filter(
        has=page.get_by_role("cell", name=PLEDGE_DONOR_NAME, exact=True)
    )
    expect(pledge_row).to_contain_text(f"{PLEDGE_ITEM}: {PLEDGE_QUANTITY} of {PLEDGE_QUANTITY}")
    sign_out(page)
