"""The forms of the goods movement pages: line documents, stock counts and kits."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from donations.forms import strip_text
from donations.models import Condition, utcnow
from donations.ranges import CHOOSE_AGAIN, NO_SUCH_DONOR, BoundedIntegerField, parse_id
from donations.services import inventory

ROWS_START = 8  # blank rows on a new form
ROWS_MAX = inventory.LINES_MAX
ITEM_TEXT_MAX_LENGTH = 160
QUANTITY_TEXT_MAX_LENGTH = 20
COUNT_ROWS_MAX = 5000
DIRECTION_LABELS = {"in": "Add to stock", "out": "Remove from stock"}


def coerce_id(value: Any) -> int | None:
    """Coerce a select's value to an id, or None when blank or not a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_id(value)


class LineForm(Form):
    """One row: the item (name or label code) and how many."""

    item = StringField("Item", filters=[strip_text], validators=[Length(max=ITEM_TEXT_MAX_LENGTH)])
    quantity = StringField(
        "Quantity", filters=[strip_text], validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)]
    )


class IntakeLineForm(LineForm):
    condition = SelectField(
        "Condition",
        choices=[SelectChoice(c.value, c.label) for c in Condition],
        default=Condition.NEW.value,
    )


def lines_field(line_form: type[Form]) -> FieldList:
    return FieldList(FormField(line_form), min_entries=ROWS_START, max_entries=ROWS_MAX)


def site_field(label: str, message: str) -> SelectField:
    return SelectField(
        label, coerce=coerce_id, validate_choice=False, validators=[InputRequired(message)]
    )


def date_field(label: str = "Date") -> DateField:
    return DateField(
        label,
        default=lambda: utcnow().date(),
        validators=[InputRequired(message="Enter the date, such as 2026-01-31.")],
    )


def note_field(label: str = "Note", description: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        filters=[strip_text],
        validators=[Length(max=inventory.NOTE_MAX_LENGTH)],
        description=description,
    )


class LinesForm(FlaskForm):
    """What every multi-line movement form has."""

    add_rows = SubmitField("Add more rows")


class IntakeForm(LinesForm):
    site_id = site_field("Received at", "Choose the site where the goods arrived.")
    effective_date = date_field("Date received")
    source = RadioField(
        "Where the goods came from",
        choices=[SelectChoice(value, label) for value, label in inventory.SOURCE_LABELS.items()],
        validators=[InputRequired(message="Say where the goods came from.")],
    )
    donor_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=NO_SUCH_DONOR
    )
    drive_name = StringField(
        "Name of the drive",
        filters=[strip_text],
        validators=[Length(max=inventory.DRIVE_NAME_MAX_LENGTH)],
        description="Such as Lincoln High coat drive.",
    )
    donor_value = StringField(
        "The donor's own estimate of the value (optional)",
        filters=[strip_text],
        validators=[Length(max=30)],
    )
    # The campaign (a goods drive) the goods were collected for; choices set by the view.
    campaign_id = SelectField(
        "Campaign",
        choices=[SelectChoice("", "No campaign")],
        default="",
        description="A goods drive's campaign counts these goods towards its goals.",
    )
    note = note_field()
    lines = lines_field(IntakeLineForm)
    submit = SubmitField("Record goods received")


class DistributionForm(LinesForm):
    site_id = site_field("Given out from", "Choose the site the goods left.")
    effective_date = date_field()
    recipient_id = SelectField(
        "Program or partner agency",
        coerce=coerce_id,
        validate_choice=False,
        validators=[InputRequired("Choose a program or partner agency from the list.")],
        description=(
            "Goods go to one of your programs or to a partner agency, never to a named "
            "person. An admin adds new ones under Programs and partners."
        ),
    )
    case_code = StringField(
        "Case code (optional)", filters=[strip_text], description=inventory.CASE_CODE_HINT
    )
    note = note_field()
    lines = lines_field(LineForm)
    submit = SubmitField("Record distribution")


class TransferForm(LinesForm):
    site_id = site_field("From site", "Choose the site the goods leave.")
    to_site_id = site_field("To site", "Choose the site the goods go to.")
    effective_date = date_field()
    note = note_field()
    lines = lines_field(LineForm)
    submit = SubmitField("Record transfer")


class AdjustmentForm(LinesForm):
    site_id = site_field("Site", "Choose the site.")
    effective_date = date_field()
    reason = SelectField(
        "Reason",
        choices=[SelectChoice("", "Choose a reason")]
        + [SelectChoice(value, label) for value, label in inventory.REASON_LABELS.items()],
        validators=[InputRequired(message="Choose a reason.")],
    )
    direction = RadioField(
        "Add or remove (only for Other)",
        choices=[SelectChoice(value, label) for value, label in DIRECTION_LABELS.items()],
        validate_choice=False,
        description=(
            "Needed only when the reason is Other: damaged, expired and lost always remove "
            "stock, found always adds it."
        ),
    )
    note = note_field("Note", "Required when the reason is Other: say why.")
    lines = lines_field(LineForm)
    submit = SubmitField("Record adjustment")


class DonorSearchForm(Form):
    """A GET search for the donor who brought goods; searching changes nothing."""

    q = SearchField("Find the donor by name", filters=[strip_text], validators=[Length(max=200)])


class CountStartForm(Form):
    """Step one of a count (GET): which site, and optionally which category."""

    site_id = SelectField("Site to count", coerce=coerce_id, validate_choice=False)
    category_id = SelectField(
        "Also list every item of this category (optional)",
        coerce=coerce_id,
        validate_choice=False,
        description="The site's items are listed anyway; a category adds the items it has none of.",
    )


class CountLineForm(Form):
    item_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    counted = StringField(
        "Counted", filters=[strip_text], validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)]
    )
    expected = StringField(widget=HiddenInput(), validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)])


class CountForm(FlaskForm):
    site_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    category_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    effective_date = date_field("Date counted")
    note = note_field()
    lines = FieldList(FormField(CountLineForm), min_entries=0, max_entries=COUNT_ROWS_MAX)
    review = SubmitField("Review the differences")
    confirm = SubmitField("Confirm count")
    edit = SubmitField("Change the counts")


class KitForm(FlaskForm):
    kit_item_id = SelectField(
        "Kit", coerce=coerce_id, validate_choice=False, validators=[InputRequired("Choose a kit.")]
    )
    site_id = site_field("Site", "Choose the site.")
    quantity = StringField(
        "Number of kits",
        filters=[strip_text],
        validators=[
            InputRequired(message="Enter how many kits."),
            Length(max=QUANTITY_TEXT_MAX_LENGTH),
        ],
    )
    action = RadioField(
        "Assemble or take apart",
        choices=[
            SelectChoice("assemble", "Assemble: make kits from their components"),
            SelectChoice("disassemble", "Take apart: put the components back on the shelf"),
        ],
        default="assemble",
    )
    effective_date = date_field()
    note = note_field()
    submit = SubmitField("Record")
