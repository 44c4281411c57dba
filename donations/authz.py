"""Authorization: one mechanism for every route.

Each view declares who may reach it with ``@public`` or ``@roles_required(...)``.
A single ``before_request`` hook enforces the declaration; a view that declares
nothing is refused, and ``check_every_view_declares_access`` makes the app refuse
to start with such a view, so a new route cannot be left open by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user, login_url
from flask_login.signals import user_accessed

from donations.extensions import db, login_manager
from donations.models import ORGANIZATION_ROLES, Role, User
from donations.services import two_factor, user_sessions
from donations.services.links import organization_url
from donations.services.organization import get_organization, remember_organization_name
from donations.services.organizations import start_endpoint
from donations.tenancy import HOME_ORGANIZATION_ID

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
# What a coalition admin's pages declare: no organisation role reaches them.
COALITION = "coalition"
ACCESS_ATTR = "_donations_access"
# Endpoints that belong to Flask itself rather than to a blueprint of ours.
_BUILTIN_ENDPOINTS = {"static"}
# What a signed-in user who must still set up two-step sign-in may reach.
TWO_FACTOR_SETUP_ENDPOINTS = {"auth.two_factor_setup", "auth.recovery_codes", "auth.logout"}


def public(view: F) -> F:
    """Let anyone, signed in or not, reach this view."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def coalition_required(view: F) -> F:
    """Let only coalition admins reach this view (deployment-wide pages; no member's
    records are on them)."""
    setattr(view, ACCESS_ATTR, frozenset({COALITION}))
    return view


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Let only signed-in users with one of ``roles`` reach this view."""
    if not roles:
        raise ValueError("name at least one role")
    allowed = frozenset(Role(r).value for r in roles)

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, allowed)
        return view

    return mark


# Every role of the organisation's own people. A partner agency's login is not one of
# them: it reaches only the views that name Role.PARTNER (its requests) or EVERY_ROLE.
ANY_ROLE = ORGANIZATION_ROLES
# Everyone who signs in, partner logins included: the account pages and signing out.
EVERY_ROLE = tuple(Role)
# What a view declaring EVERY_ROLE stores: it lets in anyone signed in, also someone who
# is no member of the organisation at this address (a coalition admin, a member elsewhere).
_EVERYONE_SIGNED_IN = frozenset(r.value for r in Role)


def access_of(endpoint: str) -> str | frozenset[str] | None:
    """Return what the endpoint declared: PUBLIC, a set of roles, or None."""
    if endpoint in _BUILTIN_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def home_url() -> str:
    """Where a signed-in user starts: a partner login at its requests, others the
    dashboard; someone who is no member here at their first organisation's dashboard,
    a coalition admin at the coalition pages."""
    if not current_user.is_authenticated:
        return url_for("main.home")
    if current_user.role == Role.PARTNER:
        return url_for("partner_requests.index")
    if current_user.role is not None:
        return url_for("main.dashboard")
    elsewhere = [m for m in current_user.memberships if m.active]
    if elsewhere:
        first = elsewhere[0]
        return organization_url(first.organization_id, start_endpoint(first.role))
    if current_user.coalition_admin:
        return organization_url(HOME_ORGANIZATION_ID, "coalition_admin.members")
    return url_for("main.home")


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the user of a live UserSession, or None."""
    found = user_sessions.load_session(session_id)
    g.user_session = found.session if found.user is not None else None
    if found.expired_idle:
        db.session.commit()  # the idle session stays revoked whatever the view does
        g.session_expired_idle = True
    return found.user


def two_factor_required(user: User) -> bool:
    """Say whether the organisation requires two-step sign-in of this user."""
    organization = get_organization()
    # The page header shows the organisation's name: keep it, so the page reads it no more.
    remember_organization_name(organization.legal_name if organization else "")
    return two_factor.is_required(
        user=user,
        organization=organization,
        default=current_app.config["TWO_FACTOR_REQUIRED_BY_DEFAULT"],
    )


def _signed_in() -> bool:
    """``current_user.is_authenticated``, loading the user as Flask-Login does.

    A request that carries no cookie at all (no session, no remember-me cookie) can only
    end as Flask-Login's anonymous user, since no request or header loader is set; it is
    made that user at once, without the session, cookie and header lookups on the way.
    """
    if (
        "_login_user" not in g
        and not request.cookies
        and login_manager._request_callback is None
        and getattr(login_manager, "_header_callback", None) is None
    ):
        user_accessed.send(current_app._get_current_object())
        login_manager._update_request_context_with_user()
    return current_user.is_authenticated


def enforce_access() -> Any:
    """Refuse the request unless the current user may reach its endpoint.

    Also ends idle sessions, notes when a session was last used, and sends
    admins and treasurers who must use two-step sign-in to set it up first.
    """
    endpoint = request.endpoint
    if endpoint is None or endpoint in _BUILTIN_ENDPOINTS:  # 404/405 handler, static files
        return None
    access = access_of(endpoint)
    signed_in = _signed_in()  # loads the user and checks the session
    if g.pop("session_expired_idle", False):
        minutes = current_app.config["IDLE_TIMEOUT_MINUTES"]
        flash(
            f"You were signed out after {minutes} minutes without activity. Sign in again.",
            "info",
        )
        if access != PUBLIC:
            next_url = request.url if request.method == "GET" else None
            return redirect(login_url("auth.login", next_url=next_url))
    record = g.get("user_session") if signed_in else None
    if record is not None and user_sessions.touch_session(record):
        db.session.commit()  # its own small unit of work, before the view's
    if access == PUBLIC:
        return None
    if not signed_in:
        return login_manager.unauthorized()
    if access is None:
        abort(403)
    if COALITION in access:
        if not current_user.coalition_admin:
            abort(403)
    elif access == _EVERYONE_SIGNED_IN:
        pass  # the account pages and signing out: whoever signed in, member here or not
    elif current_user.role not in access:
        # Not one of this organisation's people: its pages do not exist for them.
        abort(403 if current_user.role is not None else 404)
    if (
        endpoint not in TWO_FACTOR_SETUP_ENDPOINTS
        and not current_user.has_two_factor
        and two_factor_required(current_user)
    ):
        flash("Your organisation requires two-step sign-in: set it up to continue.", "info")
        return redirect(url_for("auth.two_factor_setup"))
    return None


def check_every_view_declares_access(app: Flask) -> None:
    """Raise if a registered view says neither public nor which roles."""
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in _BUILTIN_ENDPOINTS and getattr(view, ACCESS_ATTR, None) is None
    ]
    if missing:
        raise RuntimeError(f"views without an access declaration: {', '.join(sorted(missing))}")
