"""The public donation page: choose a gift, review it, pay through Stripe, be thanked.

No step needs JavaScript. The form posts to itself and, when valid, shows a
review page with the exact total; the review carries the donation as one
signed hidden field with a fresh attempt id, so "Continue" (clicked once or
twice, or again after a Stripe outage) always means the same pending gift and
the same Stripe idempotency key.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from donations.authz import public
from donations.extensions import db, limiter
from donations.forms import EmptyForm, show_domain_error, strip_text
from donations.models import (
    Frequency,
    Fund,
    Gift,
    GiftStatus,
    GivingSettings,
    PlanStatus,
    TributeType,
)
from donations.money import AmountError, format_money, parse_amount
from donations.ranges import parse_id
from donations.services import donors, giving, payments, receipt_delivery, receipts
from donations.services.errors import DomainError, NotFound
from donations.services.funds import (
    basis_points_to_percent,
    format_short,
    format_short_plain,
)
from donations.services.links import absolute_url
from donations.services.organization import current_organization_name
from donations.services.payments import GatewayError
from donations.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

bp = Blueprint("give", __name__, url_prefix="/give")

SIGNING_SALT = "donations.give"
OTHER = "other"
ATTEMPT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
GATEWAY_TROUBLE = (
    "We could not reach our payment processor. Nothing has been charged. "
    "Please try again in a moment."
)
PORTAL_TROUBLE = (
    "We could not reach our payment processor to open your monthly gift. "
    "Please try again in a moment."
)
NO_PAYMENT_PAGE = (
    "Our payment processor did not give us a secure payment page for your gift. "
    "Nothing has been charged, and your gift is kept as not yet paid. "
    "Please try again in a few minutes."
)
ATTEMPT_CLOSED = (
    "Your earlier payment was not completed, so nothing was charged. "
    "Check your gift below and continue when you are ready."
)
DEFAULT_IMPACT = (
    "Your gift gives survivors of human trafficking a safe bed tonight, and the care, "
    "legal help and training that lead to a life of their own."
)
MAX = donors.MAX_LENGTHS
TRIBUTE_NAME_MAX: int = Gift.__table__.c.tribute_name.type.length
TRIBUTE_EMAIL_MAX: int = Gift.__table__.c.tribute_notify_email.type.length
# Donation fields the form holds under the same name.
SAME_NAMED_FIELDS = (
    "name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "tribute_type",
    "tribute_name",
    "tribute_notify_email",
)
FREQUENCY_CHOICES = [
    SelectChoice(Frequency.ONE_TIME.value, "One time"),
    SelectChoice(Frequency.MONTHLY.value, "Every month"),
]
TRIBUTE_CHOICES = [
    SelectChoice("", "No dedication"),
    SelectChoice(TributeType.HONOR.value, "In honour of someone"),
    SelectChoice(TributeType.MEMORY.value, "In memory of someone"),
]


class DonationForm(FlaskForm):
    amount = RadioField(
        "Amount",
        validate_choice=False,
        description="Choose an amount, or type your own: a typed amount is the one we use.",
    )
    other_amount = StringField(
        "Other amount", filters=[strip_text], validators=[Length(max=30)], description=""
    )
    frequency = RadioField(
        "How often",
        choices=FREQUENCY_CHOICES,
        default=Frequency.ONE_TIME.value,
        validators=[InputRequired(message="Choose one time or every month.")],
    )
    fund = RadioField(
        "Where your gift goes",
        validate_choice=False,
        validators=[InputRequired(message="Choose where your gift should go.")],
    )
    cover_fee = BooleanField("Cover the card fee")
    tribute_type = SelectField(
        "Dedicate this gift", choices=TRIBUTE_CHOICES, default="", validate_choice=False
    )
    tribute_name = StringField(
        "Their name", filters=[strip_text], validators=[Length(max=TRIBUTE_NAME_MAX)]
    )
    tribute_notify_email = EmailField(
        "Their email (optional)",
        filters=[strip_text],
        validators=[
            Optional(),
            Email(message="Enter their email address, like name@example.com."),
            Length(max=TRIBUTE_EMAIL_MAX),
        ],
        description="We send them a short note that a gift was made in their name, "
        "never the amount.",
    )
    is_anonymous = BooleanField(
        "Don't show my name publicly",
        description="We will leave you out of thank-you lists and newsletters.",
    )
    name = StringField(
        "Your name",
        filters=[strip_text],
        validators=[DataRequired(message="Enter your name."), Length(max=MAX["name"])],
    )
    email = EmailField(
        "Your email",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter your email: your receipt goes there."),
            Email(message="Enter your email address, like name@example.com."),
            Length(max=MAX["email"]),
        ],
        description="Your receipt goes here. We never share it.",
    )
    address_line1 = StringField(
        "Address line 1", filters=[strip_text], validators=[Length(max=MAX["address_line1"])]
    )
    address_line2 = StringField(
        "Address line 2", filters=[strip_text], validators=[Length(max=MAX["address_line2"])]
    )
    city = StringField("City", filters=[strip_text], validators=[Length(max=MAX["city"])])
    region = StringField(
        "State or region", filters=[strip_text], validators=[Length(max=MAX["region"])]
    )
    postal_code = StringField(
        "Postal code", filters=[strip_text], validators=[Length(max=MAX["postal_code"])]
    )
    country = StringField("Country", filters=[strip_text], validators=[Length(max=MAX["country"])])

    def validate_tribute_name(self, field) -> None:
        if field.data and not self.tribute_type.data:
            raise ValidationError("Choose in honour or in memory above, or clear this name.")

    def donation(self, *, amount_cents: int, currency: str) -> giving.Donation:
        """Return what the donor asked for, with the amount already parsed."""
        fund = self.fund.data or ""
        return giving.Donation(
            amount_cents=amount_cents,
            currency=currency,
            frequency=Frequency(self.frequency.data),
            fund_id=parse_id(fund) or 0,
            cover_fee=bool(self.cover_fee.data),
            is_anonymous=bool(self.is_anonymous.data),
            **{name: self[name].data or "" for name in SAME_NAMED_FIELDS},
        )


class SignedForm(FlaskForm):
    """The review page's buttons: the CSRF token and the signed donation."""

    payload = HiddenField(validators=[DataRequired()])


class TestPaymentForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["pay", "cancel"], message="Choose pay or cancel.")])


# --- helpers -----------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SIGNING_SALT)


def _sign(donation: giving.Donation, attempt_id: str) -> str:
    data = dataclasses.asdict(donation)
    data["frequency"] = donation.frequency.value
    data["attempt_id"] = attempt_id
    return _serializer().dumps(data)


def _signed_donation() -> tuple[giving.Donation, str, str]:
    """Return the donation, attempt id and payload the review page posted, or abort(400)."""
    form = SignedForm()
    if not form.validate_on_submit():
        abort(400)
    payload = form.payload.data
    try:
        data = _serializer().loads(payload)
        attempt_id = str(data.pop("attempt_id"))
        data["frequency"] = Frequency(data["frequency"])
        donation = giving.Donation(**data)
    except (BadSignature, AttributeError, KeyError, TypeError, ValueError):
        abort(400)
    if not ATTEMPT_ID_RE.match(attempt_id):
        abort(400)
    return donation, attempt_id, payload


def _fund_choice(fund_id: int | None, funds: list[Fund]) -> str:
    ids = [fund.id for fund in funds]
    return str(fund_id if fund_id in ids else ids[0])


def _defaults(settings: GivingSettings, funds: list[Fund]) -> dict[str, Any]:
    return {
        "frequency": Frequency.ONE_TIME.value,
        "fund": _fund_choice(settings.default_fund_id, funds),
        "tribute_type": "",
    }


def _form_data(donation: giving.Donation, settings: GivingSettings) -> dict[str, Any]:
    """Return the form's values for a donation being edited."""
    preset = donation.amount_cents in settings.preset_list
    data: dict[str, Any] = {name: getattr(donation, name) for name in SAME_NAMED_FIELDS}
    data.update(
        amount=str(donation.amount_cents) if preset else OTHER,
        other_amount="" if preset else format_short_plain(donation.amount_cents, donation.currency),
        frequency=donation.frequency.value,
        fund=str(donation.fund_id),
        cover_fee=donation.cover_fee,
        is_anonymous=donation.is_anonymous,
    )
    return data


def _fee_rate(settings: GivingSettings, currency: str) -> str:
    percent = f"{basis_points_to_percent(settings.fee_percent_bp)}%"
    if not settings.fee_fixed_cents:
        return percent
    return f"{percent} + {format_money(settings.fee_fixed_cents, currency)}"


def _donation_form(
    settings: GivingSettings,
    funds: list[Fund],
    currency: str,
    *,
    data: dict[str, Any] | None = None,
) -> DonationForm:
    """Build the form with this site's amounts and funds; ``data`` refills it for editing."""
    if data is not None:
        form = DonationForm(formdata=None, data=data)
    else:
        form = DonationForm(data=_defaults(settings, funds) if request.method == "GET" else None)
    form.amount.choices = [
        SelectChoice(str(cents), format_short(cents, currency)) for cents in settings.preset_list
    ] + [SelectChoice(OTHER, "Other amount")]
    limits = (
        f"From {format_short(settings.min_amount_cents, currency)} "
        f"to {format_short(settings.max_amount_cents, currency)}."
    )
    form.amount.flags.required = True
    form.other_amount.label.text = f"Your own amount ({currency})"
    form.other_amount.description = limits
    form.fund.choices = [SelectChoice(str(fund.id), fund.name) for fund in funds]
    form.cover_fee.label.text = (
        f"Add {_fee_rate(settings, currency)} to cover the card fee "
        "so all of my gift reaches survivors"
    )
    return form


def _amount_cents(
    form: DonationForm, settings: GivingSettings, currency: str
) -> tuple[int | None, str | None]:
    """Return the amount in cents and a note for the review; put any problem next to its field.

    A typed amount wins over a chosen one: it is what the donor did last and on purpose.
    When both are there and differ, the note says which one was used.
    """
    choice = form.amount.data
    typed = form.other_amount.data
    if typed:
        try:
            cents = parse_amount(typed, currency)
        except AmountError as error:
            form.other_amount.errors = [*form.other_amount.errors, str(error)]
            return None, None
        note = None
        if choice and choice != OTHER and choice != str(cents):
            chosen = f" rather than the {format_short(int(choice), currency)} chosen above"
            note = (
                f"You typed {format_short(cents, currency)}, "
                f"so we used {format_short(cents, currency)}"
                f"{chosen if choice.isdigit() else ''}."
            )
        return cents, note
    if choice and choice != OTHER:
        if choice.isdigit() and int(choice) in settings.preset_list:
            return int(choice), None
        form.amount.errors = [*form.amount.errors, "Choose one of the amounts shown."]
        return None, None
    form.amount.errors = [*form.amount.errors, "Choose an amount or type your own."]
    return None, None


def _show_error(form: DonationForm, error: DomainError) -> None:
    """Show a domain error next to its field; a typed amount's problem goes next to it."""
    if error.field == "amount" and (
        form.other_amount.data or form.amount.data in (None, "", OTHER)
    ):
        error = type(error)(error.message, field="other_amount")
    show_domain_error(form, error)


def _form_page(form: DonationForm, settings: GivingSettings, funds: list[Fund], currency: str):
    presets = settings.preset_list
    example = presets[(len(presets) - 1) // 2] if presets else settings.min_amount_cents
    cover = giving.fee_cover(example, cover=True, settings=settings)
    needs_url = url_for("needs.index") if "needs.index" in current_app.view_functions else None
    return render_template(
        "give/index.html",
        form=form,
        fund_hints={str(fund.id): _fund_hint(fund) for fund in funds},
        fee_example=(
            f"For a {format_short(example, currency)} gift that adds "
            f"{format_money(cover.covered_cents, currency)}. "
            "You will see the exact total before you pay."
        ),
        impact_text=settings.impact_text or DEFAULT_IMPACT,
        needs_url=needs_url,
    )


_CSRF_MARK = "\x00csrf\x00"
_CACHE_KEY = "donations.give_form_pages"


def _cacheable() -> bool:
    """A blank form for a stranger with no messages waiting looks the same to everyone."""
    return not current_user.is_authenticated and not session.get("_flashes")


def _cached_blank_form(settings: GivingSettings, funds: list[Fund], currency: str):
    """Serve the blank donation page from a cache keyed by what it shows.

    Rendering the form's widgets is most of the page's cost, and the blank page differs
    between visitors only in its CSRF token, which is filled in on every request.
    """
    key = (
        settings.preset_amounts,
        settings.min_amount_cents,
        settings.max_amount_cents,
        settings.fee_percent_bp,
        settings.fee_fixed_cents,
        settings.impact_text,
        settings.default_fund_id,
        tuple((f.id, f.name, f.description, f.is_restricted) for f in funds),
        currency,
        current_organization_name(),
        payments.is_test_mode(),
    )
    pages: dict[tuple, str] = current_app.extensions.setdefault(_CACHE_KEY, {})
    token = generate_csrf()
    page = pages.get(key)
    if page is None:
        html = _form_page(_donation_form(settings, funds, currency), settings, funds, currency)
        if html.count(token) != 1:  # the token must be exactly where we put it back
            return html
        if len(pages) > 32:
            pages.clear()
        page = pages[key] = html.replace(token, _CSRF_MARK)
    return page.replace(_CSRF_MARK, token)


def _fund_hint(fund: Fund) -> str:
    if fund.is_restricted:
        return f"{fund.description} Used only for this purpose.".strip()
    return fund.description


def _review(
    donation: giving.Donation,
    cover: giving.FeeCover,
    *,
    payload: str,
    message: str | None = None,
    notice: str | None = None,
):
    return render_template(
        "give/review.html",
        donation=donation,
        cover=cover,
        fund=db.session.get(Fund, donation.fund_id),
        payload=payload,
        message=message,
        notice=notice,
        monthly=donation.frequency == Frequency.MONTHLY,
    )


def _cover_of(gift: Gift) -> giving.FeeCover:
    return giving.FeeCover(
        gift_cents=gift.amount_cents - gift.covered_fee_cents,
        total_cents=gift.amount_cents,
        covered_cents=gift.covered_fee_cents,
    )


def _thanks_url(gift: Gift) -> str:
    return absolute_url("give.thanks", token=giving.gift_token(gift))


def _gift_or_404(token: str) -> Gift:
    try:
        return giving.gift_for_token(token)
    except NotFound:
        abort(404)


def _problem(message: str, status: int = 200, *, heading: str | None = None):
    return render_template("give/problem.html", message=message, heading=heading), status


def _checkout_limit() -> str:
    """Checkouts one address may start: slows down card testing through the donation page."""
    return current_app.config.get("GIVE_CHECKOUT_RATE_LIMIT", "20 per minute")


def _require_test_mode() -> None:
    if not payments.is_test_mode():
        abort(404)


# --- the donor's journey -----------------------------------------------------


@bp.route("", methods=["GET", "POST"])
@public
def index():
    """Show the donation form; when it is valid, show the review with the exact total."""
    funds = giving.active_funds()
    if not funds:
        return render_template("give/closed.html")
    settings = giving.get_giving_settings()
    currency = giving.default_currency()
    if request.method == "POST" and "edit" in request.form:
        donation, _attempt_id, _payload = _signed_donation()
        data = _form_data(donation, settings)
        form = _donation_form(settings, funds, currency, data=data)
        return _form_page(form, settings, funds, currency)
    if request.method == "GET" and not request.args and _cacheable():
        return _cached_blank_form(settings, funds, currency)
    form = _donation_form(settings, funds, currency)
    if form.is_submitted():
        valid = form.validate()
        amount_cents, amount_note = _amount_cents(form, settings, currency)
        if valid and amount_cents is not None:
            donation = form.donation(amount_cents=amount_cents, currency=currency)
            with unit_of_work() as work:
                cover = giving.check_donation(donation)
            if work.error is not None:
                _show_error(form, work.error)
            else:
                payload = _sign(donation, uuid.uuid4().hex)
                return _review(donation, cover, payload=payload, notice=amount_note)
    return _form_page(form, settings, funds, currency)


@bp.post("/checkout")
@public
@limiter.limit(_checkout_limit)
def checkout():
    """Record the pending gift, then send the donor to Stripe's payment page."""
    donation, attempt_id, payload = _signed_donation()
    with unit_of_work() as work:
        gift = giving.prepare_checkout(donation=donation, attempt_id=attempt_id)
    if work.error is not None:
        settings, funds = giving.get_giving_settings(), giving.active_funds()
        if not funds:
            return render_template("give/closed.html")
        data = _form_data(donation, settings)
        form = _donation_form(settings, funds, donation.currency, data=data)
        _show_error(form, work.error)
        return _form_page(form, settings, funds, donation.currency)
    if gift.status in (GiftStatus.PAID.value, GiftStatus.PROCESSING.value):
        return redirect(_thanks_url(gift), 303)
    if gift.status != GiftStatus.PENDING.value:
        fresh = _sign(donation, uuid.uuid4().hex)
        return _review(donation, _cover_of(gift), payload=fresh, notice=ATTEMPT_CLOSED)
    token = giving.gift_token(gift)
    with unit_of_work(errors=(GatewayError,)) as opened:
        session = giving.open_checkout_session(
            gift=gift,
            gateway=payments.get_gateway(),
            success_url=absolute_url("give.thanks", token=token),
            cancel_url=absolute_url("give.cancelled", token=token),
        )
        if not session.url:  # e.g. a session made for an embedded form: nowhere to send the donor
            opened.discard()  # the gift stays pending, with no session that cannot be paid
    if opened.error is not None:
        log.warning("could not open a checkout for gift %s: %s", gift.id, opened.error.message)
        return _review(donation, _cover_of(gift), payload=payload, message=GATEWAY_TROUBLE)
    if not opened.ok:
        log.warning("checkout session %s for gift %s came without a url", session.id, gift.id)
        return _problem(NO_PAYMENT_PAGE, 502, heading="We could not open the payment page")
    return redirect(session.url, 303)


@bp.get("/thanks/<token>")
@public
def thanks(token: str):
    """Thank the donor, or say that the payment is still being confirmed."""
    gift = _gift_or_404(token)
    plan = gift.plan
    receipt = receipts.valid_receipt_for_gift(gift.id)
    response = make_response(
        render_template(
            "give/thanks.html",
            gift=gift,
            receipt=receipt,
            receipt_url=url_for(
                "receipts_public.download", token=receipt_delivery.receipt_token(receipt)
            )
            if receipt is not None
            else None,
            monthly=gift.frequency == Frequency.MONTHLY.value,
            plan_token=giving.plan_token(plan) if plan is not None else None,
            plan_cancelled=plan is not None and plan.status == PlanStatus.CANCELLED.value,
        )
    )
    if gift.status == GiftStatus.PENDING.value:
        response.headers["Refresh"] = "5"  # no script needed (and none allowed)
    return response


@bp.get("/cancelled/<token>")
@public
def cancelled(token: str):
    """Tell the donor who left the payment page that nothing was charged."""
    gift = _gift_or_404(token)
    return render_template("give/cancelled.html", gift=gift, token=token)


@bp.get("/manage/<token>")
@public
def manage_plan(token: str):
    """Open Stripe's billing portal, where the donor changes the card or stops the gift."""
    with unit_of_work(errors=(DomainError, GatewayError), read_only=True) as work:
        plan = giving.plan_for_token(token)
        url = giving.portal_url(
            plan=plan,
            gateway=payments.get_gateway(),
            return_url=absolute_url("give.index"),
        )
    if isinstance(work.error, NotFound):
        return _problem(work.error.message, 404)
    if isinstance(work.error, DomainError):
        return _problem(work.error.message)
    if isinstance(work.error, GatewayError):
        log.warning("could not open the billing portal: %s", work.error.message)
        return _problem(PORTAL_TROUBLE, 503)
    return redirect(url, 303)


# --- test mode: the local stand-ins for Stripe's pages -------------------------


@bp.route("/test-checkout/<id>", methods=["GET", "POST"])
@public
def test_checkout(id: str):  # the name payments.py builds the address with
    """Show the local test payment page; pay or cancel the test checkout."""
    _require_test_mode()
    try:
        session = payments.test_checkout_session(id)
    except NotFound:
        abort(404)
    form = TestPaymentForm()
    if form.validate_on_submit():
        paying = form.action.data == "pay"
        with unit_of_work(form) as work:
            payments.complete_test_checkout(session_id=id, outcome="paid" if paying else "cancel")
        if work.ok:
            return redirect(session["success_url" if paying else "cancel_url"], 303)
    elif form.is_submitted():
        form.form_errors.extend(form.action.errors)
    return render_template("give/test_checkout.html", session=session, form=form)


@bp.route("/test-portal/<customer>", methods=["GET", "POST"])
@public
def test_portal(customer: str):
    """Show the local stand-in for Stripe's billing portal, where a monthly gift stops."""
    _require_test_mode()
    try:
        plan = payments.plan_for_customer(customer)
    except NotFound:
        abort(404)
    form = EmptyForm()
    cancelled = plan.status == PlanStatus.CANCELLED.value
    if form.validate_on_submit():
        if cancelled:  # a second click: Stripe would refuse to cancel twice
            flash("Your monthly gift is already cancelled.", "info")
            return redirect(url_for("give.test_portal", customer=customer), 303)
        with unit_of_work(flash_errors=True) as work:
            payments.cancel_test_plan(plan=plan)
        if work.ok:
            flash("Your monthly gift is cancelled. No more payments will be taken.", "success")
        return redirect(url_for("give.test_portal", customer=customer), 303)
    return render_template("give/test_portal.html", plan=plan, form=form, cancelled=cancelled)
