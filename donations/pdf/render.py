"""Receipts, acknowledgements of goods and year-end statements as PDF (IRS Publication 1771).

``render_receipt`` takes the plain ``ReceiptContent`` snapshot (see
``donations.pdf.content``) and returns PDF bytes. It reads no database and no
files: the DejaVu fonts are registered once per process when ``donations.pdf.layout``
is imported. The same input gives the same bytes (the document is built with
``invariant=1``).

Every page carries, at the bottom, the verification code, a QR code of the
verification address, the organisation's footer text and "Page x of N"; a
voided receipt carries a large translucent "VOID" across every page. The pages
of a statement after the first carry a running header at the top: the number,
the donor and the year, "(continued)".
"""

from __future__ import annotations

import io
from functools import partial

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from donations.pdf.content import Branding, GiftLine, ReceiptContent, VoidMark
from donations.pdf.layout import (
    BOLD,
    FONT,
    FOOTER_BASE,
    FOOTER_TEXT_MAX,
    INK,
    MARGIN,
    QR_SIZE,
    STYLES,
    draw_qr,
    esc,
    fields,
    format_day,
    goods_table,
    logo_image,
    money,
    para,
)
from donations.pdf.page import PageDecor, ReceiptCanvas
from donations.pdf.statement import period_sentence, running_header, statement_blocks
from donations.pdf.wording import (
    EN_DASH,
    FORM_8283,
    NO_GOODS_CASH,
    NO_GOODS_IN_KIND,
    NO_VALUE_IN_KIND,
    PREVIEW_MARK,
    RANGE_TITLE,
    TEST_MARK,
    TITLES,
)

__all__ = ["BOLD", "FONT", "draw_qr", "render_receipt"]

NO_BRANDING = Branding()  # frozen: safe as a default


def _test_suffix(content: ReceiptContent) -> str:
    return f" ({TEST_MARK})" if content.is_test else ""


# --- the document's blocks ---------------------------------------------------------


def _header(content: ReceiptContent, branding: Branding, width: float) -> list[Flowable]:
    org = content.org
    lines: list[Flowable] = [para(org.legal_name, "org")]
    for line in org.address_lines:
        if line.strip():
            lines.append(para(line, "small"))
    contact = " · ".join(part for part in (org.phone, org.email, org.website) if part)
    if contact:
        lines.append(para(contact, "small"))
    lines.append(para(f"EIN {org.tax_id}", "small"))
    logo = logo_image(branding)
    if logo is None:
        return lines
    table = Table(
        [[logo, lines]], colWidths=[logo.drawWidth + 6 * mm, width - logo.drawWidth - 6 * mm]
    )
    table.hAlign = "LEFT"
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [table]


def _title(content: ReceiptContent) -> str:
    title = TITLES.get(content.kind, "Receipt")
    if content.kind == "statement" and content.basis == "range":
        return RANGE_TITLE
    if content.kind == "statement" and content.tax_year:
        title = f"{title} {content.tax_year}"
    return title


def _notices(content: ReceiptContent, void: VoidMark | None) -> list[Flowable]:
    out: list[Flowable] = []
    if void is not None:
        text = f"Void since {format_day(void.voided_on)}: {void.reason.strip().rstrip('.')}."
        if void.replaced_by:
            text += f" Replaced by {void.replaced_by}."
        out.append(para(text, "alert"))
    if content.replaces_number:
        out.append(
            para(
                f"This receipt replaces receipt {content.replaces_number}, which is void.", "notice"
            )
        )
    if out:
        out.append(Spacer(1, 3 * mm))
    return out


def _donor(content: ReceiptContent) -> list[Flowable]:
    donor = content.donor
    out: list[Flowable] = [para("Donor", "h2"), para(donor.name, "notice")]
    out += [para(line) for line in donor.address_lines if line.strip()]
    return out


def _cash(content: ReceiptContent, width: float) -> list[Flowable]:
    out: list[Flowable] = [para("Contribution", "h2")]
    gift: GiftLine | None = content.gift
    if gift is not None:
        out.append(para(money(gift.amount_cents, gift.currency), "amount"))
        out.append(
            fields(
                [
                    ("Date received", format_day(gift.date)),
                    ("Amount", money(gift.amount_cents, gift.currency)),
                    ("Fund", gift.fund),
                    ("Method", gift.method),
                    ("Description", gift.description),
                ],
                width,
            )
        )
    out.append(Spacer(1, 3 * mm))
    if content.benefit_cents > 0:
        what = content.benefit_description.strip() or "goods or services"
        out.append(
            para(
                f"In exchange for this contribution you received {what}, with an estimated fair "
                f"market value of {money(content.benefit_cents, content.currency)}. Only the "
                "amount of your contribution above that value, "
                f"{money(content.deductible_cents, content.currency)}, is deductible for "
                "federal income tax purposes."
            )
        )
    else:
        out.append(para(NO_GOODS_CASH))
    return out


