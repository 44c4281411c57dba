"""Authorization: one mechanism for every route.

Each view declares who may reach it with ``@public`` or ``@roles_required(...)``.
A single ``before_request`` hook enforces the declaration; a view that declares
nothing is refused, and ``check_every_view_declares_access`` makes the app refuse
to start with such a view, so a new route cannot be left open by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from donations.extensions import login_manager
from donations.models import Role

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
ACCESS_ATTR = "_donations_access"
# Endpoints that belong to Flask itself rather than to a blueprint of ours.
_BUILTIN_ENDPOINTS = {"static"}


def public(view: F) -> F:
    """Let anyone, signed in or not, reach this view."""
    setattr(view, ACCESS_ATTR, PUBLIC)
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


ANY_ROLE = tuple(Role)


def access_of(endpoint: str) -> str | frozenset[str] | None:
    """Return what the endpoint declared: PUBLIC, a set of roles, or None."""
    if endpoint in _BUILTIN_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def enforce_access() -> Any:
    """Refuse the request unless the current user may reach its endpoint."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404/405 handler answers
        return None
    access = access_of(endpoint)
    if access == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if access is None or current_user.role not in access:
        abort(403)
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
