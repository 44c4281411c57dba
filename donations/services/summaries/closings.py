"""Stock at each month's end: ``stock_month_closings`` holds, for every (site, item)
and month it moved in, its balance at the end of that month.

Kept by ``goods.record_document`` (the ledger's one write path, under the stock
level's row lock): a move on day D adds to the closing of D's month (created from
the closing before it) and of every later month with a row. Stock on day D is then
the latest closing before D's month plus the moves from the month's start to D (or
the month's closing less the moves after D, whichever reads fewer days): one row per
item and at most half a month of daily rows, however long the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import Date, bindparam, cast, delete, func, insert, select, type_coerce, update

from donations.extensions import db
from donations.models import Item, StockEntry, StockLevel, StockMonthClosing, StockPeriodTotal
from donations.services.summaries.periods import SummaryProblem, differences
from donations.services.upsert import insert_for
from donations.tenancy import across_organizations

CLOSINGS = StockMonthClosing.__table__
STOCK = StockPeriodTotal.__table__
KEYS = ("site_id", "item_id", "month")


def month_end(day: date) -> date:
    following = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return following - timedelta(days=1)


# --- keeping them -----------------------------------------------------------------


def _opening(conn, query, site_id: int, item_id: int) -> int:
    return int(conn.scalar(query, {"s": site_id, "i": item_id}) or 0)


def record_moves(day: date, moves: Sequence) -> None:
    """Add moves (``item_id``, ``site_id``, ``quantity``) made on ``day`` to the closings."""
    month = day.replace(day=1)
    sums: dict[tuple[int, int], int] = defaultdict(int)
    for move in moves:
        sums[(move.site_id, move.item_id)] += move.quantity
    if not sums:
        return
    conn = db.session.connection()
    pairs = sorted(sums)
    before = (
        select(CLOSINGS.c.quantity)
        .where(
            CLOSINGS.c.site_id == bindparam("s"),
            CLOSINGS.c.item_id == bindparam("i"),
            CLOSINGS.c.month < month,
        )
        .order_by(CLOSINGS.c.month.desc())
        .limit(1)
        .scalar_subquery()
    )
    opening = select(func.coalesce(before, 0))
    rows = [
        {"site_id": s, "item_id": i, "month": month, "quantity": _opening(conn, opening, s, i)}
        for s, i in pairs
    ]
    dialect_insert = insert_for(conn.dialect.name)
    conn.execute(dialect_insert(CLOSINGS).on_conflict_do_nothing(index_elements=list(KEYS)), rows)
    moved = [{"s": s, "i": i, "q": sums[(s, i)]} for s, i in pairs if sums[(s, i)]]
    if moved:
        conn.execute(
            update(CLOSINGS)
            .where(
                CLOSINGS.c.site_id == bindparam("s"),
                CLOSINGS.c.item_id == bindparam("i"),
                CLOSINGS.c.month >= month,
            )
            .values(quantity=CLOSINGS.c.quantity + bindparam("q")),
            moved,
        )


# --- reading them -----------------------------------------------------------------


def held_on(*, site_id: int, day: date, columns: Sequence = ()) -> list[tuple]:
    """(item_id, *columns, quantity) a site held at the end of ``day``, items held only;
    ``columns`` of ``items`` (joined) come along."""
    month = day.replace(day=1)
    last = month_end(day)
    forward = (day - month).days < (last - day).days
    if forward:  # the closing before the month, plus its days up to ``day``
        opening, first, final, sign = CLOSINGS.c.month < month, month, day, 1
    else:  # the month's own closing, less its days after ``day``
        opening, first, final, sign = CLOSINGS.c.month <= month, day + timedelta(days=1), last, -1
    levels = StockLevel.__table__
    base = (
        select(CLOSINGS.c.quantity)
        .where(CLOSINGS.c.site_id == site_id, CLOSINGS.c.item_id == levels.c.item_id, opening)
        .order_by(CLOSINGS.c.month.desc())
        .limit(1)
        .correlate(levels)
        .scalar_subquery()
    )
    moved = (
        select(STOCK.c.item_id, func.sum(STOCK.c.quantity).label("moved"))
        .where(
            STOCK.c.site_id == site_id,
            STOCK.c.grain == "d",
            STOCK.c.starts >= first,
            STOCK.c.starts <= final,
        )
        .group_by(STOCK.c.item_id)
        .subquery()
    )
    held = func.coalesce(base, 0) + sign * func.coalesce(moved.c.moved, 0)
    query = (
        select(levels.c.item_id, *columns, held)
        .select_from(levels)
        .outerjoin(moved, moved.c.item_id == levels.c.item_id)
        .where(levels.c.site_id == site_id)
    )
    if columns:
        items = Item.__table__
        query = query.join(items, items.c.id == levels.c.item_id)
    rows = db.session.connection().execute(query)
    return [(*row[:-1], int(row[-1])) for row in rows if row[-1]]


# --- checking and rebuilding them -------------------------------------------------


def _entry_month():
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", StockEntry.effective_date), Date)
    return type_coerce(func.substr(StockEntry.effective_date, 1, 7).concat("-01"), Date)


def expected_closings():
    """SELECT of every ``stock_month_closings`` row, from the ledger."""
    month = _entry_month()
    moved = (
        select(
            StockEntry.site_id,
            StockEntry.item_id,
            month.label("month"),
            func.sum(StockEntry.quantity).label("net"),
        )
        .group_by(StockEntry.site_id, StockEntry.item_id, month)
        .subquery()
    )
    closing = func.sum(moved.c.net).over(
        partition_by=(moved.c.site_id, moved.c.item_id), order_by=moved.c.month
    )
    return select(moved.c.site_id, moved.c.item_id, moved.c.month, closing)


@across_organizations()
def verify_closings() -> list[SummaryProblem]:
    """Recompute every month's closing from the ledger; return the differences."""
    recorded = select(*(CLOSINGS.c[n] for n in (*KEYS, "quantity")))
    return differences(CLOSINGS.name, recorded, expected_closings(), len(KEYS))


@across_organizations()
def rebuild_closings() -> None:
    db.session.execute(delete(CLOSINGS))
    db.session.execute(insert(CLOSINGS).from_select([*KEYS, "quantity"], expected_closings()))
