"""Receipts, acknowledgements and statements as PDF: what IRS Publication 1771 asks them to say.

Built from hand-made ``ReceiptContent`` snapshots (no database), rendered with
``render_receipt`` and read back with pypdf.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace

import pytest
from PIL import Image
from pypdf import PdfReader

from donations.pdf.content import (
    Branding,
    DonorBlock,
    FundTotal,
    GiftLine,
    GoodsLine,
    OrgBlock,
    ReceiptContent,
    VoidMark,
)
from donations.pdf.render import render_receipt

ORG = OrgBlock(
    legal_name="Safe Harbor Shelters, Inc.",
    tax_id="12-3456789",
    address_lines=["100 Main Street", "Springfield, IL 62701"],
    phone="(555) 010-2000",
    email="giving@example.org",
    website="example.org",
    signatory_name="Łukasz Wróbel",
    signatory_title="Treasurer",
    footer="Safe Harbor Shelters is a 501(c)(3) public charity.",
)
DONOR = DonorBlock(name="Zoë Ångström", address_lines=["12 Élan Road", "Springfield, IL 62702"])
CODE = "K7QM-2XPA-9D"
URL = "https://give.example.org/verify/K7QM-2XPA-9D"


def cash(**changes) -> ReceiptContent:
    content = ReceiptContent(
        kind="cash",
        number="2026-000042",
        issued_on="2026-03-05",
        verification_code=CODE,
        verify_url=URL,
        org=ORG,
        donor=DONOR,
        currency="USD",
        gift=GiftLine(
            date="2026-03-04",
            amount_cents=123456,
            currency="USD",
            fund="Shelter beds",
            method="Cheque #1042",
            description="In memory of Nguyễn Thị Minh",
        ),
        deductible_cents=123456,
    )
    return replace(content, **changes)


def in_kind(**changes) -> ReceiptContent:
    return cash(
        kind="in_kind",
        number="2026-000043",
        gift=None,
        deductible_cents=0,
        received_on="2026-02-02",
        goods=[
            GoodsLine("Coat, adult (M)", 3, "each", "New"),
            GoodsLine("Socks, wool", 12, "pair", "Good used"),
        ],
        **changes,
    )


def statement(gifts: int = 3, **changes) -> ReceiptContent:
    funds = ["General", "Shelter beds", "Legal aid"]
    lines = [
        GiftLine(
            date=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            amount_cents=1000 + i,
            currency="USD",
            fund=funds[i % 3],
            method="Online (Stripe)",
            receipt_number=f"2026-{100 + i:06d}",
        )
        for i in range(gifts)
    ]
    totals = {fund: sum(g.amount_cents for g in lines if g.fund == fund) for fund in funds}
    return cash(
        kind="statement",
        number="2026-000044",
        gift=None,
        deductible_cents=0,
        tax_year="2026",
        period_start="2026-01-01",
        period_end="2026-12-31",
        gifts=lines,
        fund_totals=[FundTotal(f, c, "USD") for f, c in sorted(totals.items()) if c],
        total_cents=sum(g.amount_cents for g in lines),
        **changes,
    )


def text_of(pdf: bytes) -> str:
    """All pages' text with whitespace runs made single spaces (lines wrap anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def pages_of(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def logo_bytes(fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 80), (20, 80, 160)).save(out, fmt)
    return out.getvalue()


