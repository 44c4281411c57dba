"""The forms of the stock pages: filters, stock as of a date, and reversing a document."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from donations.forms import QuickSelect, strip_text
from donations.models import DocumentKind
from donations.services import inventory

SEARCH_MAX_LENGTH = 100
SHOW_CHOICES = (
    ("held", "Items held or with a par level"),
    ("under", "Only items under par"),
    ("all", "Every active item"),
)


class StockFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        "Item name or code", filters=[strip_text], validators=[Length(max=SEARCH_MAX_LENGTH)]
    )
    site = SelectField("Site", default="", widget=QuickSelect())
    category = SelectField("Category", default="", widget=QuickSelect())
    show = SelectField(
        "Show",
        widget=QuickSelect(),
        choices=[SelectChoice(value, label) for value, label in SHOW_CHOICES],
        default="held",
    )


class LedgerFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "All kinds")]
        + [SelectChoice(k.value, k.label) for k in DocumentKind],
        default="",
    )
    site = SelectField("Site", default="")
    date_from = DateField("Dated from", validators=[Optional()])
    date_to = DateField("Dated to", validators=[Optional()])


class AsOfForm(FlaskForm):
    class Meta:
        csrf = False

    site = SelectField("Site", validators=[DataRequired(message="Choose a site.")])
    day = DateField(
        "At the end of", validators=[InputRequired(message="Enter a date, such as 2026-01-31.")]
    )


class ReverseForm(FlaskForm):
    note = TextAreaField(
        "Why is it being reversed?",
        filters=[strip_text],
        validators=[
            DataRequired(message="Say why it is being reversed."),
            Length(max=inventory.NOTE_MAX_LENGTH),
        ],
        description="For example: entered twice, or the wrong site. Kept with the reversal.",
    )
