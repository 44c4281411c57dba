"""The audit trail: every change a user makes is recorded here by its service."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select

from donations.extensions import db
from donations.models import AuditEvent, User

SUMMARY_LIMIT = 2000


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """Return the named attributes of ``obj`` as a plain dict."""
    return {name: getattr(obj, name) for name in fields}


def describe_changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    redacted: Iterable[str] = (),
) -> str:
    """Return 'field: old -> new; ...' for the fields whose value changed.

    Fields named in ``redacted`` are reported as changed without their values.
    """
    hidden = set(redacted)
    parts = []
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        if name in hidden:
            parts.append(f"{name} changed")
        else:
            parts.append(f"{name}: {_show(old)} -> {_show(new)}")
    return "; ".join(parts)


def record_audit(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | str,
    summary: str = "",
) -> AuditEvent:
    """Append one audit event; the caller's transaction commits it."""
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 3] + "..."
    entry = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def audit_query(
    *, object_type: str | None = None, object_id: int | str | None = None
) -> Select[tuple[AuditEvent]]:
    """Return a query of audit events, newest first, optionally for one object."""
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return query
