"""Staff pages for partner agencies' goods requests: the list, fulfilling and declining.

Fulfilling records one distribution to the agency through the inventory service (the
same rules as any distribution: stock never goes negative); declining needs a reason.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.movements_lines import ReadLines, show_error
from donations.blueprints.movements_sites import default_site_id, remember_site, site_choices
from donations.blueprints.partner_requests_forms import DeclineForm, FulfilForm, read_quantity
from donations.extensions import db
from donations.models import GoodsRequest, Role
from donations.services import audit, movement_queries, partner_requests
from donations.services.keyset import Position
from donations.unit_of_work import unit_of_work

bp = Blueprint("goods_requests", __name__, url_prefix="/inventory/requests")
STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
PER_PAGE = 50


@bp.get("/")
@roles_required(*STOCK_KEEPERS)
def index():
    """List partners' requests: the open ones first, then those decided, newest first."""
    return render_template(
        "goods_requests/index.html",
        here="requests",
        open_requests=partner_requests.open_requests(),
        open_count=partner_requests.count_open_requests(),
        page=partner_requests.decided_requests_page(
            position=Position.from_args(request.args), per_page=PER_PAGE
        ),
    )


def _fulfil_form(goods_request: GoodsRequest, *, submitted: bool) -> FulfilForm:
    """The fulfil form: as posted, or prefilled with every line's quantity asked."""
    form = FulfilForm() if submitted else FulfilForm(formdata=None)
    sites = movement_queries.open_sites()
    form.site_id.choices = site_choices(sites)
    if not submitted:
        form.site_id.data = default_site_id(sites)
        for line in goods_request.lines:
            form.lines.append_entry({"line_id": line.id, "quantity": str(line.quantity)})
    return form


def _render(goods_request: GoodsRequest, fulfil: FulfilForm, decline: DeclineForm, status=200):
    lines = {line.id: line for line in goods_request.lines}
    return (
        render_template(
            "goods_requests/detail.html",
            goods_request=goods_request,
            fulfil=fulfil,
            decline=decline,
            lines=lines,
            on_hand=partner_requests.on_hand_by_site([line.item_id for line in lines.values()]),
            history=audit.recent_history("goods_request", goods_request.id),
            here="requests",
        ),
        status,
    )


@bp.get("/<int:request_id>")
@roles_required(*STOCK_KEEPERS)
def detail(request_id: int):
    """Show a request, with Fulfil (prefilled from its lines) and Decline when it is open."""
    goods_request = db.get_or_404(GoodsRequest, request_id)
    return _render(
        goods_request, _fulfil_form(goods_request, submitted=False), DeclineForm(formdata=None)
    )


def _given(form: FulfilForm, goods_request: GoodsRequest) -> tuple[dict[int, int], ReadLines]:
    """Quantities given by line id, and which row holds which item (for shortage messages)."""
    lines = {line.id: line for line in goods_request.lines}
    given: dict[int, int] = {}
    read = ReadLines()
    for index, entry in enumerate(form.lines.entries):
        row = entry.form
        line = lines.get(row.line_id.data)
        if line is None:
            form.form_errors.append("The request's lines changed: reload the page.")
            read.ok = False
            continue
        read.names[index] = line.item.label
        read.row_items[index] = line.item_id
        quantity, problem = read_quantity(row.quantity.data or "0", most=line.quantity)
        if problem is not None:
            row.quantity.errors = [*row.quantity.errors, problem]
            read.ok = False
            continue
        given[line.id] = quantity
    return given, read


def _already_decided(goods_request: GoodsRequest):
    """A request is decided once: say so, and show it as it is."""
    flash(
        f"Request {goods_request.number} is already {goods_request.status_label.lower()}; "
        "nothing was changed.",
        "error",
    )
    return redirect(url_for("goods_requests.detail", request_id=goods_request.id))


@bp.post("/<int:request_id>/fulfil")
@roles_required(*STOCK_KEEPERS)
def fulfil(request_id: int):
    """Give the goods (all, or fewer) as one distribution to the partner agency."""
    goods_request = db.get_or_404(GoodsRequest, request_id)
    if not goods_request.is_open:
        return _already_decided(goods_request)
    form = _fulfil_form(goods_request, submitted=True)
    valid = form.validate()
    given, read = _given(form, goods_request)
    if valid and read.ok:
        with unit_of_work() as work:
            done = partner_requests.fulfil_request(
                actor=current_user,
                request_id=goods_request.id,
                site_id=form.site_id.data,
                effective_date=form.effective_date.data,
                given=given,
            )
        if work.error is None:
            remember_site(form.site_id.data)
            flash(
                f"Request {done.number} is {done.status_label.lower()}: recorded "
                f"{done.distribution.number}; the partner is told by email.",
                "success",
            )
            return redirect(url_for("goods_requests.detail", request_id=done.id))
        show_error(form, work.error, read)
    elif not form.form_errors:
        form.form_errors.append("Please correct the fields marked below.")
    return _render(goods_request, form, DeclineForm(formdata=None), 400)


@bp.post("/<int:request_id>/decline")
@roles_required(*STOCK_KEEPERS)
def decline(request_id: int):
    """Decline a request with a reason the partner agency sees."""
    goods_request = db.get_or_404(GoodsRequest, request_id)
    if not goods_request.is_open:
        return _already_decided(goods_request)
    form = DeclineForm()
    if form.validate():
        with unit_of_work(form) as work:
            partner_requests.decline_request(
                actor=current_user, request_id=goods_request.id, reason=form.reason.data or ""
            )
        if work.ok:
            flash(f"Request {goods_request.number} is declined; the partner is told.", "success")
            return redirect(url_for("goods_requests.detail", request_id=goods_request.id))
    return _render(goods_request, _fulfil_form(goods_request, submitted=False), form, 400)
