"""Stock counts: what a shelf count would change, and recording it as a document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from donations.extensions import db
from donations.models import DocumentKind, Item, StockDocument, StockLevel, User
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.inventory.checks import QUANTITY_MAX, active_site, check_date, check_note
from donations.services.inventory.ledger import (
    Move,
    audit_document,
    lock_levels,
    new_document,
    post_document,
)


@dataclass
class CountDifference:
    item_id: int
    item: str
    expected: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected


def _check_counts(counts: dict[int, int]) -> dict[int, Item]:
    if not counts:
        raise InvalidInput("Enter at least one counted quantity.", field="lines")
    if len(counts) > 5000:
        raise InvalidInput("Count at most 5,000 items at a time.", field="lines")
    for quantity in counts.values():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidInput("Counted quantities are whole numbers, zero or more.", field="lines")
        if quantity > QUANTITY_MAX:
            raise InvalidInput(f"A count holds at most {QUANTITY_MAX:,} units.", field="lines")
    items = {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_(counts)))}
    for item_id in counts:
        item = items.get(item_id)
        if item is None:
            raise InvalidInput("One of the items is not in the catalog.", field="lines")
        if not item.active:
            raise InvalidInput(f"{item.label} is inactive and cannot be counted.", field="lines")
    return items


def preview_count(
    *, site_id: int | None, counts: dict[int, int], note: str = ""
) -> list[CountDifference]:
    """Return what the count would change: expected against counted, per item.

    The note is checked as the count will check it, so the review never shows one
    that would be refused.
    """
    site = active_site(site_id)
    check_note(note)
    items = _check_counts(counts)
    on_hand = dict(
        db.session.execute(
            select(StockLevel.item_id, StockLevel.on_hand).where(
                StockLevel.site_id == site.id, StockLevel.item_id.in_(counts)
            )
        ).all()
    )
    return [
        CountDifference(item_id, items[item_id].label, on_hand.get(item_id, 0), counted)
        for item_id, counted in counts.items()
    ]


def record_count(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    counts: dict[int, int],
    expected: dict[int, int] | None = None,
    note: str = "",
) -> StockDocument:
    """Record a shelf count: the differences become adjustments.

    ``expected`` is what the person confirmed on the preview; if stock moved
    since, the count is refused so they can look again.
    """
    site = active_site(site_id)
    day = check_date(effective_date)
    note = check_note(note)
    items = _check_counts(counts)
    levels = lock_levels({(site.id, item_id) for item_id in counts})
    if expected is not None:
        changed = [
            items[item_id].label
            for item_id in counts
            if expected.get(item_id) != levels[(site.id, item_id)].on_hand
        ]
        if changed:
            raise NotAllowed(
                "Stock changed while you were counting ("
                + ", ".join(changed)
                + "). Check the new expected quantities and confirm again."
            )
    document = new_document(
        actor=actor, kind=DocumentKind.COUNT, effective_date=day, site_id=site.id, note=note
    )
    moves = [
        Move(item_id, site.id, counted - levels[(site.id, item_id)].on_hand, counted=counted)
        for item_id, counted in counts.items()
    ]
    post_document(document, moves)
    changed_lines = [m for m in moves if m.quantity]
    summary = ", ".join(f"{items[m.item_id].label} {m.quantity:+d}" for m in changed_lines)
    audit_document(actor, document, f"Count at {site.name}: {summary or 'no differences'}")
    return document
