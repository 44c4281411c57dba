"""The grant report's chart: hours given and in-kind value per month, as inline SVG.

Two panels in one image, hours (volunteers and professionals) above and the fair value
of goods received below, each on its own scale. Like ``report_charts.month_bars_svg``:
no JavaScript, every text escaped, colours through classes with fill attributes as a
fallback (the CSP forbids ``style=""``), and one image for screen readers whose
``<desc>`` gives each month's figures in words.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from donations.money import format_money
from donations.pdf.grant_content import MonthRow
from donations.pdf.volunteer_content import format_minutes
from donations.services.charts import coord, nice_top

WIDTH = 640
PANEL = 120
LEFT, RIGHT, TOP, GAP, BOTTOM = 80, 12, 22, 40, 28
HEIGHT = TOP + PANEL + GAP + PANEL + BOTTOM
HOURS_FILL = "#1f5f8b"
VALUE_FILL = "#9fb8cf"


def describe(rows: Sequence[MonthRow], currency: str) -> str:
    if not rows:
        return "No months in this period."
    return (
        "; ".join(
            f"{r.label}: {format_minutes(r.minutes)}, goods worth "
            f"{format_money(r.in_kind_cents, currency)}"
            for r in rows
        )
        + "."
    )


def _panel(
    rows: Sequence[MonthRow], values: list[int], *, top_y: int, fill: str, css: str, tick
) -> list[str]:
    parts = []
    high = nice_top(max(max(values, default=0), 1))
    low = min(0, *values) if values else 0
    bottom = -nice_top(-low) if low < 0 else 0

    def y_at(value: int) -> float:
        return top_y + PANEL * (high - value) / (high - bottom)

    for mark in sorted({bottom, 0, high // 2, high}):
        y = y_at(mark)
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{coord(y)}"'
            f' y2="{coord(y)}" stroke="#dde3e8"/>'
            f'<text class="chart-tick" x="{LEFT - 6}" y="{coord(y + 4)}" text-anchor="end"'
            f' font-size="11" fill="#5a6570">{escape(tick(mark))}</text>'
        )
    slot = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)
    bar = max(min(slot * 0.6, 36), 1.5)
    zero = y_at(0)
    for index, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = min(y_at(value), zero)
        parts.append(
            f'<rect class="{css}" x="{coord(LEFT + slot * index + (slot - bar) / 2)}"'
            f' y="{coord(y)}" width="{coord(bar)}" height="{coord(abs(y_at(value) - zero))}"'
            f' fill="{fill}"><title>{escape(row.label)}: {escape(tick(value))}</title></rect>'
        )
    return parts


def grant_months_svg(rows: Sequence[MonthRow], *, currency: str, title: str) -> Markup:
    """Draw hours given (above) and in-kind value (below) for each month."""
    summary = describe(rows, currency)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" viewBox="0 0 {WIDTH}'
        f' {HEIGHT}" preserveAspectRatio="xMidYMid meet" role="img"'
        f' aria-label="{escape(title)}. {escape(summary)}" id="grant-chart">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}</desc>",
        f'<text x="{LEFT}" y="14" font-size="12" fill="#333">Hours given</text>',
    ]
    parts += _panel(
        rows,
        [r.minutes // 60 for r in rows],
        top_y=TOP,
        fill=HOURS_FILL,
        css="chart-bar-net",
        tick=lambda v: f"{v:,} h",
    )
    second = TOP + PANEL + GAP
    parts.append(
        f'<text x="{LEFT}" y="{second - 8}" font-size="12" fill="#333">'
        f"Goods received, fair value ({escape(currency)})</text>"
    )

    def money_tick(value: int) -> str:
        text = format_money(value, currency)
        return text[:-3] if text.endswith(".00") else text

    parts += _panel(
        rows,
        [r.in_kind_cents for r in rows],
        top_y=second,
        fill=VALUE_FILL,
        css="chart-bar-gross",
        tick=money_tick,
    )
    slot = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)
    every = max(1, round(len(rows) / 12))
    for index, row in enumerate(rows):
        if index % every == 0:
            parts.append(
                f'<text class="chart-tick" x="{coord(LEFT + slot * index + slot / 2)}"'
                f' y="{HEIGHT - 8}" text-anchor="middle" font-size="11"'
                f' fill="#5a6570">{escape(row.label.split(" ")[0])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped
