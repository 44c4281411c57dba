"""The standard catalog a new installation can start from."""

from __future__ import annotations

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Item, ItemCategory, KitComponent
from donations.services.catalog.items import SIZES
from donations.services.giving import default_currency

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
