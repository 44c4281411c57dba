"""The treasurer's report as a PDF: the same tables as the page, and a bar chart.

``render_report`` takes the plain ``Report`` dataclass (``report_content``) that
``donations.services.reports.build_report`` fills (read through its attributes
only, no database access here) and returns the PDF bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from donations.money import format_money
from donations.pdf.report_content import MoneyRow, Report

FONTS = Path(__file__).parent / "fonts"
FONT = "ReportSans"
BOLD = "ReportSans-Bold"
GROSS = colors.HexColor("#9fb8cf")
NET = colors.HexColor("#1f5f8b")
LINE = colors.HexColor("#c9d1d9")


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))
    if BOLD not in registered:
        pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    return {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=16, leading=20),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "muted": ParagraphStyle("muted", parent=base, textColor=colors.HexColor("#5a6570")),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(header: list[str], rows: list[list[str]], *, total_rows: int = 0) -> Table:
    table = Table([header, *rows], repeatRows=1, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("FONTNAME", (0, 0), (-1, 0), BOLD),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, LINE),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
    ]
    if total_rows:
        style += [
            ("FONTNAME", (0, -total_rows), (-1, -1), BOLD),
            ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.6, colors.black),
        ]
    table.setStyle(TableStyle(style))
    return table


MONEY_HEADER = ["", "Gifts", "Gross", "Fees", "Refunded / disputed", "Net"]


def _money_cells(row: MoneyRow, label: str) -> list[str]:
    return [
        label,
        f"{row.count:,}",
        format_money(row.gross_cents, row.currency),
        format_money(row.fee_cents, row.currency),
        format_money(row.returned_cents, row.currency),
        format_money(row.net_cents, row.currency),
    ]


def _money_table(first: str, rows: list[MoneyRow], totals: list[MoneyRow]) -> Table:
    many = len(totals) > 1
    body = [_money_cells(r, f"{r.label} ({r.currency})" if many else r.label) for r in rows]
    foot = [_money_cells(t, f"Total {t.currency}" if many else "Total") for t in totals]
    return _table([first, *MONEY_HEADER[1:]], body + foot, total_rows=len(foot))


def _bar_chart(rows: list[MoneyRow], width: float) -> Drawing:
    height = 170
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 48, 28
    chart.width, chart.height = width - 60, height - 52
    # Whole currency units (integers) keep the axis readable; the tables carry the cents.
    chart.data = [[r.gross_cents // 100 for r in rows], [r.net_cents // 100 for r in rows]]
    chart.categoryAxis.categoryNames = [r.label.split(" ")[0] for r in rows]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = min(0, *(r.net_cents // 100 for r in rows))
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.bars[0].fillColor = GROSS
    chart.bars[1].fillColor = NET
    chart.bars.strokeColor = None
    chart.groupSpacing = 6
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 52, height - 6
    legend.fontName = FONT
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [(GROSS, "Gross"), (NET, "Net")]
    legend.dx = legend.dy = 8
    legend.deltax = 60
    drawing.add(legend)
    currency = rows[0].currency if rows else ""
    drawing.add(String(4, height - 12, currency, fontName=FONT, fontSize=7))
    return drawing


def render_report(report: Report, *, page_size: str = "letter") -> bytes:
    """Return the report as PDF bytes."""
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    size = A4 if page_size == "a4" else LETTER
    doc = SimpleDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Report {report.date_from.isoformat()} to {report.date_to.isoformat()}",
    )
    story: list = [
        Paragraph("Giving report", styles["title"]),
        Paragraph(
            f"{report.date_from.isoformat()} to {report.date_to.isoformat()} "
            f"(made {report.generated_on.isoformat()})",
            styles["muted"],
        ),
        Spacer(1, 6),
    ]
    story.append(Paragraph("Gifts by month", styles["h2"]))
    chart_rows = report.chart_months()
    if any(r.count for r in chart_rows):
        story.append(_bar_chart(chart_rows, doc.width))
    story.append(_money_table("Month", report.months, report.totals))
    story.append(Paragraph("By fund", styles["h2"]))
    story.append(_money_table("Fund", report.funds, report.totals))
    story.append(Paragraph("By method", styles["h2"]))
    story.append(_money_table("Method", report.methods, report.totals))
    story.append(
        Paragraph(
            "Gifts received: paid gifts and correcting entries. Net is gross less fees and "
            "what was refunded or held by a dispute.",
            styles["muted"],
        )
    )

    r = report.retention
    story.append(Paragraph("Donors", styles["h2"]))
    story.append(
        Paragraph(
            _escape(f"Compared with {r.previous_from.isoformat()} to {r.previous_to.isoformat()}."),
            styles["muted"],
        )
    )
    story.append(
        _table(
            ["", "Donors"],
            [
                ["Gave in this period", f"{r.donors:,}"],
                ["New: first gift ever", f"{r.new:,}"],
                ["Returning: gave in both periods", f"{r.returning:,}"],
                ["Came back after a gap", f"{r.reactivated:,}"],
                ["Lapsed: gave before, not now", f"{r.lapsed:,}"],
                ["Gave in the previous period", f"{r.previous_donors:,}"],
            ],
        )
    )

    story.append(Paragraph("Goods", styles["h2"]))
    if report.goods:
        story.append(
            _table(
                ["Category", "Units received", "Units distributed"],
                [
                    [_escape(g.category), f"{g.received:,}", f"{g.distributed:,}"]
                    for g in report.goods
                ]
                + [["Total", f"{report.goods_received:,}", f"{report.goods_distributed:,}"]],
                total_rows=1,
            )
        )
    else:
        story.append(Paragraph("No goods received or distributed in this period.", styles["body"]))
    doc.build(story)
    return buffer.getvalue()
