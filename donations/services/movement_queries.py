"""Read-only queries behind the goods pages: sites, items, kits and stock levels to show."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Select, func, select

from donations.extensions import db
from donations.models import InKindGift, Item, ItemCategory, Site, StockLevel
from donations.services import catalog
from donations.tenancy import current_organization_id


def open_sites() -> list[Site]:
    """Open sites in name order: where goods can be recorded."""
    return catalog.list_sites(include_inactive=False)


def sites_open_first() -> list[Site]:
    """Every site, open ones first, each group in name order."""
    return sorted(catalog.list_sites(), key=lambda site: not site.active)


class SiteColumn(NamedTuple):
    """A site as the stock page shows it: a column, and a choice of its filter."""

    id: int
    name: str
    is_confidential: bool
    active: bool


def category_choices() -> list[tuple[int, str]]:
    """(id, name) of every item category, in the catalog's order."""
    query = (
        select(ItemCategory.id, ItemCategory.name)
        .where(ItemCategory.organization_id == current_organization_id())  # run past the ORM
        .order_by(ItemCategory.sort_order, ItemCategory.name)
    )
    return [(category_id, name) for category_id, name in db.session.connection().execute(query)]


def find_site(site_id: int | None) -> Site | None:
    """The site with this id, or None."""
    return db.session.get(Site, site_id) if site_id else None


def find_item(item_id: int | None) -> Item | None:
    """The item with this id, or None."""
    return db.session.get(Item, item_id) if item_id else None


def items_by_label() -> dict[str, list[Item]]:
    """Every item under its case-folded label, active ones first."""
    by_label: dict[str, list[Item]] = {}
    for item in db.session.scalars(select(Item).order_by(Item.active.desc(), Item.id)):
        by_label.setdefault(item.label.casefold(), []).append(item)
    return by_label


def items_by_id(ids: set[int]) -> dict[int, Item]:
    """The items with these ids, by id."""
    if not ids:
        return {}
    return {item.id: item for item in db.session.scalars(select(Item).where(Item.id.in_(ids)))}


def count_items(site_id: int, category_id: int | None) -> list[Item]:
    """Active items the site holds a balance row for, plus the chosen category's active items."""
    held = select(StockLevel.item_id).where(StockLevel.site_id == site_id)
    condition = Item.id.in_(held)
    if category_id:
        condition = condition | (Item.category_id == category_id)
    return list(
        db.session.scalars(
            select(Item)
            .join(ItemCategory, ItemCategory.id == Item.category_id)
            .where(Item.active.is_(True), condition)
            .order_by(ItemCategory.sort_order, ItemCategory.name, func.lower(Item.name), Item.size)
        )
    )


def kit_items() -> list[Item]:
    """Every kit, active ones first, in name order."""
    return list(
        db.session.scalars(
            select(Item)
            .where(Item.is_kit.is_(True))
            .order_by(Item.active.desc(), func.lower(Item.name), Item.size)
        )
    )


def on_hand_at(item_ids: set[int], site_ids: list[int]) -> dict[tuple[int, int], int]:
    """{(site id, item id): on hand} for these items at these sites."""
    if not item_ids or not site_ids:
        return {}
    return {
        (level.site_id, level.item_id): level.on_hand
        for level in stock_levels(list(item_ids), site_ids)
    }


def stock_levels(item_ids: list[int], site_ids: list[int]) -> list[StockLevel]:
    """The balance rows of these items at these sites."""
    if not item_ids or not site_ids:
        return []
    return list(
        db.session.scalars(
            select(StockLevel).where(
                StockLevel.item_id.in_(item_ids), StockLevel.site_id.in_(site_ids)
            )
        )
    )


def stock_items_query(
    *, text: str, category_id: int | None, site_ids: list[int], show: str
) -> Select:
    """Active items for the stock page: held or with a par level, under par, or all."""
    query = catalog.items_query(text=text, category_id=category_id, include_inactive=False)
    return with_stock_filter(query, site_ids=site_ids, show=show)


def with_stock_filter(query: Select, *, site_ids: list[int], show: str) -> Select:
    """``query`` of items narrowed to what the stock page shows: items held or with a par
    level at ``site_ids`` ("held"), under par there ("under"), or all of them ("all")."""
    level_filter = [StockLevel.item_id == Item.id]
    if site_ids:
        level_filter.append(StockLevel.site_id.in_(site_ids))
    if show == "under":
        query = query.where(
            select(StockLevel.item_id)
            .where(
                *level_filter,
                StockLevel.par_level > 0,
                StockLevel.on_hand < StockLevel.par_level,
            )
            .exists()
        )
    elif show == "held":
        query = query.where(
            select(StockLevel.item_id)
            .where(*level_filter, (StockLevel.on_hand != 0) | (StockLevel.par_level > 0))
            .exists()
        )
    return query


def in_kind_gift_of(document_id: int) -> InKindGift | None:
    """The in-kind gift an intake document recorded, if any."""
    return db.session.scalar(select(InKindGift).where(InKindGift.document_id == document_id))
