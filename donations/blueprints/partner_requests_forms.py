"""The forms of goods requests: a partner's new request, and staff fulfilling or declining one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from donations.blueprints.movements_forms import date_field, site_field
from donations.forms import strip_text
from donations.ranges import CHOOSE_AGAIN, BoundedIntegerField
from donations.services import partner_requests

QUANTITY_TEXT_MAX_LENGTH = 20
CATALOG_ROWS_MAX = 2000
NOTE_HINT = (
    "Optional: what the goods are for, such as winter supplies for our drop-in. "
    "Never a client's name, phone number or birth date."
)


class AskRowForm(Form):
    """One catalog item on the new-request form: how many are needed (blank for none)."""

    item_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    quantity = StringField(
        "Quantity needed",
        filters=[strip_text],
        validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)],
    )


class NewRequestForm(FlaskForm):
    rows = FieldList(FormField(AskRowForm), min_entries=0, max_entries=CATALOG_ROWS_MAX)
    needed_by = DateField(
        "Needed by (optional)",
        validators=[Optional()],
        description="The day you need the goods by, if there is one.",
    )
    note = TextAreaField(
        "Note (optional)",
        filters=[strip_text],
        validators=[Length(max=partner_requests.NOTE_MAX_LENGTH)],
        description=NOTE_HINT,
    )
    submit = SubmitField("Send the request")


class GiveRowForm(Form):
    """One line of a request on the fulfil form: how many are given (0 for none)."""

    line_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    quantity = StringField(
        "Quantity given",
        filters=[strip_text],
        validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)],
    )


class FulfilForm(FlaskForm):
    site_id = site_field("Given out from", "Choose the site the goods leave.")
    effective_date = date_field()
    lines = FieldList(
        FormField(GiveRowForm), min_entries=0, max_entries=partner_requests.REQUEST_LINES_MAX
    )
    submit = SubmitField("Fulfil: record the distribution")


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        filters=[strip_text],
        validators=[
            InputRequired(message="Say why the request is declined."),
            Length(max=partner_requests.REASON_MAX_LENGTH),
        ],
        description="The partner agency sees it. Never a client's name or contact details.",
    )
    submit = SubmitField("Decline the request")


def read_quantity(text: str | None, *, most: int) -> tuple[int | None, str | None]:
    """A whole number from 0 to ``most`` typed in a row: (number, None), or (None, message)."""
    text = (text or "").strip()
    if not text.isdigit():
        return None, f"Enter a whole number from 0 to {most:,}."
    number = int(text)
    if number > most:
        return None, f"At most {most:,}."
    return number, None
