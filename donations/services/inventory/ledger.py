"""The append-only ledger: posting a document's moves against locked balances, and checking them.

Every change of stock goes through ``post_document``: it locks the balance rows it
touches (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single write lock,
taken before reading, through ``serialize_writes``), refuses the whole document
if any balance would go negative, then appends the entries and moves the
balances in the same transaction. Nothing is ever edited: a mistake is undone
by ``documents.reverse_document``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_

from donations.extensions import db
from donations.models import (
    DocumentKind,
    Item,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    User,
    utcnow,
)
from donations.services.audit import record_audit
from donations.services.errors import DomainError, InvalidInput
from donations.services.inventory.checks import QUANTITY_MAX, Line, get_site
from donations.services.locking import serialize_writes
from donations.services.stock_alerts import queue_low_stock_alerts
from donations.services.summaries import record_document
from donations.services.upsert import insert_for
from donations.tenancy import ALL_ORGANIZATIONS

LOCK_NAME = "inventory"


@dataclass(frozen=True)
class Shortage:
    item_id: int
    item: str
    site: str
    asked: int
    on_hand: int

    def describe(self) -> str:
        return f"{self.item} at {self.site}: asked for {self.asked}, there {_are(self.on_hand)}"


def _are(n: int) -> str:
    return f"is {n}" if n == 1 else f"are {n}"


class InsufficientStock(DomainError):
    """The document would take more than a site holds; nothing was written."""

    def __init__(self, shortages: Sequence[Shortage]) -> None:
        self.shortages = list(shortages)
        parts = "; ".join(s.describe() for s in self.shortages)
        super().__init__(f"Not enough stock. {parts}.")


@dataclass(frozen=True)
class Move:
    item_id: int
    site_id: int
    quantity: int  # signed
    condition: str = ""
    counted: int | None = None


@dataclass
class PostResult:
    document: StockDocument
    fell_under_par: list[StockLevel] = field(default_factory=list)


def _upsert_levels(pairs: set[tuple[int, int]]) -> None:
    """Make sure a balance row exists for every (site, item) pair."""
    if not pairs:
        return
    dialect = db.session.get_bind().dialect.name
    insert = insert_for(dialect)
    rows = [{"site_id": s, "item_id": i, "on_hand": 0, "par_level": 0} for s, i in sorted(pairs)]
    now = utcnow()
    for row in rows:
        row["updated_at"] = now
    statement = insert(StockLevel).values(rows).on_conflict_do_nothing()
    db.session.execute(statement)


def lock_levels(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], StockLevel]:
    """Return the balance rows for the pairs, locked until the transaction ends.

    Rows are locked in (site, item) order, so two writers never wait on each
    other in a circle.
    """
    serialize_writes(LOCK_NAME)
    _upsert_levels(pairs)
    levels: dict[tuple[int, int], StockLevel] = {}
    ordered = sorted(pairs)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = (
            select(StockLevel)
            .where(tuple_(StockLevel.site_id, StockLevel.item_id).in_(chunk))
            .order_by(StockLevel.site_id, StockLevel.item_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for level in db.session.scalars(query):
            levels[(level.site_id, level.item_id)] = level
    return levels


def post_document(document: StockDocument, moves: Sequence[Move]) -> PostResult:
    """Append the document's entries and move the balances, or refuse it all."""
    deltas: dict[tuple[int, int], int] = defaultdict(int)
    for move in moves:
        deltas[(move.site_id, move.item_id)] += move.quantity
    levels = lock_levels(set(deltas))
    shortages = []
    for (site_id, item_id), delta in deltas.items():
        level = levels[(site_id, item_id)]
        if level.on_hand + delta < 0:
            shortages.append(
                Shortage(
                    item_id=item_id,
                    item=db.session.get(Item, item_id).label,
                    site=db.session.get(Site, site_id).name,
                    asked=level.on_hand - (level.on_hand + delta),
                    on_hand=level.on_hand,
                )
            )
    if shortages:
        raise InsufficientStock(shortages)
    db.session.add(document)
    db.session.flush()
    now = utcnow()
    fell: list[StockLevel] = []
    for (site_id, item_id), delta in deltas.items():
        level = levels[(site_id, item_id)]
        before = level.on_hand
        level.on_hand = before + delta
        level.updated_at = now
        if level.par_level and level.on_hand < level.par_level:
            # Only a movement out "takes" an item under par; one email per fall.
            if level.low_alerted_at is None and delta < 0:
                level.low_alerted_at = now
                fell.append(level)
        elif level.low_alerted_at is not None:
            level.low_alerted_at = None
    db.session.add_all(
        StockEntry(
            document_id=document.id,
            item_id=move.item_id,
            site_id=move.site_id,
            quantity=move.quantity,
            effective_date=document.effective_date,
            condition=move.condition,
            counted_quantity=move.counted,
        )
        for move in moves
    )
    record_document(document, moves)
    db.session.flush()
    if fell:
        queue_low_stock_alerts(fell)
    return PostResult(document=document, fell_under_par=fell)


def new_document(*, actor: User | None, kind: DocumentKind, **values) -> StockDocument:
    return StockDocument(
        kind=kind,
        created_by_id=actor.id if actor is not None else None,
        recorded_at=utcnow(),
        **values,
    )


def audit_document(actor: User | None, document: StockDocument, summary: str) -> None:
    record_audit(
        actor=actor,
        action=f"stock.{document.kind}",
        object_type="stock_document",
        object_id=document.id,
        summary=summary,
    )


def describe_lines(lines: Sequence[Line], items: dict[int, Item]) -> str:
    return ", ".join(f"{line.quantity} x {items[line.item_id].label}" for line in lines)


@dataclass(frozen=True)
class BalanceProblem:
    site_id: int
    item_id: int
    recorded: int
    from_ledger: int


def verify_balances() -> list[BalanceProblem]:
    """Recompute every balance, of every organisation, from the ledger; return where they
    differ (the balance rows carry no organisation of their own: all are checked)."""
    sums = {
        (site_id, item_id): total
        for site_id, item_id, total in db.session.execute(
            select(StockEntry.site_id, StockEntry.item_id, func.sum(StockEntry.quantity))
            .group_by(StockEntry.site_id, StockEntry.item_id)
            .execution_options(**{ALL_ORGANIZATIONS: True})
        )
    }
    problems = []
    seen = set()
    for site_id, item_id, on_hand in db.session.execute(
        select(StockLevel.site_id, StockLevel.item_id, StockLevel.on_hand)
    ):
        seen.add((site_id, item_id))
        expected = int(sums.get((site_id, item_id), 0))
        if expected != on_hand:
            problems.append(BalanceProblem(site_id, item_id, on_hand, expected))
    for key, total in sums.items():
        if key not in seen and total:
            problems.append(BalanceProblem(key[0], key[1], 0, int(total)))
    return sorted(problems, key=lambda p: (p.site_id, p.item_id))


def set_par_levels(*, actor: User | None, site_id: int, levels: dict[int, int]) -> int:
    """Set the target stock of items at a site; return how many changed."""
    site = get_site(site_id)
    for par in levels.values():
        if isinstance(par, bool) or not isinstance(par, int) or par < 0 or par > QUANTITY_MAX:
            raise InvalidInput("Par levels are whole numbers, zero or more.", field="levels")
    if not levels:
        return 0
    known = set(db.session.scalars(select(Item.id).where(Item.id.in_(levels))))
    if known != set(levels):
        raise InvalidInput("One of the items is not in the catalog.", field="levels")
    rows = lock_levels({(site.id, item_id) for item_id in levels})
    changed = []
    for item_id, par in levels.items():
        level = rows[(site.id, item_id)]
        if level.par_level != par:
            changed.append(f"{item_id}: {level.par_level} -> {par}")
            level.par_level = par
            if level.on_hand >= par:
                level.low_alerted_at = None
    if changed:
        record_audit(
            actor=actor,
            action="stock.par_levels",
            object_type="site",
            object_id=site.id,
            summary=f"Par levels at {site.name} (item: old -> new): " + "; ".join(changed),
        )
    return len(changed)
