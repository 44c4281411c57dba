"""Kits: assembling them from their components at a site, or taking them apart again."""

from __future__ import annotations

from datetime import date

from donations.extensions import db
from donations.models import DocumentKind, Item, StockDocument, User
from donations.services.errors import InvalidInput
from donations.services.inventory.checks import QUANTITY_MAX, active_site, check_date, check_note
from donations.services.inventory.ledger import Move, audit_document, new_document, post_document


def _kit_moves(kit: Item, site_id: int, quantity: int, sign: int) -> list[Move]:
    moves = [Move(c.component_id, site_id, -sign * c.quantity * quantity) for c in kit.components]
    moves.append(Move(kit.id, site_id, sign * quantity))
    return moves


def _check_kit(kit_item_id: int | None, quantity: int) -> Item:
    kit = db.session.get(Item, kit_item_id) if kit_item_id else None
    if kit is None or not kit.is_kit:
        raise InvalidInput("Choose a kit.", field="kit_item_id")
    if not kit.components:
        raise InvalidInput(
            f"{kit.label} has no components yet; define them in the catalog.", field="kit_item_id"
        )
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput("Enter how many kits, a whole number above zero.", field="quantity")
    if quantity > QUANTITY_MAX:
        raise InvalidInput(f"At most {QUANTITY_MAX:,} kits at a time.", field="quantity")
    return kit


def assemble_kits(
    *,
    actor: User | None,
    site_id: int | None,
    kit_item_id: int | None,
    quantity: int,
    effective_date: date | None,
    note: str = "",
    disassemble: bool = False,
) -> StockDocument:
    """Make kits from their components at a site (or take kits apart again)."""
    site = active_site(site_id)
    day = check_date(effective_date)
    note = check_note(note)
    kit = _check_kit(kit_item_id, quantity)
    if not disassemble and not kit.active:
        raise InvalidInput(
            f"{kit.label} is inactive; no new kits can be made.", field="kit_item_id"
        )
    kind = DocumentKind.KIT_DISASSEMBLY if disassemble else DocumentKind.KIT_ASSEMBLY
    document = new_document(
        actor=actor,
        kind=kind,
        effective_date=day,
        site_id=site.id,
        kit_item_id=kit.id,
        kit_quantity=quantity,
        note=note,
    )
    post_document(document, _kit_moves(kit, site.id, quantity, -1 if disassemble else 1))
    verb = "Took apart" if disassemble else "Assembled"
    audit_document(actor, document, f"{verb} {quantity} x {kit.label} at {site.name}")
    return document
