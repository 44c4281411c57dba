"""Partner journey: an admin gives a partner agency a login on the Users page; the partner asks
for two items; staff, told by the dashboard, give one and not the other; the partner sees the
request partly fulfilled and has the answer by email.

Runs on the demo data alone (a demo partner agency, the demo stock), so it does not depend on
the earlier journeys; each step reads what it needs (which site holds the goods) off the pages.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from conftest import ADMIN, STAFF, expect_error_next_to, newest_mail, sign_in, sign_out

AGENCY = "Legal advocacy partner"  # a demo partner agency without a login
LOGIN = ("intake@legal-advocacy.example.org", "north harbor ferry lamp")
GIVEN_ITEM, NOT_GIVEN_ITEM = "Shampoo", "Blanket"
ASKED = {GIVEN_ITEM: 2, NOT_GIVEN_ITEM: 3}
NAME_NOTE = "For Maria Gonzalez and her two children"
NOTE = "Winter supplies for our legal-aid drop-in"
SCREEN = "Don't write the names or contact details of the people you serve"

# What one step leaves for the next: the request's number and address, when it was decided.
story: dict[str, object] = {}


def test_admin_makes_a_partner_login_on_the_users_page(page: Page, pages) -> None:
    sign_in(page, pages, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    pages.check("users")
    page.get_by_role("link", name=re.compile("add a user", re.I)).click()
    pages.check("add a user")
    page.get_by_label("Name").fill("Legal aid intake desk")
    page.get_by_label("Email").fill(LOGIN[0])
    page.get_by_label("Role").select_option("partner")
    page.get_by_label(re.compile(r"^Initial password\W*$")).fill(LOGIN[1])
    page.get_by_label(re.compile("again", re.I)).fill(LOGIN[1])
    # The partner role without its agency is refused next to the agency's field.
    page.get_by_role("button", name="Create user").click()
    pages.check("partner login without its agency")
    agency = page.get_by_label("Partner agency")
    expect_error_next_to(page, agency, "A partner login belongs to a partner agency")
    expect(page.get_by_label("Email")).to_have_value(LOGIN[0])  # what was typed is kept
    # Only open partner agencies are offered: no program.
    expect(agency.get_by_role("option", name="Street outreach")).to_have_count(0)
    agency.select_option(label=AGENCY)
    page.get_by_label(re.compile(r"^Initial password\W*$")).fill(LOGIN[1])
    page.get_by_label(re.compile("again", re.I)).fill(LOGIN[1])
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_contain_text(f"can now sign in for {AGENCY}")
    pages.check("users with the partner login")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=LOGIN[0]))
    expect(row).to_contain_text(f"partner ({AGENCY})")
    sign_out(page)


def test_partner_asks_for_two_items(page: Page, pages) -> None:
    sign_in(page, pages, LOGIN)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{AGENCY}: our requests for goods")
    pages.check("our requests")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Goods")).to_have_count(0)  # nothing of the staff's
    page.get_by_role("main").get_by_role("link", name="New request").click()
    pages.check("new request")
    for item, quantity in ASKED.items():
        row = page.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=re.compile(rf"^{item}\b"))
        )
        # Whether it is on hand, never how many or where.
        expect(row.get_by_role("rowheader")).to_contain_text(
            re.compile("Available|Not available now")
        )
        page.get_by_label(f"Quantity of {item} needed", exact=True).fill(str(quantity))
    # A note that names a person served is refused, saying why; the input stays.
    note = page.get_by_label("Note (optional)")
    note.fill(NAME_NOTE)
    page.get_by_role("button", name="Send the request").click()
    pages.check("request note refused")
    expect_error_next_to(page, note, SCREEN)
    expect(note).to_have_value(NAME_NOTE)
    for item, quantity in ASKED.items():
        expect(page.get_by_label(f"Quantity of {item} needed", exact=True)).to_have_value(
            str(quantity)
        )
    note.fill(NOTE)
    page.get_by_role("button", name="Send the request").click()
    pages.check("request sent")
    expect(page.get_by_role("status")).to_contain_text("We will email you the answer")
    heading = page.get_by_role("heading", level=1).inner_text()
    number = re.search(r"R-\d{6}", heading).group(0)
    story.update(number=number, path=page.url.split("://", 1)[1].split("/", 1)[1])
    expect(page.locator("dt:text-is('Status') + dd")).to_have_text("Open")
    expect(page.get_by_text(NOTE)).to_be_visible()
    sign_out(page)


def on_hand(cell_text: str) -> dict[str, int]:
    """The staff page's "Harbor House: 10; Main warehouse: 4" as {site: quantity}."""
    found = re.findall(r"([^;:]+):\s*(\d+)", cell_text)
    return {site.strip(): int(n) for site, n in found}


