"""The goods catalog (categories, items, kits) and the sites that hold goods."""

from __future__ import annotations

import io
import re
from typing import Any

import segno
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Item, ItemCategory, KitComponent, Site, SiteKind, User
from donations.services import privacy
from donations.services.accounts import normalize_email
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
SITE_FIELDS = (
    "name",
    "kind",
    "is_confidential",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "public_hours",
    "contact_email",
    "active",
)
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


def _limit(model: Any, column: str) -> int:
    return model.__table__.c[column].type.length


# --- seed ------------------------------------------------------------------------

# (category, [(name, unit, sizes or None, code stem)])
SEED: list[tuple[str, list[tuple[str, str, tuple[str, ...] | None, str]]]] = [
    ("Hygiene kits", [("Hygiene kit", "kit", None, "KIT-HYG")]),
    (
        "Toiletries",
        [
            ("Toothbrush", "each", None, "TOOTHBRUSH"),
            ("Toothpaste", "tube", None, "TOOTHPASTE"),
            ("Soap", "bar", None, "SOAP"),
            ("Shampoo", "bottle", None, "SHAMPOO"),
            ("Deodorant", "each", None, "DEODORANT"),
            ("Menstrual pads", "pack", None, "PADS"),
            ("Tampons", "box", None, "TAMPONS"),
        ],
    ),
    (
        "Coats",
        [
            ("Coat, adult", "each", SIZES, "COAT-A"),
            ("Coat, child", "each", SIZES, "COAT-C"),
        ],
    ),
    ("Sleeping bags", [("Sleeping bag", "each", None, "SLEEPBAG")]),
    ("Blankets", [("Blanket", "each", None, "BLANKET")]),
    ("Socks", [("Socks", "pair", ("S", "M", "L"), "SOCKS")]),
    ("Underwear", [("Underwear", "each", SIZES, "UNDERWEAR")]),
    (
        "Baby supplies",
        [
            ("Diapers, size 3", "pack", None, "DIAPERS-3"),
            ("Baby wipes", "pack", None, "WIPES"),
            ("Baby formula", "can", None, "FORMULA"),
        ],
    ),
    (
        "Non-perishable food",
        [
            ("Canned vegetables", "can", None, "FOOD-VEG"),
            ("Rice, 2 lb", "bag", None, "FOOD-RICE"),
            ("Peanut butter", "jar", None, "FOOD-PB"),
        ],
    ),
]
# What one hygiene kit holds.
HYGIENE_KIT = [("TOOTHBRUSH", 1), ("TOOTHPASTE", 1), ("SOAP", 1), ("SHAMPOO", 1), ("SOCKS-M", 1)]


def seed_catalog() -> int:
    """Add the standard categories and items if the catalog is empty; return items added."""
    if db.session.scalar(select(func.count()).select_from(Item)):
        return 0
    currency = default_currency()
    added = 0
    for order, (category_name, entries) in enumerate(SEED):
        category = ItemCategory(name=category_name, sort_order=order * 10)
        db.session.add(category)
        db.session.flush()
        for name, unit, sizes, stem in entries:
            for size in sizes or ("",):
                code = f"{stem}-{size}" if size else stem
                db.session.add(
                    Item(
                        category_id=category.id,
                        name=name,
                        size=size,
                        unit=unit,
                        code=code,
                        is_kit=stem.startswith("KIT-"),
                        fair_value_currency=currency,
                    )
                )
                added += 1
    db.session.flush()
    kit = db.session.scalar(select(Item).where(Item.code == "KIT-HYG"))
    for code, quantity in HYGIENE_KIT:
        component = db.session.scalar(select(Item).where(Item.code == code))
        kit.components.append(KitComponent(component_id=component.id, quantity=quantity))
    db.session.flush()
    return added


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
    if len(name) > _limit(ItemCategory, "name"):
        raise InvalidInput(f"Use at most {_limit(ItemCategory, 'name')} characters.", field="name")
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


def items_query(*, text: str = "", category_id: int | None = None, include_inactive: bool = True):
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


def active_items() -> list[Item]:
    return list(db.session.scalars(items_query(include_inactive=False)))


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
        limit = _limit(Item, key)
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


# --- sites --------------------------------------------------------------------


def list_sites(*, include_inactive: bool = True) -> list[Site]:
    query = select(Site).order_by(Site.name)
    if not include_inactive:
        query = query.where(Site.active.is_(True))
    return list(db.session.scalars(query))


def dropoff_points() -> list[Site]:
    """Open public drop-off points, for the pledge form."""
    return list(
        db.session.scalars(
            select(Site)
            .where(Site.kind == SiteKind.DROPOFF, Site.active.is_(True))
            .order_by(Site.name)
        )
    )


def get_site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound("There is no such site.")
    return site


def _site_values(site: Site | None, values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    for key in SITE_FIELDS:
        if key in ("is_confidential", "active"):
            clean[key] = bool(clean.get(key))
        elif key != "kind":
            clean[key] = " ".join(str(clean.get(key) or "").split())
            limit = _limit(Site, key)
            if len(clean[key]) > limit:
                raise InvalidInput(f"Use at most {limit} characters.", field=key)
    if not clean["name"]:
        raise InvalidInput("Enter the site's name.", field="name")
    for key in ("name", "public_hours"):
        privacy.check_free_text(clean.get(key) or "", field=key)
    if clean.get("kind") not in {k.value for k in SiteKind}:
        raise InvalidInput("Choose what kind of site it is.", field="kind")
    if clean["kind"] == SiteKind.DROPOFF and clean["is_confidential"]:
        raise InvalidInput(
            "A public drop-off point cannot be confidential: donors need its address.",
            field="is_confidential",
        )
    if clean["contact_email"]:
        clean["contact_email"] = normalize_email(clean["contact_email"])
        if "@" not in clean["contact_email"] or " " in clean["contact_email"]:
            raise InvalidInput(
                "Enter an email address, such as stock@example.org.", field="contact_email"
            )
    same = select(Site.id).where(func.lower(Site.name) == clean["name"].lower())
    if site is not None and site.id is not None:
        same = same.where(Site.id != site.id)
    if db.session.scalar(same.limit(1)) is not None:
        raise InvalidInput(f"There is already a site called {clean['name']}.", field="name")
    return clean


def create_site(*, actor: User | None, **values: Any) -> Site:
    """Add a shelter, warehouse or drop-off point."""
    values.setdefault("active", True)
    clean = _site_values(None, values)
    site = Site(**{k: clean[k] for k in SITE_FIELDS})
    db.session.add(site)
    db.session.flush()
    record_audit(
        actor=actor,
        action="site.created",
        object_type="site",
        object_id=site.id,
        summary=f"{site.name} ({site.kind}{', confidential' if site.is_confidential else ''})",
    )
    return site


def update_site(*, actor: User | None, site: Site, **values: Any) -> Site:
    """Change a site's details; confidential addresses stay out of every donor page."""
    clean = _site_values(site, {**snapshot(site, SITE_FIELDS), **values})
    before = snapshot(site, SITE_FIELDS)
    for key in SITE_FIELDS:
        setattr(site, key, clean[key])
    db.session.flush()
    redacted = ("address_line1", "address_line2") if site.is_confidential else ()
    changes = describe_changes(before, snapshot(site, SITE_FIELDS), redacted=redacted)
    if changes:
        record_audit(
            actor=actor,
            action="site.updated",
            object_type="site",
            object_id=site.id,
            summary=changes,
        )
    return site
