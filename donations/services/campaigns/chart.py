"""A campaign's raised-per-day chart: server-side SVG, no JavaScript (as report_charts)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from donations.money import format_money
from donations.services.campaigns.report import DayRow
from donations.services.charts import coord, nice_top, safe_id

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 16, 36
FILL = "#1f5f8b"


def describe_days(days: Sequence[DayRow], currency: str) -> str:
    given = [d for d in days if d.raised_cents]
    if not given:
        return "Nothing raised yet."
    parts = [f"{d.day:%-d %b %Y}: {format_money(d.raised_cents, currency)}" for d in given]
    return "; ".join(parts) + "."


def days_svg(days: Sequence[DayRow], *, currency: str, title: str, chart_id: str) -> Markup:
    """One bar per day: what the campaign raised that day (net of refunds)."""
    chart_id = safe_id(chart_id)
    summary = describe_days(days, currency)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" viewBox="0 0 {WIDTH}'
        f' {HEIGHT}" preserveAspectRatio="xMidYMid meet" role="img"'
        f' aria-label="{escape(title)}. {escape(summary)}" id="{chart_id}">',
        f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>",
    ]
    values = [d.raised_cents for d in days]
    if not values or not any(values):
        parts.append(
            f'<text class="chart-empty" x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle"'
            ' fill="#5a6570">Nothing raised yet</text></svg>'
        )
        return Markup("".join(parts))  # noqa: S704 - every text part is escaped
    top = nice_top(max(max(values), 1))
    bottom = -nice_top(-min(values)) if min(values) < 0 else 0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_at(value: int) -> float:
        return TOP + plot_h * (top - value) / (top - bottom)

    zero = y_at(0)
    for tick in sorted({bottom, 0, top // 2, top}):
        label = format_money(tick, currency).removesuffix(".00")
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{coord(y_at(tick))}"'
            f' y2="{coord(y_at(tick))}" stroke="#dde3e8"/>'
            f'<text class="chart-tick" x="{LEFT - 6}" y="{coord(y_at(tick) + 4)}"'
            f' text-anchor="end" font-size="11" fill="#5a6570">{escape(label)}</text>'
        )
    slot = plot_w / len(days)
    bar = max(min(slot * 0.7, 24), 1.0)
    label_every = max(1, round(len(days) / 10))
    for index, day in enumerate(days):
        x = LEFT + slot * index + (slot - bar) / 2
        y = min(y_at(day.raised_cents), zero)
        parts.append(
            f'<rect class="chart-bar-net" x="{coord(x)}" y="{coord(y)}" width="{coord(bar)}"'
            f' height="{coord(abs(y_at(day.raised_cents) - zero))}" fill="{FILL}">'
            f"<title>{day.day:%-d %b}: {escape(format_money(day.raised_cents, currency))}"
            "</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text class="chart-tick" x="{coord(LEFT + slot * index + slot / 2)}"'
                f' y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11"'
                f' fill="#5a6570">{day.day:%-d %b}</text>'
            )
    parts.append(
        f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{coord(zero)}"'
        f' y2="{coord(zero)}" stroke="#5a6570"/></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped
