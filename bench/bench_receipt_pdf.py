"""Receipt PDFs per second: ``render_receipt`` beside a bare ReportLab page in the same run.

Run by hand (``.venv/bin/python bench/bench_receipt_pdf.py``; about 20 seconds).
Renders one cash receipt (accented names, a benefit, a replaced receipt) with
``donations.pdf.render.render_receipt`` and, as the baseline, a one-page
document built directly with ReportLab from the same text: the same DejaVu
fonts, paragraphs, a small table and a QR code of the verification address, but
no page numbering canvas, no reusable QR form and no footer layout. Three
baselines are measured, drawing the QR with ReportLab's own ``QrCodeWidget``,
with segno as ReportLab shapes, and with segno as one canvas path (the way
``render_receipt`` draws it); the ratio is taken against the fastest. The QR
cache of ``render_receipt`` is emptied before each call, since in real use every
receipt has its own address. Target: render_receipt / bare >= 0.5.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from functools import partial

import _common  # noqa: F401 (puts the project on sys.path)
import segno
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib.colors import black
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from donations.money import format_money
from donations.pdf.content import DonorBlock, GiftLine, OrgBlock, ReceiptContent
from donations.pdf.layout import BOLD, FONT, qr_runs
from donations.pdf.render import render_receipt

CONTENT = ReceiptContent(
    kind="cash",
    number="2026-000042",
    issued_on="2026-03-05",
    verification_code="K7QM-2XPA-9D",
    verify_url="https://give.example.org/verify/K7QM-2XPA-9D",
    org=OrgBlock(
        legal_name="Safe Harbor Shelters, Inc.",
        tax_id="12-3456789",
        address_lines=["100 Main Street", "Springfield, IL 62701"],
        phone="(555) 010-2000",
        email="giving@example.org",
        website="example.org",
        signatory_name="Łukasz Wróbel",
        signatory_title="Treasurer",
        footer="Safe Harbor Shelters is a 501(c)(3) public charity.",
    ),
    donor=DonorBlock(name="Zoë Ångström", address_lines=["12 Élan Road", "Springfield, IL"]),
    currency="USD",
    replaces_number="2026-000041",
    gift=GiftLine(
        date="2026-03-04",
        amount_cents=12500,
        currency="USD",
        fund="Shelter beds",
        method="Cheque #1042",
        description="In memory of Nguyễn Thị Minh",
    ),
    benefit_description="a gala dinner",
    benefit_cents=4000,
    deductible_cents=8500,
)


def _qr_widget(canvas, url: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def _qr_segno(canvas, url: str, x: float, y: float, size: float) -> None:
    matrix = segno.make_qr(url, error="m").matrix
    unit = size / len(matrix)
    drawing = Drawing(size, size)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                drawing.add(
                    Rect(
                        c * unit,
                        size - (r + 1) * unit,
                        unit,
                        unit,
                        strokeColor=None,
                        fillColor=black,
                    )
                )
    renderPDF.draw(drawing, canvas, x, y)


def _qr_segno_path(canvas, url: str, x: float, y: float, size: float) -> None:
    matrix = segno.make_qr(url, error="m").matrix
    unit = size / len(matrix)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                path.rect(x + c * unit, y + size - (r + 1) * unit, unit, unit)
    canvas.drawPath(path, stroke=0, fill=1)


BASELINES = {
    "bare (ReportLab QR)": _qr_widget,
    "bare (segno, shapes)": _qr_segno,
    "bare (segno, 1 path)": _qr_segno_path,
}


def ours() -> bytes:
    """One receipt as the app renders it; the QR cache is emptied as every receipt differs."""
    qr_runs.cache_clear()
    return render_receipt(CONTENT)


def bare_receipt(content: ReceiptContent, qr: Callable) -> bytes:
    """The same receipt text on one page, built straight from ReportLab."""
    body = ParagraphStyle("b", fontName=FONT, fontSize=9.5, leading=13)
    bold = ParagraphStyle("h", parent=body, fontName=BOLD)
    title = ParagraphStyle("t", parent=body, fontName=BOLD, fontSize=17, leading=21)
    org, donor, gift, cur = content.org, content.donor, content.gift, content.currency
    assert gift is not None
    story = [
        Paragraph(org.legal_name, bold),
        *[Paragraph(line, body) for line in org.address_lines],
        Paragraph(f"{org.phone} · {org.email} · {org.website}", body),
        Paragraph(f"EIN {org.tax_id}", body),
        Spacer(1, 12),
        Paragraph("Donation receipt", title),
        Paragraph(f"This receipt replaces receipt {content.replaces_number}, which is void.", bold),
        Paragraph(f"Receipt number {content.number}", body),
        Paragraph("Date issued March 5, 2026", body),
        Paragraph("Donor", bold),
        Paragraph(donor.name, body),
        *[Paragraph(line, body) for line in donor.address_lines],
        Spacer(1, 8),
    ]
    table = Table(
        [
            ["Date received", "March 4, 2026"],
            ["Amount", format_money(gift.amount_cents, cur)],
            ["Fund", gift.fund],
            ["Method", gift.method],
            ["Description", gift.description],
        ],
        hAlign="LEFT",
    )
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT)]))
    story += [
        table,
        Spacer(1, 8),
        Paragraph(
            f"In exchange for this contribution you received {content.benefit_description}, "
            f"with an estimated fair market value of {format_money(content.benefit_cents, cur)}. "
            "Only the amount of your contribution above that value, "
            f"{format_money(content.deductible_cents, cur)}, is deductible for federal income "
            "tax purposes.",
            body,
        ),
        Spacer(1, 20),
        Paragraph("Signed", body),
        Paragraph(org.signatory_name, bold),
        Paragraph(f"{org.signatory_title}, {org.legal_name}", body),
        Spacer(1, 12),
        Paragraph(org.footer, body),
        Paragraph(f"Verification code {content.verification_code}", bold),
        Paragraph(f"Verify this receipt at {content.verify_url}", body),
    ]

    def footer(canvas, doc) -> None:
        qr(canvas, content.verify_url, LETTER[0] - 40 * mm, 10 * mm, 22 * mm)

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=LETTER, invariant=1)
    doc.build(story, onFirstPage=footer)
    return out.getvalue()


def interleaved(fns: dict[str, Callable[[], bytes]], seconds: float) -> dict[str, list[float]]:
    """Call each function in turn, round after round, for ``seconds``; their times in seconds.

    Taking turns spreads the noise of a shared machine over every contender alike.
    """
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in fns}
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="in all")
    args = parser.parse_args()

    fns: dict[str, Callable[[], bytes]] = {"render_receipt": ours}
    fns.update({name: partial(bare_receipt, CONTENT, qr) for name, qr in BASELINES.items()})
    times = interleaved(fns, args.seconds)
    results = {}
    for name, fn in fns.items():
        per_second = len(times[name]) / sum(times[name])
        median_ms = statistics.median(times[name]) * 1000
        results[name] = (per_second, median_ms)
        print(
            f"{name:<22} {per_second:8.1f} renders/s   median {median_ms:6.2f} ms"
            f"   {len(fn()):,} bytes   ({len(times[name])} renders)"
        )
    baseline = max(results[name][0] for name in BASELINES)
    ratio = results["render_receipt"][0] / baseline
    verdict = "ok" if ratio >= 0.5 else "BELOW TARGET"
    print(f"ratio render_receipt / fastest bare = {ratio:.2f} (target >= 0.5): {verdict}")


if __name__ == "__main__":
    main()
