"""The donor form, the merge form and the donor search boxes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    SearchField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from donations.forms import strip_text
from donations.ranges import BoundedIntegerField
from donations.services import donors

SEARCH_MAX_LENGTH = 200
MAX = donors.MAX_LENGTHS


class DonorForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[DataRequired(message="Enter the donor's name."), Length(max=MAX["name"])],
        description="A person's full name, or an organisation's name as receipts should show it.",
    )
    email = EmailField(
        "Email",
        filters=[strip_text],
        validators=[Optional(), Email(), Length(max=MAX["email"])],
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
    is_organization = BooleanField(
        "This donor is an organisation",
        description="A business, church, club or foundation rather than a person.",
    )
    prefers_anonymous = BooleanField(
        "Don't show my name publicly",
        description="Leave this donor out of public thank-you lists and newsletters.",
    )
    notes = TextAreaField(
        "Notes",
        filters=[strip_text],
        validators=[Length(max=MAX["notes"])],
        description="Seen only by treasurers and admins. Changes are logged, their text is not.",
    )
    submit = SubmitField("Save")

    def donor_fields(self) -> dict[str, object]:
        """Return the submitted values keyed by donor field name."""
        return {name: self[name].data for name in donors.DONOR_FIELDS}


class MergeForm(FlaskForm):
    other_id = BoundedIntegerField(
        widget=HiddenInput(),
        range_message="There is no donor #{value}.",
        validators=[InputRequired(message="Choose the duplicate donor first.")],
    )
    submit = SubmitField("Merge")


class SearchForm(Form):
    """A GET search box; no CSRF token, since searching changes nothing."""

    q = SearchField(
        "Name or email", filters=[strip_text], validators=[Length(max=SEARCH_MAX_LENGTH)]
    )


class LookupForm(Form):
    q = SearchField("Donor name", filters=[strip_text], validators=[Length(max=SEARCH_MAX_LENGTH)])


def search_text(form: Form) -> str:
    """Return the validated search text, or blank when it is too long."""
    if not form.validate():
        return ""
    return form.q.data or ""
