"""Goods on hand: the stock page, an item's history, stock as of a date, and the ledger."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Row, Select, func, select
from wtforms import DateField, SearchField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from donations.authz import ANY_ROLE, roles_required
from donations.extensions import db
from donations.forms import strip_text
from donations.models import (
    Condition,
    DocumentKind,
    InKindGift,
    Item,
    ItemCategory,
    Role,
    Site,
    StockLevel,
    utcnow,
)
from donations.ranges import page_arg, parse_id
from donations.services import catalog, inventory
from donations.services.errors import NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("inventory", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
ITEMS_PER_PAGE = 50
HISTORY_PER_PAGE = 50
DOCUMENTS_PER_PAGE = 50
SEARCH_MAX_LENGTH = 100


def _sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.active.desc(), Site.name)))


def _site_choices(first: str, sites: list[Site] | None = None) -> list[SelectChoice]:
    return [SelectChoice("", first)] + [
        SelectChoice(str(s.id), s.name + ("" if s.active else " (closed)"))
        for s in (_sites() if sites is None else sites)
    ]


# --- forms ---------------------------------------------------------------------


class StockFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        "Item name or code", filters=[strip_text], validators=[Length(max=SEARCH_MAX_LENGTH)]
    )
    site = SelectField("Site", default="")
    category = SelectField("Category", default="")
    show = SelectField(
        "Show",
        choices=[
            SelectChoice("held", "Items held or with a par level"),
            SelectChoice("under", "Only items under par"),
            SelectChoice("all", "Every active item"),
        ],
        default="held",
    )


class LedgerFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "All kinds")]
        + [SelectChoice(k.value, k.label) for k in DocumentKind],
        default="",
    )
    site = SelectField("Site", default="")
    date_from = DateField("Dated from", validators=[Optional()])
    date_to = DateField("Dated to", validators=[Optional()])


class AsOfForm(FlaskForm):
    class Meta:
        csrf = False

    site = SelectField("Site", validators=[DataRequired(message="Choose a site.")])
    day = DateField(
        "At the end of", validators=[InputRequired(message="Enter a date, such as 2026-01-31.")]
    )


class ReverseForm(FlaskForm):
    note = TextAreaField(
        "Why is it being reversed?",
        filters=[strip_text],
        validators=[
            DataRequired(message="Say why it is being reversed."),
            Length(max=inventory.NOTE_MAX_LENGTH),
        ],
        description="For example: entered twice, or the wrong site. Kept with the reversal.",
    )


@dataclass
class RowPage:
    """A page of rows of several columns (``db.paginate`` yields one entity only)."""

    items: list[Row]
    page: int
    per_page: int
    total: int

    @classmethod
    def of(cls, query: Select, *, page: int, per_page: int) -> RowPage:
        page = max(page, 1)
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
        return cls(list(rows), page, per_page, int(total or 0))

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _int_arg(value: str | None) -> int | None:
    return parse_id(value)


# --- stock ---------------------------------------------------------------------


@bp.get("/")
@roles_required(*ANY_ROLE)
def stock():
    """Show what each site holds of each item, with par levels, a page of items at a time."""
    form = StockFilterForm(request.args)
    all_sites = _sites()
    form.site.choices = _site_choices("All sites", all_sites)
    categories = list(
        db.session.scalars(
            select(ItemCategory).order_by(ItemCategory.sort_order, ItemCategory.name)
        )
    )
    form.category.choices = [SelectChoice("", "All categories")] + [
        SelectChoice(str(c.id), c.name) for c in categories
    ]
    valid = form.validate()
    site_id = _int_arg(form.site.data) if valid else None
    category_id = _int_arg(form.category.data) if valid else None
    text = (form.q.data or "") if valid else ""
    show = form.show.data if valid else "held"
    # The item a scanned label names: go straight to it.
    if text and valid:
        scanned = inventory.find_item_by_code(text)
        if scanned is not None and request.args.get("scan"):
            return redirect(url_for("inventory.item", item_id=scanned.id))

    sites = [s for s in all_sites if s.active or s.id == site_id]
    if site_id:
        sites = [s for s in sites if s.id == site_id]
    site_ids = [s.id for s in sites]

    query = catalog.items_query(text=text, category_id=category_id, include_inactive=False)
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
    page = db.paginate(query, page=page_arg(), per_page=ITEMS_PER_PAGE, error_out=False, count=True)
    item_ids = [item.id for item in page.items]
    levels: dict[tuple[int, int], StockLevel] = {}
    if item_ids and site_ids:
        for level in db.session.scalars(
            select(StockLevel).where(
                StockLevel.item_id.in_(item_ids), StockLevel.site_id.in_(site_ids)
            )
        ):
            levels[(level.item_id, level.site_id)] = level
    filter_args = {
        k: v for k, v in request.args.items() if k in ("q", "site", "category", "show") and v
    }
    return render_template(
        "inventory/stock.html",
        form=form,
        page=page,
        sites=sites,
        levels=levels,
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
    page = RowPage.of(
        inventory.item_history_query(item_id=found.id, site_id=site_id),
        page=page_arg(),
        per_page=HISTORY_PER_PAGE,
    )
    return render_template(
        "inventory/item.html",
        item=found,
        levels=inventory.on_hand_by_site(found.id),
        page=page,
        rows=page.items,
        site_id=site_id,
        sites=_sites(),
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
            site = db.session.get(Site, _int_arg(form.site.data) or 0)
            if site is None:
                form.site.errors.append("Choose a site.")
            else:
                rows = inventory.stock_as_of(site_id=site.id, day=form.day.data)
    elif not request.args:
        form.day.data = utcnow().date()
    return render_template("inventory/as_of.html", form=form, rows=rows, site=site, here="stock")


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
    filter_item = db.session.get(Item, item_id) if item_id else None
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
    in_kind = db.session.scalar(select(InKindGift).where(InKindGift.document_id == found.id))
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
