"""Kits: assemble them from their components at a site, or take them apart."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.blueprints.movements_forms import KitForm
from donations.blueprints.movements_lines import add_error, parse_quantity
from donations.blueprints.movements_sites import default_site_id, remember_site, site_choices
from donations.forms import show_domain_error
from donations.models import Item, Site
from donations.services import inventory, movement_queries
from donations.unit_of_work import unit_of_work


@dataclass
class KitRow:
    kit: Item
    components: str
    at_sites: list[tuple[Site, int, int]]  # (site, kits on hand, kits that can be made)


def _kit_rows(kits: list[Item], sites: list[Site]) -> list[KitRow]:
    """Each kit with its components, and per open site how many it holds and can make."""
    ids = {kit.id for kit in kits} | {c.component_id for kit in kits for c in kit.components}
    on_hand = movement_queries.on_hand_at(ids, [site.id for site in sites])
    rows = []
    for kit in kits:
        at_sites = []
        for site in sites:
            can_make = min(
                (on_hand.get((site.id, c.component_id), 0) // c.quantity for c in kit.components),
                default=0,
            )
            at_sites.append((site, on_hand.get((site.id, kit.id), 0), can_make))
        components = ", ".join(f"{c.quantity} x {c.component.label}" for c in kit.components)
        rows.append(KitRow(kit, components, at_sites))
    return rows


def kits():
    """Assemble kits from their components at a site, or take kits apart."""
    form = KitForm()
    sites = movement_queries.open_sites()
    kit_items = movement_queries.kit_items()
    form.site_id.choices = site_choices(sites)
    form.kit_item_id.choices = [SelectChoice("", "Choose a kit")] + [
        SelectChoice(kit.id, kit.label + ("" if kit.active else " (inactive)")) for kit in kit_items
    ]
    status = 200
    if not form.is_submitted():
        form.site_id.data = default_site_id(sites)
        if len([kit for kit in kit_items if kit.active]) == 1:
            form.kit_item_id.data = next(kit.id for kit in kit_items if kit.active)
    else:
        status = 400
        valid = form.validate()
        quantity = _read_quantity(form)
        if valid and quantity is not None and not form.action.errors:
            recorded = _record(form, quantity)
            if recorded is not None:
                return recorded
        elif form.errors and not form.form_errors:
            form.form_errors.append("Please correct the fields marked below.")
    return (
        render_template(
            "movements/kits.html",
            form=form,
            rows=_kit_rows(kit_items, sites),
            sites=sites,
            here="record",
        ),
        status,
    )


def _read_quantity(form: KitForm) -> int | None:
    """The number of kits, or None with a message; also check the action."""
    quantity = None
    if not form.quantity.errors:
        quantity, problem = parse_quantity(form.quantity.data or "")
        if problem:
            add_error(form.quantity, problem)
    if form.action.data not in ("assemble", "disassemble"):
        add_error(form.action, "Choose assemble or take apart.")
    return quantity


def _record(form: KitForm, quantity: int):
    """Record the assembly and go to it, or put the refusal on the form (and return None)."""
    disassemble = form.action.data == "disassemble"
    with unit_of_work() as work:
        document = inventory.assemble_kits(
            actor=current_user,
            site_id=form.site_id.data,
            kit_item_id=form.kit_item_id.data,
            quantity=quantity,
            effective_date=form.effective_date.data,
            note=form.note.data or "",
            disassemble=disassemble,
        )
    if isinstance(work.error, inventory.InsufficientStock):
        form.form_errors.append(work.error.message)
        for shortage in work.error.shortages:
            add_error(form.quantity, shortage.describe() + ".")
        return None
    if work.error is not None:
        show_domain_error(form, work.error)
        return None
    remember_site(form.site_id.data)
    verb = "took apart" if disassemble else "assembled"
    flash(
        f"Recorded {document.number}: {verb} {quantity} x {document.kit_item.label} "
        f"at {document.site.name}.",
        "success",
    )
    return redirect(url_for("inventory.document", document_id=document.id))
