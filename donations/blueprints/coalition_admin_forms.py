"""The coalition admin's forms: a new member organisation with its first admin, another
admin for a member, and the report period."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from donations.blueprints.reports_forms import DatesForm
from donations.forms import strip_text


class NewMemberForm(FlaskForm):
    legal_name = StringField(
        "Legal name", filters=[strip_text], validators=[DataRequired(), Length(max=200)]
    )
    slug = StringField(
        "Address (slug)",
        filters=[strip_text],
        validators=[Optional(), Length(max=60)],
        description="Its pages live at /o/<slug>/; leave blank to make one from the name.",
    )
    default_currency = StringField(
        "Currency", filters=[strip_text], default="USD", validators=[Length(max=3)]
    )
    admin_name = StringField(
        "First admin's name", filters=[strip_text], validators=[DataRequired(), Length(max=120)]
    )
    admin_email = EmailField(
        "First admin's email",
        filters=[strip_text],
        validators=[DataRequired(), Length(max=254)],
        description="They are mailed a link to choose a password (or, with an account "
        "already, told to sign in).",
    )
    submit = SubmitField("Add and invite")


class InviteAdminForm(FlaskForm):
    admin_name = StringField(
        "Name", filters=[strip_text], validators=[DataRequired(), Length(max=120)]
    )
    admin_email = EmailField(
        "Email", filters=[strip_text], validators=[DataRequired(), Length(max=254)]
    )
    submit = SubmitField("Invite as admin")


class CoalitionPeriodForm(DatesForm):
    pass
