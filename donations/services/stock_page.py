"""What the stock page reads: its filters' sites and categories, a page of items, and
their balances, in three statements (four when the page is full and the count is needed).

The stock page is the goods area's busiest page, and at 50 items x 10 sites building
and executing its SQL through Core cost several times what the database took to answer.
So each statement is built once per shape (the dialect, which filters are set, the shown
sites, what to show) and compiled; a request then only binds the typed text, the category
and the offset, and runs the SQL on the session's own DBAPI connection, in its
transaction, reading plain tuples. ``movement_queries.with_stock_filter`` stays the one
definition of which items a page lists; ``tests/test_stock_page.py`` holds these reads to
``movement_queries.stock_items_query``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, String, bindparam, false, func, literal, select, true, union_all
from sqlalchemy.engine import Dialect

from donations import row_security
from donations.extensions import db
from donations.models import Item, ItemCategory, Site
from donations.services import catalog
from donations.services.movement_queries import RowPage, SiteColumn, with_stock_filter
from donations.services.text import like_pattern
from donations.tenancy import current_organization_id


@dataclass(frozen=True)
class StockRow:
    """One line of the stock page: an item and its balances at the shown sites."""

    item_id: int
    label: str
    code: str
    is_kit: bool
    levels: dict[int, tuple[int, int]]  # site id -> (on hand, par), where a balance row is
    total: int  # on hand at the shown sites


@dataclass(frozen=True)
class _Sql:
    """A statement compiled for one dialect: its SQL, and how to lay out its parameters."""

    text: str
    positions: tuple[str, ...] | None  # the parameters' names in order; None: by name
    fixed: dict[str, Any]  # its values as compiled (site ids, page size; the rest bound per run)

    def run(self, **values: Any) -> list[tuple]:
        params = {**self.fixed, **values}
        args = params if self.positions is None else [params[name] for name in self.positions]
        cursor = _cursor()
        try:
            cursor.execute(self.text, args)
            return cursor.fetchall()
        finally:
            cursor.close()


def _cursor():
    """A driver cursor in the session's transaction, its organisation set for the row
    security policies (PostgreSQL)."""
    connection = db.session.connection()
    row_security.sync(connection)
    return connection.connection.cursor()


def _compile(statement, dialect: Dialect) -> _Sql:
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    positions = tuple(compiled.positiontup) if compiled.positional else None
    return _Sql(compiled.string, positions, compiled.construct_params())


def _dialect() -> Dialect:
    return db.session.get_bind().dialect


# --- the filters -------------------------------------------------------------------


@lru_cache(maxsize=8)
def _filters_sql(dialect: Dialect) -> _Sql:
    # Run with the driver, past the ORM's scoping hook: the scope is written out.
    organization = bindparam("organization_id", 0, type_=Integer)
    sites = select(
        literal(0).label("kind"),
        Site.id,
        Site.name,
        Site.is_confidential,
        Site.active,
        literal(0).label("sort_order"),
    ).where(Site.organization_id == organization)
    categories = select(
        literal(1),
        ItemCategory.id,
        ItemCategory.name,
        false(),
        true(),
        ItemCategory.sort_order,
    ).where(ItemCategory.organization_id == organization)
    query = union_all(sites, categories).order_by("kind", "sort_order", "name")
    return _compile(query, dialect)


def stock_filters() -> tuple[list[SiteColumn], list[tuple[int, str]]]:
    """Every site (name and flags only, no address), open ones first, each group in name
    order, and (id, name) of every item category in the catalog's order: one statement."""
    sites: list[SiteColumn] = []
    categories: list[tuple[int, str]] = []
    rows = _filters_sql(_dialect()).run(organization_id=current_organization_id())
    for kind, row_id, name, confidential, active, _order in rows:
        if kind:
            categories.append((row_id, name))
        else:
            sites.append(SiteColumn(row_id, name, bool(confidential), bool(active)))
    sites.sort(key=lambda site: not site.active)
    return sites, categories


