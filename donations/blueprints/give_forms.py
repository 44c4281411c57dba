"""The donation form, its amounts and funds, and the signed donation the review page posts."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, request
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import MultiDict
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

from donations.forms import show_domain_error, strip_text
from donations.models import Frequency, Gift, TributeType
from donations.money import AmountError, format_money, parse_amount
from donations.ranges import parse_id
from donations.services import donors, giving
from donations.services.errors import DomainError
from donations.services.funds import basis_points_to_percent, format_short, format_short_plain

SIGNING_SALT = "donations.give"
OTHER = "other"
ATTEMPT_ID_RE = re.compile(r"^[0-9a-f]{32}$")

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


# --- the signed donation ------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SIGNING_SALT)


def sign_donation(donation: giving.Donation, attempt_id: str) -> str:
    data = dataclasses.asdict(donation)
    data["frequency"] = donation.frequency.value
    data["attempt_id"] = attempt_id
    return _serializer().dumps(data)


def signed_donation() -> tuple[giving.Donation, str, str]:
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


# --- filling and reading the form ----------------------------------------------


def _fund_choice(fund_id: int | None, funds: tuple[giving.FundChoice, ...]) -> str:
    ids = [fund.id for fund in funds]
    return str(fund_id if fund_id in ids else ids[0])


def form_defaults(page: giving.DonationPage) -> dict[str, Any]:
    return {
        "frequency": Frequency.ONE_TIME.value,
        "fund": _fund_choice(page.settings.default_fund_id, page.funds),
        "tribute_type": "",
    }


def form_data(donation: giving.Donation, settings: giving.PageSettings) -> dict[str, Any]:
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


def fee_rate(settings: giving.PageSettings, currency: str) -> str:
    percent = f"{basis_points_to_percent(settings.fee_percent_bp)}%"
    if not settings.fee_fixed_cents:
        return percent
    return f"{percent} + {format_money(settings.fee_fixed_cents, currency)}"


def donation_form(page: giving.DonationPage, *, data: dict[str, Any] | None = None) -> DonationForm:
    """Build the form with this site's funds; ``data`` refills it for editing.

    The amounts and texts that depend on the settings are drawn by ``donation_controls``.
    """
    if data is not None:
        form = DonationForm(formdata=None, data=data)
    else:
        form = DonationForm(data=form_defaults(page) if request.method == "GET" else None)
    form.amount.choices = [SelectChoice(str(c), "") for c in page.settings.preset_list] + [
        SelectChoice(OTHER, "")
    ]
    form.fund.choices = [SelectChoice(str(fund.id), fund.name) for fund in page.funds]
    return form


# The fields a campaign's embed asks for; its form sends them to the campaign's page.
CHOSEN_FIELDS = ("amount", "other_amount", "frequency")


def chosen_form(
    page: giving.DonationPage, chosen: Mapping[str, str], defaults: dict[str, Any]
) -> DonationForm:
    """Build the form from ``defaults`` with only the amount and how often ``chosen``
    elsewhere (the embed's query string) filled in; nothing else of the visitor's is read."""
    formdata = MultiDict((name, chosen[name]) for name in CHOSEN_FIELDS if name in chosen)
    if formdata.get("frequency") not in {c.value for c in FREQUENCY_CHOICES}:
        formdata.pop("frequency", None)  # an unknown choice: keep the default, one time
    form = DonationForm(formdata=formdata, data=defaults)
    form.amount.choices = [SelectChoice(str(c), "") for c in page.settings.preset_list] + [
        SelectChoice(OTHER, "")
    ]
    form.fund.choices = [SelectChoice(str(fund.id), fund.name) for fund in page.funds]
    return form


def amount_from_form(
    form: DonationForm, settings: giving.PageSettings, currency: str
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


def show_donation_error(form: DonationForm, error: DomainError) -> None:
    """Show a domain error next to its field; a typed amount's problem goes next to it."""
    if error.field == "amount" and (
        form.other_amount.data or form.amount.data in (None, "", OTHER)
    ):
        error = type(error)(error.message, field="other_amount")
    show_domain_error(form, error)
