"""The recipients admin forms: a program or partner agency, and renaming one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from donations.forms import strip_text
from donations.models import RecipientKind
from donations.services import recipients as recipient_service

CONTACT_HINT = (
    "Optional: how to reach the agency itself, such as its intake desk or general line. "
    "Never a client's details."
)


class RecipientForm(FlaskForm):
    kind = RadioField(
        "Kind",
        choices=[
            SelectChoice(RecipientKind.PROGRAM.value, "Program: one of our own services"),
            SelectChoice(
                RecipientKind.PARTNER.value,
                "Partner agency: another organisation (legal aid, a clinic, a shelter)",
            ),
        ],
        default=RecipientKind.PROGRAM.value,
        validators=[InputRequired(message="Choose program or partner agency.")],
    )
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            InputRequired(message="Name the program or partner agency."),
            Length(max=recipient_service.NAME_MAX_LENGTH),
        ],
        description="Such as Residential program or Safe Passage clinic. Never a person's name.",
    )
    contact = StringField(
        "Agency contact (partners only)",
        filters=[strip_text],
        validators=[Length(max=recipient_service.CONTACT_MAX_LENGTH)],
        description=CONTACT_HINT,
    )
    submit = SubmitField("Add")


class RenameForm(FlaskForm):
    name = RecipientForm.name
    contact = RecipientForm.contact
    submit = SubmitField("Save changes")
