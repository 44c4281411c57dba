"""Goods per category: ``stock_category_totals``, the ``stock_period_totals`` rows
summed over sites and over the items of each category.

Kept beside them by ``goods.record_document``; an item that changes category takes
its totals along (``move_item``, called by the catalog). The report's goods read a
few rows per category and kind, however many items, sites and days moved.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import delete, func, insert, select

from donations.extensions import db
from donations.models import DocumentKind, Item, ItemCategory, StockCategoryTotal, StockPeriodTotal
from donations.services.summaries.periods import (
    SUMMARY_GRAINS,
    SummaryProblem,
    add_to,
    cover,
    covered,
    differences,
)
from donations.tenancy import across_organizations, current_organization_id

CATEGORIES = StockCategoryTotal.__table__
STOCK = StockPeriodTotal.__table__
KEYS = ("grain", "starts", "category_id", "kind")


# --- keeping them -----------------------------------------------------------------


def record_sums(sums: dict[tuple, int]) -> None:
    """Add ``goods``' sums, keyed (site, grain, starts, item, kind), to the categories."""
    items = sorted({key[3] for key in sums})
    if not items:
        return
    items_table = Item.__table__
    category_of = {
        item_id: category_id
        for item_id, category_id in db.session.connection().execute(
            select(items_table.c.id, items_table.c.category_id).where(items_table.c.id.in_(items))
        )
    }
    totals: dict[tuple, int] = defaultdict(int)
    for (_site, grain, starts, item_id, kind), quantity in sums.items():
        totals[(grain, starts, category_of[item_id], kind)] += quantity
    add_to(
        CATEGORIES,
        KEYS,
        (
            {**dict(zip(KEYS, key, strict=True)), "quantity": quantity}
            for key, quantity in sorted(totals.items())
            if quantity
        ),
    )


def move_item(*, item_id: int, old_category_id: int, new_category_id: int) -> None:
    """An item changed category: its totals leave the old one for the new."""
    if old_category_id == new_category_id:
        return
    rows = db.session.execute(
        select(STOCK.c.grain, STOCK.c.starts, STOCK.c.kind, func.sum(STOCK.c.quantity))
        .where(STOCK.c.item_id == item_id)
        .group_by(STOCK.c.grain, STOCK.c.starts, STOCK.c.kind)
    ).all()
    for category_id, sign in ((old_category_id, -1), (new_category_id, 1)):
        add_to(
            CATEGORIES,
            KEYS,
            (
                {
                    "grain": grain,
                    "starts": starts,
                    "category_id": category_id,
                    "kind": kind,
                    "quantity": sign * int(quantity),
                }
                for grain, starts, kind, quantity in rows
                if quantity
            ),
        )


# --- reading them -----------------------------------------------------------------


def goods_sums(first: date, last: date) -> list[tuple[str, int, str, int]]:
    """(category, its sort order, kind, units) of intakes and distributions, each net of
    its reversals, over the days first..last."""
    query = (
        select(
            ItemCategory.name,
            ItemCategory.sort_order,
            CATEGORIES.c.kind,
            func.sum(CATEGORIES.c.quantity),
        )
        .join(ItemCategory, ItemCategory.id == CATEGORIES.c.category_id)
        .where(
            covered(
                CATEGORIES,
                cover(first, last),
                within=CATEGORIES.c.category_id.in_(
                    select(ItemCategory.id).where(
                        ItemCategory.organization_id == current_organization_id()
                    )
                ),
            ),
            CATEGORIES.c.kind.in_([DocumentKind.INTAKE.value, DocumentKind.DISTRIBUTION.value]),
        )
        .group_by(ItemCategory.name, ItemCategory.sort_order, CATEGORIES.c.kind)
    )
    return [
        (name, order, kind, int(units or 0))
        for name, order, kind, units in db.session.execute(query)
    ]


# --- checking and rebuilding them -------------------------------------------------


def expected_categories(stock_rows):
    """SELECT of ``stock_category_totals`` rows from ``stock_rows``: rows shaped like
    ``stock_period_totals`` (the table, or ``goods.expected_stock``'s sums of the ledger)."""
    rows = stock_rows.subquery()
    grain, starts, kind = rows.c.grain, rows.c.starts, rows.c.kind
    total = func.sum(rows.c.quantity)
    return (
        select(grain, starts, Item.category_id, kind, total)
        .join(Item, Item.id == rows.c.item_id)
        .group_by(grain, starts, Item.category_id, kind)
        .having(total != 0)
    )


@across_organizations()
def verify_categories(expected_stock) -> list[SummaryProblem]:
    """Compare the category totals with the ledger's (``expected_stock(grain)``)."""
    problems = []
    for grain in SUMMARY_GRAINS:
        recorded = select(*(CATEGORIES.c[n] for n in (*KEYS, "quantity"))).where(
            CATEGORIES.c.grain == grain, CATEGORIES.c.quantity != 0
        )
        expected = expected_categories(expected_stock(grain))
        problems += differences(CATEGORIES.name, recorded, expected, len(KEYS))
    return problems


@across_organizations()
def rebuild_categories() -> None:
    """Refill the category totals from ``stock_period_totals``."""
    db.session.execute(delete(CATEGORIES))
    db.session.execute(
        insert(CATEGORIES).from_select([*KEYS, "quantity"], expected_categories(select(STOCK)))
    )
