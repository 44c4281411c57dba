"""The goods catalog: categories, items, kits and their QR labels."""

from __future__ import annotations

import io
import re
from typing import Any

import segno
from sqlalchemy import Select, func, select

from donations.extensions import db
from donations.models import Item, ItemCategory, KitComponent, User
from donations.services import privacy, summaries
from donations.services.audit import describe_changes, record_audit, snapshot
from donations.services.errors import InvalidInput, NotFound
from donations.services.giving import default_currency
from donations.services.text import like_pattern

ITEM_FIELDS = (
    "category_id",
    "name",
    "size",
    "unit",
    "code",
    "fair_value_cents",
    "is_kit",
    "active",
    "needs_pinned",
    "needs_hidden",
)
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


def column_limit(model: Any, column: str) -> int:
    """The length of a model's VARCHAR column."""
    return model.__table__.c[column].type.length


# --- categories ---------------------------------------------------------------


def list_categories() -> list[ItemCategory]:
    return list(
        db.session.scalars(
            select(ItemCategory).order_by(ItemCategory.sort_order, ItemCategory.name)
        )
    )


def create_category(*, actor: User | None, name: str, sort_order: int = 0) -> ItemCategory:
    """Add a category of items."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Enter the category's name.", field="name")
    if len(name) > column_limit(ItemCategory, "name"):
        raise InvalidInput(
            f"Use at most {column_limit(ItemCategory, 'name')} characters.", field="name"
        )
    privacy.check_free_text(name, field="name")
    exists = db.session.scalar(
        select(ItemCategory.id).where(func.lower(ItemCategory.name) == name.lower())
    )
    if exists:
        raise InvalidInput(f"There is already a category called {name}.", field="name")
    category = ItemCategory(name=name, sort_order=sort_order)
    db.session.add(category)
    db.session.flush()
    record_audit(
        actor=actor,
        action="catalog.category_created",
        object_type="item_category",
        object_id=category.id,
        summary=name,
    )
    return category


# --- items --------------------------------------------------------------------


def items_query(
    *, text: str = "", category_id: int | None = None, include_inactive: bool = True
) -> Select[tuple[Item]]:
    """Items ordered by name and size, optionally searched by name or code."""
    query = select(Item).order_by(func.lower(Item.name), Item.size, Item.id)
    text = text.strip()
    if text:
        pattern = like_pattern(text.lower())
        query = query.where(
            func.lower(Item.name).like(pattern, escape="\\")
            | func.lower(Item.code).like(pattern, escape="\\")
        )
    if category_id:
        query = query.where(Item.category_id == category_id)
    if not include_inactive:
        query = query.where(Item.active.is_(True))
    return query


def catalog_query(
    *, text: str = "", category_id: int | None = None, show: str = ""
) -> Select[tuple[Item]]:
    """The catalog page's items: ``show`` is "", "active" or "inactive"."""
    query = items_query(text=text, category_id=category_id, include_inactive=show != "active")
    if show == "inactive":
        query = query.where(Item.active.is_(False))
    return query


def active_items() -> list[Item]:
    return list(db.session.scalars(items_query(include_inactive=False)))


def items_by_id(item_ids: list[int]) -> list[Item]:
    """The listed items, in the catalog's order."""
    return list(db.session.scalars(items_query().where(Item.id.in_(item_ids))))


def label_items(*, item_ids: list[int], category_id: int | None) -> list[Item]:
    """The items of a label sheet: those chosen, else the active ones of a category or all."""
    if item_ids:
        return items_by_id(item_ids)
    return list(db.session.scalars(items_query(category_id=category_id, include_inactive=False)))


def component_candidates(kit: Item) -> list[Item]:
    """What a kit may hold: plain active items, plus any it holds now (even if inactive)."""
    held = {c.component_id for c in kit.components}
    return list(
        db.session.scalars(
            items_query().where(
                Item.id != kit.id,
                ((Item.active.is_(True)) & (Item.is_kit.is_(False))) | Item.id.in_(held or [0]),
            )
        )
    )


def get_item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        raise NotFound("There is no such item.")
    return item


