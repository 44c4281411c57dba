"""The surplus exchange between members: our offers and the requests for them, offering
goods, other members' offers, asking for some, and our requests.

Every page shows the other members only names, item labels, units and quantities offered
or asked for; the services decide what crosses (``services/surplus``). Each change is one
unit of work: confirming records the giver's distribution and the receiver's intake together.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.movements_sites import default_site_id, remember_site, site_choices
from donations.blueprints.surplus_forms import DeclineForm, OfferForm, RequestForm, item_choices
from donations.forms import EmptyForm
from donations.models import Role
from donations.services import catalog, inventory, movement_queries, surplus
from donations.services.errors import NotAllowed, NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("surplus", __name__, url_prefix="/inventory/surplus")
STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)


def _offer_form(*, submitted: bool) -> OfferForm:
    """The offer form: as posted, or blank on the site this person used last."""
    form = OfferForm() if submitted else OfferForm(formdata=None)
    sites = movement_queries.open_sites()
    form.site_id.choices = site_choices(sites)
    form.item_id.choices = item_choices(catalog.active_items())
    if not submitted:
        form.site_id.data = default_site_id(sites)
    return form


def _index(offer_form: OfferForm, status: int = 200):
    return (
        render_template(
            "surplus/index.html",
            here="surplus",
            offer_form=offer_form,
            own_offers=surplus.own_offers(),
            member_offers=surplus.open_offers_for_members(),
            own_requests=surplus.own_requests(),
            action_form=EmptyForm(formdata=None),
            decline_form=DeclineForm(formdata=None),
            reason_max=surplus.REASON_MAX_LENGTH,
        ),
        status,
    )


def _back():
    return redirect(url_for("surplus.index"))


def _checked_post() -> None:
    """A one-button action: the CSRF token, or 400."""
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.get("/")
@roles_required(*STOCK_KEEPERS)
def index():
    """Show our offers with their requests, the offer form, other members' offers, our requests."""
    return _index(_offer_form(submitted=False))


@bp.post("/offers")
@roles_required(*STOCK_KEEPERS)
def offer():
    """Offer some of an item held at one of our sites to the other members."""
    form = _offer_form(submitted=True)
    if form.validate():
        with unit_of_work(form) as work:
            made = surplus.offer_surplus(
                actor=current_user,
                item_id=form.item_id.data,
                site_id=form.site_id.data,
                quantity=form.quantity.data,
                condition=form.condition.data,
                note=form.note.data or "",
            )
        if work.ok:
            remember_site(form.site_id.data)
            flash(f"Offer {made.number} is open to the other members.", "success")
            return _back()
    if not form.form_errors:
        form.form_errors.append("Please correct the fields marked below.")
    return _index(form, 400)


@bp.post("/offers/<int:offer_id>/withdraw")
@roles_required(*STOCK_KEEPERS)
def withdraw(offer_id: int):
    """Take back one of our open offers; requests still waiting are cancelled."""
    _checked_post()
    with unit_of_work(flash_errors=True) as work:
        done = surplus.withdraw_offer(actor=current_user, offer_id=offer_id)
    if work.ok:
        cancelled = (
            f"; {done.cancelled} waiting request(s) were cancelled, and the members who "
            "made them see why"
            if done.cancelled
            else ""
        )
        flash(f"Offer {done.offer.number} is withdrawn{cancelled}.", "success")
    return _back()


def _request_form(offer: surplus.MemberOffer, *, submitted: bool) -> RequestForm:
    """The request form: as posted, or prefilled with our item of the offer's code."""
    form = RequestForm() if submitted else RequestForm(formdata=None)
    sites = movement_queries.open_sites()
    form.site_id.choices = site_choices(sites)
    form.item_id.choices = item_choices(catalog.active_items())
    if not submitted:
        form.site_id.data = default_site_id(sites)
        match = inventory.find_item_by_code(offer.item_code)
        form.item_id.data = match.id if match is not None and match.active else None
    return form


@bp.route("/offers/<int:offer_id>/request", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def ask(offer_id: int):
    """Ask for some of another member's offer, to arrive at one of our sites."""
    try:
        offer = surplus.offer_for_members(offer_id)
    except NotFound:
        abort(404)
    except NotAllowed as error:
        flash(error.message, "error")
        return _back()
    submitted = request.method == "POST"
    form = _request_form(offer, submitted=submitted)
    if submitted:
        if form.validate():
            with unit_of_work(form) as work:
                claim = surplus.request_surplus(
                    actor=current_user,
                    offer_id=offer.offer_id,
                    quantity=form.quantity.data,
                    site_id=form.site_id.data,
                    item_id=form.item_id.data,
                    note=form.note.data or "",
                )
            if work.ok:
                remember_site(form.site_id.data)
                flash(
                    f"Request {claim.number} is sent to {offer.giver}; it is listed under "
                    "our requests until they answer.",
                    "success",
                )
                return _back()
        if not form.form_errors:
            form.form_errors.append("Please correct the fields marked below.")
    return (
        render_template("surplus/request.html", here="surplus", offer=offer, form=form),
        400 if submitted else 200,
    )


@bp.post("/requests/<int:claim_id>/confirm")
@roles_required(*STOCK_KEEPERS)
def confirm(claim_id: int):
    """Give what a member asked for: our distribution and their intake, together."""
    _checked_post()
    with unit_of_work(flash_errors=True) as work:
        claim = surplus.confirm_claim(actor=current_user, claim_id=claim_id)
    if work.ok:
        flash(
            f"Request {claim.number} is confirmed: {claim.distribution_number} records the "
            "goods leaving our stock, and they arrive in the other member's books as a gift "
            "from us.",
            "success",
        )
    return _back()


@bp.post("/requests/<int:claim_id>/decline")
@roles_required(*STOCK_KEEPERS)
def decline(claim_id: int):
    """Say no to a request for one of our offers."""
    form = DeclineForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return _back()
    with unit_of_work(flash_errors=True) as work:
        claim = surplus.decline_claim(
            actor=current_user, claim_id=claim_id, reason=form.reason.data or ""
        )
    if work.ok:
        flash(f"Request {claim.number} is declined; the member who asked sees it.", "success")
    return _back()


@bp.post("/requests/<int:claim_id>/cancel")
@roles_required(*STOCK_KEEPERS)
def cancel(claim_id: int):
    """Take back one of our requests while it waits."""
    _checked_post()
    with unit_of_work(flash_errors=True) as work:
        claim = surplus.cancel_claim(actor=current_user, claim_id=claim_id)
    if work.ok:
        flash(f"Request {claim.number} is cancelled.", "success")
    return _back()
