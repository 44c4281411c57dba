"""The goods catalog (categories, items, kits, QR labels) and sites with their par levels."""

from __future__ import annotations

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
from wtforms.fields.choices import SelectChoice

from donations.authz import ANY_ROLE, roles_required
from donations.blueprints.catalog_forms import (
    CatalogFilterForm,
    CategoryForm,
    ItemForm,
    KitComponentsForm,
    SiteForm,
    add_blank_rows,
    item_form,
    kit_components_form,
    parse_components,
    parse_par_levels,
    prepare_kit_form,
)
from donations.extensions import db
from donations.forms import EmptyForm
from donations.models import Item, Role, Site
from donations.ranges import page_arg, parse_id
from donations.services import audit, inventory
from donations.services import catalog as catalog_service
from donations.unit_of_work import unit_of_work

bp = Blueprint("catalog", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
ITEMS_PER_PAGE = 50
HISTORY_LIMIT = 20
LABEL_COPIES_MAX = 50
LABEL_SCALES = range(2, 11)


def _int_arg(value: str | None) -> int | None:
    return parse_id(value)


def _is_admin() -> bool:
    return current_user.role == Role.ADMIN


def _history(object_type: str, object_id: int) -> list:
    return audit.recent_history(object_type, object_id, limit=HISTORY_LIMIT)


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
    query = catalog_service.catalog_query(
        text=(form.q.data or "") if valid else "",
        category_id=category_id,
        show=form.show.data if valid else "",
    )
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
    category_id = _int_arg(request.args.get("category")) if item is None else None
    return item_form(item, category_id=category_id, is_admin=_is_admin())


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


def _render_kit(kit: Item, form: KitComponentsForm, status: int = 200):
    prepare_kit_form(form, kit)
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
        return _render_kit(kit, kit_components_form(kit))
    form = KitComponentsForm()
    if not form.validate_on_submit():
        return _render_kit(kit, form, 400)
    if request.form.get("more"):
        add_blank_rows(form)
        return _render_kit(kit, form)
    components = parse_components(form)
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
    chosen = catalog_service.label_items(
        item_ids=item_ids, category_id=category.id if category else None
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


def _save_par_levels(site: Site, levels: dict[int, int], form: EmptyForm) -> bool:
    """Save the levels in one unit of work; flash how many changed, or mark the form."""
    with unit_of_work() as work:
        changed = inventory.set_par_levels(actor=current_user, site_id=site.id, levels=levels)
    if work.error is not None:
        form.form_errors.append(work.error.message)
    if work.ok:
        flash(
            f"Saved par levels at {site.name}: {changed} changed."
            if changed
            else f"No par level at {site.name} changed.",
            "success",
        )
    return work.ok


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
        values, levels, errors = parse_par_levels(request.form)
        if not errors and _save_par_levels(site, levels, form):
            category_arg = category.id if category else None
            return redirect(url_for("catalog.par_levels", site_id=site.id, category=category_arg))
    rows = catalog_service.par_rows(site.id, category.id if category else None, list(values))
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
