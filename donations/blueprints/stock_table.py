"""The stock page's table rows and filter controls, written with plain string work.

A page of 50 items at 10 sites is 500 cells: drawn by a Jinja loop (or a macro per
cell) they took several times as long as the queries behind them, and the four filter
controls through the ``field`` macro and WTForms' widgets took as long again. Here the
same markup is written by a few f-strings. Site names, item names and codes, the typed
search text and every option's label are escaped here; everything else is a number or
a fixed string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from flask import url_for
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from donations.blueprints.inventory_forms import SEARCH_MAX_LENGTH, SHOW_CHOICES, StockFilterForm
from donations.ranges import parse_id
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
        get = row.levels.get
        cells = "".join(
            [
                empty
                if (level := get(site_id)) is None
                else f"{label}{level[0]}</td>"
                if not level[1]
                else f"{under}{level[0]}{_PAR.format(level[1])}{_UNDER_PAR}</td>"
                if level[0] < level[1]
                else f"{label}{level[0]}{_PAR.format(level[1])}</td>"
                for site_id, label, under, empty in columns
            ]
        )
        out.append(
            f'\n    <tr>\n      <th scope="row"><a href="{item_url}{row.item_id}">'
            f'{escape(row.label)}</a> <span class="muted small">{escape(row.code)}'
            f"{' · kit' if row.is_kit else ''}</span></th>\n      {cells}\n      "
            f"{_TOTAL.format(row.total) if show_total else ''}\n    </tr>\n  "
        )
    return Markup("".join(out))  # noqa: S704 - names and codes escaped above, the rest numbers


# What the `field` macro (_macros.html) writes around a control without errors or a hint.
_BEFORE = "\n  " * 11
_AFTER = "\n  \n    \n    \n  </div>\n"
_LABELS = {
    name: getattr(StockFilterForm, name).args[0] for name in ("q", "site", "category", "show")
}


class StockFilters(NamedTuple):
    """The stock page's filters, each one acceptable, as ``StockFilterForm`` reads them."""

    q: str  # trimmed, "" when not given
    site: str
    category: str
    show: str


def quick_filters(
    args: MultiDict[str, str],
    site_choices: list[tuple[str, str]],
    category_choices: list[tuple[str, str]],
) -> StockFilters | None:
    """The filters in ``args`` when ``StockFilterForm`` would accept every one (the first
    value of each, the text trimmed and at most SEARCH_MAX_LENGTH long, each choice one
    offered), without building the form; None otherwise, and the form says what is wrong."""
    q = args.get("q")
    q = q.strip() if q is not None else ""
    site = args.get("site", "")
    category = args.get("category", "")
    show = args.get("show", "held")
    if (
        len(q) > SEARCH_MAX_LENGTH
        or all(site != value for value, _label in site_choices)
        or all(category != value for value, _label in category_choices)
        or all(show != value for value, _label in SHOW_CHOICES)
    ):
        return None
    return StockFilters(q, site, category, show)


def _field(name: str, control: str) -> str:
    return (
        f'{_BEFORE}<div class="field">\n    <label for="{name}">'
        f"{escape(_LABELS[name])}</label>\n    {control}{_AFTER}"
    )


def _select(name: str, choices: Iterable[tuple[str, str]], chosen: str) -> str:
    """WTForms' ``<select>`` (as QuickSelect writes it: attributes sorted, one f-string each)."""
    options = "".join(
        [
            f'<option {"selected " if value == chosen else ""}value="{escape(value)}">'
            f"{escape(label or value)}</option>"
            for value, label in choices
        ]
    )
    return f'<select id="{name}" name="{name}">{options}</select>'


def filter_controls(
    filters: StockFilters,
    site_choices: list[tuple[str, str]],
    category_choices: list[tuple[str, str]],
) -> Markup:
    """The filter form's four fields, as the ``field`` macro draws an accepted form."""
    search = (
        f'<input id="q" maxlength="{SEARCH_MAX_LENGTH}" name="q" '
        f'placeholder="Name, or scan a label" type="search" value="{escape(filters.q)}">'
    )
    return Markup(  # noqa: S704 - every value and label escaped above
        _field("q", search)
        + _field("site", _select("site", site_choices, filters.site))
        + _field("category", _select("category", category_choices, filters.category))
        + _field("show", _select("show", SHOW_CHOICES, filters.show))
    )


class ChosenFilters(NamedTuple):
    """What the stock page shows, and how its filter form is drawn."""

    site_id: int | None
    text: str
    category_id: int | None
    show: str
    valid: bool
    form: StockFilterForm | None  # only when a filter is refused: it shows the error
    controls: Markup | None  # the form's fields, when every filter is accepted


def read_filters(
    args: MultiDict[str, str], sites: list[SiteColumn], categories: list[tuple[int, str]]
) -> ChosenFilters:
    """Read the stock page's filters: every site and category (``stock_page.stock_filters``)
    are the choices. Accepted filters need no form object; refused ones go through
    ``StockFilterForm``, and the page falls back to every filter's default."""
    site_choices = [("", "All sites")] + [
        (str(s.id), s.name + ("" if s.active else " (closed)")) for s in sites
    ]
    category_choices = [("", "All categories")] + [(str(i), name) for i, name in categories]
    filters = quick_filters(args, site_choices, category_choices)
    if filters is not None:
        return ChosenFilters(
            parse_id(filters.site),
            filters.q,
            parse_id(filters.category),
            filters.show,
            True,
            None,
            filter_controls(filters, site_choices, category_choices),
        )
    form = StockFilterForm(args)
    form.site.choices = [SelectChoice(value, label) for value, label in site_choices]
    form.category.choices = [SelectChoice(value, label) for value, label in category_choices]
    if not form.validate():
        return ChosenFilters(None, "", None, "held", False, form, None)
    return ChosenFilters(  # accepted after all (quick_filters is the stricter reading)
        parse_id(form.site.data),
        form.q.data or "",
        parse_id(form.category.data),
        form.show.data,
        True,
        form,
        None,
    )
