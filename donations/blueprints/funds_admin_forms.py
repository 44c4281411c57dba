"""The cash-giving admin forms: a fund, and the donation page settings."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from donations.forms import strip_text
from donations.models import GivingSettings
from donations.money import format_plain
from donations.ranges import BoundedIntegerField, IdSelectField
from donations.services import funds as fund_service


class FundForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter the fund's name."),
            Length(max=fund_service.FUND_NAME_MAX_LENGTH),
        ],
        description="Donors see it on the donation page, and it appears on receipts.",
    )
    description = TextAreaField(
        "Description",
        filters=[strip_text],
        validators=[Length(max=fund_service.FUND_DESCRIPTION_MAX_LENGTH)],
        description="One sentence under the name on the donation page.",
    )
    is_restricted = BooleanField(
        "Restricted",
        description="Gifts to this fund may be spent only on its purpose.",
    )
    active = BooleanField(
        "Active", default=True, description="Donors can choose it. Past gifts keep their fund."
    )
    sort_order = BoundedIntegerField(
        "Order on the page",
        default=0,
        validators=[
            InputRequired(message="Enter a whole number, such as 10."),
            NumberRange(min=0, max=fund_service.SORT_ORDER_MAX),
        ],
        description="Lower numbers come first.",
    )

    def fund_fields(self) -> dict[str, Any]:
        """Return the submitted values keyed by fund field name."""
        return {name: self[name].data for name in fund_service.FUND_FIELDS}


class GivingForm(FlaskForm):
    preset_amounts = StringField(
        "Suggested amounts",
        validators=[Length(max=200)],
        description="Separated by commas, such as 25, 50, 100, 250 (no thousands separators). "
        "Donors can always type another amount.",
    )
    min_amount = StringField(
        "Smallest gift",
        validators=[DataRequired(message="Enter the smallest gift."), Length(max=30)],
    )
    max_amount = StringField(
        "Largest gift online",
        validators=[DataRequired(message="Enter the largest gift."), Length(max=30)],
        description="Above this, donors are asked to contact you.",
    )
    fee_percent = StringField(
        "Card fee: percentage",
        validators=[DataRequired(message="Enter the percentage, such as 2.9."), Length(max=10)],
        description="Stripe's rate, such as 2.9 for 2.9%.",
    )
    fee_fixed = StringField(
        "Card fee: fixed part",
        validators=[DataRequired(message="Enter the fixed part, such as 0.30."), Length(max=30)],
        description="Charged on every payment, such as 0.30.",
    )
    impact_text = TextAreaField(
        "How gifts help",
        filters=[strip_text],
        validators=[Length(max=fund_service.IMPACT_TEXT_MAX_LENGTH)],
        description="A sentence or two at the top of the donation page. "
        "Left blank, a standard sentence is shown.",
    )
    default_fund = IdSelectField("Fund chosen at first")


def settings_data(settings: GivingSettings, currency: str) -> dict[str, Any]:
    return {
        "preset_amounts": ", ".join(
            fund_service.format_short_plain(cents, currency) for cents in settings.preset_list
        ),
        "min_amount": fund_service.format_short_plain(settings.min_amount_cents, currency),
        "max_amount": fund_service.format_short_plain(settings.max_amount_cents, currency),
        "fee_percent": fund_service.basis_points_to_percent(settings.fee_percent_bp),
        "fee_fixed": format_plain(settings.fee_fixed_cents, currency),
        "impact_text": settings.impact_text,
        "default_fund": str(settings.default_fund_id or ""),
    }
