"""The shared look of receipts and statements: fonts, colours, paragraph styles,
the page geometry and the small drawing helpers (fields, grids, logo, QR code).

The DejaVu fonts are registered once per process when this module is imported.
"""

from __future__ import annotations

import io
from datetime import date
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, Table, TableStyle

from donations.money import format_money
from donations.pdf.content import Branding, GoodsLine

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

INK = colors.HexColor("#1b1f23")
MUTED = colors.HexColor("#57606a")
RULE = colors.HexColor("#c9d1d9")
SHADE = colors.HexColor("#f3f5f7")
ALERT = colors.HexColor("#b42318")


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


def esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def para(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped)."""
    return Paragraph(esc(text), STYLES[style])


def format_day(iso: str, *, short: bool = False) -> str:
    """ "2026-03-05" -> "March 5, 2026" ("Mar 5, 2026" when short); other text unchanged."""
    try:
        day = date.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    month = day.strftime("%b" if short else "%B")
    return f"{month} {day.day}, {day.year}"


def money(cents: int, currency: str) -> str:
    return format_money(cents, currency)


def quantity(line: GoodsLine) -> str:
    return f"{line.quantity:,} {line.unit}".strip()


def fields(rows: list[tuple[str, str]], width: float) -> Table:
    """A two-column "label: value" block."""
    data = [[para(label, "muted"), para(value)] for label, value in rows if value]
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


def grid(
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
def logo_size(logo: bytes) -> tuple[int, int] | None:
    """The pixel size of a readable PNG/JPEG logo, or None when it cannot be read."""
    try:
        with PILImage.open(io.BytesIO(logo)) as image:
            if image.format not in {"PNG", "JPEG"}:
                return None
            image.load()
            return image.size
    except Exception:  # any unreadable logo is skipped, never fatal
        return None


def logo_image(branding: Branding) -> Image | None:
    if not branding.logo:
        return None
    size = logo_size(bytes(branding.logo))
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
def qr_runs(text: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
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
    modules, runs = qr_runs(text)
    unit = size / modules
    path = canvas.beginPath()
    top = y + size
    for row, col, length in runs:
        path.rect(x + col * unit, top - (row + 1) * unit, length * unit, unit)
    canvas.saveState()
    canvas.setFillColor(colors.black)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def goods_table(lines: list[GoodsLine], width: float, *, dated: list[str] | None = None) -> Table:
    header = ["Description", "Quantity", "Condition"]
    widths = [width - 60 * mm, 28 * mm, 32 * mm]
    rows: list[list[object]] = [
        [para(line.description, "cell"), quantity(line), para(line.condition or "—", "cell")]
        for line in lines
    ]
    if dated is not None:
        header = ["Date", *header]
        widths = [24 * mm, widths[0] - 24 * mm, *widths[1:]]
        rows = [[format_day(day, short=True), *row] for day, row in zip(dated, rows, strict=True)]
    return grid(header, rows, widths, right=(len(header) - 2,))
