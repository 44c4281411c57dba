"""The sign-in, second-step code, password change and password reset forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from donations.forms import strip_text
from donations.services import accounts


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip_text], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Sign in")


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        filters=[strip_text],
        validators=[DataRequired(message="Enter the code."), Length(max=40)],
    )
    submit = SubmitField("Continue")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX_LENGTH)]
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )
    submit = SubmitField("Change password")


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "Email", filters=[strip_text], validators=[DataRequired(), Email(), Length(max=254)]
    )
    submit = SubmitField("Email me a reset link")


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX_LENGTH)]
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
    submit = SubmitField("Set new password")
