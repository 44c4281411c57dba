"""Goods on hand: the stock page, an item's history, stock as of a date, and the ledger."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.authz import ANY_ROLE, roles_required
from donations.blueprints.as_of_rows import as_of_table_body
from donations.blueprints.inventory_forms import (
    AsOfForm,
    LedgerFilterForm,
    ReverseForm,
)
from donations.blueprints.stock_table import read_filters, stock_rows
from donations.extensions import db
from donations.models import Condition, DocumentKind, Role, Site, utcnow
from donations.ranges import page_arg, parse_id
from donations.services import inventory, movement_queries, stock_page
from donations.services.errors import NotFound
from donations.services.keyset import Position
from donations.unit_of_work import unit_of_work

bp = Blueprint("inventory", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
ITEMS_PER_PAGE = 50
HISTORY_PER_PAGE = 50
DOCUMENTS_PER_PAGE = 50


def _site_choices(
    first: str, sites: Sequence[Site | movement_queries.SiteColumn] | None = None
) -> list[SelectChoice]:
    return [SelectChoice("", first)] + [
        SelectChoice(str(s.id), s.name + ("" if s.active else " (closed)"))
        for s in (movement_queries.sites_open_first() if sites is None else sites)
    ]


def _int_arg(value: str | None) -> int | None:
    return parse_id(value)


def _shown_sites(
    all_sites: list[movement_queries.SiteColumn], site_id: int | None
) -> list[movement_queries.SiteColumn]:
    """The chosen site (even closed), else every open site: the stock page's columns."""
    sites = [s for s in all_sites if s.active or s.id == site_id]
    if site_id:
        sites = [s for s in sites if s.id == site_id]
    return sites


# --- stock ---------------------------------------------------------------------


@bp.get("/")
@roles_required(*ANY_ROLE)
def stock():
    """Show what each site holds of each item, with par levels, a page of items at a time."""
    all_sites, categories = stock_page.stock_filters()
    chosen = read_filters(request.args, all_sites, categories)
    site_id, text, category_id, show, valid = chosen[:5]
    # The item a scanned label names: go straight to it.
    if text and valid and request.args.get("scan"):
        scanned = inventory.find_item_by_code(text)
        if scanned is not None:
            return redirect(url_for("inventory.item", item_id=scanned.id))

    sites = _shown_sites(all_sites, site_id)
    page = stock_page.stock_page(
        text=text,
        category_id=category_id,
        site_ids=[s.id for s in sites],
        show=show,
        position=Position.from_args(request.args),
        per_page=ITEMS_PER_PAGE,
    )
    filter_args = {
        k: v for k, v in request.args.items() if k in ("q", "site", "category", "show") and v
    }
    return render_template(
        "inventory/stock.html",
        form=chosen.form,
        controls=chosen.controls,
        page=page,
        sites=sites,
        rows=stock_rows(page.items, sites),
        filter_args=filter_args,
        filtered=bool(filter_args),
        here="stock",
    )


@bp.get("/items/<int:item_id>")
@roles_required(*ANY_ROLE)
def item(item_id: int):
    """Show one item: stock and par at each site, and every movement with running balances."""
    try:
        found = inventory.get_item(item_id)
    except NotFound:
        abort(404)
    site_id = _int_arg(request.args.get("site"))
    page = inventory.item_history_page(
        item_id=found.id,
        site_id=site_id,
        position=Position.from_args(request.args),
        per_page=HISTORY_PER_PAGE,
    )
    return render_template(
        "inventory/item.html",
        item=found,
        levels=inventory.on_hand_by_site(found.id),
        page=page,
        rows=page.items,
        site_id=site_id,
        sites=movement_queries.sites_open_first(),
        here="stock",
    )


@bp.get("/as-of")
@roles_required(*ANY_ROLE)
def as_of():
    """Show what a site held at the end of a past day, from the ledger."""
    form = AsOfForm(request.args)
    form.site.choices = _site_choices("Choose a site")
    rows = None
    site = None
    if request.args and form.validate():
        if form.day.data > utcnow().date():
            form.day.errors.append("Choose today or an earlier day.")
        else:
            site = movement_queries.find_site(_int_arg(form.site.data))
            if site is None:
                form.site.errors.append("Choose a site.")
            else:
                rows = inventory.stock_as_of(site_id=site.id, day=form.day.data)
    elif not request.args:
        form.day.data = utcnow().date()
    body = as_of_table_body(rows, site_id=site.id) if rows and site else None
    return render_template(
        "inventory/as_of.html", form=form, rows=rows, body=body, site=site, here="stock"
    )


