"""Gifts for treasurers: the filtered list with totals, offline gifts and their
corrections, monthly plans, and Stripe events that need another try."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from donations.authz import roles_required
from donations.extensions import db
from donations.forms import EmptyForm, strip_text
from donations.models import (
    Donor,
    Frequency,
    Fund,
    Gift,
    GiftMethod,
    Role,
    StripeEvent,
    StripeEventStatus,
    utcnow,
)
from donations.money import AmountError, format_plain, parse_amount
from donations.ranges import NO_SUCH_DONOR, BoundedIntegerField, id_arg, page_arg
from donations.services import audit, donors, notifications, receipt_files, stripe_replay
from donations.services import gifts as gift_service
from donations.services.errors import NotFound
from donations.services.giving import active_funds, default_currency
from donations.unit_of_work import unit_of_work

bp = Blueprint("gifts", __name__, url_prefix="/gifts")

BOOKKEEPERS = (Role.ADMIN, Role.TREASURER)
SEARCH_MAX_LENGTH = 200
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
)
OFFLINE_METHOD_CHOICES = [SelectChoice(m.value, m.label) for m in gift_service.OFFLINE_METHODS]
METHOD_LABELS = {m.value: m.label for m in GiftMethod}
FREQUENCY_LABELS = {Frequency.ONE_TIME.value: "One-time", Frequency.MONTHLY.value: "Monthly"}


# --- forms ---------------------------------------------------------------------


class GiftFilterForm(FlaskForm):
    """The filters above the gifts list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    date_from = DateField("Received from", validators=[Optional()])
    date_to = DateField("Received to", validators=[Optional()])
    fund = SelectField("Fund", choices=[SelectChoice("", "All funds")], default="")
    method = SelectField(
        "Method",
        choices=[
            SelectChoice("", "All methods"),
            *(SelectChoice(m.value, m.label) for m in GiftMethod),
        ],
        default="",
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice(v, label) for v, label in gift_service.STATUS_FILTERS.items()],
        default=gift_service.DEFAULT_STATUS,
    )
    frequency = SelectField(
        "Frequency",
        choices=[
            SelectChoice("", "One-time and monthly"),
            *(SelectChoice(v, label) for v, label in FREQUENCY_LABELS.items()),
        ],
        default="",
    )
    donor = SearchField(
        "Donor name", filters=[strip_text], validators=[Length(max=SEARCH_MAX_LENGTH)]
    )
    donor_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=NO_SUCH_DONOR
    )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


class DonorSearchForm(Form):
    """A GET search for the donor of an offline gift; searching changes nothing."""

    q = SearchField(
        "Find the donor by name or email",
        filters=[strip_text],
        validators=[Length(max=SEARCH_MAX_LENGTH)],
    )


class OfflineGiftForm(FlaskForm):
    donor_id = BoundedIntegerField(
        widget=HiddenInput(),
        validators=[InputRequired(message="Choose the donor first.")],
        range_message=NO_SUCH_DONOR,
    )
    fund_id = SelectField("Fund", coerce=int, validators=[InputRequired()])
    method = SelectField("How it was given", choices=OFFLINE_METHOD_CHOICES)
    amount = StringField(
        "Amount",
        filters=[strip_text],
        validators=[DataRequired(message="Enter an amount."), Length(max=30)],
        description="For securities, their value on the day they were received.",
    )
    received_on = DateField(
        "Date received",
        default=lambda: utcnow().date(),
        validators=[InputRequired(message="Enter the date the gift was received.")],
    )
    cheque_number = StringField(
        "Cheque number",
        filters=[strip_text],
        validators=[Length(max=gift_service.CHEQUE_NUMBER_MAX_LENGTH)],
        description="Required for a cheque; leave blank otherwise.",
    )
    reference = StringField(
        "Reference",
        filters=[strip_text],
        validators=[Length(max=gift_service.REFERENCE_MAX_LENGTH)],
        description=(
            "A bank transfer's reference, or for securities what was given, "
            "such as 10 shares of ACME Corp."
        ),
    )
    memo = TextAreaField(
        "Memo", filters=[strip_text], validators=[Length(max=gift_service.MEMO_MAX_LENGTH)]
    )
    is_anonymous = BooleanField(
        "Anonymous gift",
        description="Leave the donor's name off public thank-you lists for this gift.",
    )
    send_thanks = BooleanField(
        "Email the donor a thank-you note with their receipt",
        default=True,
        description="The receipt is issued now and attached (unless per-gift receipts are "
        "switched off). A donor without an email address gets the receipt by post.",
    )
    benefit_description = StringField(
        "Goods or services given in return",
        filters=[strip_text],
        validators=[Length(max=gift_service.BENEFIT_DESCRIPTION_MAX_LENGTH)],
        description=(
            "Anything the donor received for the gift, such as two dinner tickets. "
            "Leave blank if nothing was given."
        ),
    )
    benefit_value = StringField(
        "Their fair market value",
        filters=[strip_text],
        validators=[Length(max=30)],
        description="A good-faith estimate; the receipt deducts it from the deductible amount.",
    )
    submit = SubmitField("Record gift")

    # Set by the view before validating; the amount is read in this currency.
    currency = "USD"
    amount_cents: int | None = None
    benefit_cents: int = 0

    def validate_amount(self, field: StringField) -> None:
        try:
            self.amount_cents = parse_amount(field.data or "", self.currency)
        except AmountError as error:
            raise ValidationError(str(error)) from None

    def validate_benefit_value(self, field: StringField) -> None:
        self.benefit_cents = 0
        if not field.data:
            return
        try:
            self.benefit_cents = parse_amount(field.data, self.currency)
        except AmountError as error:
            raise ValidationError(str(error)) from None

    def benefit_values(self) -> dict[str, Any]:
        """Return what the donor received in return, as the gifts service takes it."""
        return {
            "benefit_description": self.benefit_description.data or "",
            "benefit_cents": self.benefit_cents,
        }

    def gift_values(self) -> dict[str, Any]:
        """Return the submitted values as the gifts service takes them."""
        return {
            "donor_id": self.donor_id.data,
            "fund_id": self.fund_id.data,
            "method": self.method.data,
            "amount_cents": self.amount_cents,
            "received_on": self.received_on.data,
            "cheque_number": self.cheque_number.data or "",
            "reference": self.reference.data or "",
            "memo": self.memo.data or "",
            "is_anonymous": bool(self.is_anonymous.data),
        }


