"""Forms of the public receipt pages: ask for a link to one's gifts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from donations.forms import strip_text


class GiftsLinkForm(FlaskForm):
    email = EmailField(
        "Your email",
        filters=[strip_text],
        validators=[DataRequired(), Email(), Length(max=254)],
        description="The address you gave with your gifts.",
    )
    submit = SubmitField("Email me a link")
