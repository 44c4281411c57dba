"""Sign in and out, change password, reset a forgotten password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from donations.authz import ANY_ROLE, public, roles_required
from donations.extensions import db, limiter
from donations.forms import show_domain_error, strip_text
from donations.services import accounts
from donations.services.errors import DomainError
from donations.services.links import absolute_url

bp = Blueprint("auth", __name__)

GENERIC_LOGIN_ERROR = "That email and password do not match an active account."


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip_text], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Sign in")


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


def _safe_next(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Sign a user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(
            email=form.email.data, password=form.password.data, remote_addr=request.remote_addr
        )
        if user is None:
            db.session.rollback()
            form.form_errors.append(GENERIC_LOGIN_ERROR)
        else:
            db.session.commit()
            login_user(user)
            flash(f"Signed in as {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("main.dashboard"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@roles_required(*ANY_ROLE)
def logout():
    """Sign the current user out."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
def change_password():
    """Let a signed-in user change their own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                user=current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            login_user(user)  # the session token changed; keep this browser signed in
            flash("Your password is changed. Other browsers you used are signed out.", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/reset-password", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def reset_request():
    """Email a password reset link, without saying whether the address is known."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(
            email=form.email.data,
            reset_url_for=lambda token: absolute_url("auth.reset_password", token=token),
        )
        db.session.commit()
        minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
        flash(
            "If that address belongs to an account, a reset link is on its way. "
            f"It works for {minutes} minutes.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str):
    """Set a new password from an emailed link."""
    try:
        accounts.user_for_reset_token(token)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token=token, new_password=form.password.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash("Your password is set. Sign in with it now.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)
