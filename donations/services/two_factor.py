"""Two-step sign-in: time-based one-time codes (RFC 6238) and recovery codes.

The TOTP secret is kept on the user once enrolment is confirmed and never
shown again. Each accepted code records its time step, so a code cannot be
used twice. Recovery codes are random, stored as SHA-256, and work once each.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets

import pyotp
import segno
from sqlalchemy import delete, func, select

from donations.extensions import db
from donations.models import Organization, RecoveryCode, Role, User
from donations.services import user_sessions
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed

ISSUER = "Donations"
RECOVERY_CODE_COUNT = 10
# Letters and digits that cannot be mistaken for one another.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
REQUIRED_ROLES = frozenset({Role.ADMIN, Role.TREASURER})


def new_secret() -> str:
    """Return a fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def user_by_id(user_id: int | None) -> User | None:
    """Return the user waiting for their second step, or None."""
    return db.session.get(User, user_id)


def provisioning_uri(*, secret: str, email: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """Return the URI as an SVG QR code in a data: URI (the CSP allows data: images)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def is_required(*, user: User, organization: Organization | None, default: bool) -> bool:
    """Say whether this user must use two-step sign-in.

    ``default`` applies before the organisation profile exists (a new installation).
    """
    required = organization.require_two_factor if organization is not None else default
    return required and (user.role in REQUIRED_ROLES or user.coalition_admin)


def _clean_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_counter(secret: str, code: str, last_counter: int | None) -> int | None:
    """Return the time step the code belongs to (now, or one step either side)."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    moment = user_sessions.now()
    current = totp.timecode(moment)
    for offset in (0, -1, 1):
        counter = current + offset
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_clean_code(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c)) for c in codes)
    db.session.flush()
    return codes


def enable_two_factor(*, user: User, secret: str, code: str) -> list[str]:
    """Turn on two-step sign-in once the user proves their app shows the right code.

    Returns the ten recovery codes, to be shown once.
    """
    if user.has_two_factor:
        raise NotAllowed("Two-step sign-in is already on for this account.")
    counter = _matching_counter(secret, _clean_code(code), None)
    if counter is None:
        raise InvalidInput(
            "That code does not match. Check the clock on your phone and enter the code "
            "your app shows now.",
            field="code",
        )
    user.totp_secret = secret
    user.totp_enabled_at = user_sessions.now()
    user.totp_last_counter = counter
    codes = _new_recovery_codes(user)
    record_audit(actor=user, action="user.two_factor_enable", object_type="user", object_id=user.id)
    return codes


def verify_second_factor(*, user: User, code: str) -> str:
    """Accept a one-time code or an unused recovery code; return which was used.

    Raises InvalidInput when neither matches. A code works only once. On
    success the user's sign-in time is recorded, as the password step does
    for users without a second factor.
    """
    if not user.has_two_factor:
        raise NotAllowed("Two-step sign-in is not on for this account.")
    cleaned = _clean_code(code)
    counter = _matching_counter(user.totp_secret or "", cleaned, user.totp_last_counter)
    if counter is not None:
        user.totp_last_counter = counter
        user.last_login_at = user_sessions.now()
        db.session.flush()
        return "code"
    if len(cleaned) == 10:
        recovery = db.session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash_recovery(cleaned),
                RecoveryCode.used_at.is_(None),
            )
        )
        if recovery is not None:
            recovery.used_at = user.last_login_at = user_sessions.now()
            db.session.flush()
            record_audit(
                actor=user,
                action="user.recovery_code_used",
                object_type="user",
                object_id=user.id,
                summary=f"{unused_recovery_codes(user=user)} recovery codes left",
            )
            return "recovery"
    raise InvalidInput(
        "That code is not right, or was used already. Enter the code your app shows now, "
        "or one of your unused recovery codes.",
        field="code",
    )


def unused_recovery_codes(*, user: User) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def regenerate_recovery_codes(*, user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the old ones stop working."""
    if not user.has_two_factor:
        raise NotAllowed("Turn on two-step sign-in first.")
    codes = _new_recovery_codes(user)
    record_audit(
        actor=user, action="user.recovery_codes_regenerate", object_type="user", object_id=user.id
    )
    return codes


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable_two_factor(*, user: User, required: bool) -> None:
    """Let the user turn off their own second factor, unless it is required of them."""
    if required:
        raise NotAllowed(
            "Your organisation requires two-step sign-in for your role, so it stays on."
        )
    if not user.has_two_factor:
        raise NotAllowed("Two-step sign-in is not on for this account.")
    _clear(user)
    db.session.flush()
    record_audit(
        actor=user, action="user.two_factor_disable", object_type="user", object_id=user.id
    )


def reset_two_factor(*, actor: User, user: User) -> None:
    """Remove another user's second factor (a lost phone) and sign them out everywhere.

    They enrol again at their next sign-in if it is required of them.
    """
    if actor.id == user.id:
        raise NotAllowed("Reset your own two-step sign-in from your account page.")
    if not user.has_two_factor:
        raise NotAllowed(f"{user.name} has no two-step sign-in to reset.")
    _clear(user)
    user_sessions.revoke_all_sessions(user=user, reason="two-step reset")
    db.session.flush()
    record_audit(
        actor=actor,
        action="user.two_factor_reset",
        object_type="user",
        object_id=user.id,
        summary=f"reset two-step sign-in for {user.email}",
    )