def test_cash_receipt_says_what_publication_1771_asks():
    pdf = render_receipt(cash())
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    for expected in (
        "Safe Harbor Shelters, Inc.",
        "EIN 12-3456789",
        "100 Main Street",
        "giving@example.org",
        "Donation receipt",
        "2026-000042",
        "March 5, 2026",  # issued
        "March 4, 2026",  # received
        "Zoë Ångström",
        "12 Élan Road",
        "$1,234.56",
        "Shelter beds",
        "Cheque #1042",
        "In memory of Nguyễn Thị Minh",
        "No goods or services were provided in exchange for this contribution.",
        "Signed",
        "Łukasz Wróbel",
        "Treasurer",
        "Safe Harbor Shelters is a 501(c)(3) public charity.",
        f"Verification code {CODE}",
        f"Verify this receipt at {URL}",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "VOID" not in text
    assert "replaces" not in text
    assert pages_of(pdf) == 1


def test_cash_receipt_with_a_benefit_states_its_value_and_the_deductible_part():
    pdf = render_receipt(
        cash(benefit_description="a gala dinner", benefit_cents=15000, deductible_cents=108456)
    )
    text = text_of(pdf)
    assert (
        "In exchange for this contribution you received a gala dinner, with an estimated fair "
        "market value of $150.00. Only the amount of your contribution above that value, "
        "$1,084.56, is deductible for federal income tax purposes."
    ) in text
    assert "No goods or services were provided" not in text


def test_money_is_formatted_in_the_receipt_currency():
    gift = replace(cash().gift, amount_cents=5000, currency="EUR")
    text = text_of(render_receipt(cash(currency="EUR", gift=gift)))
    assert "€50.00" in text


def test_in_kind_acknowledgement_lists_goods_and_states_no_value():
    text = text_of(render_receipt(in_kind()))
    for expected in (
        "Acknowledgement of goods received",
        "EIN 12-3456789",
        "Zoë Ångström",
        "2026-000043",
        "February 2, 2026",
        "Coat, adult (M)",
        "3 each",
        "12 pair",
        "Good used",
        "We did not provide any goods or services in exchange for these items.",
        "The value of donated goods is determined by the donor; this acknowledgement states no "
        "value.",
        "Łukasz Wróbel",
        f"Verify this receipt at {URL}",
    ):
        assert expected in text, expected
    assert "$" not in text
    assert "Form 8283" not in text


def test_in_kind_acknowledgement_reminds_of_form_8283_when_asked():
    text = text_of(render_receipt(in_kind(form_8283_reminder=True)))
    reminder = (
        "If your non-cash gifts for the year total more than $500, IRS Form 8283 must be filed "
        "with your tax return."
    )
    assert reminder in text
    assert "$" not in text.replace(reminder, "")


def test_statement_lists_every_gift_with_totals_per_fund():
    content = statement(
        gifts=6, goods_received=[("2026-05-01", GoodsLine("Blanket", 4, "each", "New"))]
    )
    text = text_of(render_receipt(content))
    for expected in (
        "Year-end giving statement 2026",
        "2026-000044",
        "January 1, 2026 \u2013 December 31, 2026",
        "Zoë Ångström",
        "2026-000100",
        "2026-000105",
        "Online (Stripe)",
        "General $20.03",  # 1000 + 1003
        "Legal aid $20.07",  # 1002 + 1005
        "Shelter beds $20.05",  # 1001 + 1004
        "Total contributions $60.15",
        "Blanket",
        "Unless stated on the individual receipt, no goods or services were provided in "
        "exchange for these contributions.",
        f"Verification code {CODE}",
    ):
        assert expected in text, expected
    for cents in range(1000, 1006):
        assert f"$10.{cents - 1000:02d}" in text


def test_a_long_statement_spans_pages_numbered_with_repeated_headers():
    pdf = render_receipt(statement(gifts=200))
    pages = pages_of(pdf)
    assert pages >= 3
    reader = PdfReader(io.BytesIO(pdf))
    second = " ".join((reader.pages[1].extract_text() or "").split())
    assert f"Page 2 of {pages}" in second
    assert "Date Fund Method Receipt Amount" in second  # the header row repeats
    assert f"Verification code {CODE}" in second
    text = text_of(pdf)
    assert "2026-000299" in text  # the last gift is there
    assert "Total contributions $2,199.00" in text  # 200 * 1000 + sum(range(200)) cents


def test_void_receipt_is_marked_on_every_page_with_the_reason():
    void = VoidMark(voided_on="2026-04-01", reason="Wrong amount", replaced_by="2026-000050")
    text = text_of(render_receipt(cash(), void=void))
    assert "VOID" in text
    assert "Void since April 1, 2026: Wrong amount. Replaced by 2026-000050." in text

    pdf = render_receipt(statement(gifts=120), void=VoidMark("2026-04-01", "Duplicate"))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert "VOID" in (page.extract_text() or "")
    assert "Void since April 1, 2026: Duplicate." in text_of(pdf)


def test_a_reissue_names_the_receipt_it_replaces():
    text = text_of(render_receipt(cash(replaces_number="2026-000041")))
    assert "This receipt replaces receipt 2026-000041, which is void." in text


def test_page_size_follows_the_content():
    letter = PdfReader(io.BytesIO(render_receipt(cash()))).pages[0].mediabox
    a4 = PdfReader(io.BytesIO(render_receipt(cash(page_size="a4")))).pages[0].mediabox
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)


def test_logo_is_drawn_when_readable_and_skipped_otherwise():
    plain = render_receipt(cash())
    with_png = render_receipt(cash(), branding=Branding(logo=logo_bytes("PNG")))
    with_jpeg = render_receipt(cash(), branding=Branding(logo=logo_bytes("JPEG")))
    assert b"/Subtype /Image" in with_png
    assert b"/Subtype /Image" in with_jpeg
    assert b"/Subtype /Image" not in plain
    for junk in (b"not an image", logo_bytes("PNG")[:40], logo_bytes("GIF")):
        pdf = render_receipt(cash(), branding=Branding(logo=junk))
        assert b"/Subtype /Image" not in pdf
        assert "Donation receipt" in text_of(pdf)


