"""The body of the stock-on-a-past-date table, made in one pass.

A site may hold a thousand items: ``url_for`` and a template loop per row cost more
than reading them, so the item page's URL is built once, each row's id put into it,
and the rows joined into one escaped string the template prints as it is.
"""

from __future__ import annotations

from html import escape

from flask import url_for
from markupsafe import Markup

from donations.services.inventory import HeldItem

_MARK = 987654321  # an id no item has: replaced by each row's own


def as_of_table_body(rows: list[tuple[HeldItem, int]], *, site_id: int) -> Markup:
    """The table's ``<tr>`` rows, each linking to its item's page at the site."""
    head, tail = (
        escape(part)
        for part in url_for("inventory.item", item_id=_MARK, site=site_id).split(str(_MARK), 1)
    )
    parts = (
        f'<tr><td><a href="{head}{item.id}{tail}">{escape(item.label)}</a></td>'
        f"<td>{escape(item.code)}</td>"
        f'<td class="num">{quantity} <span class="muted small">{escape(item.unit)}</span>'
        "</td></tr>\n"
        for item, quantity in rows
    )
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped
