"""Programs and partner agencies: the only places goods are given out to.

A distribution picks one of these records; it never names a person. Admins
create, rename and archive them; an archived one is not offered on new
distributions but stays on the documents that used it.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Organization, Recipient, RecipientKind, User, utcnow
from donations.services import privacy
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.tenancy import current_organization_id

NAME_MAX_LENGTH: int = Recipient.__table__.c.name.type.length
CONTACT_MAX_LENGTH: int = Recipient.__table__.c.contact.type.length
CASE_CODE_PATTERN_MAX_LENGTH: int = Organization.__table__.c.case_code_pattern.type.length
# Up to 12 letters, digits and hyphens, with at least one digit.
DEFAULT_CASE_CODE_PATTERN = r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{0,11}"


def list_recipients(*, include_archived: bool = True) -> list[Recipient]:
    """Programs first, then partner agencies, each by name."""
    query = select(Recipient).order_by(Recipient.kind.desc(), func.lower(Recipient.name))
    if not include_archived:
        query = query.where(Recipient.active.is_(True))
    return list(db.session.scalars(query))


def get_recipient(recipient_id: int | None) -> Recipient:
    recipient = db.session.get(Recipient, recipient_id) if recipient_id else None
    if recipient is None:
        raise NotFound("There is no such program or partner agency.")
    return recipient


def find_active_recipient(*, recipient_id: int | None = None, name: str = "") -> Recipient:
    """Return the open program or partner a distribution names, or refuse free text."""
    recipient: Recipient | None = None
    if recipient_id:
        recipient = db.session.get(Recipient, recipient_id)
    elif name.strip():
        wanted = " ".join(name.split()).lower()
        matches = list(
            db.session.scalars(
                select(Recipient).where(
                    func.lower(Recipient.name) == wanted, Recipient.active.is_(True)
                )
            )
        )
        recipient = matches[0] if len(matches) == 1 else None
    if recipient is None:
        raise InvalidInput(
            "Choose a program or partner agency from the list. An admin adds new ones "
            "under Programs and partners; never write a person's name.",
            field="recipient_id",
        )
    if not recipient.active:
        raise InvalidInput(
            f"{recipient.name} is archived; choose an open program or partner agency.",
            field="recipient_id",
        )
    return recipient


def _check_kind(kind: str) -> str:
    if kind not in {k.value for k in RecipientKind}:
        raise InvalidInput("Choose program or partner agency.", field="kind")
    return kind


def _check_name(name: str, *, kind: str, exclude_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Name the program or partner agency.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Use at most {NAME_MAX_LENGTH} characters.", field="name")
    privacy.check_free_text(name, field="name")
    query = select(Recipient.id).where(
        Recipient.kind == kind, func.lower(Recipient.name) == name.lower()
    )
    if exclude_id is not None:
        query = query.where(Recipient.id != exclude_id)
    if db.session.scalar(query) is not None:
        label = RecipientKind(kind).label.lower()
        raise InvalidInput(f"There is already a {label} called {name}.", field="name")
    return name


def _check_contact(contact: str) -> str:
    contact = " ".join((contact or "").split())
    if len(contact) > CONTACT_MAX_LENGTH:
        raise InvalidInput(f"Use at most {CONTACT_MAX_LENGTH} characters.", field="contact")
    return contact


def create_recipient(*, actor: User | None, kind: str, name: str, contact: str = "") -> Recipient:
    """Add a program or a partner agency goods may be given out to."""
    kind = _check_kind(kind)
    name = _check_name(name, kind=kind)
    contact = _check_contact(contact) if kind == RecipientKind.PARTNER else ""
    recipient = Recipient(kind=kind, name=name, contact=contact, active=True)
    db.session.add(recipient)
    db.session.flush()
    record_audit(
        actor=actor,
        action="recipient.create",
        object_type="recipient",
        object_id=recipient.id,
        summary=f"{recipient.kind_label} {name} added",
    )
    return recipient


def update_recipient(
    *, actor: User | None, recipient_id: int, name: str, contact: str = ""
) -> Recipient:
    """Rename a program or partner (old documents show the new name) or change its contact."""
    recipient = get_recipient(recipient_id)
    old_name, old_contact = recipient.name, recipient.contact
    name = _check_name(name, kind=recipient.kind, exclude_id=recipient.id)
    contact = _check_contact(contact) if recipient.kind == RecipientKind.PARTNER else ""
    recipient.name, recipient.contact = name, contact
    db.session.flush()
    parts = []
    if name != old_name:
        parts.append(f"renamed {old_name} -> {name}")
    if contact != old_contact:
        parts.append("contact changed")
    if parts:
        record_audit(
            actor=actor,
            action="recipient.update",
            object_type="recipient",
            object_id=recipient.id,
            summary=f"{recipient.kind_label}: " + "; ".join(parts),
        )
    return recipient


def set_recipient_active(*, actor: User | None, recipient_id: int, active: bool) -> Recipient:
    """Archive a program or partner (not offered on new distributions), or reopen it."""
    recipient = get_recipient(recipient_id)
    if recipient.active == active:
        state = "open" if active else "archived"
        raise NotAllowed(f"{recipient.name} is already {state}.")
    if active and recipient.name.startswith(privacy.REDACTED):
        raise NotAllowed("A redacted record cannot be reopened; add a new one instead.")
    recipient.active = active
    recipient.archived_at = None if active else utcnow()
    db.session.flush()
    record_audit(
        actor=actor,
        action="recipient.reopen" if active else "recipient.archive",
        object_type="recipient",
        object_id=recipient.id,
        summary=f"{recipient.kind_label} {recipient.name} {'reopened' if active else 'archived'}",
    )
    return recipient


# --- the organisation's case-code pattern ---------------------------------------------


def case_code_pattern() -> str:
    """The pattern case codes must match: the organisation's, else the default."""
    org = db.session.get(Organization, current_organization_id())
    return (org.case_code_pattern if org is not None else "") or DEFAULT_CASE_CODE_PATTERN


def check_case_code_pattern(pattern: str) -> str:
    """Return a pattern that compiles (blank for the default), or refuse it."""
    pattern = (pattern or "").strip()
    if not pattern:
        return ""
    if len(pattern) > CASE_CODE_PATTERN_MAX_LENGTH:
        raise InvalidInput(
            f"Use at most {CASE_CODE_PATTERN_MAX_LENGTH} characters.", field="case_code_pattern"
        )
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise InvalidInput(
            f"This is not a valid regular expression ({error.msg}).", field="case_code_pattern"
        ) from None
    if compiled.fullmatch(""):
        raise InvalidInput(
            "The pattern must not match an empty code; leave the case code blank instead.",
            field="case_code_pattern",
        )
    return pattern