def _item_values(item: Item | None, values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    for key in ("name", "size", "unit", "code"):
        clean[key] = " ".join(str(clean.get(key) or "").split())
    clean["code"] = clean["code"].upper().replace(" ", "-")
    if not clean["name"]:
        raise InvalidInput("Enter the item's name.", field="name")
    for key in ("name", "size", "unit", "code"):
        limit = column_limit(Item, key)
        if len(clean[key]) > limit:
            raise InvalidInput(f"Use at most {limit} characters.", field=key)
    for key in ("name", "size", "unit"):
        privacy.check_free_text(clean[key], field=key)
    if not clean["unit"]:
        clean["unit"] = "each"
    if not clean["code"]:
        raise InvalidInput("Enter a short code for the label, such as SOCKS-M.", field="code")
    if not CODE_RE.match(clean["code"]):
        raise InvalidInput(
            "Use capital letters, digits and dashes only, such as COAT-A-M.", field="code"
        )
    if privacy.name_in_code(clean["code"]):
        raise InvalidInput(
            f"{privacy.SCREEN_MESSAGE} This code looks like a name; describe the item.",
            field="code",
        )
    same_code = select(Item.id).where(Item.code == clean["code"])
    if item is not None and item.id is not None:
        same_code = same_code.where(Item.id != item.id)
    if db.session.scalar(same_code.limit(1)) is not None:
        raise InvalidInput(f"Another item already has the code {clean['code']}.", field="code")
    if db.session.get(ItemCategory, clean.get("category_id") or 0) is None:
        raise InvalidInput("Choose a category.", field="category_id")
    value = clean.get("fair_value_cents")
    if value is not None and (value < 0 or value > 2**31 - 1):
        raise InvalidInput("Enter a value of zero or more.", field="fair_value")
    if clean.get("needs_pinned") and clean.get("needs_hidden"):
        raise InvalidInput(
            "An item cannot be both pinned to and hidden from the needs list.",
            field="needs_hidden",
        )
    return clean


def create_item(*, actor: User | None, **values: Any) -> Item:
    """Add an item to the catalog."""
    clean = _item_values(None, values)
    item = Item(**{k: clean.get(k) for k in ITEM_FIELDS if k in clean})
    item.fair_value_currency = default_currency()
    db.session.add(item)
    db.session.flush()
    record_audit(
        actor=actor,
        action="catalog.item_created",
        object_type="item",
        object_id=item.id,
        summary=f"{item.code}: {item.label}",
    )
    return item


def update_item(*, actor: User | None, item: Item, **values: Any) -> Item:
    """Change an item's details; its ledger history is untouched."""
    clean = _item_values(item, {**snapshot(item, ITEM_FIELDS), **values})
    if item.is_kit and not clean.get("is_kit") and item.components:
        raise InvalidInput(
            "Remove the kit's components before making it an ordinary item.", field="is_kit"
        )
    before = snapshot(item, ITEM_FIELDS)
    for key in ITEM_FIELDS:
        setattr(item, key, clean.get(key))
    db.session.flush()
    summaries.move_item(
        item_id=item.id,
        old_category_id=before["category_id"],
        new_category_id=item.category_id,
    )
    changes = describe_changes(before, snapshot(item, ITEM_FIELDS))
    if changes:
        record_audit(
            actor=actor,
            action="catalog.item_updated",
            object_type="item",
            object_id=item.id,
            summary=changes,
        )
    return item


def set_kit_components(*, actor: User | None, kit: Item, components: dict[int, int]) -> Item:
    """Replace what one kit holds: {component item id: quantity per kit}."""
    if not kit.is_kit:
        raise InvalidInput(f"{kit.label} is not a kit.", field="components")
    if not components:
        raise InvalidInput("A kit needs at least one component.", field="components")
    for component_id, quantity in components.items():
        if component_id == kit.id:
            raise InvalidInput("A kit cannot contain itself.", field="components")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= 1000:
            raise InvalidInput(
                "Each component needs a whole number from 1 to 1000.", field="components"
            )
    found = {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_(components)))}
    for component_id in components:
        component = found.get(component_id)
        if component is None:
            raise InvalidInput("One of the components is not in the catalog.", field="components")
        if component.is_kit:
            raise InvalidInput(
                f"{component.label} is itself a kit; kits hold plain items.", field="components"
            )
    before = ", ".join(f"{c.quantity} x {c.component.label}" for c in kit.components)
    kit.components.clear()
    db.session.flush()
    for component_id, quantity in components.items():
        kit.components.append(KitComponent(component_id=component_id, quantity=quantity))
    db.session.flush()
    after = ", ".join(f"{q} x {found[c].label}" for c, q in components.items())
    record_audit(
        actor=actor,
        action="catalog.kit_components",
        object_type="item",
        object_id=kit.id,
        summary=f"{kit.label}: {before or '(none)'} -> {after}",
    )
    return kit


def qr_svg(text: str, *, scale: int = 4) -> str:
    """Return an SVG QR code of ``text`` (an item code or a URL)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=scale, border=2, xmldecl=False)
    return buffer.getvalue().decode()
