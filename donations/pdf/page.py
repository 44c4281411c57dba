"""What every page of a receipt carries: the footer block with the QR code,
"Page x of N", the running header and the VOID, PREVIEW and TEST marks."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from donations.pdf.layout import (
    ALERT,
    BOLD,
    FONT,
    FOOTER_BASE,
    HEADER_BASE,
    HEADER_SIZE,
    MARGIN,
    MUTED,
    QR_SIZE,
    RULE,
    draw_qr,
)
from donations.pdf.wording import TEST_MARK


@dataclass
class PageDecor:
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
            draw_test_mark(canvas, self.page_width, self.page_height)

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


def draw_test_mark(canvas: Canvas, page_width: float, page_height: float) -> None:
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


class ReceiptCanvas(Canvas):
    """A canvas that holds the pages back until the end to print "Page x of N"."""

    def __init__(self, *args, decor: PageDecor, **kwargs) -> None:
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
