"""The public needs list's settings, and what the staff pledge pages read in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from donations.extensions import db
from donations.models import (
    DocumentKind,
    Item,
    ItemCategory,
    Pledge,
    PledgeLine,
    StockDocument,
    StockEntry,
    User,
)
from donations.services import catalog, inventory, pledges
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput

AUTO = "auto"
PIN = "pin"
HIDE = "hide"
VISIBILITY_LABELS = {
    AUTO: "Automatic: show while under par",
    PIN: "Always show",
    HIDE: "Never show",
}
_SHORT_LABELS = {AUTO: "automatic", PIN: "always show", HIDE: "never show"}


def visibility_of(item: Item) -> str:
    """How an item's place on the public list is decided: 'auto', 'pin' or 'hide'."""
    if item.needs_hidden:
        return HIDE
    if item.needs_pinned:
        return PIN
    return AUTO


def set_needs_visibility(*, actor: User | None, choices: Mapping[int, str]) -> int:
    """Pin items to the public needs list, hide them from it, or leave it to stock levels.

    Returns how many items changed; each change is audited.
    """
    if any(value not in VISIBILITY_LABELS for value in choices.values()):
        raise InvalidInput("Choose automatic, always show or never show for each item.")
    if not choices:
        return 0
    items = {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_(choices)))}
    if set(items) != set(choices):
        raise InvalidInput("One of the items is not in the catalog; reload the page.")
    changed = 0
    for item_id, value in choices.items():
        item = items[item_id]
        before = visibility_of(item)
        if before == value:
            continue
        item.needs_pinned = value == PIN
        item.needs_hidden = value == HIDE
        changed += 1
        record_audit(
            actor=actor,
            action="needs.visibility",
            object_type="item",
            object_id=item.id,
            summary=f"{item.label} on the public needs list: "
            f"{_SHORT_LABELS[before]} -> {_SHORT_LABELS[value]}",
        )
    db.session.flush()
    return changed


@dataclass(frozen=True)
class StockNeed:
    """How short an item is across open sites: for the admin's needs settings."""

    short_sites: int  # sites under par
    urgent_sites: int  # sites under half of par

    @property
    def state(self) -> str:
        if self.urgent_sites:
            return "urgent"
        return "needed" if self.short_sites else "none"


def stock_needs() -> dict[int, StockNeed]:
    """Per item under par somewhere, at how many sites (and how many urgently)."""
    short: dict[int, int] = defaultdict(int)
    urgent: dict[int, int] = defaultdict(int)
    for level in db.session.scalars(inventory.under_par_query()):
        short[level.item_id] += 1
        if level.on_hand * 2 < level.par_level:  # the same test as public_needs
            urgent[level.item_id] += 1
    return {item_id: StockNeed(count, urgent[item_id]) for item_id, count in short.items()}


def received_by_pledge(pledge_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """What has arrived for each pledge, per item, in one query (reversed intakes left out).

    The bulk form of ``pledges.received_quantities`` for a list page.
    """
    ids = list(pledge_ids)
    if not ids:
        return {}
    reversed_ids = select(StockDocument.reverses_id).where(
        StockDocument.kind == DocumentKind.REVERSAL, StockDocument.reverses_id.is_not(None)
    )
    rows = db.session.execute(
        select(StockDocument.pledge_id, StockEntry.item_id, func.sum(StockEntry.quantity))
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .where(StockDocument.pledge_id.in_(ids), StockDocument.id.not_in(reversed_ids))
        .group_by(StockDocument.pledge_id, StockEntry.item_id)
    ).all()
    received: dict[int, dict[int, int]] = {}
    for pledge_id, item_id, total in rows:
        received.setdefault(pledge_id, {})[item_id] = int(total)
    return received


def pledge_documents(pledge_id: int) -> list[tuple[StockDocument, StockDocument | None]]:
    """The intake documents made from a pledge, oldest first, each with its reversal if any."""
    documents = list(
        db.session.scalars(
            select(StockDocument)
            .where(StockDocument.pledge_id == pledge_id)
            .order_by(StockDocument.id)
        )
    )
    if not documents:
        return []
    reversals = {
        r.reverses_id: r
        for r in db.session.scalars(
            select(StockDocument).where(StockDocument.reverses_id.in_([d.id for d in documents]))
        )
    }
    return [(d, reversals.get(d.id)) for d in documents]


def pledgeable_items() -> tuple[list[inventory.Need], list[Item]]:
    """What the pledge form offers: the needs now, and every other active plain item."""
    needed = inventory.public_needs()
    needed_ids = {n.item_id for n in needed}
    others = [i for i in catalog.active_items() if not i.is_kit and i.id not in needed_ids]
    return needed, others


def pledge_list_query(status: str) -> Select[tuple[Pledge]]:
    """The staff list of pledges in one status, with donor, site and lines loaded."""
    return pledges.pledges_query(status).options(
        joinedload(Pledge.donor),
        joinedload(Pledge.site),
        selectinload(Pledge.lines).joinedload(PledgeLine.item),
    )


def settings_items() -> list[Item]:
    """The active items in catalog order (category, then name and size), for the settings."""
    return list(
        db.session.scalars(
            select(Item)
            .join(ItemCategory, ItemCategory.id == Item.category_id)
            .options(joinedload(Item.category))
            .where(Item.active.is_(True))
            .order_by(ItemCategory.sort_order, ItemCategory.name, Item.name, Item.size)
        )
    )