def test_user_text_is_not_taken_for_markup():
    donor = DonorBlock(name="A & B <Family> Trust", address_lines=["<b>1 Road</b>"])
    text = text_of(render_receipt(cash(donor=donor)))
    assert "A & B <Family> Trust" in text
    assert "<b>1 Road</b>" in text


def test_a_cash_receipt_without_signatory_or_footer_still_renders():
    org = replace(ORG, signatory_name="", signatory_title="", footer="", phone="", website="")
    text = text_of(render_receipt(cash(org=org, donor=DonorBlock(name="Anonymous donor"))))
    assert "For Safe Harbor Shelters, Inc." in text
    assert "Anonymous donor" in text


def test_a_long_org_footer_moves_into_the_text():
    org = replace(ORG, footer="Our charity registration details. " * 40)
    text = text_of(render_receipt(cash(org=org)))
    assert text.count("Our charity registration details.") == 40


def test_the_same_content_gives_the_same_bytes():
    content = statement(gifts=30)
    assert render_receipt(content) == render_receipt(content)
    assert render_receipt(cash()) == render_receipt(cash())


def test_content_round_trips_through_json_and_renders_the_same():
    content = statement(gifts=5, goods_received=[("2026-05-01", GoodsLine("Soap", 2, "bar", ""))])
    again = ReceiptContent.from_json(content.to_json())
    assert render_receipt(again) == render_receipt(content)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
@pytest.mark.parametrize(
    "content", [cash(), in_kind(), statement(gifts=200)], ids=["cash", "in_kind", "statement"]
)
def test_first_page_rasterizes_and_is_not_blank(tmp_path, content):
    pdf = render_receipt(content, void=VoidMark("2026-04-01", "Test"))
    source = tmp_path / "receipt.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("p*.png")
    with Image.open(png) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert width > 200 and height > 250
        dark = sum(count for level, count in enumerate(gray.histogram()) if level < 100)
    assert dark > 500  # text, rules and the QR code
    if content.kind == "statement":
        assert pages_of(pdf) > 1
    else:
        assert pages_of(pdf) == 1


def test_statement_pages_after_the_first_carry_a_running_header():
    content = replace(statement(gifts=200), tax_year="FY 2026 (July 2025 - June 2026)")
    reader = PdfReader(io.BytesIO(render_receipt(content)))
    assert len(reader.pages) >= 3
    header = "Statement 2026-000044 · Zoë Ångström · FY 2026 (July 2025 - June 2026) (continued)"
    first = " ".join((reader.pages[0].extract_text() or "").split())
    assert "(continued)" not in first
    assert first.count("2026-000044") == 1  # the receipt number, once
    for page in reader.pages[1:]:
        text = " ".join((page.extract_text() or "").split())
        assert text.count(header) == 1, text[:300]
        assert "Date Fund Method Receipt Amount" in text  # the table header still repeats
    # Gift receipts are one page and have none.
    assert "(continued)" not in text_of(render_receipt(cash()))


def test_a_long_donor_name_is_shortened_in_the_running_header():
    donor = DonorBlock(name="Ana Maria " * 20 + "Núñez")
    reader = PdfReader(io.BytesIO(render_receipt(statement(gifts=200, donor=donor))))
    second = " ".join((reader.pages[1].extract_text() or "").split())
    assert "Statement 2026-000044 · Ana Maria" in second
    assert "… · 2026 (continued)" in second


def test_a_statement_names_its_basis_and_period():
    calendar = text_of(render_receipt(statement(basis="calendar")))
    assert "Statement for calendar year 2026: January 1, 2026 \u2013 December 31, 2026" in calendar
    fiscal = replace(
        statement(basis="fiscal"),
        tax_year="FY 2026 (July 2025 - June 2026)",
        period_start="2025-07-01",
        period_end="2026-06-30",
    )
    text = text_of(render_receipt(fiscal))
    assert "Year-end giving statement FY 2026 (July 2025 - June 2026)" in text
    assert "Statement for fiscal year 2026: July 1, 2025 \u2013 June 30, 2026" in text
    # A statement issued before there was a basis keeps its "Period" line.
    older = text_of(render_receipt(statement()))
    assert "Period January 1, 2026 \u2013 December 31, 2026" in older
    assert "Statement for" not in older
