"""The rows of the stock table, written with plain string work in one place.

A page of 50 items at 10 sites is 500 cells: drawn by a Jinja loop (or a macro per
cell) they took several times as long as the queries behind them. Site and item
names and codes are escaped here; everything else is a number.
"""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from donations.services.movement_queries import SiteColumn, StockRow

_PAR = ' <span class="muted small">/ {}</span>'
_UNDER_PAR = '<span class="visually-hidden"> (under par)</span>'


def stock_rows(rows: list[StockRow], sites: list[SiteColumn]) -> Markup:
    """The table body's rows for ``rows`` at ``sites`` (the page's columns, in order)."""
    # An item's address is the same but for its id, which ends it: build it once.
    sample = url_for("inventory.item", item_id=1)
    item_url = sample[: -len("1")]
    names = [escape(s.name + (" (conf.)" if s.is_confidential else "")) for s in sites]
    labels = [f'<td class="num" data-label="{name}">' for name in names]
    under = [label.replace('class="num"', 'class="num under-par"', 1) for label in labels]
    total = '<td class="num" data-label="All sites"><strong>{}</strong></td>'
    show_total = len(sites) > 1
    out = ["\n  "]
    for row in rows:
        cells = "".join(
            (
                f"{under[n]}{on_hand}{_PAR.format(par)}{_UNDER_PAR}</td>"
                if on_hand < par
                else f"{labels[n]}{on_hand}{_PAR.format(par)}</td>"
            )
            if par
            else f"{labels[n]}{on_hand}</td>"
            for n, (_site, on_hand, par) in enumerate(row.cells)
        )
        out.append(
            f'\n    <tr>\n      <th scope="row"><a href="{item_url}{row.item_id}">'
            f'{escape(row.label)}</a> <span class="muted small">{escape(row.code)}'
            f"{' · kit' if row.is_kit else ''}</span></th>\n      {cells}\n      "
            f"{total.format(row.total) if show_total else ''}\n    </tr>\n  "
        )
    return Markup("".join(out))  # noqa: S704 - names and codes escaped above, the rest numbers