# --- the ledger ------------------------------------------------------------------


@bp.get("/documents")
@roles_required(*ANY_ROLE)
def documents():
    """List ledger documents, newest first, filtered by kind, site, date or item."""
    form = LedgerFilterForm(request.args)
    form.site.choices = _site_choices("All sites")
    valid = form.validate()
    if (
        valid
        and form.date_from.data
        and form.date_to.data
        and form.date_to.data < form.date_from.data
    ):
        form.date_to.errors.append("The end date is before the start date.")
        valid = False
    item_id = _int_arg(request.args.get("item"))
    filter_item = movement_queries.find_item(item_id)
    query = inventory.documents_query(
        kind=form.kind.data or None if valid else None,
        site_id=_int_arg(form.site.data) if valid else None,
        date_from=form.date_from.data if valid else None,
        date_to=form.date_to.data if valid else None,
        item_id=filter_item.id if filter_item else None,
    )
    page = db.paginate(query, page=page_arg(), per_page=DOCUMENTS_PER_PAGE, error_out=False)
    filter_args = {
        k: v
        for k, v in request.args.items()
        if k in ("kind", "site", "date_from", "date_to", "item") and v
    }
    return render_template(
        "inventory/documents.html",
        form=form,
        page=page,
        filter_item=filter_item,
        filter_args=filter_args,
        filtered=bool(filter_args),
        summaries={d.id: _summary(d) for d in page.items},
        here="documents",
    )


def _summary(document) -> str:
    """One line on what a document did, for the ledger list."""
    units = sum(abs(e.quantity) for e in document.entries if e.quantity > 0) or sum(
        abs(e.quantity) for e in document.entries
    )
    lines = len({e.item_id for e in document.entries})
    if document.kind == DocumentKind.COUNT:
        changed = sum(1 for e in document.entries if e.quantity)
        return f"{lines} item{'s' if lines != 1 else ''} counted, {changed} changed"
    if document.kind in (DocumentKind.KIT_ASSEMBLY, DocumentKind.KIT_DISASSEMBLY):
        return (
            f"{document.kit_quantity} x {document.kit_item.label if document.kit_item else 'kit'}"
        )
    return f"{lines} item{'s' if lines != 1 else ''}, {units} unit{'s' if units != 1 else ''}"


@bp.get("/documents/<int:document_id>")
@roles_required(*ANY_ROLE)
def document(document_id: int):
    """Show one document with its lines, what it reverses or what reversed it."""
    try:
        found = inventory.get_document(document_id)
    except NotFound:
        abort(404)
    return _render_document(found, ReverseForm())


def _render_document(found, form: ReverseForm, status: int = 200):
    in_kind = movement_queries.in_kind_gift_of(found.id)
    return (
        render_template(
            "inventory/document.html",
            document=found,
            reversed_by=inventory.reversal_of(found),
            in_kind=in_kind,
            form=form,
            can_reverse=current_user.role in (Role.ADMIN, Role.STAFF),
            reason_labels=inventory.REASON_LABELS,
            condition_labels={c.value: c.label for c in Condition},
            here="documents",
        ),
        status,
    )


@bp.post("/documents/<int:document_id>/reverse")
@roles_required(*STOCK_KEEPERS)
def reverse(document_id: int):
    """Undo a document with a reversing one; the original stays as it was."""
    try:
        found = inventory.get_document(document_id)
    except NotFound:
        abort(404)
    form = ReverseForm()
    if not form.validate_on_submit():
        return _render_document(found, form, 400)
    with unit_of_work(form) as work:
        reversal = inventory.reverse_document(
            actor=current_user, document_id=found.id, note=form.note.data
        )
    if not work.ok:
        return _render_document(found, form, 400)
    flash(f"{found.number} was reversed by {reversal.number}.", "success")
    return redirect(url_for("inventory.document", document_id=reversal.id))
