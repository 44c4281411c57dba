"""Receipts, acknowledgements of goods and year-end statements as PDF (IRS Publication 1771).

``render_receipt`` takes the plain ``ReceiptContent`` snapshot (see
``donations.pdf.content``) and returns PDF bytes. It reads no database and no
files: the DejaVu fonts are registered once per process when this module is
imported. The same input gives the same bytes (the document is built with
``invariant=1``).

Every page carries, at the bottom, the verification code, a QR code of the
verification address, the organisation's footer text and "Page x of N"; a
voided receipt carries a large translucent "VOID" across every page. The pages
of a statement after the first carry a running header at the top: the number,
the donor and the year, "(continued)".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from pathlib import Path

import segno
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from donations.money import format_money
from donations.pdf.content import Branding, GiftLine, GoodsLine, ReceiptContent, VoidMark

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

INK = colors.HexColor("#1b1f23")
MUTED = colors.HexColor("#57606a")
RULE = colors.HexColor("#c9d1d9")
SHADE = colors.HexColor("#f3f5f7")
ALERT = colors.HexColor("#b42318")

TITLES = {
    "cash": "Donation receipt",
    "in_kind": "Acknowledgement of goods received",
    "statement": "Year-end giving statement",
}
RANGE_TITLE = "Giving statement"
NO_GOODS_CASH = "No goods or services were provided in exchange for this contribution."
NO_GOODS_IN_KIND = "We did not provide any goods or services in exchange for these items."
NO_VALUE_IN_KIND = (
    "The value of donated goods is determined by the donor; this acknowledgement states no value."
)
FORM_8283 = (
    "If your non-cash gifts for the year total more than $500, IRS Form 8283 must be filed "
    "with your tax return."
)
NO_GOODS_STATEMENT = (
    "Unless stated on the individual receipt, no goods or services were provided in exchange "
    "for these contributions."
)
# Statements that list each gift's deductible amount (IRS Publication 1771).
NO_GOODS_LISTED = "No goods or services were provided in exchange for these contributions."
GOODS_LISTED = (
    "Where a value received is shown, you received goods or services in exchange for that "
    "contribution, with the estimated fair market value stated. Only the amount of each "
    "contribution above that value, shown as deductible, is deductible for federal income tax "
    "purposes. No goods or services were provided in exchange for the other contributions."
)
PREVIEW_MARK = "PREVIEW — not issued"

EN_DASH = "\u2013"
NO_BRANDING = Branding()  # frozen: safe as a default

MARGIN = 18 * mm
QR_SIZE = 22 * mm
FOOTER_GAP = 4 * mm
FOOTER_BASE = 8 * mm  # from the paper's edge to the lowest footer line
FOOTER_TEXT_MAX = 24 * mm  # a longer org footer goes at the end of the text instead
HEADER_BASE = 11 * mm  # from the paper's top edge to the running header's baseline
HEADER_SIZE = 7.5


def _register_fonts() -> None:
    registered = set(pdfmetrics.getRegisteredFontNames())
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))
    if BOLD not in registered:
        pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


_register_fonts()  # once per process: the only disk reads of this module

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=INK)
STYLES = {
    "body": _BODY,
    "small": ParagraphStyle("small", parent=_BODY, fontSize=8, leading=10.5),
    "muted": ParagraphStyle("muted", parent=_BODY, fontSize=8, leading=10.5, textColor=MUTED),
    "org": ParagraphStyle("org", parent=_BODY, fontName=BOLD, fontSize=12.5, leading=16),
    "title": ParagraphStyle(
        "title", parent=_BODY, fontName=BOLD, fontSize=17, leading=21, spaceBefore=6, spaceAfter=6
    ),
    "h2": ParagraphStyle(
        "h2", parent=_BODY, fontName=BOLD, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4
    ),
    "alert": ParagraphStyle("alert", parent=_BODY, fontName=BOLD, textColor=ALERT),
    "notice": ParagraphStyle("notice", parent=_BODY, fontName=BOLD),
    "cell": ParagraphStyle("cell", parent=_BODY, fontSize=8.5, leading=10.5),
    "cell_muted": ParagraphStyle(
        "cell_muted", parent=_BODY, fontSize=7.5, leading=9.5, textColor=MUTED
    ),
    "amount": ParagraphStyle("amount", parent=_BODY, fontName=BOLD, fontSize=14, leading=18),
}


# --- small helpers ----------------------------------------------------------------


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _p(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped)."""
    return Paragraph(_esc(text), STYLES[style])


