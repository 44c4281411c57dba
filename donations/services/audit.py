"""The audit trail: every change a user makes is recorded here by its service.

The trail is a hash chain. Each event stores ``prev_hash``, the hash of the
event before it (64 zeros for the first), and ``hash``, the sha256 of its own
canonical content including ``prev_hash``. Editing an event breaks its hash;
deleting or inserting one breaks the next event's link. ``verify_chain``
recomputes the whole chain and names the first event found wrong.

Events join the chain when their transaction commits, and appends are
serialised so two transactions never fork it: on PostgreSQL a transaction-scoped
advisory lock, on SQLite the database write lock (``serialize_writes``), taken
just before the last hash is read. Each event's id is the last id plus one,
chosen under that lock, so it is known before hashing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, event, func, select, text
from sqlalchemy.orm import Session, SessionTransaction

from donations.extensions import db, drop_rolled_back
from donations.models import AuditEvent, AuditVerification, User, utcnow
from donations.services.keyset import KeysetPage, Position, keyset_page
from donations.services.locking import serialize_writes
from donations.tenancy import current_organization_id

SUMMARY_LIMIT = 2000
GENESIS_HASH = "0" * 64
# The key of the PostgreSQL advisory lock that serialises appends ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974
LOCK_NAME = "audit"
_PENDING_KEY = "donations.audit_pending"


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


def canonical_content(
    *,
    id: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_email: str | None,
    action: str,
    object_type: str,
    object_id: str,
    summary: str,
    prev_hash: str,
) -> bytes:
    """Return the bytes an event's hash is taken over: sorted-key JSON, UTC time.

    Migration 0009_audit_chain holds a copy of this function: change neither.
    """
    if occurred_at.tzinfo is None:
        raise ValueError("naive datetime in an audit event")
    return json.dumps(
        {
            "id": id,
            "occurred_at": occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": actor_id,
            "actor_email": actor_email,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "summary": summary,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")


def content_hash(**content: Any) -> str:
    """Return the sha256 hex of an event's canonical content."""
    return hashlib.sha256(canonical_content(**content)).hexdigest()


def record_audit(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | str,
    summary: str = "",
) -> AuditEvent:
    """Record one audit event; it joins the chain when the caller's transaction commits.

    The event is written by the commit itself (``_append_to_chain``), so it has
    no id before then, and is dropped with a savepoint or transaction rolled back.
    """
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 3] + "..."
    entry = AuditEvent(
        organization_id=current_organization_id(),
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
    )
    session = db.session()
    # The innermost transaction, begun now if none is: the event waits for its commit.
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_PENDING_KEY, []).append((transaction, entry))
    return entry


# Appending at commit, not when the event is recorded, keeps the chain's lock
# the last lock a transaction takes: a transaction holding it never waits for a
# row another one holds while waiting for the chain, so no deadlock, and the
# lock is held only for the commit.


