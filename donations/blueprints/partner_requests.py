"""A partner agency's pages: its own goods requests, a new request, withdrawing one.

Only a partner login (``Role.PARTNER``) reaches these views, and it reaches nothing
else of the organisation's. Another agency's request answers 404, as if it did not exist.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.partner_requests_forms import NewRequestForm, read_quantity
from donations.forms import EmptyForm
from donations.models import GoodsRequest, Role
from donations.services import partner_requests
from donations.services.errors import NotFound
from donations.services.keyset import Position
from donations.unit_of_work import unit_of_work

bp = Blueprint("partner_requests", __name__, url_prefix="/partner")
PER_PAGE = 50


def _own(request_id: int) -> GoodsRequest:
    try:
        return partner_requests.get_own_request(actor=current_user, request_id=request_id)
    except NotFound:
        abort(404)


@bp.get("/requests")
@roles_required(Role.PARTNER)
def index():
    """List the agency's requests, newest first, with their status."""
    page = partner_requests.own_requests_page(
        actor=current_user, position=Position.from_args(request.args), per_page=PER_PAGE
    )
    return render_template("partner_requests/index.html", page=page, agency=current_user.recipient)


def _asked_lines(form: NewRequestForm) -> list[partner_requests.AskedLine] | None:
    """The rows with a quantity, or None when one is wrong (marked next to it)."""
    lines, ok = [], True
    for entry in form.rows.entries:
        row = entry.form
        if row.item_id.errors or row.quantity.errors:
            ok = False
            continue
        if not row.quantity.data:
            continue
        quantity, problem = read_quantity(row.quantity.data, most=partner_requests.QUANTITY_MAX)
        if problem is None and quantity == 0:
            continue
        if problem is not None or row.item_id.data is None:
            row.quantity.errors = [*row.quantity.errors, problem or "Choose from the list again."]
            ok = False
            continue
        lines.append(partner_requests.AskedLine(row.item_id.data, quantity))
    return lines if ok else None


@bp.route("/requests/new", methods=["GET", "POST"])
@roles_required(Role.PARTNER)
def new():
    """Ask for goods: items from the catalog, each shown only as available or not."""
    form = NewRequestForm()
    choices = partner_requests.catalog_for_partner()
    status = 200
    if not form.is_submitted():
        for choice in choices:
            form.rows.append_entry({"item_id": choice.item_id, "quantity": ""})
    else:
        valid = form.validate()
        lines = _asked_lines(form)
        if valid and lines is not None:
            with unit_of_work(form) as work:
                made = partner_requests.create_request(
                    actor=current_user,
                    lines=lines,
                    needed_by=form.needed_by.data,
                    note=form.note.data or "",
                )
            if work.ok:
                flash(f"Request {made.number} is sent. We will email you the answer.", "success")
                return redirect(url_for("partner_requests.detail", request_id=made.id))
        elif not form.form_errors:
            form.form_errors.append("Please correct the quantities and fields marked below.")
        status = 400
    return (
        render_template(
            "partner_requests/new.html",
            form=form,
            choices={choice.item_id: choice for choice in choices},
        ),
        status,
    )


@bp.get("/requests/<int:request_id>")
@roles_required(Role.PARTNER)
def detail(request_id: int):
    """Show one of the agency's requests: what was asked, and what was given."""
    return render_template(
        "partner_requests/detail.html", goods_request=_own(request_id), form=EmptyForm()
    )


@bp.post("/requests/<int:request_id>/withdraw")
@roles_required(Role.PARTNER)
def withdraw(request_id: int):
    """Take back an open request."""
    goods_request = _own(request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as work:
        partner_requests.withdraw_request(actor=current_user, request_id=goods_request.id)
    if work.ok:
        flash(f"Request {goods_request.number} is withdrawn.", "success")
    return redirect(url_for("partner_requests.detail", request_id=goods_request.id))
