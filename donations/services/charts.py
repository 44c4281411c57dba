"""Server-side SVG charts of stock over time: no JavaScript, no image files.

``stock_chart_svg`` turns a daily series (from ``inventory.stock_series``) into
an inline ``<svg>`` that scales to the width of its container through its
``viewBox``. It is plain string building: every piece of text that came from
the database goes through ``markupsafe.escape``. Colours come from classes in
site.css (``.chart-*``), with presentation attributes as a fallback, since the
CSP forbids ``style=""``.

For screen readers the chart is one image (``role="img"``) named by its
``aria-label`` and ``<title>``, and its ``<desc>`` says the latest value, the
lowest and highest, and the par level: the numbers a sighted reader takes from
the picture.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Item, Site, StockLevel
from donations.services import inventory

# The drawing area in viewBox units; the SVG scales to its container's width.
WIDTH = 560
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 48, 56, 16, 32
DATE_TICKS = 5
LABEL_CLEARANCE = 26  # viewBox units between the last value's label and the par label
ITEM_CHART_DAYS = 90


def coord(value: float) -> str:
    """A coordinate with at most one decimal, without a trailing ".0"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_top(value: int) -> int:
    """The smallest "round" number (1, 2, 2.5, 5 x 10^k) at or above ``value``."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    # Steps in tenths (1, 2, 2.5, 5, 10), so 2.5 x 10^k stays whole-number math.
    for tenths in (10, 20, 25, 50, 100):
        top, rest = divmod(tenths * magnitude, 10)
        if rest == 0 and top >= value:
            return top
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def _tick_indexes(count: int) -> list[int]:
    """Up to DATE_TICKS evenly spread positions, always the first and the last."""
    if count <= DATE_TICKS:
        return list(range(count))
    return sorted({round(i * (count - 1) / (DATE_TICKS - 1)) for i in range(DATE_TICKS)})


def safe_id(text: str) -> str:
    """``text`` made safe for an SVG id: letters, digits, "_" and "-" only."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text) or "chart"


def describe_series(series: Sequence[tuple[date, int]], *, par: int | None) -> str:
    """The chart in words: what a screen reader hears instead of the picture."""
    if not series:
        return "No stock recorded."
    last_day, last = series[-1]
    values = [v for _d, v in series]
    text = (
        f"{last} on hand on {last_day.isoformat()}. Over {len(series)} "
        f"day{'s' if len(series) != 1 else ''} from {series[0][0].isoformat()}: "
        f"lowest {min(values)}, highest {max(values)}."
    )
    if par:
        text += f" Par level {par}; {'under par' if last < par else 'at or above par'} now."
    return text


