"""The stock page's table rows and filter controls, written with plain string work.

A page of 50 items at 10 sites is 500 cells: drawn by a Jinja loop (or a macro per
cell) they took several times as long as the queries behind them, and the four filter
controls through the ``field`` macro and WTForms' widgets took as long again. Here the
same markup is written by a few f-strings. Site names, item names and codes, the typed
search text and every option's label are escaped here; everything else is a number or
a fixed string.
"""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape
from wtforms import Field

from donations.blueprints.inventory_forms import SEARCH_MAX_LENGTH, StockFilterForm
from donations.services.movement_queries import SiteColumn
from donations.services.stock_page import StockRow

_PAR = ' <span class="muted small">/ {}</span>'
_UNDER_PAR = '<span class="visually-hidden"> (under par)</span>'
_TOTAL = '<td class="num" data-label="All sites"><strong>{}</strong></td>'


def stock_rows(rows: list[StockRow], sites: list[SiteColumn]) -> Markup:
    """The table body's rows for ``rows`` at ``sites`` (the page's columns, in order)."""
    # An item's address is the same but for its id, which ends it: build it once.
    sample = url_for("inventory.item", item_id=1)
    item_url = sample[: -len("1")]
    columns = []
    for site in sites:
        name = escape(site.name + (" (conf.)" if site.is_confidential else ""))
        label = f'<td class="num" data-label="{name}">'
        under = f'<td class="num under-par" data-label="{name}">'
        columns.append((site.id, label, under, f"{label}0</td>"))
    show_total = len(sites) > 1
    out = ["\n  "]
    for row in rows:
        levels = row.levels
        cells = []
        for site_id, label, under, empty in columns:
            level = levels.get(site_id)
            if level is None or not level[1]:
                cells.append(f"{label}{level[0]}</td>" if level else empty)
            elif level[0] < level[1]:
                cells.append(f"{under}{level[0]}{_PAR.format(level[1])}{_UNDER_PAR}</td>")
            else:
                cells.append(f"{label}{level[0]}{_PAR.format(level[1])}</td>")
        out.append(
            f'\n    <tr>\n      <th scope="row"><a href="{item_url}{row.item_id}">'
            f'{escape(row.label)}</a> <span class="muted small">{escape(row.code)}'
            f"{' · kit' if row.is_kit else ''}</span></th>\n      {''.join(cells)}\n      "
            f"{_TOTAL.format(row.total) if show_total else ''}\n    </tr>\n  "
        )
    return Markup("".join(out))  # noqa: S704 - names and codes escaped above, the rest numbers


# What the `field` macro (_macros.html) writes around a control without errors or a hint.
_BEFORE = "\n  " * 11
_AFTER = "\n  \n    \n    \n  </div>\n"


def _field(field: Field, control: str) -> str:
    return (
        f'{_BEFORE}<div class="field">\n    <label for="{escape(field.id)}">'
        f"{escape(field.label.text)}</label>\n    {control}{_AFTER}"
    )


def _select(field: Field) -> str:
    """WTForms' ``<select>`` of ``field`` (as QuickSelect writes it, attributes sorted)."""
    options = "".join(
        f'<option {"selected " if selected else ""}value="{escape(value)}">'
        f"{escape(label or value)}</option>"
        for value, label, selected, _render_kw in field.iter_choices()
    )
    return f'<select id="{escape(field.id)}" name="{escape(field.name)}">{options}</select>'


def filter_controls(form: StockFilterForm) -> Markup | None:
    """The filter form's four fields as the ``field`` macro draws them, or None when a
    field has an error (the page then draws them with the macro: a rare page)."""
    if form.errors:
        return None
    q = form.q
    value = escape("" if q.data is None else q.data)
    search = (
        f'<input id="{escape(q.id)}" maxlength="{SEARCH_MAX_LENGTH}" name="{escape(q.name)}" '
        f'placeholder="Name, or scan a label" type="search" value="{value}">'
    )
    return Markup(  # noqa: S704 - every value and label escaped above
        _field(q, search)
        + _field(form.site, _select(form.site))
        + _field(form.category, _select(form.category))
        + _field(form.show, _select(form.show))
    )