# --- the page ----------------------------------------------------------------------


@lru_cache(maxsize=256)
def _items_sql(
    dialect: Dialect,
    has_text: bool,
    has_category: bool,
    site_ids: tuple[int, ...],
    show: str,
    per_page: int,
) -> tuple[_Sql, _Sql]:
    """The page's items in list order (from ``ix_items_sort``), and their count."""
    query = catalog.items_query(include_inactive=False).where(
        # Run with the driver, past the ORM's scoping hook: the scope is written out.
        Item.organization_id == bindparam("organization_id", 0, type_=Integer)
    )
    if has_text:  # as catalog.items_query searches, with the pattern bound per request
        pattern = bindparam("pattern", "", type_=String)
        query = query.where(
            func.lower(Item.name).like(pattern, escape="\\")
            | func.lower(Item.code).like(pattern, escape="\\")
        )
    if has_category:
        query = query.where(Item.category_id == bindparam("category", 0, type_=Integer))
    # The balances last: a search or a category narrows the items before each is looked up.
    query = with_stock_filter(query, site_ids=list(site_ids), show=show)
    page = (
        query.with_only_columns(Item.id, Item.name, Item.size, Item.code, Item.is_kit)
        .limit(per_page)
        .offset(bindparam("offset", 0, type_=Integer))
    )
    count = query.with_only_columns(func.count()).select_from(Item).order_by(None)
    return _compile(page, dialect), _compile(count, dialect)


def stock_page(
    *,
    text: str,
    category_id: int | None,
    site_ids: list[int],
    show: str,
    page: int,
    per_page: int,
) -> RowPage:
    """A page of the stock table: the page's items, then their balance rows at
    ``site_ids`` (from the covering ``ix_stock_levels_item``); the matching items are
    counted only when the page alone cannot tell how many there are."""
    page = max(page, 1)
    text = text.strip()
    values: dict[str, Any] = {
        "offset": (page - 1) * per_page,
        "organization_id": current_organization_id(),
    }
    if text:
        values["pattern"] = like_pattern(text.lower())
    if category_id:
        values["category"] = category_id
    items_sql, count_sql = _items_sql(
        _dialect(), bool(text), bool(category_id), tuple(site_ids), show, per_page
    )
    items = items_sql.run(**values)
    if items and len(items) < per_page:  # the last page: the count is known
        total = values["offset"] + len(items)
    elif items or page > 1:  # a full page, or past the last one: still say how many
        total = count_sql.run(**values)[0][0]
    else:
        total = 0
    levels = _balances([row[0] for row in items], site_ids) if items and site_ids else {}
    rows = []
    none: dict[int, tuple[int, int]] = {}
    for item_id, name, size, code, is_kit in items:
        held = levels.get(item_id, none)
        label = f"{name} ({size})" if size else name  # Item.label
        total_held = sum(on_hand for on_hand, _par in held.values())
        rows.append(StockRow(item_id, label, code, bool(is_kit), held, total_held))
    return RowPage(rows, page, per_page, int(total or 0))


def _balances(item_ids: list[int], site_ids: list[int]) -> dict[int, dict[int, tuple[int, int]]]:
    """{item id: {site id: (on hand, par)}}: the items' balance rows at the sites, read with
    the driver alone (500 rows on a full page, so no result object or row per row)."""
    sql = (
        "SELECT item_id, site_id, on_hand, par_level FROM stock_levels "  # noqa: S608 - ints
        f"WHERE item_id IN ({','.join(str(int(i)) for i in item_ids)}) "
        f"AND site_id IN ({','.join(str(int(s)) for s in site_ids)})"
    )
    cursor = _cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    levels: dict[int, dict[int, tuple[int, int]]] = {}
    for item, site, on_hand, par in rows:
        held = levels.get(item)
        if held is None:
            held = levels[item] = {}
        held[site] = (on_hand, par)
    return levels