def _day(iso: str, *, short: bool = False) -> str:
    """ "2026-03-05" -> "March 5, 2026" ("Mar 5, 2026" when short); other text unchanged."""
    try:
        day = date.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    month = day.strftime("%b" if short else "%B")
    return f"{month} {day.day}, {day.year}"


def _money(cents: int, currency: str) -> str:
    return format_money(cents, currency)


def _quantity(line: GoodsLine) -> str:
    return f"{line.quantity:,} {line.unit}".strip()


def _fields(rows: list[tuple[str, str]], width: float) -> Table:
    """A two-column "label: value" block."""
    data = [[_p(label, "muted"), _p(value)] for label, value in rows if value]
    table = Table(data, colWidths=[38 * mm, width - 38 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _grid(
    header: list[str],
    rows: list[list[object]],
    widths: list[float],
    *,
    right: tuple[int, ...] = (),
    total_rows: int = 0,
) -> Table:
    """A table with a bold header row repeated on every page and light rules."""
    table = Table([header, *rows], colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("FONTNAME", (0, 0), (-1, 0), BOLD),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    style += [("ALIGN", (col, 0), (col, -1), "RIGHT") for col in right]
    if total_rows:
        style += [
            ("FONTNAME", (0, -total_rows), (-1, -1), BOLD),
            ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.6, INK),
        ]
    table.setStyle(TableStyle(style))
    return table


@lru_cache(maxsize=8)
def _logo_size(logo: bytes) -> tuple[int, int] | None:
    """The pixel size of a readable PNG/JPEG logo, or None when it cannot be read."""
    try:
        with PILImage.open(io.BytesIO(logo)) as image:
            if image.format not in {"PNG", "JPEG"}:
                return None
            image.load()
            return image.size
    except Exception:  # any unreadable logo is skipped, never fatal
        return None


def _logo(branding: Branding) -> Image | None:
    if not branding.logo:
        return None
    size = _logo_size(bytes(branding.logo))
    if not size or not size[0] or not size[1]:
        return None
    width, height = size
    box_w, box_h = 40 * mm, 18 * mm
    scale = min(box_w / width, box_h / height)
    image = Image(io.BytesIO(branding.logo), width=width * scale, height=height * scale)
    image.hAlign = "LEFT"
    return image


# --- QR code ----------------------------------------------------------------------


@lru_cache(maxsize=64)
def _qr_runs(text: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR code of ``text`` as (size in modules, dark runs (row, first col, length))."""
    matrix = segno.make_qr(text, error="m").matrix
    runs = []
    for row, line in enumerate(matrix):
        col, n = 0, len(line)
        while col < n:
            if line[col]:
                start = col
                while col < n and line[col]:
                    col += 1
                runs.append((row, start, col - start))
            else:
                col += 1
    return len(matrix), tuple(runs)


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``text`` with its lower-left corner at (x, y), ``size`` wide."""
    modules, runs = _qr_runs(text)
    unit = size / modules
    path = canvas.beginPath()
    top = y + size
    for row, col, length in runs:
        path.rect(x + col * unit, top - (row + 1) * unit, length * unit, unit)
    canvas.saveState()
    canvas.setFillColor(colors.black)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


# --- the page decoration -----------------------------------------------------------


@dataclass
class _Decor:
    """What every page carries: the footer block, page numbers, the VOID mark."""

    page_width: float
    page_height: float
    code: str
    url: str
    footer_lines: list[Paragraph]
    text_width: float
    void: bool
    running_header: str = ""  # on pages 2+ (statements)
    preview: bool = False  # a statement shown before it is issued
    test: bool = False  # made in payments test mode

    def draw(self, canvas: Canvas, page: int, pages: int) -> None:
        width = self.page_width
        canvas.saveState()
        if page > 1 and self.running_header:
            self.draw_running_header(canvas)
        # The rule above the footer block.
        block_top = FOOTER_BASE + self.height()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, block_top + 2 * mm, width - MARGIN, block_top + 2 * mm)
        # The QR code of the verification address, bottom right.
        qr_x = width - MARGIN - QR_SIZE
        qr_y = FOOTER_BASE + 4 * mm
        if not canvas.hasForm("receipt-qr"):
            canvas.beginForm("receipt-qr")
            draw_qr(canvas, self.url, 0, 0, QR_SIZE)
            canvas.endForm()
        canvas.saveState()
        canvas.translate(qr_x, qr_y)
        canvas.doForm("receipt-qr")
        canvas.restoreState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(width - MARGIN, FOOTER_BASE, f"Page {page} of {pages}")
        # Verification code, address and the organisation's footer, left of the QR.
        y = block_top
        for paragraph in self.footer_lines:
            _, h = paragraph.wrap(self.text_width, 1000)
            y -= h
            paragraph.drawOn(canvas, MARGIN, y)
        canvas.restoreState()
        if self.void:
            self.draw_void(canvas)
        if self.preview:
            self.draw_mark(canvas, "PREVIEW", 110)
        if self.test:
            _test_mark(canvas, self.page_width, self.page_height)

    def draw_running_header(self, canvas: Canvas) -> None:
        y = self.page_height - HEADER_BASE
        canvas.setFont(FONT, HEADER_SIZE)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, y, self.running_header)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y - 2 * mm, self.page_width - MARGIN, y - 2 * mm)

    def height(self) -> float:
        text = sum(p.wrap(self.text_width, 1000)[1] for p in self.footer_lines)
        return max(QR_SIZE + 4 * mm, text)

    def draw_void(self, canvas: Canvas) -> None:
        self.draw_mark(canvas, "VOID", 170)

    def draw_mark(self, canvas: Canvas, text: str, size: float) -> None:
        canvas.saveState()
        canvas.setFillColor(ALERT, alpha=0.18)
        canvas.setStrokeColor(ALERT, alpha=0.18)
        canvas.translate(self.page_width / 2, self.page_height / 2)
        canvas.rotate(45 if self.page_height >= self.page_width else 30)
        canvas.setFont(BOLD, size)
        canvas.drawCentredString(0, -size * 0.35, text)
        canvas.restoreState()


