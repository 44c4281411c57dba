"""A server-side SVG bar chart of gross and net gifts per month: no JavaScript.

Like ``charts.stock_chart_svg`` it scales through its ``viewBox``, escapes
every piece of text, colours bars through classes in site.css (with fill
attributes as a fallback, since the CSP forbids ``style=""``) and is one image
for screen readers, whose ``<desc>`` gives each month's figures in words.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from donations.money import format_money
from donations.services.charts import coord, nice_top, safe_id
from donations.services.reports import MoneyRow

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 24, 36
GROSS_FILL = "#9fb8cf"
NET_FILL = "#1f5f8b"


def describe_months(rows: Sequence[MoneyRow]) -> str:
    """The chart in words."""
    if not rows:
        return "No gifts in this period."
    parts = [
        f"{row.label}: gross {format_money(row.gross_cents, row.currency)}, "
        f"net {format_money(row.net_cents, row.currency)}"
        for row in rows
    ]
    return "; ".join(parts) + "."


def _axis_label(cents: int, currency: str) -> str:
    text = format_money(cents, currency)
    return text[:-3] if text.endswith(".00") else text


def month_bars_svg(
    rows: Sequence[MoneyRow], *, title: str, chart_id: str = "month-chart"
) -> Markup:
    """Draw gross (light) and net (dark) side by side for each month."""
    chart_id = safe_id(chart_id)
    summary = describe_months(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" viewBox="0 0 {WIDTH}'
        f' {HEIGHT}" preserveAspectRatio="xMidYMid meet" role="img"'
        f' aria-label="{escape(title)}. {escape(summary)}" id="{chart_id}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}</desc>",
    ]
    if not rows or all(r.gross_cents == 0 and r.net_cents == 0 for r in rows):
        parts.append(
            f'<text class="chart-empty" x="{WIDTH // 2}" y="{HEIGHT // 2}"'
            ' text-anchor="middle" fill="#5a6570">No gifts in this period</text></svg>'
        )
        return Markup("".join(parts))  # noqa: S704 - every text part is escaped
    currency = rows[0].currency
    values = [v for r in rows for v in (r.gross_cents, r.net_cents)]
    top = nice_top(max(max(values), 1))
    low = min(0, min(values))
    bottom = -nice_top(-low) if low < 0 else 0
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def y_at(value: int) -> float:
        return TOP + plot_h * (top - value) / (top - bottom)

    zero = y_at(0)
    for tick in sorted({bottom, 0, top // 2, top}):
        y = y_at(tick)
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{coord(y)}"'
            f' y2="{coord(y)}" stroke="#dde3e8"/>'
            f'<text class="chart-tick" x="{LEFT - 6}" y="{coord(y + 4)}" text-anchor="end"'
            f' font-size="11" fill="#5a6570">{escape(_axis_label(tick, currency))}</text>'
        )
    slot = plot_w / len(rows)
    bar = max(min(slot * 0.36, 28), 1.5)
    label_every = max(1, round(len(rows) / 12))
    for index, row in enumerate(rows):
        x0 = LEFT + slot * index + slot / 2 - bar
        for offset, value, css, fill, name in (
            (0, row.gross_cents, "chart-bar-gross", GROSS_FILL, "gross"),
            (bar, row.net_cents, "chart-bar-net", NET_FILL, "net"),
        ):
            y = min(y_at(value), zero)
            height = abs(y_at(value) - zero)
            parts.append(
                f'<rect class="{css}" x="{coord(x0 + offset)}" y="{coord(y)}"'
                f' width="{coord(bar)}" height="{coord(height)}" fill="{fill}">'
                f"<title>{escape(row.label)} {name}: "
                f"{escape(format_money(value, row.currency))}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text class="chart-tick" x="{coord(LEFT + slot * index + slot / 2)}"'
                f' y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11"'
                f' fill="#5a6570">{escape(row.label.split(" ")[0])}</text>'
            )
    parts.append(
        f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{coord(zero)}"'
        f' y2="{coord(zero)}" stroke="#5a6570"/>'
        f'<rect class="chart-bar-gross" x="{LEFT}" y="4" width="10" height="10"'
        f' fill="{GROSS_FILL}"/>'
        f'<text x="{LEFT + 14}" y="13" font-size="11" fill="#333">Gross</text>'
        f'<rect class="chart-bar-net" x="{LEFT + 64}" y="4" width="10" height="10"'
        f' fill="{NET_FILL}"/>'
        f'<text x="{LEFT + 78}" y="13" font-size="11" fill="#333">Net</text>'
        "</svg>"
    )
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped
