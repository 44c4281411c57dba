"""Forms of the treasurer's receipt screens: the list's filters, void, receipt settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from donations.forms import strip_text
from donations.models import ReceiptKind, ReceiptStatus
from donations.services import receipt_files as files
from donations.services import receipts

STATUS_LABELS = {ReceiptStatus.VALID.value: "Valid", ReceiptStatus.VOID.value: "Void"}


class ReceiptFilterForm(FlaskForm):
    """The filters above the receipts list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice("", "All kinds"),
            *(SelectChoice(k.value, k.label) for k in ReceiptKind),
        ],
        default="",
    )
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Valid and void"),
            *(SelectChoice(v, lbl) for v, lbl in STATUS_LABELS.items()),
        ],
        default="",
    )
    year = SelectField("Fiscal year", choices=[SelectChoice("", "All years")], default="")
    donor = SearchField(
        "Donor name", filters=[strip_text], validators=[Length(max=files.SEARCH_MAX_LENGTH)]
    )
    number = SearchField(
        "Receipt number",
        filters=[strip_text],
        validators=[Length(max=files.SEARCH_MAX_LENGTH)],
        description="All or part of it, such as 2026-000042 or 42.",
    )


class VoidForm(FlaskForm):
    reason = TextAreaField(
        "Why is this receipt void?",
        filters=[strip_text],
        validators=[
            DataRequired(message="Say why the receipt is void."),
            Length(max=receipts.VOID_REASON_MAX_LENGTH),
        ],
        description=(
            "Printed on the voided PDF and kept in the history, such as “Wrong donor name”."
        ),
    )


def _account_field(name: str) -> StringField:
    label = files.ACCOUNT_FIELDS[name]
    return StringField(
        label,
        filters=[strip_text],
        validators=[
            DataRequired(message=f"Enter the name of the {label.lower()} account."),
            Length(max=files.ACCOUNT_MAX_LENGTH),
        ],
    )


class ReceiptSettingsForm(FlaskForm):
    per_gift_receipts = BooleanField(
        "Issue a receipt for each gift",
        description=(
            "Off: donors get no receipt per gift, only the year-end statement listing "
            "all their gifts of the year."
        ),
    )
    page_size = RadioField(
        "Paper size",
        choices=[SelectChoice(v, label) for v, label in files.PAGE_SIZES.items()],
        validators=[DataRequired(message="Choose Letter or A4.")],
    )
    logo = FileField(
        "Logo",
        description=(
            f"A PNG or JPEG of at most {files.LOGO_MAX_BYTES // 1024} KB, printed at the top "
            "of every receipt. Leave empty to keep the current logo."
        ),
    )
    remove_logo = BooleanField("Remove the logo")
    account_bank = _account_field("account_bank")
    account_clearing = _account_field("account_clearing")
    account_fees = _account_field("account_fees")
    account_income = _account_field("account_income")
    account_in_kind = _account_field("account_in_kind")
    account_refunds = _account_field("account_refunds")
