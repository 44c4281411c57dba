"""Sign in and out (with a second step when set up), the account page, passwords."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from donations.authz import EVERY_ROLE, home_url, public, roles_required, two_factor_required
from donations.blueprints.auth_forms import (
    ChangePasswordForm,
    CodeForm,
    LoginForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from donations.extensions import limiter
from donations.forms import EmptyForm
from donations.models import User
from donations.services import accounts, two_factor, user_sessions
from donations.services.links import absolute_url
from donations.services.organization import current_organization_name
from donations.unit_of_work import unit_of_work

bp = Blueprint("auth", __name__)

GENERIC_LOGIN_ERROR = "That email and password do not match an active account."


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


# Seconds between the password and the second step before signing in starts over.
PENDING_SECOND_STEP_SECONDS = 300
_PENDING = "pending_second_step"


def _pending_user_key() -> str:
    """Rate-limit key for the second step: the account, whatever the address."""
    pending = session.get(_PENDING) or {}
    return f"second-step:{pending.get('user_id', request.remote_addr)}"


def _start_session(user: User) -> None:
    """Start a server-side session for this browser (the caller's unit of work commits it)."""
    user_sessions.start_session(user=user, user_agent=request.user_agent.string or "")


def _finish_sign_in(user: User, next_url: str | None, message: str | None = None):
    """Sign the user in once their session is committed."""
    login_user(user)
    flash(message or f"Signed in as {user.name}.", "success")
    return redirect(_safe_next(next_url) or home_url())


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Sign a user in."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            user = accounts.authenticate(
                email=form.email.data, password=form.password.data, remote_addr=request.remote_addr
            )
            if user is None or user.has_two_factor:
                # Keep nothing: with two steps, the sign-in is recorded after the second step.
                work.discard()
            else:
                _start_session(user)
        if user is None:
            form.form_errors.append(GENERIC_LOGIN_ERROR)
        elif user.has_two_factor:
            session[_PENDING] = {
                "user_id": user.id,
                "at": int(user_sessions.now().timestamp()),
                "next": _safe_next(request.args.get("next")),
            }
            return redirect(url_for("auth.second_step"))
        else:
            return _finish_sign_in(user, request.args.get("next"))
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_user_key)
def second_step():
    """Ask for the one-time code (or a recovery code) after the password."""
    if current_user.is_authenticated:
        return redirect(home_url())
    pending = session.get(_PENDING)
    user = None
    elapsed = user_sessions.now().timestamp() - (pending or {}).get("at", 0)
    if isinstance(pending, dict) and elapsed < PENDING_SECOND_STEP_SECONDS:
        user = two_factor.user_by_id(pending.get("user_id"))
    if user is None or not user.active or not user.has_two_factor:
        session.pop(_PENDING, None)
        flash("Sign in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        message = None
        with unit_of_work(form) as work:
            used = two_factor.verify_second_factor(user=user, code=form.code.data)
            if used == "recovery":
                left = two_factor.unused_recovery_codes(user=user)
                message = (
                    f"Signed in with a recovery code; {left} left. "
                    "Make new ones on your account page if you are running low."
                )
            _start_session(user)
        if work.ok:
            session.pop(_PENDING, None)
            return _finish_sign_in(user, pending.get("next"), message)
    return render_template("auth/second_step.html", form=form)


@bp.post("/logout")
@roles_required(*EVERY_ROLE)
def logout():
    """Sign this browser out; its session cookie stops working at once."""
    if g.get("user_session") is not None:
        with unit_of_work():
            user_sessions.revoke_session(record=g.user_session)
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


# --- account page and two-step sign-in ------------------------------------


@bp.get("/account")
@roles_required(*EVERY_ROLE)
def account():
    """Show the user's sign-in settings: password, two-step sign-in, sessions."""
    return render_template(
        "auth/account.html",
        form=EmptyForm(),
        required=two_factor_required(current_user),
        recovery_left=two_factor.unused_recovery_codes(user=current_user),
        sessions=user_sessions.live_sessions(user=current_user),
        current_session=g.get("user_session"),
    )


_SETUP_SECRET = "two_factor_setup_secret"  # noqa: S105 (a session key, not a secret)
_NEW_CODES = "two_factor_new_codes"


@bp.route("/account/two-step", methods=["GET", "POST"])
@roles_required(*EVERY_ROLE)
@limiter.limit(_login_limit, methods=["POST"])
def two_factor_setup():
    """Set up an authenticator app: scan the QR code, then confirm with a code."""
    if current_user.has_two_factor:
        return redirect(url_for("auth.account"))
    secret = session.get(_SETUP_SECRET)
    if not isinstance(secret, str) or not secret:
        secret = session[_SETUP_SECRET] = two_factor.new_secret()
    form = CodeForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            codes = two_factor.enable_two_factor(
                user=current_user, secret=secret, code=form.code.data
            )
        if work.ok:
            session.pop(_SETUP_SECRET, None)
            session[_NEW_CODES] = codes
            flash("Two-step sign-in is on.", "success")
            return redirect(url_for("auth.recovery_codes"))
    uri = two_factor.provisioning_uri(
        secret=secret, email=current_user.email, issuer=current_organization_name()
    )
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr=two_factor.qr_data_uri(uri),
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        required=two_factor_required(current_user),
    )


@bp.get("/account/recovery-codes")
@roles_required(*EVERY_ROLE)
def recovery_codes():
    """Show newly made recovery codes, once."""
    codes = session.pop(_NEW_CODES, None)
    if not codes:
        flash("Recovery codes are shown only once, when they are made.", "info")
        return redirect(url_for("auth.account"))
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.post("/account/recovery-codes")
@roles_required(*EVERY_ROLE)
def regenerate_recovery_codes():
    """Replace the recovery codes with ten new ones."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as work:
        codes = two_factor.regenerate_recovery_codes(user=current_user)
    if not work.ok:
        return redirect(url_for("auth.account"))
    session[_NEW_CODES] = codes
    flash("New recovery codes made; the old ones no longer work.", "success")
    return redirect(url_for("auth.recovery_codes"))


@bp.post("/account/two-step/off")
@roles_required(*EVERY_ROLE)
def disable_two_factor():
    """Turn off two-step sign-in, where the organisation does not require it."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as work:
        two_factor.disable_two_factor(user=current_user, required=two_factor_required(current_user))
    if work.ok:
        flash("Two-step sign-in is off.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sign-out-everywhere")
@roles_required(*EVERY_ROLE)
def sign_out_everywhere():
    """Sign the user out of every browser, this one included."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        user_sessions.revoke_all_sessions(
            user=current_user, reason="signed out everywhere", actor=current_user
        )
    logout_user()
    flash("You are signed out on every device and browser.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required(*EVERY_ROLE)
def change_password():
    """Let a signed-in user change their own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            accounts.change_password(
                user=current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                keep_session=g.get("user_session"),
            )
        if work.ok:
            flash("Your password is changed. Other browsers you used are signed out.", "success")
            return redirect(home_url())
    return render_template("auth/change_password.html", form=form)


@bp.route("/reset-password", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def reset_request():
    """Email a password reset link, without saying whether the address is known."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        with unit_of_work():
            accounts.request_password_reset(
                email=form.email.data,
                reset_url_for=lambda token: absolute_url("auth.reset_password", token=token),
            )
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
    with unit_of_work(flash_errors=True, read_only=True) as check:
        accounts.user_for_reset_token(token)
    if not check.ok:
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            accounts.reset_password(token=token, new_password=form.password.data)
        if work.ok:
            flash("Your password is set. Sign in with it now.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)
