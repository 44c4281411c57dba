"""The goods catalog (categories, items, kits, QR labels) and sites with their par levels."""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select, true
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from donations.authz import ANY_ROLE, roles_required
from donations.extensions import db
from donations.forms import EmptyForm, strip_text
from donations.models import Item, ItemCategory, Role, Site, SiteKind, StockLevel
from donations.money import AmountError, format_plain, parse_amount
from donations.ranges import BoundedIntegerField, IdSelectField, page_arg, parse_id
from donations.services import audit, inventory
from donations.services import catalog as catalog_service
from donations.unit_of_work import unit_of_work

bp = Blueprint("catalog", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
ITEMS_PER_PAGE = 50
SEARCH_MAX_LENGTH = 100
HISTORY_LIMIT = 20
# Kit component rows: blank rows shown under the filled ones, and the most a kit may list.
BLANK_COMPONENT_ROWS = 3
COMPONENT_ROWS_MAX = 60
LABEL_COPIES_MAX = 50
LABEL_SCALES = range(2, 11)
SORT_ORDER_MAX = 9999
WHOLE_NUMBER_RE = re.compile(r"^\d+$")


def _limit(model: Any, column: str) -> int:
    return model.__table__.c[column].type.length


def _max_length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


def _int_arg(value: str | None) -> int | None:
    return parse_id(value)


def _is_admin() -> bool:
    return current_user.role == Role.ADMIN


def _category_choices(first: str) -> list[SelectChoice]:
    return [SelectChoice("", first)] + [
        SelectChoice(str(c.id), c.name) for c in catalog_service.list_categories()
    ]


def _history(object_type: str, object_id: int) -> list:
    return db.session.scalars(
        audit.audit_query(object_type=object_type, object_id=object_id).limit(HISTORY_LIMIT)
    ).all()


# --- forms ---------------------------------------------------------------------


class CatalogFilterForm(FlaskForm):
    """The filters above the catalog: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(
        "Item name or code", filters=[strip_text], validators=[Length(max=SEARCH_MAX_LENGTH)]
    )
    category = SelectField("Category", default="")
    show = SelectField(
        "Show",
        choices=[
            SelectChoice("", "Active and inactive items"),
            SelectChoice("active", "Only active items"),
            SelectChoice("inactive", "Only inactive items"),
        ],
        default="",
    )


class ItemForm(FlaskForm):
    category_id = SelectField(
        "Category", validators=[DataRequired(message="Choose a category.")], default=""
    )
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter the item's name."),
            _max_length(_limit(Item, "name")),
        ],
        description="What staff call it, such as “Coat, adult” or “Toothbrush”.",
    )
    size = StringField(
        "Size",
        filters=[strip_text],
        validators=[_max_length(_limit(Item, "size"))],
        description="Optional. Such as XS, S, M, L, XL or XXL, or “6-12 months”. "
        "Each size is its own item with its own code.",
    )
    unit = StringField(
        "Unit",
        filters=[strip_text],
        default="each",
        validators=[_max_length(_limit(Item, "unit"))],
        description="How it is counted: each, pair, pack, box, can…",
    )
    code = StringField(
        "Label code",
        filters=[strip_text, lambda v: v.upper() if isinstance(v, str) else v],
        validators=[
            DataRequired(message="Enter a short code for the label, such as SOCKS-M."),
            _max_length(_limit(Item, "code")),
        ],
        description="Printed on the item's QR label and scanned into forms. "
        "Capital letters, digits and dashes, such as COAT-A-M.",
    )
    fair_value = StringField(
        "Fair value per unit",
        filters=[strip_text],
        validators=[Length(max=30)],
        description="Optional. For internal reports only, never printed for donors.",
    )
    is_kit = BooleanField(
        "This is a kit",
        description="Made up of other items and assembled from stock. "
        "After saving, list what one kit holds.",
    )
    active = BooleanField(
        "Active",
        default=True,
        description="Inactive items leave the movement forms and the needs list; "
        "their history stays.",
    )
    needs_pinned = BooleanField(
        "Always show on the public needs list",
        description="Even when every site is at par. Admins only.",
    )
    needs_hidden = BooleanField(
        "Never show on the public needs list",
        description="Even when a site is under par, such as for items you cannot accept "
        "second-hand. Admins only.",
    )

    # Set by the view: the currency the fair value is read in.
    currency = "USD"
    fair_value_cents: int | None = None

    def validate_fair_value(self, field: StringField) -> None:
        self.fair_value_cents = None
        if not field.data:
            return
        try:
            self.fair_value_cents = parse_amount(field.data, self.currency)
        except AmountError as error:
            raise ValidationError(str(error)) from None

    def item_values(self) -> dict[str, Any]:
        """Return the submitted values as the catalog service takes them.

        The needs-list fields are included only while the form has them (admins).
        """
        values: dict[str, Any] = {
            "category_id": int(self.category_id.data),
            "name": self.name.data or "",
            "size": self.size.data or "",
            "unit": self.unit.data or "",
            "code": self.code.data or "",
            "fair_value_cents": self.fair_value_cents,
            "is_kit": bool(self.is_kit.data),
            "active": bool(self.active.data),
        }
        for name in ("needs_pinned", "needs_hidden"):
            if name in self:
                values[name] = bool(self[name].data)
        return values


class CategoryForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter the category's name."),
            _max_length(_limit(ItemCategory, "name")),
        ],
        description="Such as Coats, Toiletries or Baby supplies.",
    )
    sort_order = BoundedIntegerField(
        "Order in lists",
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=SORT_ORDER_MAX, message="Enter a whole number, 0 or more."),
        ],
        description="Lower numbers come first. Leave 0 to sort by name.",
    )


class ComponentRow(Form):
    """One row of a kit: an item and how many of it one kit holds."""

    item = IdSelectField("Component", default="")
    quantity = StringField("Quantity per kit", filters=[strip_text])


class KitComponentsForm(FlaskForm):
    rows = FieldList(FormField(ComponentRow), max_entries=COMPONENT_ROWS_MAX)


def _site_text(label: str, column: str, **kwargs: Any) -> StringField:
    field_class = kwargs.pop("field_class", StringField)
    return field_class(
        label,
        filters=[strip_text],
        validators=[*kwargs.pop("validators", []), _max_length(_limit(Site, column))],
        **kwargs,
    )


class SiteForm(FlaskForm):
    name = _site_text(
        "Name",
        "name",
        validators=[DataRequired(message="Enter the site's name.")],
        description="What staff call it. Donors see the name of a drop-off point.",
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Choose…")] + [SelectChoice(k.value, k.label) for k in SiteKind],
        validators=[DataRequired(message="Choose what kind of site it is.")],
        default="",
    )
    is_confidential = BooleanField(
        "Confidential location",
        description="Its address never appears on a public page, a receipt or a donor "
        "export. Shelters usually are. A drop-off point cannot be.",
    )
    address_line1 = _site_text("Address", "address_line1")
    address_line2 = _site_text("Address, line 2", "address_line2")
    city = _site_text("City", "city")
    region = _site_text("State or region", "region")
    postal_code = _site_text("Postal code", "postal_code")
    public_hours = _site_text(
        "Drop-off hours",
        "public_hours",
        field_class=TextAreaField,
        description="Drop-off points only: when donors may bring goods, shown on the "
        "pledge form. Such as Mon-Fri 9-5.",
    )
    contact_email = _site_text(
        "Contact email",
        "contact_email",
        field_class=EmailField,
        description="Gets one low-stock email when an item falls under its par level here "
        "(and another only after it is back at par and falls again). Leave blank for none.",
    )
    active = BooleanField(
        "Active",
        default=True,
        description="Closed sites leave the movement forms; their history stays.",
    )

    def site_values(self) -> dict[str, Any]:
        return {name: self[name].data for name in catalog_service.SITE_FIELDS}


# --- the catalog -----------------------------------------------------------------


@bp.get("/catalog")
@roles_required(*ANY_ROLE)
def items():
    """List the catalog, searched by name or code, filtered by category, a page at a time."""
    form = CatalogFilterForm(request.args)
    categories = catalog_service.list_categories()
    form.category.choices = [SelectChoice("", "All categories")] + [
        SelectChoice(str(c.id), c.name) for c in categories
    ]
    valid = form.validate()
    category_id = _int_arg(form.category.data) if valid else None
    show = form.show.data if valid else ""
    query = catalog_service.items_query(
        text=(form.q.data or "") if valid else "",
        category_id=category_id,
        include_inactive=show != "active",
    )
    if show == "inactive":
        query = query.where(Item.active.is_(False))
    page = db.paginate(query, page=page_arg(), per_page=ITEMS_PER_PAGE, error_out=False, count=True)
    filter_args = {k: v for k, v in request.args.items() if k in ("q", "category", "show") and v}
    return render_template(
        "catalog/items.html",
        form=form,
        page=page,
        categories=categories,
        category=next((c for c in categories if c.id == category_id), None),
        filter_args=filter_args,
        filtered=bool(filter_args),
        stock_keeper=current_user.role in STOCK_KEEPERS,
        here="catalog",
    )


def _item_form(item: Item | None) -> ItemForm:
    data: dict[str, Any] = {}
    if item is not None:
        data = {
            "category_id": str(item.category_id),
            "fair_value": (
                format_plain(item.fair_value_cents, item.fair_value_currency)
                if item.fair_value_cents is not None
                else ""
            ),
        }
    else:
        category_id = _int_arg(request.args.get("category"))
        if category_id:
            data["category_id"] = str(category_id)
    form = ItemForm(obj=item, data=data)
    form.category_id.choices = _category_choices("Choose a category")
    form.currency = item.fair_value_currency if item is not None else _new_item_currency()
    if not _is_admin():
        # Pinning and hiding on the public needs list are for admins: the fields are not
        # shown, and whatever a staff member's browser sends for them is ignored.
        del form.needs_pinned
        del form.needs_hidden
    return form


def _new_item_currency() -> str:
    return Item.__table__.c.fair_value_currency.default.arg


def _render_item_form(form: ItemForm, item: Item | None, status: int = 200):
    return (
        render_template(
            "catalog/item_form.html",
            form=form,
            item=item,
            sizes=catalog_service.SIZES,
            history=_history("item", item.id) if item is not None else [],
            has_categories=len(form.category_id.choices) > 1,
            here="catalog",
        ),
        status,
    )


@bp.route("/catalog/new", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def new_item():
    """Add an item to the catalog."""
    form = _item_form(None)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            item = catalog_service.create_item(actor=current_user, **form.item_values())
        if work.ok:
            flash(f"Added {item.label} ({item.code}) to the catalog.", "success")
            if item.is_kit:
                flash("Now list what one kit holds.", "info")
                return redirect(url_for("catalog.kit_components", kit_id=item.id))
            return redirect(url_for("catalog.items", category=item.category_id))
    return _render_item_form(form, None, 400 if form.is_submitted() else 200)


@bp.route("/catalog/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def edit_item(item_id: int):
    """Change an item's details; its stock history is untouched."""
    item = db.get_or_404(Item, item_id)
    form = _item_form(item)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            catalog_service.update_item(actor=current_user, item=item, **form.item_values())
        if work.ok:
            flash(f"Saved {item.label} ({item.code}).", "success")
            return redirect(url_for("catalog.items", category=item.category_id))
    return _render_item_form(form, item, 400 if form.is_submitted() else 200)


@bp.route("/catalog/categories/new", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def new_category():
    """Add a category of items."""
    form = CategoryForm()
    status = 200
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            category = catalog_service.create_category(
                actor=current_user, name=form.name.data, sort_order=form.sort_order.data or 0
            )
        if work.ok:
            flash(f"Added the category {category.name}.", "success")
            return redirect(url_for("catalog.items", category=category.id))
    if form.is_submitted():
        status = 400
    return (
        render_template(
            "catalog/category_form.html",
            form=form,
            categories=catalog_service.list_categories(),
            here="catalog",
        ),
        status,
    )


# --- kits ------------------------------------------------------------------------


def _component_choices(kit: Item) -> list[SelectChoice]:
    """Plain active items, plus any the kit holds now (even if inactive)."""
    held = {c.component_id for c in kit.components}
    candidates = db.session.scalars(
        catalog_service.items_query().where(
            Item.id != kit.id,
            ((Item.active.is_(True)) & (Item.is_kit.is_(False))) | Item.id.in_(held or [0]),
        )
    )
    return [SelectChoice("", "Choose an item")] + [
        SelectChoice(str(i.id), f"{i.label} — {i.code}" + ("" if i.active else " (inactive)"))
        for i in candidates
    ]


def _parse_components(form: KitComponentsForm) -> dict[int, int] | None:
    """Return {component id: quantity} from the filled rows, or None after marking bad rows."""
    components: dict[int, int] = {}
    ok = True
    for row in form.rows:
        item, quantity = row.item.data or "", row.quantity.data or ""
        if not item and not quantity:
            continue  # a blank row
        if parse_id(item) is None:
            row.item.errors = ["Choose the item, or clear the quantity."]
            ok = False
            continue
        if not quantity:
            row.quantity.errors = ["Enter how many one kit holds."]
            ok = False
            continue
        if not WHOLE_NUMBER_RE.match(quantity):
            row.quantity.errors = ["Enter a whole number, such as 1."]
            ok = False
            continue
        if int(item) in components:
            row.item.errors = ["This item is listed twice: put the total on one row."]
            ok = False
            continue
        components[int(item)] = int(quantity)
    return components if ok else None


def _render_kit(kit: Item, form: KitComponentsForm, status: int = 200):
    filled = sum(1 for row in form.rows if row.item.data or row.quantity.data)
    while len(form.rows) < min(filled + BLANK_COMPONENT_ROWS, COMPONENT_ROWS_MAX):
        form.rows.append_entry()
    choices = _component_choices(kit)
    for row in form.rows:
        row.item.choices = choices
    return (
        render_template("catalog/kit_components.html", kit=kit, form=form, here="catalog"),
        status,
    )


@bp.route("/catalog/<int:kit_id>/components", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def kit_components(kit_id: int):
    """List what one kit holds: each component item and how many per kit."""
    kit = db.get_or_404(Item, kit_id)
    if request.method == "GET":
        form = KitComponentsForm(
            data={
                "rows": [
                    {"item": str(c.component_id), "quantity": str(c.quantity)}
                    for c in kit.components
                ]
            }
        )
        return _render_kit(kit, form)
    form = KitComponentsForm()
    if not form.validate_on_submit():
        return _render_kit(kit, form, 400)
    if request.form.get("more"):
        for _ in range(BLANK_COMPONENT_ROWS):
            if len(form.rows) < COMPONENT_ROWS_MAX:
                form.rows.append_entry()
        return _render_kit(kit, form)
    components = _parse_components(form)
    if components is None:
        return _render_kit(kit, form, 400)
    with unit_of_work(form) as work:
        catalog_service.set_kit_components(actor=current_user, kit=kit, components=components)
    if not work.ok:
        return _render_kit(kit, form, 400)
    flash(f"Saved what one {kit.label} holds.", "success")
    return redirect(url_for("catalog.kit_components", kit_id=kit.id))


# --- QR labels ------------------------------------------------------------------


@bp.get("/catalog/<int:item_id>/label.svg")
@roles_required(*ANY_ROLE)
def label_svg(item_id: int):
    """Return the QR code of the item's label code as an SVG image."""
    item = db.get_or_404(Item, item_id)
    scale = request.args.get("scale", type=int)
    if scale not in LABEL_SCALES:
        scale = 4
    response = make_response(catalog_service.qr_svg(item.code, scale=scale))
    response.mimetype = "image/svg+xml"
    # The code can change, so browsers ask again each time; the ETag makes that cheap.
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/catalog/labels")
@roles_required(*ANY_ROLE)
def labels():
    """Show a printable sheet of QR labels: chosen items, a category, or every active item."""
    categories = catalog_service.list_categories()
    category_id = _int_arg(request.args.get("category"))
    category = next((c for c in categories if c.id == category_id), None)
    item_ids = [i for i in map(parse_id, request.args.getlist("item")) if i is not None]
    copies = request.args.get("copies", type=int) or 1
    copies = max(1, min(copies, LABEL_COPIES_MAX))
    if item_ids:
        chosen = list(
            db.session.scalars(catalog_service.items_query().where(Item.id.in_(item_ids)))
        )
    else:
        chosen = list(
            db.session.scalars(
                catalog_service.items_query(
                    category_id=category.id if category else None, include_inactive=False
                )
            )
        )
    return render_template(
        "catalog/labels.html",
        items=chosen,
        categories=categories,
        category=category,
        item_ids=item_ids,
        copies=copies,
        copies_max=LABEL_COPIES_MAX,
        here="catalog",
    )


# --- sites -----------------------------------------------------------------------


@bp.get("/sites")
@roles_required(*ANY_ROLE)
def sites():
    """List the shelters, warehouses and drop-off points, confidential ones marked."""
    return render_template(
        "catalog/sites.html",
        sites=catalog_service.list_sites(),
        is_admin=_is_admin(),
        stock_keeper=current_user.role in STOCK_KEEPERS,
        here="sites",
    )


def _render_site_form(form: SiteForm, site, status: int = 200):
    return (
        render_template(
            "catalog/site_form.html",
            form=form,
            site=site,
            history=_history("site", site.id) if site is not None else [],
            here="sites",
        ),
        status,
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_site():
    """Add a shelter, warehouse or drop-off point."""
    form = SiteForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            site = catalog_service.create_site(actor=current_user, **form.site_values())
        if work.ok:
            flash(f"Added the site {site.name}.", "success")
            return redirect(url_for("catalog.sites"))
    return _render_site_form(form, None, 400 if form.is_submitted() else 200)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_site(site_id: int):
    """Change a site's details; a confidential address stays off every donor page."""
    site = db.get_or_404(Site, site_id)
    form = SiteForm(obj=site)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            catalog_service.update_site(actor=current_user, site=site, **form.site_values())
        if work.ok:
            flash(f"Saved the site {site.name}.", "success")
            return redirect(url_for("catalog.sites"))
    return _render_site_form(form, site, 400 if form.is_submitted() else 200)


# --- par levels ------------------------------------------------------------------


def _par_rows(site_id: int, category_id: int | None, shown: list[int]) -> list[tuple]:
    """The active items of the category, plus the items ``shown`` on the page that was
    posted (even if since made inactive), each with its stock level at the site."""
    query = catalog_service.items_query(category_id=category_id, include_inactive=False)
    if shown:
        listed = (Item.active.is_(True)) & (
            (Item.category_id == category_id) if category_id else true()
        )
        query = catalog_service.items_query().where(listed | Item.id.in_(shown))
    found = list(db.session.scalars(query))
    levels = {
        level.item_id: level
        for level in db.session.scalars(
            select(StockLevel).where(
                StockLevel.site_id == site_id, StockLevel.item_id.in_([i.id for i in found])
            )
        )
    }
    return [(item, levels.get(item.id)) for item in found]


@bp.route("/sites/<int:site_id>/par", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def par_levels(site_id: int):
    """Set how much of each item a site should hold; below it, the site's contact is told."""
    site = db.get_or_404(Site, site_id)
    categories = catalog_service.list_categories()
    source = request.form if request.method == "POST" else request.args
    category_id = _int_arg(source.get("category"))
    category = next((c for c in categories if c.id == category_id), None)
    form = EmptyForm()
    values: dict[int, str] = {}
    errors: dict[int, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        levels: dict[int, int] = {}
        for key, raw in request.form.items():
            if not key.startswith("par-") or not key[4:].isdigit():
                continue
            item_id, text = int(key[4:]), raw.strip()
            values[item_id] = text
            if not text:
                levels[item_id] = 0  # blank means no par level
            elif not WHOLE_NUMBER_RE.match(text):
                errors[item_id] = "Enter a whole number, 0 or more."
            elif int(text) > inventory.QUANTITY_MAX:
                errors[item_id] = f"Enter at most {inventory.QUANTITY_MAX:,}."
            else:
                levels[item_id] = int(text)
        if not errors:
            with unit_of_work() as work:
                changed = inventory.set_par_levels(
                    actor=current_user, site_id=site.id, levels=levels
                )
            if work.error is not None:
                form.form_errors.append(work.error.message)
            if work.ok:
                flash(
                    f"Saved par levels at {site.name}: {changed} changed."
                    if changed
                    else f"No par level at {site.name} changed.",
                    "success",
                )
                return redirect(
                    url_for(
                        "catalog.par_levels",
                        site_id=site.id,
                        category=category.id if category else None,
                    )
                )
    rows = _par_rows(site.id, category.id if category else None, list(values))
    status = 400 if errors or form.form_errors else 200
    return (
        render_template(
            "catalog/par_levels.html",
            site=site,
            rows=rows,
            values=values,
            errors=errors,
            form=form,
            categories=categories,
            category=category,
            here="sites",
        ),
        status,
    )
