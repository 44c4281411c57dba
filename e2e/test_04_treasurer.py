"""Treasurer journey: the donor's online gift with its fee and net, its receipt
downloaded, voided and reissued; a cheque recorded by hand; the year-end
statements run and seen in the outgoing mail; the gifts and journal CSVs."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import zxingcpp
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from conftest import (
    GIFT_AMOUNT_CENTS,
    GIFT_DONOR_EMAIL,
    GIFT_DONOR_NAME,
    TREASURER,
    expect_error_next_to,
    money,
    pdf_text,
    sign_in,
    sign_out,
    squash,
)

# The gift is the one the donor journey (test_01) made; run alone, this
# journey gives it first.

CHEQUE_DONOR = "Priya Raman"  # a demo donor
CHEQUE_NUMBER = "1042"
CHEQUE_AMOUNT = "125.00"
VOID_REASON = "Wrong donor name on the receipt"
# The demo runs in test mode, so its receipts are numbered in the test series.
NUMBER = r"TEST-\d{4}-\d{6}"


def cents(text: str) -> int:
    """Return "$1,234.56" (or "-$0.50", or "1234.56") in cents."""
    match = re.search(r"(-?)\$?([\d,]+\.\d\d)", text)
    assert match, f"no amount in {text!r}"
    value = int(Decimal(match.group(2).replace(",", "")) * 100)
    return -value if match.group(1) else value


def qr_link(pdf: str | Path) -> str:
    """Rasterise the PDF's first page as a phone camera would see it and read its QR code."""
    out = Path(pdf).with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(out)], check=True
    )
    png = next(out.parent.glob(out.name + "*.png"))
    codes = zxingcpp.read_barcodes(Image.open(png))
    links = [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(links) == 1, f"expected one QR code on the receipt, read {links}"
    assert "/verify/" in links[0], links[0]
    return links[0]


def read_csv(path: str | Path) -> list[dict[str, str]]:
    text = Path(path).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def main_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def row_cells(row: Locator) -> list[str]:
    return [c.strip() for c in row.locator("td, th").all_inner_texts()]


def column(table: Locator, name: str) -> int:
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    return headers.index(name)


# --- the donor's gift ----------------------------------------------------------


def donor_gift_rows(page: Page, pages) -> Locator:
    """On the gifts screen, narrow to the donor; return the table's body rows."""
    main_nav(page, "Gifts")
    pages.check("gifts")
    page.get_by_label("Donor name").fill(GIFT_DONOR_NAME)
    page.get_by_role("button", name="Filter").click()
    pages.check("gifts from the donor")
    return page.locator("table tbody tr")


def give_the_gift(page: Page, pages) -> None:
    """Give the donor journey's gift through /give, as the donor would (once, fee covered)."""
    page.goto("/give")
    pages.check("give")
    amount = page.get_by_role("group", name=re.compile("^Amount"))
    amount.get_by_label(money(GIFT_AMOUNT_CENTS).removesuffix(".00"), exact=True).check()
    page.get_by_label("One time").check()
    page.get_by_label("Cover the card fee").check()
    page.get_by_label("Your name").fill(GIFT_DONOR_NAME)
    page.get_by_label("Your email").fill(GIFT_DONOR_EMAIL)
    page.get_by_role("button", name="Review my gift").click()
    pages.check("check the gift")
    page.get_by_role("button", name="Continue to secure payment").click()
    pages.check("test payment page")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    pages.check("thank you")


# --- the journey ---------------------------------------------------------------


def test_treasurer_books_receipts_year_end_and_exports(page: Page, pages) -> None:
    today = date.today()
    sign_in(page, pages, TREASURER)
    pages.check("treasurer dashboard")

    # 1. The donor's $50 online gift, with its fee and net.
    rows = donor_gift_rows(page, pages)
    if rows.count() == 0:  # the donor journey has not run: give the gift here
        sign_out(page)
        give_the_gift(page, pages)
        sign_in(page, pages, TREASURER)
        rows = donor_gift_rows(page, pages)
    expect(rows).to_have_count(1)
    table = page.locator("table")
    gift_row = rows.first
    cells = row_cells(gift_row)
    gross = cents(cells[column(table, "Gross")])
    fee = cents(cells[column(table, "Fee")])
    net = cents(cells[column(table, "Net")])
    assert fee > 0, cells
    assert gross == fee + net, cells
    assert cells[column(table, "Method")].startswith("Online"), cells
    gift_row.get_by_role("link").first.click()
    pages.check("the donor's gift")
    expect(page.get_by_role("row", name=re.compile("^Gross"))).to_contain_text(money(gross))
    covered_row = page.get_by_role("row", name=re.compile("added to cover fees"))
    covered = cents(covered_row.inner_text()) if covered_row.count() else 0
    assert gross - covered == GIFT_AMOUNT_CENTS
    expect(page.get_by_role("row", name=re.compile("^Net"))).to_contain_text(money(net))
    expect(page.get_by_role("row", name=re.compile("Less Stripe fee"))).to_contain_text(money(fee))

    # 2. Its receipt: the PDF names the number, the amount and the donor.
    page.get_by_role("link", name=re.compile(rf"^{NUMBER}$")).click()
    pages.check("the gift's receipt")
    heading = page.get_by_role("heading", level=1).inner_text()
    number = re.search(NUMBER, heading).group(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    text = pdf_text(download.value.path())
    assert number in text
    assert money(gross) in text
    assert GIFT_DONOR_NAME in text
    assert "TEST — not a tax receipt" in text
    assert "VOID" not in text

    # Bad input: voiding without a reason is refused next to the field; nothing changes.
    page.get_by_role("button", name=f"Void {number}").click()
    pages.check("void without a reason")
    reason = page.get_by_label("Why is this receipt void?")
    expect(reason).to_have_attribute("aria-invalid", "true")
    error_id = reason.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{error_id}")).to_contain_text("Say why")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Void")
    expect(page.get_by_role("button", name=f"Void {number}")).to_be_visible()

    # Void it with a reason: it keeps its number, the page and the PDF say VOID.
    reason.fill(VOID_REASON)
    page.get_by_role("button", name=f"Void {number}").click()
    pages.check("receipt voided")
    expect(page.get_by_text(f"Receipt {number} is void")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Void")
    expect(page.get_by_text(VOID_REASON).first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert "-VOID" in download.value.suggested_filename
    text = pdf_text(download.value.path())
    assert "VOID" in text
    assert number in text

    # Reissue it: a new number, and the new receipt says it replaces the old one.
    page.get_by_role("button", name=f"Reissue {number}").click()
    pages.check("receipt reissued")
    new_heading = page.get_by_role("heading", level=1).inner_text()
    new_number = re.search(NUMBER, new_heading).group(0)
    assert new_number != number
    expect(page.get_by_text(f"Issued {new_number} in place of {number}")).to_be_visible()
    expect(page.get_by_text(re.compile(f"replaces {number}"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    text = pdf_text(download.value.path())
    assert new_number in text
    assert f"replaces receipt {number}" in text
    assert "VOID" not in text.replace(number, "")
    verify_url = qr_link(download.value.path())

    # The QR code on the new receipt leads to the public /verify page, which
    # confirms it (a donor's phone would open the same link, signed in or not).
    page.goto(verify_url)
    pages.check("verify the reissued receipt")
    result = page.get_by_role("heading", level=2, name=re.compile(f"Receipt {new_number}"))
    # The demo runs without Stripe keys: its receipts are test receipts, and say so.
    expect(result).to_contain_text("Test")
    expect(page.get_by_text("TEST — not a tax receipt.")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=money(gross))).to_be_visible()
    page.get_by_label("Verification code").fill("NOPE-NOPE-00")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("No receipt has this code")
    pages.check("verify an unknown code")

    # 3. A cheque recorded by hand, for a demo donor.
    main_nav(page, "Gifts")
    pages.check("gifts")
    page.get_by_role("link", name="Record an offline gift").click()
    pages.check("record an offline gift")
    page.get_by_label("Find the donor by name or email").fill(CHEQUE_DONOR)
    page.get_by_role("button", name="Search").click()
    pages.check("donor search")
    page.get_by_role("link", name=re.compile(f"^Choose {CHEQUE_DONOR}")).click()
    pages.check("offline gift form")
    page.get_by_label("How it was given").select_option(label="Cheque")
    page.get_by_label("Cheque number").fill(CHEQUE_NUMBER)
    amount = page.get_by_label(re.compile(r"^Amount"))
    amount.fill("12,5x")
    page.get_by_role("button", name="Record gift").click()
    pages.check("cheque with a bad amount")
    amount = page.get_by_label(re.compile(r"^Amount"))
    expect(amount).to_have_attribute("aria-invalid", "true")
    error_id = amount.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{error_id}")).to_contain_text("Enter the amount as a number")
    expect(page.get_by_label("Cheque number")).to_have_value(CHEQUE_NUMBER)
    amount.fill(CHEQUE_AMOUNT)
    page.get_by_role("button", name="Record gift").click()
    pages.check("cheque recorded")
    expect(page.get_by_text(re.compile(r"Recorded gift #\d+"))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gift #")
    receipt_link = page.get_by_role("link", name=re.compile(rf"^{NUMBER}$"))
    expect(receipt_link).to_be_visible()
    cheque_receipt = receipt_link.inner_text()
    main_nav(page, "Gifts")
    pages.check("gifts with the cheque")
    cheque_row = (
        page.get_by_role("row").filter(has_text=CHEQUE_DONOR).filter(has_text=f"#{CHEQUE_NUMBER}")
    )
    expect(cheque_row).to_have_count(1)
    expect(cheque_row).to_contain_text("$125.00")
    main_nav(page, "Receipts")
    pages.check("receipts")
    cheque_receipt_row = page.get_by_role("row").filter(has_text=cheque_receipt)
    expect(cheque_receipt_row).to_contain_text(CHEQUE_DONOR)
    expect(cheque_receipt_row).to_contain_text("$125.00")
    expect(cheque_receipt_row).to_contain_text("Valid")
    expect(page.get_by_role("row").filter(has_text=number)).to_contain_text("Void")
    expect(page.get_by_role("row").filter(has_text=new_number)).to_contain_text(money(gross))

    # 4. The year-end statements of this year, then the outgoing mail.
    page.get_by_role("link", name="Year-end statements").first.click()
    pages.check("year-end statements")
    # Any other choice on this screen (such as a calendar or fiscal basis) keeps its default.
    year = page.get_by_label("Tax year")
    labels = [t.strip() for t in year.locator("option").all_inner_texts()]
    this_year = [label for label in labels if str(today.year) in label]
    assert this_year, labels
    year.select_option(label=this_year[0])
    # This year is not over yet: its preview is refused until the box is ticked.
    page.get_by_role("button", name="Preview the statements").click()
    pages.check("year-end open year refused")
    confirm = page.get_by_label("Send statements for a year that is not over yet")
    expect_error_next_to(page, confirm, "is not over yet")
    confirm.check()
    page.get_by_role("button", name="Preview the statements").click()
    pages.check("year-end preview")
    # The preview: how many, to whom, the totals and a sample; nothing issued yet.
    to_issue = int(
        page.locator("dt:text('Statements to issue') + dd").inner_text().replace(",", "")
    )
    assert to_issue > 0
    by_email = int(page.locator("dt:text('By email') + dd").inner_text().replace(",", ""))
    by_post = int(page.locator("dt:text('For post') + dd").inner_text().replace(",", ""))
    assert by_email + by_post == to_issue
    expect(page.get_by_role("row").filter(has_text=GIFT_DONOR_NAME)).to_contain_text(
        GIFT_DONOR_EMAIL
    )
    assert cents(page.locator("dt:text('Deductible total') + dd").inner_text()) >= gross
    with page.expect_download() as download:
        page.get_by_role("link", name="Sample statement (PDF)").click()
    sample = squash(pdf_text(download.value.path()))
    assert "PREVIEW \u2014 not issued" in sample and "Deductible" in sample
    page.get_by_role("button", name="Issue and email statements").click()
    expect(page.get_by_text(re.compile(r"^Done"))).to_be_visible(timeout=120_000)
    pages.check("year-end run done")
    progress = page.get_by_role("progressbar")
    assert progress.get_attribute("value") == progress.get_attribute("max")
    issued = int(page.locator("dt:text('Statements issued') + dd").inner_text().replace(",", ""))
    assert issued == to_issue
    # The run's page lists its statements, the donor's among them.
    expect(page.get_by_role("region", name="Statements issued by this run")).to_contain_text(
        GIFT_DONOR_NAME
    )
    page.get_by_role("main").get_by_role("link", name="Outgoing mail").click()
    pages.check("outgoing mail")
    statements = page.get_by_role("row").filter(has_text=re.compile(r"Attached: statement-"))
    assert statements.count() == issued, statements.all_inner_texts()
    expect(statements.filter(has_text=re.compile(r"sent|pending|sending"))).to_have_count(issued)
    mine = statements.filter(has_text=GIFT_DONOR_EMAIL)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("statement of giving")
    mine.get_by_role("link").click()
    pages.check("a statement message")
    expect(page.get_by_role("definition").filter(has_text=GIFT_DONOR_EMAIL)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"^statement-{NUMBER}\.pdf \("))).to_be_visible()
    body = page.locator("pre").inner_text()
    assert money(gross) in body
    link = re.search(r"https?://\S+", body).group(0)
    assert link.startswith(page.url.split("/admin/")[0] + "/"), link

    # 5. The gifts CSV and the journal CSV.
    main_nav(page, "Reports")
    pages.check("reports")
    page.get_by_role("link", name="CSV exports").click()
    pages.check("exports")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download gifts (CSV)").click()
    gifts = read_csv(download.value.path())
    mine = [r for r in gifts if r["Donor"] == GIFT_DONOR_NAME]
    assert len(mine) == 1, mine
    row = mine[0]
    assert cents(row["Gross"]) == gross
    assert cents(row["Fee"]) == fee
    assert cents(row["Net"]) == net
    assert row["Currency"] == "USD"
    assert row["Email"] == GIFT_DONOR_EMAIL
    cheque = [r for r in gifts if r["Donor"] == CHEQUE_DONOR and r["Method"] == "Cheque"]
    assert [cents(r["Gross"]) for r in cheque][-1:] == [12500]

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the journal (CSV)").click()
    journal = read_csv(download.value.path())
    assert journal
    debits = sum(int(Decimal(r["Debit"] or "0") * 100) for r in journal)
    credits = sum(int(Decimal(r["Credit"] or "0") * 100) for r in journal)
    assert debits == credits > 0
    for entry in {r["JournalNo"] for r in journal}:
        lines = [r for r in journal if r["JournalNo"] == entry]
        assert sum(Decimal(r["Debit"] or "0") for r in lines) == sum(
            Decimal(r["Credit"] or "0") for r in lines
        ), entry
