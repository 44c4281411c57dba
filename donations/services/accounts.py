"""Accounts: users, roles, passwords, sign-in and password reset."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from donations.extensions import db
from donations.models import (
    Membership,
    Recipient,
    RecipientKind,
    Role,
    User,
    UserSession,
    new_session_token,
    utcnow,
)
from donations.services import user_sessions
from donations.services.audit import describe_changes, record_audit
from donations.services.errors import DuplicateEmail, InvalidInput, NotAllowed, NotFound
from donations.services.mail import queue_mail
from donations.tenancy import current_organization_id

log = logging.getLogger(__name__)

PASSWORD_MAX_LENGTH = 200
_RESET_SALT = "donations.password-reset"


@functools.cache
def _dummy_hash(method: str) -> str:
    """Return a hash to check against when the email is unknown, so both answers take as long."""
    return generate_password_hash("not a real password, only for timing", method=method)


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalize_email(email: str) -> str:
    """Return the email trimmed and lower-cased, the form it is stored in."""
    return email.strip().lower()


def check_password_rules(password: str, *, field: str = "password") -> None:
    """Raise InvalidInput if the password is too short or too long."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise InvalidInput(f"Use at least {minimum} characters.", field=field)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(f"Use at most {PASSWORD_MAX_LENGTH} characters.", field=field)


def _here() -> Any:
    """Memberships of the current organisation (the join condition)."""
    return Membership.organization_id == current_organization_id()


def members() -> Select[tuple[User]]:
    """Users with a membership (of any status) in the current organisation."""
    return select(User).join(Membership, (Membership.user_id == User.id) & _here())


def active_members(*roles: Role) -> Select[tuple[User]]:
    """Users who may sign in here now, with one of ``roles`` (any role when none)."""
    query = members().where(Membership.active.is_(True), User.active.is_(True))
    return query.where(Membership.role.in_(roles)) if roles else query


def get_user(user_id: int) -> User:
    """Return the member of the current organisation with this id, or raise NotFound."""
    user = db.session.scalar(members().where(User.id == user_id))
    if user is None:
        raise NotFound("No such user.")
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def list_users() -> list[User]:
    """Return the current organisation's people, active ones first, then by name."""
    return list(
        db.session.scalars(
            members()
            .options(selectinload(User.memberships))
            .order_by(Membership.active.desc(), User.name, User.id)
        )
    )