def test_staff_give_one_item_and_not_the_other(page: Page, pages) -> None:
    number = story.get("number")
    assert number, "the partner's request was not made (run the file from its start)"
    sign_in(page, pages, STAFF)
    pages.check("staff dashboard")
    hint = page.locator("#partner-requests-hint")
    expect(hint).to_contain_text(re.compile(r"\d+ open requests? from partner agencies"))
    hint.get_by_role("link").click()
    pages.check("partner requests")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row).to_contain_text(AGENCY)
    row.get_by_role("link", name=number).click()
    pages.check("a partner's request")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {number} from {AGENCY}")
    # The form starts at what was asked.
    given = {item: page.get_by_label(f"Quantity of {item} given", exact=True) for item in ASKED}
    for item, quantity in ASKED.items():
        expect(given[item]).to_have_value(str(quantity))
    # Give it from the site holding the most of it.
    row = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=GIVEN_ITEM, exact=True)
    )
    held = on_hand(row.get_by_role("cell").nth(1).inner_text())
    site = max(held, key=held.get)
    assert held[site] >= ASKED[GIVEN_ITEM], held
    source = page.get_by_label("Given out from")
    option = source.get_by_role("option", name=re.compile(rf"^{re.escape(site)}\b"))
    source.select_option(option.first.get_attribute("value"))
    given[NOT_GIVEN_ITEM].fill("0")
    story["decided_after"] = time.time() - 1
    page.get_by_role("button", name="Fulfil: record the distribution").click()
    pages.check("request partly fulfilled")
    expect(page.get_by_role("status")).to_contain_text(f"Request {number} is partly fulfilled")
    expect(page.locator("dt:text-is('Status') + dd")).to_contain_text("Partly fulfilled")
    # The distribution it recorded goes to the agency, from that site.
    expect(page.locator("dt:text-is('Distribution') + dd")).to_contain_text(site)
    sign_out(page)


def test_partner_sees_it_partly_fulfilled_and_is_mailed(
    page: Page, pages, tmp_path_factory
) -> None:
    number = story.get("number")
    assert number, "the partner's request was not made (run the file from its start)"
    mail_dirs = [d / "mail" for d in tmp_path_factory.getbasetemp().glob("e2e-app*")]
    message = newest_mail(mail_dirs, LOGIN[0], story["decided_after"], number)
    assert "partly fulfilled" in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"- {ASKED[GIVEN_ITEM]} x {GIVEN_ITEM}" in body
    assert NOT_GIVEN_ITEM not in body  # only what was given is listed
    link = re.search(r"https?://\S+/partner/requests/\d+", body).group(0)
    assert link.endswith(story["path"]), (link, story["path"])

    sign_in(page, pages, LOGIN)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row.locator('td[data-label="Status"]')).to_have_text("Partly fulfilled")
    pages.check("our requests, one partly fulfilled")
    page.goto(link)  # the mail's link, as the partner would follow it
    pages.check("the request, partly fulfilled")
    expect(page.locator("dt:text-is('Status') + dd")).to_contain_text("Partly fulfilled")
    for item, given in ((GIVEN_ITEM, ASKED[GIVEN_ITEM]), (NOT_GIVEN_ITEM, 0)):
        line = page.get_by_role("row").filter(has=page.get_by_role("cell", name=item, exact=True))
        expect(line.locator('td[data-label="Given"]')).to_have_text(str(given))
    # Never where the goods came from.
    expect(page.get_by_text("Harbor House")).to_have_count(0)
    expect(page.get_by_role("button", name="Withdraw this request")).to_have_count(0)
    sign_out(page)