def _in_kind(content: ReceiptContent, width: float) -> list[Flowable]:
    out: list[Flowable] = [
        para("Goods received", "h2"),
        fields([("Date received", format_day(content.received_on))], width),
        Spacer(1, 2 * mm),
    ]
    if content.goods:
        out.append(goods_table(content.goods, width))
    else:
        out.append(para("No items are listed."))
    out += [Spacer(1, 3 * mm), para(NO_GOODS_IN_KIND), para(NO_VALUE_IN_KIND)]
    if content.form_8283_reminder:
        out.append(para(FORM_8283))
    return out


def _signature(content: ReceiptContent, width: float) -> Flowable:
    org = content.org
    rule = Table([[""]], colWidths=[70 * mm], rowHeights=[8 * mm], hAlign="LEFT")
    rule.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.6, INK)]))
    parts: list[Flowable] = [Spacer(1, 6 * mm), para("Signed"), rule]
    if org.signatory_name:
        parts.append(para(org.signatory_name, "notice"))
        if org.signatory_title:
            parts.append(para(f"{org.signatory_title}, {org.legal_name}"))
        else:
            parts.append(para(org.legal_name))
    else:
        parts.append(para(f"For {org.legal_name}", "notice"))
    return KeepTogether(parts)


# --- the document ------------------------------------------------------------------


def render_receipt(
    content: ReceiptContent,
    *,
    void: VoidMark | None = None,
    branding: Branding = NO_BRANDING,
    preview: bool = False,
) -> bytes:
    """Return the PDF of a cash receipt, an acknowledgement of goods or a statement.

    ``preview``: a statement shown before it is issued, marked "PREVIEW — not issued"
    at the top and across every page.
    """
    pagesize = A4 if content.page_size.lower() == "a4" else LETTER
    page_w, page_h = pagesize
    width = page_w - 2 * MARGIN

    footer_text_w = width - QR_SIZE - 6 * mm
    footer = [
        Paragraph(f"<b>Verification code {esc(content.verification_code)}</b>", STYLES["small"]),
        Paragraph(f"Verify this receipt at {esc(content.verify_url)}", STYLES["small"]),
    ]
    org_footer = content.org.footer.strip()
    footer_in_flow = False
    if org_footer:
        paragraph = para(org_footer, "muted")
        if paragraph.wrap(footer_text_w, 1000)[1] <= FOOTER_TEXT_MAX:
            footer.append(paragraph)
        else:
            footer_in_flow = True
    decor = PageDecor(
        page_width=page_w,
        page_height=page_h,
        code=content.verification_code,
        url=content.verify_url,
        footer_lines=footer,
        text_width=footer_text_w,
        void=void is not None,
        running_header=running_header(content, width),
        preview=preview,
        test=content.is_test,
    )

    story: list[Flowable] = _header(content, branding, width)
    story += [Spacer(1, 4 * mm), para(_title(content), "title")]
    if preview:
        story += [para(PREVIEW_MARK, "alert"), Spacer(1, 2 * mm)]
    # Statements issued since there is a basis to choose say which year they cover;
    # older ones keep their "Period" line.
    period = period_sentence(content) if content.kind == "statement" and content.basis else ""
    if period:
        story.append(para(period, "notice"))
        story.append(Spacer(1, 2 * mm))
    if content.is_test:
        story += [para(f"{TEST_MARK}: made in test mode, for trying the system out.", "alert")]
        story.append(Spacer(1, 3 * mm))
    story += _notices(content, void)
    facts = [("Receipt number", content.number), ("Date issued", format_day(content.issued_on))]
    if content.kind == "statement" and not period and (content.period_start or content.period_end):
        facts.append(
            (
                "Period",
                f"{format_day(content.period_start)} {EN_DASH} {format_day(content.period_end)}",
            )
        )
    story.append(fields(facts, width))
    story += _donor(content)
    if content.kind == "in_kind":
        story += _in_kind(content, width)
    elif content.kind == "statement":
        story += statement_blocks(content, width)
    else:
        story += _cash(content, width)
    story.append(_signature(content, width))
    if footer_in_flow:
        story += [Spacer(1, 4 * mm), para(org_footer, "muted")]

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=FOOTER_BASE + decor.height() + 5 * mm,
        title=f"{_title(content)} {content.number}{_test_suffix(content)}",
        author=content.org.legal_name,
        subject=f"{_title(content)} for {content.donor.name}",
        creator="donations",
        invariant=1,
    )
    doc.build(story, canvasmaker=partial(ReceiptCanvas, decor=decor))
    return out.getvalue()
