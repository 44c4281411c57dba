"""What the stock page reads: its filters' sites and categories, a page of items, and
their balances, in three statements, whatever the page and however many items match.

The items are paged by their sort key (``keyset``: the next page starts after the last
item shown, read from ``ix_items_sort``), so no matching item is counted or skipped: the
last page costs what the first does, and no count runs beside a full page.

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

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    false,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Dialect

from donations import row_security
from donations.extensions import db
from donations.models import Item, ItemCategory, Site
from donations.services import catalog
from donations.services.keyset import (
    AFTER,
    BEFORE,
    KeysetPage,
    Position,
    arrange,
    decode_cursor,
    encode_cursor,
    move_of,
    reads_backward,
)
from donations.services.movement_queries import SiteColumn, with_stock_filter
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


# The parameters a request binds; every other one is fixed when the statement is built.
_BOUND_PER_RUN = frozenset(
    {"organization_id", "pattern", "category", "key_name", "key_size", "key_id"}
)
# Fixed, but left a parameter all the same: the number of rows read. A plan made knowing
# it is small walks the items in name order and looks up each one's balances, which a
# search (that must look at every item) makes slow; not knowing it, PostgreSQL reads the
# matching items and balances whole.
_ROWS = "rows"


def _compile(statement, dialect: Dialect) -> _Sql:
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    positions = tuple(compiled.positiontup) if compiled.positional else None
    text, fixed = compiled.string, compiled.construct_params()
    if positions is None:
        # Named parameters (PostgreSQL): the fixed integers (the shown sites, the filter's
        # zeros) are written into the SQL, so the plan PostgreSQL makes once for the
        # prepared statement (a generic plan) knows them, and it does not plan the
        # statement again on every run for want of them.
        for name, value in list(fixed.items()):
            if name not in _BOUND_PER_RUN and name != _ROWS and type(value) is int:
                text = text.replace(f"%({name})s", str(value))
                del fixed[name]
    return _Sql(text, positions, fixed)


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


# What a cursor holds: an item's sort key, typed as these columns (the name lower-cased as
# the database lower-cases it, so the comparison matches the index's order).
_KEY_TYPES = (Item.name, Item.size, Item.id)


@lru_cache(maxsize=512)
def _items_sql(
    dialect: Dialect,
    has_text: bool,
    has_category: bool,
    site_ids: tuple[int, ...],
    show: str,
    per_page: int,
    move: str,
) -> _Sql:
    """One more than a page of items from a cursor (or an end), in the list's order for
    the first page and the next, reversed for the previous and the last (from
    ``ix_items_sort``), each with its sort key."""
    query = catalog.items_query(include_inactive=False).where(
        # Run with the driver, past the ORM's scoping hook: the scope is written out.
        Item.organization_id == bindparam("organization_id", 0, type_=Integer)
    )
    if has_text:  # as catalog.items_query searches, with the pattern bound per request
        pattern = bindparam("pattern", "", type_=String)
        # PostgreSQL's LIKE escapes with a backslash unless told otherwise; an ESCAPE clause
        # there would have its plan (made once, not knowing the pattern) call like_escape()
        # on every item's name and code. SQLite has no escape character unless given one.
        escape = None if dialect.name == "postgresql" else "\\"
        query = query.where(
            func.lower(Item.name).like(pattern, escape=escape)
            | func.lower(Item.code).like(pattern, escape=escape)
        )
    if has_category:
        query = query.where(Item.category_id == bindparam("category", 0, type_=Integer))
    key = (func.lower(Item.name), Item.size, Item.id)
    cursor = tuple_(
        bindparam("key_name", "", type_=String),
        bindparam("key_size", "", type_=String),
        bindparam("key_id", 0, type_=Integer),
    )
    if move == BEFORE:
        query = query.where(tuple_(*key) > cursor)
    elif move == AFTER:
        query = query.where(tuple_(*key) < cursor)
    # The balances last: a search or a category narrows the items before each is looked up.
    query = with_stock_filter(query, site_ids=list(site_ids), show=show)
    order = [k.desc() for k in key] if reads_backward(move) else [k.asc() for k in key]
    page = (
        query.with_only_columns(
            Item.id, Item.name, Item.size, Item.code, Item.is_kit, func.lower(Item.name)
        )
        .order_by(None)
        .order_by(*order)
        .limit(bindparam(_ROWS, per_page + 1, type_=Integer))
    )
    return _compile(page, dialect)


def stock_page(
    *,
    text: str,
    category_id: int | None,
    site_ids: list[int],
    show: str,
    position: Position,
    per_page: int,
) -> KeysetPage:
    """A page of the stock table at ``position``: the page's items, then their balance
    rows at ``site_ids`` (from the covering ``ix_stock_levels_item``). A cursor that cannot
    be read, or that leads nowhere any more, gives the first page (``invalid`` says which)."""
    text = text.strip()
    cursor_text = position.before or position.after
    cursor = decode_cursor(cursor_text, _KEY_TYPES) if cursor_text else None
    values: dict[str, Any] = {"organization_id": current_organization_id()}
    if text:
        values["pattern"] = like_pattern(text.lower())
    if category_id:
        values["category"] = category_id
    move = move_of(position, cursor)
    if cursor is not None:
        values["key_name"], values["key_size"], values["key_id"] = cursor
    items_sql = _items_sql(
        _dialect(), bool(text), bool(category_id), tuple(site_ids), show, per_page, move
    )
    items, is_first, is_last = arrange(items_sql.run(**values), per_page, move)
    if not items and cursor is not None:  # nothing that way (items gone, or a made-up key)
        return stock_page(
            text=text, category_id=category_id, site_ids=site_ids, show=show,
            position=Position(), per_page=per_page,
        )  # fmt: skip
    levels = _balances([row[0] for row in items], site_ids) if items and site_ids else {}
    rows = []
    none: dict[int, tuple[int, int]] = {}
    for item_id, name, size, code, is_kit, _key in items:
        held = levels.get(item_id, none)
        label = f"{name} ({size})" if size else name  # Item.label
        total_held = sum(on_hand for on_hand, _par in held.values())
        rows.append(StockRow(item_id, label, code, bool(is_kit), held, total_held))
    return KeysetPage(
        items=rows,
        per_page=per_page,
        newer=_cursor_of(items[0]) if items and not is_first else None,
        older=_cursor_of(items[-1]) if items and not is_last else None,
        is_first=is_first,
        is_last=is_last,
        invalid=bool(cursor_text) and cursor is None,
    )


def _cursor_of(item: tuple) -> str:
    item_id, _name, size, _code, _is_kit, key_name = item
    return encode_cursor((key_name, size, item_id))


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