def stock_chart_svg(
    series: list[tuple[date, int]],
    *,
    par: int | None,
    title: str,
    chart_id: str = "stock-chart",
) -> Markup:
    """Draw stock at the end of each day as a line, with axes, date ticks and the par line.

    ``series`` is oldest first, one point per day. ``par`` draws a dashed line
    when given (and above zero). ``chart_id`` keeps element ids unique when a
    page holds more than one chart. Returns markup safe to insert as is.
    """
    chart_id = safe_id(chart_id)
    summary = describe_series(series, par=par)
    label = f"{title}. {summary}"
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' preserveAspectRatio="xMidYMid meet" role="img" aria-label="{escape(label)}"'
        f' id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    if not series:
        parts.append(
            f'<text class="chart-empty" x="{WIDTH // 2}" y="{HEIGHT // 2}"'
            ' text-anchor="middle" fill="#5a6570">No stock recorded yet</text>'
        )
        parts.append("</svg>")
        return Markup("".join(parts))  # noqa: S704 - every text part above is escaped

    values = [value for _day, value in series]
    top = nice_top(max([*values, par or 0, 1]))
    bottom_value = min(0, *values)  # stock is never negative, but draw it if it were
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base_y = TOP + plot_h

    def x_at(index: int) -> float:
        if len(series) == 1:
            return LEFT + plot_w / 2
        return LEFT + plot_w * index / (len(series) - 1)

    def y_at(value: float) -> float:
        return TOP + plot_h * (top - value) / (top - bottom_value)

    # Grid lines and value labels: zero, half and top.
    parts.append('<g class="chart-grid" aria-hidden="true">')
    for value in sorted({bottom_value, (top + bottom_value) // 2, top}):
        y = coord(y_at(value))
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"'
            ' stroke="#d5dadf" stroke-width="1"/>'
            f'<text class="chart-label" x="{LEFT - 6}" y="{y}" dy="0.32em"'
            f' text-anchor="end" font-size="13" fill="#5a6570">{value}</text>'
        )
    parts.append("</g>")

    # Axes.
    parts.append(
        f'<g class="chart-axis" aria-hidden="true" stroke="#5a6570" stroke-width="1">'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{coord(base_y)}"/>'
        f'<line x1="{LEFT}" y1="{coord(base_y)}" x2="{WIDTH - RIGHT}" y2="{coord(base_y)}"/>'
        "</g>"
    )

    # Date ticks along the bottom.
    parts.append('<g class="chart-ticks" aria-hidden="true">')
    last_index = len(series) - 1
    for index in _tick_indexes(len(series)):
        x = coord(x_at(index))
        anchor = "middle"
        if len(series) > 1 and index == 0:
            anchor = "start"
        elif len(series) > 1 and index == last_index:
            anchor = "end"
        parts.append(
            f'<line x1="{x}" y1="{coord(base_y)}" x2="{x}" y2="{coord(base_y + 4)}"'
            ' stroke="#5a6570" stroke-width="1"/>'
            f'<text class="chart-label" x="{x}" y="{coord(base_y + 18)}" text-anchor="{anchor}"'
            f' font-size="13" fill="#5a6570">{escape(_day_label(series[index][0]))}</text>'
        )
    parts.append("</g>")

    # Where the line ends; its value label and the par label must not overlap.
    end_x, end_y = x_at(last_index), y_at(values[-1])
    last_dy, par_dy = "-0.5em", "0.32em"
    if par and abs(y_at(par) - end_y) < LABEL_CLEARANCE:
        if values[-1] < par:
            last_dy, par_dy = "1.2em", "-0.4em"
        else:
            last_dy, par_dy = "-0.5em", "1.1em"

    # The par line, dashed, labelled at its right end.
    if par:
        y = coord(y_at(par))
        parts.append(
            f'<g class="chart-par" aria-hidden="true">'
            f'<line class="chart-par-line" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"'
            ' stroke="#b4471f" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text class="chart-label chart-par-label" x="{WIDTH - RIGHT + 4}" y="{y}"'
            f' dy="{par_dy}" font-size="13" fill="#b4471f">par {par}</text>'
            "</g>"
        )

    # The stock line: one point per day.
    points = " ".join(f"{coord(x_at(i))},{coord(y_at(v))}" for i, v in enumerate(values))
    parts.append(
        f'<polyline class="chart-line" points="{points}" fill="none" stroke="#1f5f5b"'
        ' stroke-width="2" stroke-linejoin="round" aria-hidden="true"/>'
    )
    # The latest value, marked and written at the end of the line.
    parts.append(
        f'<circle class="chart-point" cx="{coord(end_x)}" cy="{coord(end_y)}" r="3.5"'
        ' fill="#1f5f5b" aria-hidden="true"/>'
        f'<text class="chart-label chart-last" x="{coord(end_x + 6)}" y="{coord(end_y)}"'
        f' dy="{last_dy}" font-size="13" font-weight="600" fill="#1d2327">{values[-1]}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above is escaped


# --- the item page ---------------------------------------------------------------


def total_par(item_id: int, site_id: int | None = None) -> int | None:
    """The par level of an item at one site, or summed over open sites; None when unset."""
    query = select(func.coalesce(func.sum(StockLevel.par_level), 0)).where(
        StockLevel.item_id == item_id
    )
    if site_id:
        query = query.where(StockLevel.site_id == site_id)
    else:
        query = query.join(Site, Site.id == StockLevel.site_id).where(Site.active.is_(True))
    return int(db.session.scalar(query) or 0) or None


def item_stock_chart(
    item: Item, site_id: int | None = None, *, days: int = ITEM_CHART_DAYS
) -> Markup:
    """The item page's chart: stock over the last 90 days with its heading and summary.

    All sites by default (par = the sum of par levels at open sites), or one
    site. Registered as the Jinja global ``item_stock_chart``, so a template
    needs one line: ``{{ item_stock_chart(item) }}``.
    """
    series = inventory.stock_series(item_id=item.id, site_id=site_id, days=days)
    site = db.session.get(Site, site_id) if site_id else None
    where = f"at {site.name}" if site else "at all sites"
    title = f"{item.label}: stock {where} over the last {days} days"
    par = total_par(item.id, site.id if site else None)
    svg = stock_chart_svg(series, par=par, title=title, chart_id=f"item-{item.id}-chart")
    heading = f"Stock over the last {days} days"
    note = f"Quantity on hand {where} at the end of each day"
    note += "; the dashed line is the par level." if par else "."
    return Markup(  # noqa: S704 - escaped parts only
        f'<section class="chart-box" aria-labelledby="item-{item.id}-chart-heading">'
        f'<h2 id="item-{item.id}-chart-heading">{escape(heading)}</h2>'
        f"{svg}"
        f'<p class="muted small">{escape(note)}</p>'
        "</section>"
    )


def first_item_held() -> Item | None:
    """The first active item (by name) that an open site holds: a chart's default."""
    return db.session.scalar(
        select(Item)
        .join(StockLevel, StockLevel.item_id == Item.id)
        .join(Site, Site.id == StockLevel.site_id)
        .where(Item.active.is_(True), Site.active.is_(True), StockLevel.on_hand > 0)
        .order_by(func.lower(Item.name), Item.size, Item.id)
        .limit(1)
    )
