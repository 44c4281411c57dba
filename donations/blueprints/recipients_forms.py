"""The recipients admin forms: a program or partner agency, and renaming one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from donations.forms import strip_text
from donations.models import RecipientKind
from donations.services import accounts
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


class PartnerLoginForm(FlaskForm):
    """A partner agency's login: it sees only the agency's goods requests."""

    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[DataRequired(), Length(max=120)],
        description="The person at the agency who will sign in, such as its intake coordinator.",
    )
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX_LENGTH)],
        description="Share it with the person privately; they can change it after signing in.",
    )
    confirm = PasswordField(
        "Initial password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
    submit = SubmitField("Create the partner login")