def _ensure_email_free(email: str, *, except_id: int | None = None) -> None:
    query = select(User.id).where(User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    if db.session.scalar(query) is not None:
        raise DuplicateEmail("Another user already has this email address.", field="email")


def _active_admin_count(*, excluding: int) -> int:
    return db.session.scalar(
        active_members(Role.ADMIN)
        .where(User.id != excluding)
        .with_only_columns(func.count(User.id))
    )


def membership_of(user: User) -> Membership:
    """The user's membership of the current organisation (active or not)."""
    found = next(
        (m for m in user.memberships if m.organization_id == current_organization_id()), None
    )
    if found is None:
        raise NotFound("No such user.")
    return found


AGENCY_FIELD = "recipient_id"  # the form field a partner login's agency is chosen in


def partner_agencies() -> list[Recipient]:
    """The open partner agencies a login may be for, by name."""
    return list(
        db.session.scalars(
            select(Recipient)
            .where(Recipient.kind == RecipientKind.PARTNER, Recipient.active.is_(True))
            .order_by(func.lower(Recipient.name))
        )
    )


def _partner_agency(recipient_id: int | None) -> Recipient:
    """The open partner agency a partner login is for, or refuse."""
    agency = db.session.get(Recipient, recipient_id) if recipient_id else None
    if agency is None or agency.kind != RecipientKind.PARTNER:
        raise InvalidInput(
            "A partner login belongs to a partner agency: choose one.", field=AGENCY_FIELD
        )
    if not agency.active:
        raise InvalidInput(
            f"{agency.name} is archived; reopen it before adding a login.", field=AGENCY_FIELD
        )
    return agency


def _no_agency_unless_partner(role: Role, recipient_id: int | None) -> None:
    if role != Role.PARTNER and recipient_id is not None:
        raise InvalidInput(
            "Only a partner login belongs to a partner agency: choose the partner role, "
            "or no agency.",
            field=AGENCY_FIELD,
        )


def create_user(
    *,
    actor: User | None,
    email: str,
    name: str,
    role: Role | str,
    password: str,
    recipient_id: int | None = None,
) -> User:
    """Make someone a member of the current organisation with ``role``.

    A new email gets an account with this password; an account that exists (a member
    of another organisation) gains the membership and keeps its own password. A
    partner login (``Role.PARTNER``) names its open partner agency; no other user does.
    """
    email = normalize_email(email)
    role = Role(role)
    _no_agency_unless_partner(role, recipient_id)
    agency = _partner_agency(recipient_id) if role == Role.PARTNER else None
    user = find_user_by_email(email)
    if user is not None:
        if any(m.organization_id == current_organization_id() for m in user.memberships):
            raise DuplicateEmail("Another user already has this email address.", field="email")
        user.active = True
    else:
        check_password_rules(password)
        user = User(
            email=email,
            name=name.strip(),
            active=True,
            password_hash=_hash(password),
            password_changed_at=utcnow(),
            session_token=new_session_token(),
        )
        db.session.add(user)
    membership = Membership(
        organization_id=current_organization_id(),
        role=role,
        recipient_id=agency.id if agency is not None else None,
        active=True,
    )
    user.memberships.append(membership)
    db.session.flush()
    record_audit(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        summary=f"created {email} as {role.value}"
        + (f" for {agency.name}" if agency is not None else ""),
    )
    return user


def create_coalition_admin(*, actor: User | None, email: str, name: str, password: str) -> User:
    """An account that runs the coalition (adds members, invites their admins, reads the
    coalition report) and belongs to no organisation until made a member of one."""
    email = normalize_email(email)
    _ensure_email_free(email)
    check_password_rules(password)
    user = User(
        email=email,
        name=name.strip(),
        active=True,
        coalition_admin=True,
        password_hash=_hash(password),
        password_changed_at=utcnow(),
        session_token=new_session_token(),
    )
    db.session.add(user)
    db.session.flush()
    record_audit(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        summary=f"created {email} as coalition admin",
    )
    return user


def set_coalition_admin(*, actor: User | None, user: User, coalition_admin: bool) -> User:
    """Make an account a coalition admin, or no longer one."""
    if user.coalition_admin != coalition_admin:
        user.coalition_admin = coalition_admin
        db.session.flush()
        record_audit(
            actor=actor,
            action="user.update",
            object_type="user",
            object_id=user.id,
            summary="coalition admin" if coalition_admin else "no longer coalition admin",
        )
    return user


def partner_logins(recipient_id: int) -> list[User]:
    """The logins of one partner agency, by name."""
    return list(
        db.session.scalars(
            members().where(Membership.recipient_id == recipient_id).order_by(func.lower(User.name))
        )
    )


def _agency_name(membership: Membership) -> str | None:
    return membership.recipient.name if membership.recipient is not None else None


def _elsewhere(user: User) -> bool:
    """Whether the user also belongs to another organisation."""
    return any(m.organization_id != current_organization_id() for m in user.memberships)


def update_user(
    *,
    actor: User | None,
    user: User,
    email: str,
    name: str,
    role: Role | str,
    active: bool,
    recipient_id: int | None = None,
) -> User:
    """Change a member's role or active flag here, a partner login's agency, or (for
    someone of this organisation alone) their email and name.

    ``recipient_id`` None keeps a partner login's agency; another moves it to that open
    partner agency. Refuses to leave the organisation without an active admin.
    """
    membership = membership_of(user)
    email = normalize_email(email)
    name = name.strip()
    role = Role(role)
    if (role == Role.PARTNER) != (membership.role == Role.PARTNER):
        raise NotAllowed(
            "A partner agency's login stays a partner login, and no other user becomes one: "
            "add a new user instead.",
            field="role",
        )
    _no_agency_unless_partner(role, recipient_id)
    moved_to = None
    if recipient_id is not None and recipient_id != membership.recipient_id:
        moved_to = _partner_agency(recipient_id)
    if (email != user.email or name != user.name) and _elsewhere(user):
        raise NotAllowed(
            f"{user.name} also belongs to another organisation: they change their own name "
            "and email.",
            field="email" if email != user.email else "name",
        )
    _ensure_email_free(email, except_id=user.id)
    loses_admin = membership.role == Role.ADMIN and (role != Role.ADMIN or not active)
    if loses_admin and membership.active and _active_admin_count(excluding=user.id) == 0:
        raise NotAllowed(
            "This is the only active admin: make another user admin first.",
            field="role" if role != Role.ADMIN else "active",
        )
    fields = {"email": user.email, "name": user.name, "role": membership.role}
    before = fields | {"active": membership.active, "agency": _agency_name(membership)}
    user.email = email
    user.name = name
    membership.role = role
    if moved_to is not None:  # it sees the new agency's requests, no longer the old one's
        membership.recipient = moved_to
    if membership.active and not active:
        others_active = any(
            m.active and m.organization_id != membership.organization_id for m in user.memberships
        )
        if not others_active:  # nowhere left to sign in to: end the account's sessions
            user.session_token = new_session_token()
            user_sessions.revoke_all_sessions(user=user, reason="deactivated")
            user.active = False
    elif active:
        user.active = True
    membership.active = active
    after = {"email": user.email, "name": user.name, "role": membership.role} | {
        "active": membership.active,
        "agency": _agency_name(membership),
    }
    changes = describe_changes(before, after)
    if changes:
        db.session.flush()
        record_audit(
            actor=actor,
            action="user.update",
            object_type="user",
            object_id=user.id,
            summary=changes,
        )
    return user


def set_user_active(*, actor: User | None, user: User, active: bool) -> User:
    """Activate or deactivate a member here, keeping everything else."""
    membership = membership_of(user)
    return update_user(
        actor=actor,
        user=user,
        email=user.email,
        name=user.name,
        role=membership.role,
        active=active,
    )


def _set_password(user: User, new_password: str, *, keep: UserSession | None = None) -> None:
    user.password_hash = _hash(new_password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    user_sessions.revoke_all_sessions(user=user, reason="password changed", keep=keep)


def change_password(
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session: UserSession | None = None,
) -> User:
    """Change the user's own password after checking the current one.

    Other browsers the user was signed in with are signed out; ``keep_session``
    (the one making the change) stays signed in.
    """
    if not check_password_hash(user.password_hash, current_password):
        raise InvalidInput("That is not your current password.", field="current_password")
    check_password_rules(new_password, field="new_password")
    if check_password_hash(user.password_hash, new_password):
        raise InvalidInput(
            "Choose a password different from the current one.", field="new_password"
        )
    _set_password(user, new_password, keep=keep_session)
    db.session.flush()
    record_audit(actor=user, action="user.password_change", object_type="user", object_id=user.id)
    return user


def set_password_by_admin(*, actor: User | None, user: User, new_password: str) -> User:
    """Set a user's password without the old one (command line)."""
    check_password_rules(new_password)
    _set_password(user, new_password)
    db.session.flush()
    record_audit(actor=actor, action="user.password_set", object_type="user", object_id=user.id)
    return user


def authenticate(*, email: str, password: str, remote_addr: str | None = None) -> User | None:
    """Return the active user with these credentials, or None.

    Every failure looks the same to the caller; the log says which it was.
    """
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        log.warning("sign-in failed: unknown email %r from %s", normalize_email(email), remote_addr)
        return None
    if not check_password_hash(user.password_hash, password):
        log.warning("sign-in failed: wrong password for user %s from %s", user.id, remote_addr)
        return None
    if not user.active:
        log.warning("sign-in failed: inactive user %s from %s", user.id, remote_addr)
        return None
    user.last_login_at = utcnow()
    db.session.flush()
    return user


# --- password reset -------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _password_fingerprint(user: User) -> str:
    # Changes when the password does, so a link works once at most.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_password_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"u": user.id, "p": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User:
    """Return the user a reset token was made for, or raise InvalidInput."""
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidInput("This reset link has expired: ask for a new one.") from None
    except BadSignature:
        raise InvalidInput("This reset link is not valid: ask for a new one.") from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        raise InvalidInput("This reset link has already been used or is no longer valid.")
    return user


def request_password_reset(*, email: str, reset_url_for: Callable[[str], str]) -> None:
    """Queue a reset email if an active user has this address; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        log.info("password reset asked for unknown or inactive email %r", normalize_email(email))
        return
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    link = reset_url_for(make_password_reset_token(user))
    queue_mail(
        kind="password_reset",
        to=user.email,
        subject="Reset your password",
        body_text=(
            f"Hello {user.name},\n\n"
            f"Someone (we hope you) asked to reset the password for {user.email}.\n"
            f"Open this link within {minutes} minutes to choose a new password:\n\n"
            f"{link}\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n"
        ),
        sensitive=True,
    )
    record_audit(
        actor=None, action="user.password_reset_requested", object_type="user", object_id=user.id
    )


def reset_password(*, token: str, new_password: str) -> User:
    """Set a new password from a valid reset token."""
    user = user_for_reset_token(token)
    check_password_rules(new_password, field="password")
    _set_password(user, new_password)
    db.session.flush()
    record_audit(actor=user, action="user.password_reset", object_type="user", object_id=user.id)
    return user
