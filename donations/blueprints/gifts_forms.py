"""The gifts list's filters, the donor search, and the offline gift and correction forms."""

from __future__ import annotations

from typing import Any

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

from donations.forms import strip_text
from donations.models import Frequency, Gift, GiftMethod, utcnow
from donations.money import AmountError, format_plain, parse_amount
from donations.ranges import NO_SUCH_DONOR, BoundedIntegerField
from donations.services import gifts as gift_service
from donations.services.appeals import normalize_appeal_code
from donations.services.errors import InvalidInput

SEARCH_MAX_LENGTH = 200
OFFLINE_METHOD_CHOICES = [SelectChoice(m.value, m.label) for m in gift_service.OFFLINE_METHODS]
FREQUENCY_LABELS = {Frequency.ONE_TIME.value: "One-time", Frequency.MONTHLY.value: "Monthly"}


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
    appeal = SearchField("Appeal code", filters=[strip_text])

    def validate_appeal(self, field: SearchField) -> None:
        try:
            field.data = normalize_appeal_code(field.data)
        except InvalidInput as error:
            raise ValidationError(error.message) from None

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
    campaign_id = SelectField("Campaign", choices=[SelectChoice("", "No campaign")], default="")
    appeal_code = StringField(
        "Appeal code",
        filters=[strip_text],
        description="The code printed on the appeal the gift answered, like YE2026. "
        "Leave blank if none.",
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

    def validate_appeal_code(self, field: StringField) -> None:
        try:
            field.data = normalize_appeal_code(field.data)
        except InvalidInput as error:
            raise ValidationError(error.message) from None

    def tag_values(self) -> dict[str, Any]:
        """Return the campaign and appeal the gift answered, as the gifts service takes them."""
        campaign = self.campaign_id.data or ""
        return {
            "campaign_id": int(campaign) if campaign.isdigit() else None,
            "appeal_code": self.appeal_code.data or "",
        }

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
    # replacement is issued by the correction itself, so there is no thank-you. The
    # campaign and appeal stay the original's (the correction copies them).
    send_thanks = None
    campaign_id = None
    appeal_code = None

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


def _valid(field: Any) -> Any:
    """Return a filter field's value, or None when it is blank or invalid."""
    return None if field.errors or field.data in ("", None) else field.data


def filters_from(form: GiftFilterForm) -> gift_service.GiftFilters:
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
        appeal_code=_valid(form.appeal) or "",
    )


def correction_data(gift: Gift, *, donor_id: int | None) -> dict[str, Any]:
    """Return the correction form's starting values: the gift as it was recorded."""
    return {
        "donor_id": donor_id or gift.donor_id,
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
