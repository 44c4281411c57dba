"""The grant report as a PDF: the same tables as the page and the CSV, and a chart of
hours given and in-kind value per month.

``render_grant_report`` takes the plain ``GrantReport`` (``grant_content``) that
``donations.services.grant_report`` fills and returns the PDF bytes.
"""

from __future__ import annotations

import io

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from donations.money import format_money
from donations.pdf.grant_content import FundRow, GrantReport, MonthRow
from donations.pdf.report import FONT, GROSS, NET, _escape, _register_fonts, _styles, _table
from donations.pdf.volunteer_content import format_minutes


def _bars(rows: list[MonthRow], values: list[int], width: float, title: str, fill) -> Drawing:
    height = 130
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 52, 22
    chart.width, chart.height = width - 64, height - 40
    chart.data = [values]
    chart.categoryAxis.categoryNames = [r.label.split(" ")[0] for r in rows]
    for axis in (chart.categoryAxis.labels, chart.valueAxis.labels):
        axis.fontName = FONT
        axis.fontSize = 7
    chart.valueAxis.valueMin = min(0, *values) if values else 0
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.bars[0].fillColor = fill
    chart.bars.strokeColor = None
    drawing.add(chart)
    drawing.add(String(4, height - 10, title, fontName=FONT, fontSize=8))
    return drawing


def _fund_cells(row: FundRow, label: str, restriction: str = "") -> list[str]:
    return [
        _escape(label),
        restriction,
        f"{row.count:,}",
        format_money(row.gross_cents, row.currency),
        format_money(row.returned_cents, row.currency),
        format_money(row.net_cents, row.currency),
    ]


def _goods_table(
    header: list[str], rows: list[tuple[str, str, int, int]], units: int, cents: int, cur: str
) -> Table:
    """A table of goods: two labels, units and fair value per row, then the total row."""
    cells = [
        [_escape(first), _escape(second), f"{count:,}", format_money(value, cur)]
        for first, second, count, value in rows
    ]
    cells.append(["Total", "", f"{units:,}", format_money(cents, cur)])
    return _table(header, cells, total_rows=1)


def _time_table(
    header: list[str], rows: list[tuple[str, int, int, str]], total: tuple[int, int, str]
) -> Table:
    """A table of time given: a label, a count, the hours and their value per row, then
    the total row."""
    cells = [
        [_escape(label), f"{count:,}", format_minutes(minutes), value]
        for label, count, minutes, value in rows
    ]
    count, minutes, value = total
    cells.append(["Total", f"{count:,}", format_minutes(minutes), value])
    return _table(header, cells, total_rows=1)


def render_grant_report(
    report: GrantReport, *, organization: str = "", note: str = "", page_size: str = "letter"
) -> bytes:
    """Return the grant report as PDF bytes."""
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4 if page_size == "a4" else LETTER,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Grant report {report.date_from.isoformat()} to {report.date_to.isoformat()}",
    )
    cur = report.currency
    money = lambda cents: format_money(cents, cur)  # noqa: E731
    story: list = [
        Paragraph(
            _escape(f"Grant report{': ' + organization if organization else ''}"), styles["title"]
        ),
        Paragraph(
            _escape(
                f"{report.date_from.isoformat()} to {report.date_to.isoformat()} · "
                f"{report.program or 'All programs'} (made {report.generated_on.isoformat()})"
            ),
            styles["muted"],
        ),
        Spacer(1, 6),
    ]
    if any(r.minutes or r.in_kind_cents for r in report.months):
        story.append(Paragraph("Hours given and goods received by month", styles["h2"]))
        if any(r.minutes for r in report.months):
            story.append(
                _bars(
                    report.months,
                    [r.minutes // 60 for r in report.months],
                    doc.width,
                    "Hours given (volunteers and professionals)",
                    NET,
                )
            )
        if any(r.in_kind_cents for r in report.months):
            story.append(
                _bars(
                    report.months,
                    [r.in_kind_cents // 100 for r in report.months],
                    doc.width,
                    f"Goods received at fair value ({cur})",
                    GROSS,
                )
            )

    story.append(Paragraph("Cash gifts by fund and restriction", styles["h2"]))
    if report.program:
        story.append(
            Paragraph(
                "The whole organisation: gifts are not recorded per program.", styles["muted"]
            )
        )
    header = ["Fund", "Restriction", "Gifts", "Gross", "Refunded / disputed", "Net"]
    body = [
        _fund_cells(r, r.fund, "Restricted" if r.restricted else "Unrestricted")
        for r in report.funds
    ]
    body += [_fund_cells(r, f"{r.fund} ({r.currency})") for r in report.restriction_totals()]
    totals = [_fund_cells(r, f"Total ({r.currency})") for r in report.fund_totals()]
    story.append(
        _table(header, body + totals, total_rows=len(totals))
        if body
        else Paragraph("No gifts received in this period.", styles["body"])
    )

    story.append(Paragraph("Gifts in kind received", styles["h2"]))
    if report.program:
        story.append(
            Paragraph(
                "The whole organisation: goods are received, not per program.", styles["muted"]
            )
        )
    story.append(
        _goods_table(
            ["Category", "Valuation", "Units", "Fair value"],
            [(r.category, r.method, r.units, r.value_cents) for r in report.in_kind],
            report.in_kind_units,
            report.in_kind_cents,
            cur,
        )
    )

    story.append(Paragraph("Goods distributed", styles["h2"]))
    story.append(
        _goods_table(
            ["Program or partner", "Category", "Units", "Fair value"],
            [(r.recipient, r.category, r.units, r.value_cents) for r in report.distributed],
            report.distributed_units,
            report.distributed_cents,
            cur,
        )
    )

    rate = money(report.hour_value_cents) if report.hour_value_cents is not None else "not set"
    story.append(Paragraph("Volunteer hours by skill", styles["h2"]))
    story.append(
        Paragraph(
            _escape(
                f"Valued at {rate} an hour. Each volunteer's hours are "
                "counted once, under the skills they offer."
            ),
            styles["muted"],
        )
    )
    value = lambda cents: "—" if cents is None else money(cents)  # noqa: E731
    story.append(
        _time_table(
            ["Skills", "Volunteers", "Hours", "Value"],
            [(r.skill, r.volunteers, r.minutes, value(r.value_cents)) for r in report.hours],
            (report.volunteers, report.hours_minutes, value(report.hours_cents)),
        )
    )

    story.append(Paragraph("Professional services (pro bono) by type", styles["h2"]))
    story.append(
        _time_table(
            ["Service", "Services", "Hours", "Value at fair rates"],
            [
                (r.service_type, r.services, r.minutes, money(r.value_cents))
                for r in report.services
            ],
            (report.services_count, report.services_minutes, money(report.services_cents)),
        )
    )
    if note:
        story += [Spacer(1, 8), Paragraph(_escape(note), styles["muted"])]
    story.append(Paragraph("Counts only: no person served is named.", styles["muted"]))
    doc.build(story)
    return buffer.getvalue()