@event.listens_for(Session, "before_commit")
def _append_to_chain(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: its events wait for the real commit
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    else:
        serialize_writes(LOCK_NAME, session=session)
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    next_id, prev_hash = (last.id + 1, last.hash) if last else (1, GENESIS_HASH)
    for _transaction, entry in pending:
        entry.id = next_id
        entry.prev_hash = prev_hash
        entry.hash = content_hash(
            id=entry.id,
            occurred_at=entry.occurred_at,
            actor_id=entry.actor_id,
            actor_email=entry.actor_email,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            summary=entry.summary,
            prev_hash=prev_hash,
        )
        session.add(entry)
        next_id, prev_hash = next_id + 1, entry.hash
    session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    drop_rolled_back(session, _PENDING_KEY, previous_transaction)


@event.listens_for(Session, "after_transaction_end")
def _drop_unwritten(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # closed without a commit: nothing is kept
        session.info.pop(_PENDING_KEY, None)


@dataclass(frozen=True)
class ChainCheck:
    """What ``verify_chain`` found."""

    ok: bool
    event_count: int
    first_bad_id: int | None = None
    problem: str = ""
    head_id: int | None = None
    head_hash: str | None = None


_CHECK_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor_id,
    AuditEvent.actor_email,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.summary,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def check_chain(*, batch_size: int = 1000) -> ChainCheck:
    """Recompute the chain in id order; return the first event found wrong, if any."""
    last_good = db.session.scalars(
        select(AuditVerification)
        .where(AuditVerification.ok.is_(True), AuditVerification.head_id.is_not(None))
        .order_by(AuditVerification.id.desc())
        .limit(1)
    ).first()
    rows = db.session.execute(
        select(*_CHECK_COLUMNS).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    )
    count = 0
    prev_id: int | None = None
    prev_hash = GENESIS_HASH
    before_prev_hash: str | None = None
    seen_old_head = False

    def broken(event_id: int, problem: str) -> ChainCheck:
        rows.close()
        return ChainCheck(ok=False, event_count=count, first_bad_id=event_id, problem=problem)

    for row in rows:
        content = dict(row._mapping)
        stored = content.pop("hash")
        if content_hash(**content) != stored:
            return broken(
                row.id, f"Event #{row.id} was edited: its content no longer matches its hash."
            )
        if row.prev_hash != prev_hash:
            if prev_id is None:
                return broken(
                    row.id,
                    f"Event #{row.id} does not start the chain: the events before it were deleted.",
                )
            if row.prev_hash == before_prev_hash:
                return broken(
                    prev_id,
                    f"Event #{prev_id} was inserted: event #{row.id} links past it.",
                )
            if row.id > prev_id + 1:
                return broken(
                    row.id,
                    f"Event #{row.id} does not link to event #{prev_id}: "
                    f"the events between them were deleted.",
                )
            return broken(
                row.id,
                f"Event #{row.id} does not link to event #{prev_id}: one of them was "
                f"rewritten, or event #{row.id} was inserted.",
            )
        if last_good is not None and row.id == last_good.head_id:
            if stored != last_good.head_hash:
                return broken(
                    row.id,
                    f"Event #{row.id} was replaced since the check of "
                    f"{last_good.verified_at:%Y-%m-%d %H:%M} UTC.",
                )
            seen_old_head = True
        count += 1
        before_prev_hash, prev_hash, prev_id = prev_hash, stored, row.id
    if last_good is not None and not seen_old_head:
        return ChainCheck(
            ok=False,
            event_count=count,
            first_bad_id=last_good.head_id,
            problem=(
                f"Event #{last_good.head_id}, the last one when the chain verified on "
                f"{last_good.verified_at:%Y-%m-%d %H:%M} UTC, is gone: events at the end "
                "of the log were deleted."
            ),
        )
    return ChainCheck(
        ok=True, event_count=count, head_id=prev_id, head_hash=prev_hash if prev_id else None
    )


def verify_chain(*, actor: User | None) -> AuditVerification:
    """Check the chain and store the result; the caller's transaction commits it."""
    result = check_chain()
    verification = AuditVerification(
        verified_at=utcnow(),
        ok=result.ok,
        event_count=result.event_count,
        first_bad_id=result.first_bad_id,
        problem=result.problem,
        head_id=result.head_id,
        head_hash=result.head_hash,
        actor_email=actor.email if actor is not None else None,
    )
    db.session.add(verification)
    db.session.flush()
    return verification


SINCE_LIMIT = 10_000  # the log counts events since its last check up to this many


def events_since(verification: AuditVerification, *, limit: int | None = None) -> int:
    """Return how many events were recorded after a successful check's last event.

    Counts at most ``limit + 1``, so the log's page costs the same however long ago the
    last check was; a result over ``limit`` means "more than ``limit``".
    """
    limit = SINCE_LIMIT if limit is None else limit
    query = select(AuditEvent.id)
    if verification.head_id is not None:
        query = query.where(AuditEvent.id > verification.head_id)
    counted = select(func.count()).select_from(query.limit(limit + 1).subquery())
    return db.session.scalar(counted) or 0


def latest_verification() -> AuditVerification | None:
    """Return the most recent stored chain check, if any."""
    return db.session.scalars(
        select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)
    ).first()


def audit_query(
    *, object_type: str | None = None, object_id: int | str | None = None
) -> Select[tuple[AuditEvent]]:
    """Return a query of audit events, newest first, optionally for one object."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.organization_id == current_organization_id())
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return query


def audit_log_query(object_types: Iterable[str] | None = None) -> Select[tuple[AuditEvent]]:
    """Return the audit log, newest first, optionally only about the given kinds of object."""
    query = audit_query()
    if object_types is not None:
        query = query.where(AuditEvent.object_type.in_(list(object_types)))
    return query


def audit_log_page(
    *,
    object_types: Iterable[str] | None,
    object_type: str | None,
    position: Position,
    per_page: int,
) -> KeysetPage:
    """Return one page of the audit log, newest first (keyset paged), of some kinds or one."""
    if object_types is not None:
        query = audit_log_query(object_types)
    else:
        query = audit_query(object_type=object_type)
    keys = (AuditEvent.occurred_at, AuditEvent.id)
    return keyset_page(query.order_by(None), keys, position=position, per_page=per_page)


def recent_history(
    object_type: str, object_id: int | str | None = None, *, limit: int = 20
) -> list[AuditEvent]:
    """Return the latest audit events about one object (or one kind of object), newest first."""
    return list(
        db.session.scalars(audit_query(object_type=object_type, object_id=object_id).limit(limit))
    )
