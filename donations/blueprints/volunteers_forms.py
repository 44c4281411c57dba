"""Forms of the volunteer pages: the public sign-up, and staff's records, shifts and hours."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from donations.forms import strip_text
from donations.models import CheckStatus, ServiceType
from donations.money import AmountError, parse_amount

TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (no JavaScript, thumb-sized on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignUpForm(FlaskForm):
    name = StringField(
        "Your name", filters=[strip_text], validators=[DataRequired(), Length(max=120)]
    )
    email = EmailField(
        "Your email",
        filters=[strip_text],
        validators=[DataRequired(), Email(), Length(max=254)],
        description="We send a link to confirm it; your sign-up counts once you open it.",
    )
    phone = StringField("Phone (optional)", filters=[strip_text], validators=[Length(max=40)])
    profession = StringField(
        "Profession (optional)",
        filters=[strip_text],
        validators=[Length(max=120)],
        description="If you offer professional help: lawyer, doctor, nurse, accountant ...",
    )
    skills = CheckboxesField("Skills you offer", validate_choice=False)
    languages = StringField(
        "Languages you translate",
        filters=[strip_text],
        validators=[Length(max=200)],
        description="If you offer translation, e.g. Spanish, Tagalog, Ukrainian.",
    )
    days = CheckboxesField("Days you are usually free", validate_choice=False)
    availability = TextAreaField(
        "When you are available (optional)",
        validators=[Length(max=500)],
        description="E.g. weekday evenings, two Saturdays a month.",
    )
    terms = BooleanField("I accept the volunteer terms above.")


class LinkForm(FlaskForm):
    email = EmailField(
        "Your email",
        filters=[strip_text],
        validators=[DataRequired(), Email(), Length(max=254)],
        description="The address you signed up with.",
    )


class DecisionForm(FlaskForm):
    decision = SelectField(
        "Decision",
        choices=[SelectChoice("approve", "Approve"), SelectChoice("decline", "Decline")],
        validate_choice=False,
    )


class RecordForm(FlaskForm):
    background_check = SelectField(
        "Background check",
        choices=[SelectChoice(c.value, c.label) for c in CheckStatus],
        validate_choice=False,
    )
    checked_on = DateField("Check done on", validators=[Optional()])
    check_expires_on = DateField(
        "Check valid until",
        validators=[Optional()],
        description="Left blank for a cleared check: two years after it was done.",
    )
    training_completed_on = DateField("Training done on", validators=[Optional()])
    active = BooleanField("Active")
    notes = TextAreaField(
        "Notes",
        validators=[Length(max=2000)],
        description="About the volunteer's help only: never the names or contact details of "
        "the people you serve.",
    )


class HoursForm(FlaskForm):
    worked_on = DateField("Day", validators=[Optional()])
    hours = StringField("Hours", filters=[strip_text], description="E.g. 2.5 or 2:30.")
    description = StringField("What was done", filters=[strip_text], validators=[Length(max=300)])


class OpportunityForm(FlaskForm):
    title = StringField("Title", filters=[strip_text], validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=4000)])


class ShiftForm(FlaskForm):
    site_id = SelectField("Site", coerce=int, validate_choice=False)
    starts_at = DateTimeLocalField("Starts (UTC)", format=TIME_FORMATS, validators=[Optional()])
    ends_at = DateTimeLocalField("Ends (UTC)", format=TIME_FORMATS, validators=[Optional()])
    capacity = IntegerField(
        "Places", validators=[Optional(), NumberRange(min=1, max=1000)], default=4
    )
    sensitive = BooleanField(
        "Sensitive: only volunteers with a background check valid on the day (admins)"
    )


class AttendanceForm(FlaskForm):
    checked_in_at = DateTimeLocalField(
        "Check-in (UTC)", format=TIME_FORMATS, validators=[Optional()]
    )
    checked_out_at = DateTimeLocalField(
        "Check-out (UTC)", format=TIME_FORMATS, validators=[Optional()]
    )
    hours = StringField("Or hours", filters=[strip_text], description="E.g. 3 or 2:45.")


class SkillForm(FlaskForm):
    name = StringField(
        "New skill", filters=[strip_text], validators=[DataRequired(), Length(max=60)]
    )
    asks_languages = BooleanField("Ask which languages")


class ServiceForm(FlaskForm):
    """A professional service given without charge; the rate is for the books only."""

    service_type = SelectField(
        "Service",
        choices=[SelectChoice("", "Choose …")]
        + [SelectChoice(t.value, t.label) for t in ServiceType],
        validate_choice=False,
    )
    service_date = DateField("Date of the service", validators=[Optional()])
    hours = StringField("Hours", filters=[strip_text], description="E.g. 2.5 or 2:30.")
    description = TextAreaField(
        "What was done",
        filters=[strip_text],
        validators=[Length(max=500)],
        description="Printed on the acknowledgement: never the names or details of the people "
        "served.",
    )
    program_id = SelectField(
        "Program served", coerce=int, validate_choice=False, choices=[SelectChoice(0, "—")]
    )
    fair_rate = StringField(
        "Fair hourly rate",
        filters=[strip_text],
        validators=[Length(max=30)],
        description="What the service would cost per hour: for the grant report only, never "
        "on the letter.",
    )

    # Set by the view: the currency the rate is read in.
    currency = "USD"
    fair_rate_cents: int | None = None

    def validate_fair_rate(self, field: StringField) -> None:
        self.fair_rate_cents = None
        if not field.data:
            return
        try:
            self.fair_rate_cents = parse_amount(field.data, self.currency)
        except AmountError as error:
            raise ValidationError(str(error)) from None


class VoidServiceForm(FlaskForm):
    reason = StringField(
        "Why void it", filters=[strip_text], validators=[DataRequired(), Length(max=300)]
    )
