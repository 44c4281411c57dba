"""Signed-in browsers: one UserSession row each, checked on every request.

The session cookie keeps ``"<user id>:<token>"``; the database keeps only the
token's SHA-256. Signing out revokes the row, so a copied cookie (or a
remember-me cookie, which carries the same id) stops working at once. Admins
and treasurers are also signed out after ``IDLE_TIMEOUT_MINUTES`` without a
request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import Integer, Select, String, bindparam, func, select, update

from donations.extensions import db, hold
from donations.models import Membership, Organization, Role, User, UserSession, utcnow
from donations.services import payment_keys
from donations.services.audit import record_audit
from donations.services.sql_json import json_rows
from donations.tenancy import current_organization_id

# Roles whose sessions end after the idle timeout.
IDLE_LIMITED_ROLES = frozenset({Role.ADMIN, Role.TREASURER})
# last_seen_at is written at most this often, so most requests do not write.
TOUCH_EVERY = timedelta(seconds=60)


def now() -> datetime:
    """Return the current time; tests replace this to move the clock."""
    return utcnow()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoadedSession:
    """What loading a cookie found: the user, or why there is none."""

    user: User | None
    session: UserSession | None = None
    expired_idle: bool = False


def start_session(*, user: User, user_agent: str = "") -> str:
    """Record a new signed-in browser for the user and return its cookie id."""
    token = secrets.token_urlsafe(32)
    moment = now()
    record = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        created_at=moment,
        last_seen_at=moment,
        user_agent=user_agent[:200],
    )
    db.session.add(record)
    db.session.flush()
    user.session_key = f"{user.id}:{token}"
    return user.session_key


def idle_timeout() -> timedelta:
    return timedelta(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"])


def _membership_count() -> Any:
    """How many organisations the user belongs to (the switcher shows when several)."""
    return (
        select(func.count(Membership.id))
        .where(Membership.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )


def _switch_rows() -> Any:
    """The organisations the user may switch between (``organizations.switch_choices``):
    each active membership of an open organisation, with the organisation's name and slug,
    folded into one value (``sql_json``) so the page's switcher needs no query of its own.
    (Aliases of the tables: the outer query joins the current membership and organisation.)"""
    member = Membership.__table__.alias("switch_membership")
    organization = Organization.__table__.alias("switch_organization")
    folded = json_rows(
        member.c.organization_id, member.c.role, organization.c.legal_name, organization.c.slug
    )
    return (
        select(folded)
        .select_from(member)
        .join(organization, organization.c.id == member.c.organization_id)
        .where(
            member.c.user_id == User.id,
            member.c.active.is_(True),
            organization.c.archived_at.is_(None),
        )
        .correlate(User)
        .scalar_subquery()
    )


@cache
def _session_query() -> Select:
    """The query ``load_session`` makes on every signed-in request, built once: the
    organisation and the token's hash are its parameters. (Building it anew each time,
    some forty expression objects and their comparisons, cost more than running it.)"""
    organization_id = bindparam("organization_id", type_=Integer)
    return (
        select(
            UserSession,
            User,
            Membership,
            _membership_count(),
            _switch_rows(),
            Organization,
            *payment_keys.presence_columns(organization_id),
        )
        .join(User, User.id == UserSession.user_id)
        .outerjoin(
            Membership,
            (Membership.user_id == User.id) & (Membership.organization_id == organization_id),
        )
        .outerjoin(Organization, Organization.id == organization_id)
        .where(UserSession.token_hash == bindparam("token_hash", type_=String))
    )


def load_session(session_id: str) -> LoadedSession:
    """Return the active user a cookie id names, if its session is live.

    An idle admin or treasurer session is revoked here (flushed, not committed).
    """
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return LoadedSession(None)
    # The session, its user and the organisation profile in one query: every signed-in
    # request makes it, and reads the profile too (the two-step rule, the page header),
    # which is then held for ``get_organization`` to find in memory; and whether Stripe
    # keys are stored, for the page's test-mode banner.
    found = db.session.execute(
        _session_query(),
        {"organization_id": current_organization_id(), "token_hash": _hash(token)},
    ).first()
    if found is None:
        return LoadedSession(None)
    (
        record,
        user,
        membership,
        memberships,
        switch_rows,
        organization,
        stored_settings,
        stored_secret_key,
    ) = found
    user.remember_membership(
        current_organization_id(), membership, count=memberships, switch_rows=switch_rows
    )
    hold(organization)
    payment_keys.remember_stored_presence(
        payment_keys.StoredPresence(
            settings=bool(stored_settings), secret_key=bool(stored_secret_key)
        )
    )
    if record.revoked_at is not None:
        return LoadedSession(None)
    if not hmac.compare_digest(str(record.user_id), user_id):
        return LoadedSession(None)
    if not user.active:
        return LoadedSession(None)
    moment = now()
    limited = user.role in IDLE_LIMITED_ROLES or user.coalition_admin
    if limited and moment - record.last_seen_at > idle_timeout():
        record.revoked_at = moment
        record.revoked_reason = "idle"
        db.session.flush()
        return LoadedSession(None, record, expired_idle=True)
    user.session_key = session_id
    return LoadedSession(user, record)


def touch_session(record: UserSession) -> bool:
    """Note that the session was used now; return whether a write is due."""
    moment = now()
    if moment - record.last_seen_at < TOUCH_EVERY:
        return False
    record.last_seen_at = moment
    db.session.flush()
    return True


def revoke_session(*, record: UserSession, reason: str = "signed out") -> None:
    """End one signed-in browser."""
    if record.revoked_at is None:
        record.revoked_at = now()
        record.revoked_reason = reason
        db.session.flush()


def revoke_all_sessions(
    *, user: User, reason: str, keep: UserSession | None = None, actor: User | None = None
) -> int:
    """End every live session of the user (but ``keep``); return how many ended.

    With an actor the act is audited ("sign out everywhere").
    """
    query = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now(), revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    ended = db.session.execute(query).rowcount or 0
    if actor is not None:
        record_audit(
            actor=actor,
            action="user.sign_out_everywhere",
            object_type="user",
            object_id=user.id,
            summary=f"ended {ended} session{'' if ended == 1 else 's'}",
        )
    db.session.flush()
    return ended


def live_sessions(*, user: User) -> list[UserSession]:
    """Return the user's sessions that are not revoked, newest first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .order_by(UserSession.last_seen_at.desc())
        )
    )