TEST_MARK = "TEST \u2014 not a tax receipt"


def _test_mark(canvas: Canvas, page_width: float, page_height: float) -> None:
    """A test-mode document: a band across the top and "TEST" diagonally across the page."""
    canvas.saveState()
    band = 7 * mm  # clear of the running header on pages 2+
    canvas.setFillColor(ALERT)
    canvas.rect(0, page_height - band, page_width, band, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(BOLD, 11)
    canvas.drawCentredString(page_width / 2, page_height - band + 2.2 * mm, TEST_MARK.upper())
    canvas.setFillColor(ALERT, alpha=0.16)
    canvas.translate(page_width / 2, page_height / 2)
    canvas.rotate(45 if page_height >= page_width else 30)
    canvas.setFont(BOLD, 150)
    canvas.drawCentredString(0, 10, "TEST")
    canvas.setFont(BOLD, 30)
    canvas.drawCentredString(0, -40, "not a tax receipt")
    canvas.restoreState()


def _test_suffix(content: ReceiptContent) -> str:
    return f" ({TEST_MARK})" if content.is_test else ""


class _ReceiptCanvas(Canvas):
    """A canvas that holds the pages back until the end to print "Page x of N"."""

    def __init__(self, *args, decor: _Decor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._decor = decor
        self._pages: list[dict] = []

    def showPage(self) -> None:  # ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._decor.draw(self, number, total)
            super().showPage()
        super().save()


# --- the document's blocks ---------------------------------------------------------


def _header(content: ReceiptContent, branding: Branding, width: float) -> list[Flowable]:
    org = content.org
    lines: list[Flowable] = [_p(org.legal_name, "org")]
    for line in org.address_lines:
        if line.strip():
            lines.append(_p(line, "small"))
    contact = " · ".join(part for part in (org.phone, org.email, org.website) if part)
    if contact:
        lines.append(_p(contact, "small"))
    lines.append(_p(f"EIN {org.tax_id}", "small"))
    logo = _logo(branding)
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


def _period_sentence(content: ReceiptContent) -> str:
    """ "Statement for calendar year 2026: January 1, 2026 - December 31, 2026" (an en dash)."""
    try:
        year = date.fromisoformat(content.period_end).year
    except (TypeError, ValueError):
        return ""
    if content.basis == "range":
        return f"Statement for {_day(content.period_start)} {EN_DASH} {_day(content.period_end)}"
    which = "calendar year" if content.basis == "calendar" else "fiscal year"
    return (
        f"Statement for {which} {year}: "
        f"{_day(content.period_start)} {EN_DASH} {_day(content.period_end)}"
    )


def _running_header(content: ReceiptContent, width: float) -> str:
    """ "Statement 2026-000123 · Maria Núñez · 2026 (continued)", shortened to fit."""
    if content.kind != "statement":
        return ""
    name = " ".join(content.donor.name.split())
    year = f" · {content.tax_year}" if content.tax_year else ""

    def text(who: str) -> str:
        return f"Statement {content.number} · {who}{year} (continued)"

    line = text(name)
    while name and pdfmetrics.stringWidth(line, FONT, HEADER_SIZE) > width:
        name = name[:-2].rstrip()
        line = text(name + "…")
    return line


def _notices(content: ReceiptContent, void: VoidMark | None) -> list[Flowable]:
    out: list[Flowable] = []
    if void is not None:
        text = f"Void since {_day(void.voided_on)}: {void.reason.strip().rstrip('.')}."
        if void.replaced_by:
            text += f" Replaced by {void.replaced_by}."
        out.append(_p(text, "alert"))
    if content.replaces_number:
        out.append(
            _p(f"This receipt replaces receipt {content.replaces_number}, which is void.", "notice")
        )
    if out:
        out.append(Spacer(1, 3 * mm))
    return out


def _donor(content: ReceiptContent) -> list[Flowable]:
    donor = content.donor
    out: list[Flowable] = [_p("Donor", "h2"), _p(donor.name, "notice")]
    out += [_p(line) for line in donor.address_lines if line.strip()]
    return out


def _cash(content: ReceiptContent, width: float) -> list[Flowable]:
    out: list[Flowable] = [_p("Contribution", "h2")]
    gift: GiftLine | None = content.gift
    if gift is not None:
        out.append(_p(_money(gift.amount_cents, gift.currency), "amount"))
        out.append(
            _fields(
                [
                    ("Date received", _day(gift.date)),
                    ("Amount", _money(gift.amount_cents, gift.currency)),
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
            _p(
                f"In exchange for this contribution you received {what}, with an estimated fair "
                f"market value of {_money(content.benefit_cents, content.currency)}. Only the "
                "amount of your contribution above that value, "
                f"{_money(content.deductible_cents, content.currency)}, is deductible for "
                "federal income tax purposes."
            )
        )
    else:
        out.append(_p(NO_GOODS_CASH))
    return out


def _goods_table(lines: list[GoodsLine], width: float, *, dated: list[str] | None = None) -> Table:
    header = ["Description", "Quantity", "Condition"]
    widths = [width - 60 * mm, 28 * mm, 32 * mm]
    rows: list[list[object]] = [
        [_p(line.description, "cell"), _quantity(line), _p(line.condition or "—", "cell")]
        for line in lines
    ]
    if dated is not None:
        header = ["Date", *header]
        widths = [24 * mm, widths[0] - 24 * mm, *widths[1:]]
        rows = [[_day(day, short=True), *row] for day, row in zip(dated, rows, strict=True)]
    return _grid(header, rows, widths, right=(len(header) - 2,))


def _in_kind(content: ReceiptContent, width: float) -> list[Flowable]:
    out: list[Flowable] = [
        _p("Goods received", "h2"),
        _fields([("Date received", _day(content.received_on))], width),
        Spacer(1, 2 * mm),
    ]
    if content.goods:
        out.append(_goods_table(content.goods, width))
    else:
        out.append(_p("No items are listed."))
    out += [Spacer(1, 3 * mm), _p(NO_GOODS_IN_KIND), _p(NO_VALUE_IN_KIND)]
    if content.form_8283_reminder:
        out.append(_p(FORM_8283))
    return out


def _statement(content: ReceiptContent, width: float) -> list[Flowable]:
    if content.deductible_listed:
        return _statement_deductible(content, width)
    currency = content.currency
    out: list[Flowable] = [_p("Contributions", "h2")]
    if content.gifts:
        fixed = [22 * mm, 36 * mm, 26 * mm, 26 * mm]
        widths = [fixed[0], width - sum(fixed), *fixed[1:]]
        rows: list[list[object]] = []
        for gift in content.gifts:
            fund: list[Paragraph] = [_p(gift.fund, "cell")]
            if gift.description:
                fund.append(_p(gift.description, "cell_muted"))
            rows.append(
                [
                    _day(gift.date, short=True),
                    fund,
                    _p(gift.method, "cell"),
                    gift.receipt_number or "—",
                    _money(gift.amount_cents, gift.currency or currency),
                ]
            )
        out.append(_grid(["Date", "Fund", "Method", "Receipt", "Amount"], rows, widths, right=(4,)))
        out.append(_p("Totals by fund", "h2"))
        totals: list[list[object]] = [
            [_p(total.fund, "cell"), _money(total.amount_cents, total.currency or currency)]
            for total in content.fund_totals
        ]
        totals.append(["Total contributions", _money(content.total_cents, currency)])
        out.append(
            _grid(["Fund", "Total"], totals, [width - 40 * mm, 40 * mm], right=(1,), total_rows=1)
        )
    else:
        out.append(_p("No gifts of money were received in this period."))
    if content.goods_received:
        out.append(_p("Goods received", "h2"))
        out.append(
            _goods_table(
                [line for _, line in content.goods_received],
                width,
                dated=[day for day, _ in content.goods_received],
            )
        )
        out.append(Spacer(1, 2 * mm))
        out.append(_p(NO_VALUE_IN_KIND.replace("this acknowledgement", "this statement")))
    out += [Spacer(1, 3 * mm), _p(NO_GOODS_STATEMENT)]
    return out


def _goods_received(content: ReceiptContent, width: float) -> list[Flowable]:
    if not content.goods_received:
        return []
    return [
        _p("Goods received", "h2"),
        _goods_table(
            [line for _, line in content.goods_received],
            width,
            dated=[day for day, _ in content.goods_received],
        ),
        Spacer(1, 2 * mm),
        _p(NO_VALUE_IN_KIND.replace("this acknowledgement", "this statement")),
    ]


def _statement_deductible(content: ReceiptContent, width: float) -> list[Flowable]:
    """Each gift with its amount, the value of goods or services received and what is
    deductible; the totals are deductible totals."""
    currency = content.currency
    out: list[Flowable] = [_p("Contributions", "h2")]
    if content.gifts:
        fixed = [20 * mm, 30 * mm, 23 * mm, 23 * mm, 23 * mm]
        widths = [fixed[0], width - sum(fixed), *fixed[1:]]
        rows: list[list[object]] = []
        for gift in content.gifts:
            fund: list[Paragraph] = [_p(gift.fund, "cell")]
            for note in (gift.description, gift.benefit_description):
                if note:
                    fund.append(_p(note, "cell_muted"))
            method = [_p(gift.method, "cell")]
            if gift.receipt_number:
                method.append(_p(f"Receipt {gift.receipt_number}", "cell_muted"))
            money = gift.currency or currency
            rows.append(
                [
                    _day(gift.date, short=True),
                    fund,
                    method,
                    _money(gift.amount_cents, money),
                    _money(gift.benefit_cents, money) if gift.benefit_cents else "—",
                    _money(gift.deductible_cents, money),
                ]
            )
        rows.append(
            [
                "",
                "Total",
                "",
                _money(content.gross_cents, currency),
                _money(content.benefit_cents_total, currency),
                _money(content.total_cents, currency),
            ]
        )
        header = ["Date", "Fund", "Method", "Amount", "Value received", "Deductible"]
        out.append(_grid(header, rows, widths, right=(3, 4, 5), total_rows=1))
        out.append(_p("Deductible amounts by fund", "h2"))
        totals: list[list[object]] = [
            [_p(total.fund, "cell"), _money(total.amount_cents, total.currency or currency)]
            for total in content.fund_totals
        ]
        totals.append(["Total deductible contributions", _money(content.total_cents, currency)])
        out.append(
            _grid(
                ["Fund", "Deductible"], totals, [width - 40 * mm, 40 * mm], right=(1,), total_rows=1
            )
        )
    else:
        out.append(_p("No gifts of money were received in this period."))
    out += _goods_received(content, width)
    notice = GOODS_LISTED if content.benefit_cents_total else NO_GOODS_LISTED
    out += [Spacer(1, 3 * mm), _p(notice)]
    return out


def _signature(content: ReceiptContent, width: float) -> Flowable:
    org = content.org
    rule = Table([[""]], colWidths=[70 * mm], rowHeights=[8 * mm], hAlign="LEFT")
    rule.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.6, INK)]))
    parts: list[Flowable] = [Spacer(1, 6 * mm), _p("Signed"), rule]
    if org.signatory_name:
        parts.append(_p(org.signatory_name, "notice"))
        if org.signatory_title:
            parts.append(_p(f"{org.signatory_title}, {org.legal_name}"))
        else:
            parts.append(_p(org.legal_name))
    else:
        parts.append(_p(f"For {org.legal_name}", "notice"))
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
        Paragraph(f"<b>Verification code {_esc(content.verification_code)}</b>", STYLES["small"]),
        Paragraph(f"Verify this receipt at {_esc(content.verify_url)}", STYLES["small"]),
    ]
    org_footer = content.org.footer.strip()
    footer_in_flow = False
    if org_footer:
        paragraph = _p(org_footer, "muted")
        if paragraph.wrap(footer_text_w, 1000)[1] <= FOOTER_TEXT_MAX:
            footer.append(paragraph)
        else:
            footer_in_flow = True
    decor = _Decor(
        page_width=page_w,
        page_height=page_h,
        code=content.verification_code,
        url=content.verify_url,
        footer_lines=footer,
        text_width=footer_text_w,
        void=void is not None,
        running_header=_running_header(content, width),
        preview=preview,
        test=content.is_test,
    )

    story: list[Flowable] = _header(content, branding, width)
    story += [Spacer(1, 4 * mm), _p(_title(content), "title")]
    if preview:
        story += [_p(PREVIEW_MARK, "alert"), Spacer(1, 2 * mm)]
    # Statements issued since there is a basis to choose say which year they cover;
    # older ones keep their "Period" line.
    period = _period_sentence(content) if content.kind == "statement" and content.basis else ""
    if period:
        story.append(_p(period, "notice"))
        story.append(Spacer(1, 2 * mm))
    if content.is_test:
        story += [_p(f"{TEST_MARK}: made in test mode, for trying the system out.", "alert")]
        story.append(Spacer(1, 3 * mm))
    story += _notices(content, void)
    facts = [("Receipt number", content.number), ("Date issued", _day(content.issued_on))]
    if content.kind == "statement" and not period and (content.period_start or content.period_end):
        facts.append(
            ("Period", f"{_day(content.period_start)} {EN_DASH} {_day(content.period_end)}")
        )
    story.append(_fields(facts, width))
    story += _donor(content)
    if content.kind == "in_kind":
        story += _in_kind(content, width)
    elif content.kind == "statement":
        story += _statement(content, width)
    else:
        story += _cash(content, width)
    story.append(_signature(content, width))
    if footer_in_flow:
        story += [Spacer(1, 4 * mm), _p(org_footer, "muted")]

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
    doc.build(story, canvasmaker=partial(_ReceiptCanvas, decor=decor))
    return out.getvalue()