class CorrectGiftForm(OfflineGiftForm):
    # What the donor received in return is corrected like any other value (the
    # fields and their checks are the offline gift form's); the receipt of the
    # replacement is issued by the correction itself, so there is no thank-you.
    send_thanks = None

    reason = TextAreaField(
        "Reason for the correction",
        filters=[strip_text],
        validators=[
            DataRequired(message="Say why the gift is being corrected."),
            Length(max=gift_service.REASON_MAX_LENGTH),
        ],
        description="Kept with the reversing entry and in the audit log.",
    )
    void_only = BooleanField(
        "Void only: cancel the gift without recording a replacement",
        description="For a gift that was never received, or was recorded twice.",
    )
    submit = SubmitField("Save the correction")


# --- helpers -------------------------------------------------------------------


def _page() -> int:
    return page_arg()


def _load(gift_id: int) -> Gift:
    try:
        return gift_service.get_gift(gift_id)
    except NotFound:
        abort(404)


def _valid(field: Any) -> Any:
    """Return a filter field's value, or None when it is blank or invalid."""
    return None if field.errors or field.data in ("", None) else field.data


def _filters(form: GiftFilterForm) -> gift_service.GiftFilters:
    form.validate()
    fund = _valid(form.fund)
    return gift_service.GiftFilters(
        date_from=_valid(form.date_from),
        date_to=_valid(form.date_to),
        fund_id=int(fund) if fund else None,
        method=_valid(form.method),
        status=_valid(form.status) or gift_service.DEFAULT_STATUS,
        donor_id=_valid(form.donor_id),
        donor_name=_valid(form.donor) or "",
        frequency=_valid(form.frequency),
    )


def _filter_args() -> dict[str, str]:
    """Return the filters in the query string, to keep them while paging."""
    return {name: request.args[name] for name in FILTER_PARAMS if request.args.get(name)}


def _fund_choices(*keep: int) -> list[SelectChoice]:
    """Return the active funds, plus any fund in ``keep`` (a corrected gift's)."""
    funds = active_funds()
    known = {fund.id for fund in funds}
    extra = [db.session.get(Fund, fund_id) for fund_id in keep if fund_id not in known]
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
        results = db.session.scalars(
            donors.donor_search_query(text=q).limit(DONOR_CHOICES_LIMIT + 1)
        ).all()
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
    filters = _filters(form)
    page = db.paginate(
        gift_service.gift_query(filters),
        page=_page(),
        per_page=current_app.config["GIFTS_PER_PAGE"],
        error_out=False,
    )
    totals = gift_service.gift_totals(filters)
    donor = db.session.get(Donor, filters.donor_id) if filters.donor_id else None
    args = _filter_args()
    return render_template(
        "gifts/index.html",
        form=form,
        page=page,
        totals=totals,
        matching=sum(t.count for t in totals),
        donor=donor,
        filter_args=args,
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
    history = db.session.scalars(
        audit.audit_query(object_type="gift", object_id=gift.id).limit(50)
    ).all()
    return render_template(
        "gifts/detail.html",
        gift=gift,
        corrections=gift_service.corrections_of(gift),
        events=gift_service.gift_events(gift),
        correction_problem=gift_service.correction_problem(gift),
        history=history,
        method_label=GiftMethod(gift.method).label,
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
    if not form.is_submitted():
        form.donor_id.data = id_arg("donor_id")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            gift = gift_service.record_offline_gift(
                actor=current_user,
                currency=form.currency,
                **form.gift_values(),
                **form.benefit_values(),
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
    form = CorrectGiftForm(
        data={
            "donor_id": id_arg("donor_id") or gift.donor_id,
            "fund_id": gift.fund_id,
            "method": gift.method,
            "amount": format_plain(gift.amount_cents, gift.currency),
            "received_on": gift.received_at.date(),
            "cheque_number": gift.cheque_number,
            "reference": gift.reference,
            "memo": gift.memo,
            "is_anonymous": gift.is_anonymous,
            "benefit_description": gift.benefit_description or "",
            "benefit_value": (
                format_plain(gift.benefit_cents, gift.currency) if gift.benefit_cents else ""
            ),
        }
    )
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
        method_label=GiftMethod(gift.method).label,
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
    event = db.get_or_404(StripeEvent, event_row_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        stripe_replay.replay_event(actor=current_user, event=event)
    if work.error is not None:
        flash(work.error.message, "info")
    if work.ok:
        failed = event.status == StripeEventStatus.FAILED.value
        message = f"Event {event.event_id} ({event.type}) processed again: now {event.status}."
        if event.last_error and event.status != StripeEventStatus.PROCESSED.value:
            message += f" {event.last_error}"
        flash(message, "error" if failed else "success")
    status = request.form.get("status")
    if status not in gift_service.EVENT_FILTERS:
        status = None
    return redirect(url_for("gifts.events", status=status))
