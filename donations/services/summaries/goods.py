"""Goods summaries: ``stock_period_totals``, the net quantity moved per site, item,
period and kind of document, kept by ``record_document`` from the ledger's one write
path (``inventory.ledger.post_document``) in the same transaction as the entries.

The same write also keeps the per-category totals (``categories``) and the month-end
balances (``closings``), which the report's goods and stock on a past date read. The
item chart reads the day rows here, and the dashboard's "given out most" too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import String, delete, func, insert, literal, select
from sqlalchemy.orm import aliased

from donations.extensions import db
from donations.models import (
    DocumentKind,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    StockPeriodTotal,
)
from donations.services.summaries.categories import record_sums, verify_categories
from donations.services.summaries.closings import record_moves, verify_closings
from donations.services.summaries.periods import (
    LAST_DAY,
    SUMMARY_GRAINS,
    SummaryProblem,
    add_to,
    cover,
    covered,
    differences,
    period_start,
    periods_of,
)
from donations.tenancy import across_organizations, current_organization_id

STOCK = StockPeriodTotal.__table__
STOCK_KEYS = ("site_id", "grain", "starts", "item_id", "kind")


def counted_kind(document: StockDocument) -> str:
    """The kind a document's entries count under: a reversal under what it undoes."""
    if document.kind == DocumentKind.REVERSAL and document.reverses_id is not None:
        return str(db.session.get(StockDocument, document.reverses_id).kind)
    return str(document.kind)


def record_document(document: StockDocument, moves: Sequence) -> None:
    """Add a posted document's moves (``item_id``, ``site_id``, ``quantity``) to the summaries."""
    kind = counted_kind(document)
    sums: dict[tuple, int] = defaultdict(int)
    for move in moves:
        for grain, starts in periods_of(document.effective_date):
            sums[(move.site_id, grain, starts, move.item_id, kind)] += move.quantity
    add_to(
        STOCK,
        STOCK_KEYS,
        (
            {**dict(zip(STOCK_KEYS, key, strict=True)), "quantity": quantity}
            for key, quantity in sorted(sums.items())
            if quantity
        ),
    )
    record_sums(sums)
    record_moves(document.effective_date, moves)


# --- reading them -----------------------------------------------------------------


def daily_levels(*, item_id: int, site_id: int | None, first: date, last: date) -> list[int]:
    """The stock of an item (at one site or all) at the end of each day first..last."""
    on_hand = select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
        StockLevel.item_id == item_id
    )
    since = select(func.coalesce(func.sum(STOCK.c.quantity), 0)).where(
        STOCK.c.item_id == item_id, covered(STOCK, cover(first, LAST_DAY))
    )
    days = select(STOCK.c.starts, func.sum(STOCK.c.quantity)).where(
        STOCK.c.item_id == item_id,
        STOCK.c.grain == "d",
        STOCK.c.starts >= first,
        STOCK.c.starts <= last,
    )
    if site_id:
        on_hand = on_hand.where(StockLevel.site_id == site_id)
        since = since.where(STOCK.c.site_id == site_id)
        days = days.where(STOCK.c.site_id == site_id)
    level = int(db.session.scalar(on_hand) or 0) - int(db.session.scalar(since) or 0)
    changes = dict(db.session.execute(days.group_by(STOCK.c.starts)).all())
    levels = []
    for offset in range((last - first).days + 1):
        level += int(changes.get(first + timedelta(days=offset), 0))
        levels.append(level)
    return levels


def given_out(*, first: date, last: date, limit: int) -> list[tuple[int, int]]:
    """(item_id, units) most distributed over first..last, reversals netted out."""
    given = func.sum(-STOCK.c.quantity)
    return [
        (item_id, int(units))
        for item_id, units in db.session.execute(
            select(STOCK.c.item_id, given)
            .where(
                # The rows carry no organisation of their own: its sites' rows only.
                covered(
                    STOCK,
                    cover(first, last),
                    within=STOCK.c.site_id.in_(
                        select(Site.id).where(Site.organization_id == current_organization_id())
                    ),
                ),
                STOCK.c.kind == DocumentKind.DISTRIBUTION.value,
            )
            .group_by(STOCK.c.item_id)
            .having(given > 0)
            .order_by(given.desc(), STOCK.c.item_id)
            .limit(limit)
        )
    ]


# --- checking them ----------------------------------------------------------------


def expected_stock(grain: str):
    """SELECT of every ``stock_period_totals`` row of ``grain``, summed from the ledger."""
    undone = aliased(StockDocument)
    kind = func.coalesce(undone.kind, StockDocument.kind)
    starts = period_start(
        grain, StockEntry.effective_date, dialect=db.session.get_bind().dialect.name
    )
    total = func.sum(StockEntry.quantity)
    return (
        select(
            StockEntry.site_id,
            literal(grain, String).label("grain"),
            starts.label("starts"),
            StockEntry.item_id,
            kind.label("kind"),
            total.label("quantity"),
        )
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .outerjoin(undone, undone.id == StockDocument.reverses_id)
        .group_by(StockEntry.site_id, starts, StockEntry.item_id, kind)
        .having(total != 0)
    )


@across_organizations()
def verify_stock() -> list[SummaryProblem]:
    """Recompute every stock summary row from the ledger; return the differences."""
    problems = []
    for grain in SUMMARY_GRAINS:
        recorded = select(*(STOCK.c[n] for n in (*STOCK_KEYS, "quantity"))).where(
            STOCK.c.grain == grain, STOCK.c.quantity != 0
        )
        problems += differences(STOCK.name, recorded, expected_stock(grain), len(STOCK_KEYS))
    return problems + verify_closings() + verify_categories(expected_stock)


@across_organizations()
def rebuild_stock() -> None:
    """Refill ``stock_period_totals`` from the ledger."""
    db.session.execute(delete(STOCK))
    for grain in SUMMARY_GRAINS:
        db.session.execute(
            insert(STOCK).from_select([*STOCK_KEYS, "quantity"], expected_stock(grain))
        )
