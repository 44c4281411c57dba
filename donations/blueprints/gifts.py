"""Gifts for treasurers: the filtered list with totals, offline gifts and their
corrections, monthly plans, and Stripe events that need another try."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.authz import roles_required
from donations.blueprints.gifts_forms import (
    FREQUENCY_LABELS,
    CorrectGiftForm,
    DonorSearchForm,
    GiftFilterForm,
    OfflineGiftForm,
    correction_data,
    filters_from,
)
from donations.extensions import db
from donations.forms import EmptyForm
from donations.models import Donor, Gift, GiftMethod, Role, StripeEventStatus
from donations.ranges import id_arg, page_arg
from donations.services import (
    campaigns,
    donors,
    gift_queries,
    notifications,
    receipt_files,
    stripe_replay,
)
from donations.services import gifts as gift_service
from donations.services.errors import NotFound
from donations.services.gift_queries import fund_or_none, gift_history, stripe_event_or_none
from donations.services.giving import active_funds, default_currency
from donations.services.keyset import Position
from donations.unit_of_work import unit_of_work

bp = Blueprint("gifts", __name__, url_prefix="/gifts")

BOOKKEEPERS = (Role.ADMIN, Role.TREASURER)
DONOR_CHOICES_LIMIT = 20
EVENTS_PER_PAGE = 50
FILTER_PARAMS = (
    "date_from",
    "date_to",
    "fund",
    "method",
    "status",
    "frequency",
    "donor",
    "donor_id",
    "appeal",
)
METHOD_LABELS = {m.value: m.label for m in GiftMethod}


# --- helpers -------------------------------------------------------------------


def _page() -> int:
    return page_arg()


def _load(gift_id: int) -> Gift:
    try:
        return gift_service.get_gift(gift_id)
    except NotFound:
        abort(404)


def _filter_args() -> dict[str, str]:
    """Return the filters in the query string, to keep them while paging."""
    return {name: request.args[name] for name in FILTER_PARAMS if request.args.get(name)}


def _fund_choices(*keep: int) -> list[SelectChoice]:
    """Return the active funds, plus any fund in ``keep`` (a corrected gift's)."""
    funds = active_funds()
    known = {fund.id for fund in funds}
    extra = [fund_or_none(fund_id) for fund_id in keep if fund_id not in known]
    return [SelectChoice(fund.id, fund.name) for fund in [*funds, *(f for f in extra if f)]]


def _donor_choice(donor_id: int | None) -> tuple[Donor | None, dict[str, Any]]:
    """Return the chosen donor (if usable) and the donor search to show."""
    donor = None
    if donor_id:
        try:
            donor = donors.get_donor(donor_id)
        except NotFound:
            donor = None
    search = DonorSearchForm(request.args)
    q = (search.q.data or "") if search.validate() else ""
    show = donor is None or donor.is_merged or bool(q) or "change_donor" in request.args
    results = None
    if show and q:
        results = donors.search_donors(text=q, limit=DONOR_CHOICES_LIMIT + 1)
    return donor, {
        "show": show,
        "search": search,
        "q": q,
        "results": results[:DONOR_CHOICES_LIMIT] if results is not None else None,
        "more": results is not None and len(results) > DONOR_CHOICES_LIMIT,
    }


# --- the gifts list and one gift ---------------------------------------------------


@bp.get("/")
@roles_required(*BOOKKEEPERS)
def index():
    """List gifts matching the filters, with totals over every matching gift."""
    form = GiftFilterForm(request.args)
    form.fund.choices = [SelectChoice("", "All funds")] + [
        SelectChoice(str(fund.id), fund.name) for fund in gift_service.all_funds()
    ]
    filters = filters_from(form)
    page = gift_queries.gift_page(
        filters,
        position=Position.from_args(request.args),
        per_page=current_app.config["GIFTS_PER_PAGE"],
    )
    totals = gift_queries.bounded_gift_totals(filters)
    donor = donors.find_donor(filters.donor_id)
    return render_template(
        "gifts/index.html",
        form=form,
        page=page,
        totals=totals,
        totals_limit=gift_queries.TOTALS_LIMIT,
        matching=sum(t.count for t in totals) if totals is not None else None,
        donor=donor,
        filter_args=_filter_args(),
        filtered=filters != gift_service.GiftFilters(),
        attention=gift_service.count_events_needing_attention(),
        frequency_labels=FREQUENCY_LABELS,
        method_labels=METHOD_LABELS,
    )


@bp.get("/<int:gift_id>")
@roles_required(*BOOKKEEPERS)
def detail(gift_id: int):
    """Show a gift with its money breakdown, corrections and Stripe events."""
    gift = _load(gift_id)
    return render_template(
        "gifts/detail.html",
        gift=gift,
        corrections=gift_service.corrections_of(gift),
        events=gift_service.gift_events(gift),
        correction_problem=gift_service.correction_problem(gift),
        history=gift_history(gift),
        method_label=gift.method.label,
        frequency_labels=FREQUENCY_LABELS,
        receipts=receipt_files.gift_receipts(gift),
    )


# --- offline gifts -------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*BOOKKEEPERS)
def new_offline():
    """Record a cash, cheque, bank transfer or securities gift."""
    form = OfflineGiftForm()
    form.currency = default_currency()
    form.fund_id.choices = _fund_choices()
    form.campaign_id.choices = [
        SelectChoice("", "No campaign"),
        *(SelectChoice(str(c.id), c.name) for c in campaigns.public_campaigns()),
    ]
    if not form.is_submitted():
        form.donor_id.data = id_arg("donor_id")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            gift = gift_service.record_offline_gift(
                actor=current_user,
                currency=form.currency,
                **form.gift_values(),
                **form.benefit_values(),
                **form.tag_values(),
            )
            if form.send_thanks.data:
                notifications.thank_donor(gift)
        if work.ok:
            flash(f"Recorded gift #{gift.id}: {gift_service.describe_gift(gift)}.", "success")
            return redirect(url_for("gifts.detail", gift_id=gift.id))
    donor, choice = _donor_choice(form.donor_id.data)
    return render_template(
        "gifts/offline_form.html", form=form, donor=donor, choice=choice, gift=None
    )


@bp.route("/<int:gift_id>/correct", methods=["GET", "POST"])
@roles_required(*BOOKKEEPERS)
def correct(gift_id: int):
    """Reverse an offline gift and record what it should have been."""
    gift = _load(gift_id)
    problem = gift_service.correction_problem(gift)
    if problem:
        flash(problem, "error")
        return redirect(url_for("gifts.detail", gift_id=gift.id))
    form = CorrectGiftForm(data=correction_data(gift, donor_id=id_arg("donor_id")))
    form.currency = gift.currency
    form.fund_id.choices = _fund_choices(gift.fund_id)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            reversal, replacement = gift_service.correct_gift(
                actor=current_user,
                gift=gift,
                reason=form.reason.data,
                void_only=form.void_only.data,
                **form.gift_values(),
                **form.benefit_values(),
            )
        if work.ok:
            if replacement is None:
                flash(f"Gift #{gift.id} is void: reversed by entry #{reversal.id}.", "success")
                return redirect(url_for("gifts.detail", gift_id=reversal.id))
            flash(
                f"Gift #{gift.id} is corrected: reversed by entry #{reversal.id} "
                f"and replaced by this gift, #{replacement.id}.",
                "success",
            )
            return redirect(url_for("gifts.detail", gift_id=replacement.id))
    donor, choice = _donor_choice(form.donor_id.data)
    return render_template(
        "gifts/correct.html",
        form=form,
        donor=donor,
        choice=choice,
        gift=gift,
        method_label=gift.method.label,
    )


# --- monthly plans -------------------------------------------------------------


@bp.get("/plans")
@roles_required(*BOOKKEEPERS)
def plans():
    """List monthly plans with the instalments paid so far and the next payment date."""
    status = request.args.get("status") or None
    if status not in (None, *gift_service.PLAN_STATUSES):
        status = None
    page = db.paginate(
        gift_service.plans_query(status),
        page=_page(),
        per_page=current_app.config["GIFTS_PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "gifts/plans.html",
        page=page,
        status=status,
        statuses=gift_service.PLAN_STATUSES,
        instalments=gift_service.instalment_counts(plan.id for plan in page.items),
        next_payment_at=gift_service.next_payment_at,
    )


# --- Stripe events -------------------------------------------------------------


@bp.get("/events")
@roles_required(*BOOKKEEPERS)
def events():
    """List stored Stripe events, failed and parked ones by default."""
    status = request.args.get("status") or gift_service.NEEDS_ATTENTION
    if status not in gift_service.EVENT_FILTERS:
        status = gift_service.NEEDS_ATTENTION
    page = db.paginate(
        gift_service.events_query(status),
        page=_page(),
        per_page=EVENTS_PER_PAGE,
        error_out=False,
    )
    return render_template(
        "gifts/events.html",
        page=page,
        status=status,
        filters=gift_service.EVENT_FILTERS,
        replayable=gift_service.REPLAYABLE,
        form=EmptyForm(),
    )


@bp.post("/events/<int:event_row_id>/replay")
@roles_required(*BOOKKEEPERS)
def replay_event(event_row_id: int):
    """Process a failed or parked Stripe event again."""
    event = stripe_event_or_none(event_row_id)
    if event is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        stripe_replay.replay_event(actor=current_user, event=event)
    if work.error is not None:
        flash(work.error.message, "info")
    if work.ok:
        failed = event.status == StripeEventStatus.FAILED
        message = f"Event {event.event_id} ({event.type}) processed again: now {event.status}."
        if event.last_error and event.status != StripeEventStatus.PROCESSED:
            message += f" {event.last_error}"
        flash(message, "error" if failed else "success")
    status = request.form.get("status")
    if status not in gift_service.EVENT_FILTERS:
        status = None
    return redirect(url_for("gifts.events", status=status))
