"""Read-only views of the goods: stock as of a day, item history, under par, needs, charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, case, func, or_, select, tuple_
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import (
    InKindGift,
    Item,
    ItemCategory,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    utcnow,
)
from donations.services import summaries
from donations.services.keyset import KeysetPage, Position, keyset_page


def reversal_of(document: StockDocument) -> StockDocument | None:
    """Return the document that undid this one, if any."""
    return db.session.scalar(select(StockDocument).where(StockDocument.reverses_id == document.id))


@dataclass(frozen=True)
class HeldItem:
    """An item as the stock-on-a-past-date list shows it: plain data, no ORM object."""

    id: int
    name: str
    size: str
    code: str
    unit: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.size})" if self.size else self.name


def stock_as_of(*, site_id: int, day: date) -> list[tuple[HeldItem, int]]:
    """Return (item, quantity) held at a site at the end of a day, items held only.

    The latest month-end balance before the day plus the days since, from the
    summaries: a row per item, however long the ledger.
    """
    items = Item.__table__.c
    rows = summaries.held_on(
        site_id=site_id, day=day, columns=(items.name, items.size, items.code, items.unit)
    )
    held = [(HeldItem(*row[:-1]), row[-1]) for row in rows]
    held.sort(key=lambda pair: (pair[0].name.lower(), pair[0].size))
    return held


HISTORY_KEYS = (StockEntry.effective_date, StockEntry.id)


def item_history_query(*, item_id: int, site_id: int | None = None) -> Select:
    """Entries for an item, newest first, each with the running balance at its site.

    Reads every entry of the item: for exports and checks. The item page reads one page at
    a time with ``item_history_page``.
    """
    running = (
        func.sum(StockEntry.quantity)
        .over(
            partition_by=StockEntry.site_id,
            order_by=(StockEntry.effective_date, StockEntry.id),
        )
        .label("balance")
    )
    inner = select(StockEntry.id.label("entry_id"), running).where(StockEntry.item_id == item_id)
    if site_id:
        inner = inner.where(StockEntry.site_id == site_id)
    inner = inner.subquery()
    return (
        select(StockEntry, inner.c.balance)
        .join(inner, inner.c.entry_id == StockEntry.id)
        .order_by(StockEntry.effective_date.desc(), StockEntry.id.desc())
    )


def _site_sums(item_id: int, sites: set[int], beyond: ColumnElement[bool]) -> dict[int, int]:
    rows = db.session.execute(
        select(StockEntry.site_id, func.sum(StockEntry.quantity))
        .where(StockEntry.item_id == item_id, StockEntry.site_id.in_(sites), beyond)
        .group_by(StockEntry.site_id)
    )
    return {site: int(total or 0) for site, total in rows}


def item_history_page(
    *, item_id: int, site_id: int | None, position: Position, per_page: int
) -> KeysetPage:
    """One page of an item's entries, newest first, as (entry, balance at its site after it).

    A balance is counted from the nearer end of the ledger: on a page reached from the
    newest, the site's on-hand figure less the entries after the page; on one reached from
    the oldest, the entries before it. Either way a page costs the same wherever it is.
    """
    query = (
        select(StockEntry)
        .where(StockEntry.item_id == item_id)
        .options(
            joinedload(StockEntry.document),
            joinedload(StockEntry.site),
        )
    )
    if site_id:
        query = query.where(StockEntry.site_id == site_id)
    page = keyset_page(query, HISTORY_KEYS, position=position, per_page=per_page)
    entries: list[StockEntry] = page.items
    if not entries:
        return page
    sites = {entry.site_id for entry in entries}
    key = tuple_(*HISTORY_KEYS)
    balances: dict[int, int] = {}
    if position.oldest or (position.after and not page.is_first):
        oldest = entries[-1]
        running = _site_sums(item_id, sites, key < tuple_(oldest.effective_date, oldest.id))
        for entry in reversed(entries):
            running[entry.site_id] = running.get(entry.site_id, 0) + entry.quantity
            balances[entry.id] = running[entry.site_id]
    else:
        newest = entries[0]
        after = _site_sums(item_id, sites, key > tuple_(newest.effective_date, newest.id))
        on_hand = dict(
            db.session.execute(
                select(StockLevel.site_id, StockLevel.on_hand).where(
                    StockLevel.item_id == item_id, StockLevel.site_id.in_(sites)
                )
            ).all()
        )
        for entry in entries:
            balances[entry.id] = on_hand.get(entry.site_id, 0) - after.get(entry.site_id, 0)
            after[entry.site_id] = after.get(entry.site_id, 0) + entry.quantity
    page.items = [(entry, balances[entry.id]) for entry in entries]
    return page


def under_par_query(site_id: int | None = None) -> Select[tuple[StockLevel]]:
    """Balance rows under their par level at open sites, most short first."""
    query = (
        select(StockLevel)
        .join(Site, Site.id == StockLevel.site_id)
        .join(Item, Item.id == StockLevel.item_id)
        .where(
            StockLevel.par_level > 0,
            StockLevel.on_hand < StockLevel.par_level,
            Site.active.is_(True),
            Item.active.is_(True),
        )
        .order_by((StockLevel.on_hand * 1.0 / StockLevel.par_level).asc(), Site.name, Item.name)
    )
    if site_id:
        query = query.where(StockLevel.site_id == site_id)
    return query


@dataclass(frozen=True)
class Need:
    item_id: int
    label: str
    category: str
    urgent: bool
    pinned: bool


def public_needs() -> list[Need]:
    """What the public "What we need now" page lists: no site, no quantity.

    An item is needed when it is under par at any open site and urgently
    needed when under half of par somewhere; pinned items always show,
    hidden ones never do.
    """
    urgent = func.max(case((StockLevel.on_hand * 2 < StockLevel.par_level, 1), else_=0))
    short = func.max(case((StockLevel.on_hand < StockLevel.par_level, 1), else_=0))
    levels = (
        select(StockLevel.item_id, urgent.label("urgent"), short.label("short"))
        .join(Site, Site.id == StockLevel.site_id)
        .where(Site.active.is_(True), StockLevel.par_level > 0)
        .group_by(StockLevel.item_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Item, ItemCategory.name, levels.c.urgent, levels.c.short)
        .join(ItemCategory, ItemCategory.id == Item.category_id)
        .outerjoin(levels, levels.c.item_id == Item.id)
        .where(
            Item.active.is_(True),
            Item.needs_hidden.is_(False),
            or_(Item.needs_pinned.is_(True), levels.c.short == 1),
        )
        .order_by(ItemCategory.sort_order, ItemCategory.name, Item.name, Item.size)
    ).all()
    return [
        Need(item.id, item.label, category, bool(is_urgent), item.needs_pinned)
        for item, category, is_urgent, _short in rows
    ]


def documents_query(
    *,
    kind: str | None = None,
    site_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    item_id: int | None = None,
) -> Select[tuple[StockDocument]]:
    """Documents, newest first, filtered."""
    query = select(StockDocument).order_by(StockDocument.id.desc())
    if kind:
        query = query.where(StockDocument.kind == kind)
    if site_id:
        query = query.where(
            or_(StockDocument.site_id == site_id, StockDocument.to_site_id == site_id)
        )
    if date_from:
        query = query.where(StockDocument.effective_date >= date_from)
    if date_to:
        query = query.where(StockDocument.effective_date <= date_to)
    if item_id:
        query = query.where(
            select(StockEntry.id)
            .where(StockEntry.document_id == StockDocument.id, StockEntry.item_id == item_id)
            .exists()
        )
    return query


def top_distributed(*, days: int = 30, limit: int = 10) -> list[tuple[Item, int]]:
    """Items given out most in the last ``days`` days (reversals netted out)."""
    since = utcnow().date() - timedelta(days=days)
    rows = summaries.given_out(first=since, last=summaries.LAST_DAY, limit=limit)
    items = {
        i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_([r[0] for r in rows])))
    }
    return [(items[item_id], given) for item_id, given in rows]


def stock_series(*, item_id: int, site_id: int | None, days: int = 90) -> list[tuple[date, int]]:
    """Stock of an item at the end of each day of the last ``days`` days.

    Read from the daily stock summaries, so an item with ten years of movements costs
    what a new one does.
    """
    today = utcnow().date()
    start = today - timedelta(days=days - 1)
    levels = summaries.daily_levels(item_id=item_id, site_id=site_id, first=start, last=today)
    return [(start + timedelta(days=offset), level) for offset, level in enumerate(levels)]


def on_hand_by_site(item_id: int) -> list[StockLevel]:
    return list(
        db.session.scalars(
            select(StockLevel)
            .join(Site, Site.id == StockLevel.site_id)
            .where(StockLevel.item_id == item_id)
            .order_by(Site.name)
        )
    )


def in_kind_gifts_of(donor_id: int, *, limit: int = 100) -> list[tuple[InKindGift, bool]]:
    """A donor's in-kind gifts, newest first, each with whether its intake was reversed."""
    reversed_ids = select(StockDocument.reverses_id).where(StockDocument.reverses_id.is_not(None))
    rows = db.session.execute(
        select(InKindGift, InKindGift.document_id.in_(reversed_ids))
        .where(InKindGift.donor_id == donor_id)
        .order_by(InKindGift.received_on.desc(), InKindGift.id.desc())
        .limit(limit)
    ).all()
    return [(gift, bool(is_reversed)) for gift, is_reversed in rows]


def sites_open_first(*, active_only: bool) -> list[Site]:
    """Sites for a choice list: open ones first, then by name; only open ones if ``active_only``."""
    query = select(Site).order_by(Site.active.desc(), Site.name)
    if active_only:
        query = query.where(Site.active.is_(True))
    return list(db.session.scalars(query))


def find_site(site_id: int | None) -> Site | None:
    """Return the site with this id, or None when there is none."""
    return db.session.get(Site, site_id) if site_id else None
