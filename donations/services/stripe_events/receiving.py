"""Receiving Stripe webhooks: verify, store each event once by id, process it and
record the outcome; parked events run again once their payment has a gift."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from donations.extensions import db
from donations.integrations.stripe_gateway import GatewayError, PaymentGateway
from donations.models import Fund, StripeEvent, StripeEventStatus, utcnow
from donations.services import summaries
from donations.services.locking import serialize_writes, take_turns
from donations.services.stripe_events import intake
from donations.services.stripe_events.handlers import HANDLERS, OBJECT_TYPES
from donations.services.stripe_events.read_ahead import ReadAhead
from donations.services.stripe_events.run import Json, NotOurs, Parked, Run
from donations.services.stripe_events.spool import (
    Spool,
    Spooled,
    current_spool,
    mark_taken_after_commit,
)
from donations.tenancy import ALL_ORGANIZATIONS, HOME_ORGANIZATION_ID, current_organization_id

log = logging.getLogger("donations.services.stripe_events")  # the name it always logged under


@dataclass(frozen=True)
class Receipt:
    """What became of one delivery: the event's status, and whether it was a repeat."""

    event_id: str
    status: str
    duplicate: bool


def receive_webhook(
    *,
    payload: bytes,
    signature: str | None,
    gateway: PaymentGateway,
    now: datetime | None = None,
    defer: bool = False,
) -> Receipt:
    """Verify, store and process one webhook delivery.

    Raises SignatureError (nothing stored) when the signature does not hold.
    A delivery of an event already stored changes nothing. ``now`` is when it
    arrived (the demo replays a year); the clock's time when left out. With ``defer``
    the event is only stored, as received: ``process_received`` (a job) does the rest.
    """
    event = gateway.verify_webhook(payload, signature)
    return record_event(
        event=event, payload=payload.decode("utf-8"), gateway=gateway, now=now, defer=defer
    )


def _spool() -> Spool | None:
    """The spool, for the first organisation's events: its rows say no organisation, so
    the others' events are stored in the database as received and processed from there."""
    if current_organization_id() != HOME_ORGANIZATION_ID:
        return None
    return current_spool()


def stored_status(event_id: str) -> str | None:
    return db.session.scalar(select(StripeEvent.status).where(StripeEvent.event_id == event_id))


def record_event(
    *,
    event: Json,
    payload: str,
    gateway: PaymentGateway,
    now: datetime | None = None,
    defer: bool = False,
) -> Receipt:
    """Store an event by its id and process it (or, with ``defer``, leave that to a job);
    a repeat has no effect. Deferred on SQLite, the event goes to the spool (``spool``)."""
    event_id = str(event["id"])
    spool = _spool() if defer else None
    if spool is not None:
        kept = spool.accept(event_id, payload, now or utcnow())
        return Receipt(event_id, StripeEventStatus.RECEIVED, duplicate=not kept)
    if defer and db.session.get_bind().dialect.name == "postgresql":
        return _store_received(event, payload, now or utcnow())
    status = stored_status(event_id)  # most repeats stop here, before any lock
    if status is None:
        if defer:  # storing only: a row of its own
            serialize_writes("stripe")
        else:  # processing too: the totals every batch changes
            take_turns("stripe")
        status = stored_status(event_id)
    if status is not None:
        return Receipt(event_id, status, duplicate=True)
    row = _new_row(
        event,
        payload,
        StripeEventStatus.RECEIVED if defer else StripeEventStatus.PROCESSED,
        now or utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same event, delivered twice at the same moment
        return Receipt(event_id, stored_status(event_id) or "", duplicate=True)
    if not defer:
        process_event(row, gateway=gateway, now=now)
    return Receipt(event_id, row.status, duplicate=False)


def _store_received(event: Json, payload: str, received_at: datetime) -> Receipt:
    """PostgreSQL: store a new event as received in one statement of its own, committed
    at once (``intake``); a delivery of the same event, before or at the same moment,
    stores nothing (the unique event id). Its status is not read back for a repeat."""
    event_id = str(event["id"])
    values = _row_values(event, payload, StripeEventStatus.RECEIVED, received_at)
    if intake.store_at_once(db.session.get_bind(), current_organization_id(), values):
        return Receipt(event_id, StripeEventStatus.RECEIVED, duplicate=False)
    return Receipt(event_id, "", duplicate=True)


def _new_row(event: Json, payload: str, status: str, received_at: datetime) -> StripeEvent:
    return StripeEvent(**_row_values(event, payload, status, received_at))


def _row_values(event: Json, payload: str, status: str, received_at: datetime) -> dict[str, Any]:
    obj = (event.get("data") or {}).get("object") or {}
    return dict(
        event_id=str(event["id"]),
        type=str(event.get("type", ""))[:100],
        api_version=str(event.get("api_version") or "")[:40],
        livemode=bool(event.get("livemode")),
        stripe_created_at=(
            datetime.fromtimestamp(int(event["created"]), UTC) if event.get("created") else None
        ),
        payload=payload,
        status=status,
        object_id=str(obj.get("id") or "")[:255],
        received_at=received_at,
    )


def count_waiting() -> int:
    """How many events wait to be processed: stored as received, or in the spool."""
    spool = current_spool()
    stored = db.session.scalar(
        select(func.count(StripeEvent.id)).where(StripeEvent.status == StripeEventStatus.RECEIVED)
    )
    return (spool.count_waiting() if spool is not None else 0) + (stored or 0)


def waiting_everywhere() -> int:
    """How many events wait to be processed, every organisation's: a burst the job
    queue is working through (the mail worker lets it go first)."""
    spool = current_spool()
    stored = db.session.scalar(
        select(func.count(StripeEvent.id))
        .where(StripeEvent.status == StripeEventStatus.RECEIVED)
        .execution_options(**{ALL_ORGANIZATIONS: True})
    )
    return (spool.count_waiting() if spool is not None else 0) + (stored or 0)


def process_received(*, gateway: PaymentGateway, limit: int) -> int:
    """Process up to ``limit`` events waiting as received (stored, or in the spool on
    SQLite), oldest first (the order Stripe sent them in, mostly); return how many were
    dealt with. Each is locked: two consumers never process the same one. Stripe is read
    for the whole batch before the write lock."""
    waiting = (
        select(StripeEvent)
        .where(StripeEvent.status == StripeEventStatus.RECEIVED)
        .order_by(StripeEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    spool = _spool()
    spooled = spool.waiting(limit) if spool is not None else []
    rows = db.session.scalars(waiting).all()
    ahead = ReadAhead(gateway)
    for item in spooled:
        event = item.event
        ahead.read_event(str(event.get("type", "")), (event.get("data") or {}).get("object", {}))
    for row in rows:
        ahead.read_event(row.type, _object_of(row))
    take_turns("stripe")  # one batch at a time: each changes the same totals

    ids = [row.id for row in rows]
    taken, repeats = _take_in(spooled)
    ids += taken
    if spool is not None:
        mark_taken_after_commit(spool, [item.seq for item in spooled])
    # Another consumer may have taken some while we read (SQLite has no row locks).
    rows = (
        db.session.scalars(
            waiting.where(StripeEvent.id.in_(ids)).execution_options(populate_existing=True)
        ).all()
        or db.session.scalars(waiting).all()
    )
    parked = ParkedWatch()
    # The organisation's funds (a few rows), held for the batch: a gift's fund, read by
    # its thank-you note, then comes from the session rather than one statement each.
    _funds = db.session.scalars(select(Fund)).all()
    with summaries.added_at_end():  # the batch's totals written once, not per event
        _process_batch(rows, gateway=ahead, parked=parked)
    return len(rows) + repeats


def _process_batch(
    rows: list[StripeEvent], *, gateway: PaymentGateway, parked: ParkedWatch
) -> None:
    """Process a batch's events: all under one savepoint first, then, if any of them
    failed, again one savepoint each.

    Nearly every event goes well, and a savepoint per event costs two statements and a
    flush of its own each. So the batch first runs its handlers together under one
    savepoint; an event parked or not ours is recorded in place (those refusals come
    before a handler changes anything). When a handler fails otherwise (a bug, a refusal
    from Stripe, a write the database refuses), or refuses after a change, that savepoint
    is rolled back, undoing the others' work with it (their gifts, receipts, mail, jobs
    and summaries: nothing of it has left the transaction), and the batch runs again as
    before: each handler under a savepoint of its own, so the failure is recorded on its
    event alone and the others stand.
    """
    try:
        with db.session.begin_nested():
            for row in rows:
                process_event(row, gateway=gateway, parked=parked, alone=False)
    except Exception as error:
        log.info("a Stripe batch runs again, one event at a time, after %s", type(error).__name__)
        for row in rows:
            process_event(row, gateway=gateway, parked=parked)


class ParkedWatch:
    """Whether any of the organisation's events waits parked, looked at once by a batch
    holding the turn (``take_turns``: no other batch parks one meanwhile) and kept up to
    date as the batch parks and releases events: most processed events then need not
    look for parked events about their payment."""

    def __init__(self) -> None:
        self.any = (
            db.session.scalar(
                select(StripeEvent.id)
                .where(StripeEvent.status == StripeEventStatus.PARKED)
                .limit(1)
            )
            is not None
        )


def _take_in(spooled: list[Spooled]) -> tuple[list[int], int]:
    """Store spooled events not stored yet; return their new ids and how many were."""
    if not spooled:
        return [], 0
    stored = set(
        db.session.scalars(
            select(StripeEvent.event_id).where(
                StripeEvent.event_id.in_([item.event_id for item in spooled])
            )
        )
    )
    values = [
        {
            **_row_values(item.event, item.payload, StripeEventStatus.RECEIVED, item.received_at),
            "organization_id": current_organization_id(),
            "attempts": 0,
            "last_error": "",
        }
        for item in spooled
        if item.event_id not in stored
    ]
    if not values:
        return [], len(spooled)
    db.session.flush()
    db.session.execute(insert(StripeEvent.__table__), values)  # one executemany
    ids = db.session.scalars(
        select(StripeEvent.id).where(StripeEvent.event_id.in_([v["event_id"] for v in values]))
    ).all()
    return list(ids), len(spooled) - len(values)


def _object_of(row: StripeEvent) -> Json:
    return json.loads(row.payload).get("data", {}).get("object", {})


def process_event(
    row: StripeEvent,
    *,
    gateway: PaymentGateway,
    now: datetime | None = None,
    parked: ParkedWatch | None = None,
    alone: bool = True,
) -> StripeEvent:
    """Run the handler for a stored event and record the outcome on the row; then process
    again the parked events its payment releases (unless ``parked`` knows there are none).

    ``alone`` (the default) runs the handler under a savepoint of its own and records its
    failure on the row; without it the failure is raised, for ``_process_batch``."""
    handler = HANDLERS.get(row.type)
    if handler is None:
        row.attempts += 1
        row.status = StripeEventStatus.IGNORED
        row.processed_at = utcnow()
        return row
    obj = _object_of(row)
    expected = OBJECT_TYPES.get(row.type)
    if expected is not None and obj.get("object") != expected:
        # Read as the wrong kind, its id would be looked up at the wrong address on every
        # delivery; keep it as failed, for a replay once the code knows the new shape.
        row.attempts += 1
        row.status = StripeEventStatus.FAILED
        row.last_error = (
            f"{row.type} should carry a {expected}, "
            f"but this one carries {obj.get('object') or 'nothing we know'}"
        )[:2000]
        log.warning("stripe event %s: %s", row.event_id, row.last_error)
        db.session.flush()
        return row
    run = Run(gateway=gateway, now=now)
    if not alone:  # in a batch run together: a failure undoes the batch (_process_batch)
        db.session.flush()  # the batch's changes so far: the handler's own start clean
        flushes = db.session.info.get(_FLUSHES, 0)
        try:
            handler(obj, run)
        except (Parked, NotOurs) as refusal:
            # Refusals come before a handler changes anything; one that came after
            # has its changes undone with the batch, which runs again one by one.
            if _changed_since(flushes):
                raise
            _refused(row, refusal, parked)
        else:
            _processed(row, run, now)
        _counted_and_released(row, run, gateway=gateway, parked=parked)
        return row
    try:
        with db.session.begin_nested():
            handler(obj, run)
    except (Parked, NotOurs) as refusal:
        _refused(row, refusal, parked)
    except GatewayError as exc:
        row.status = StripeEventStatus.FAILED
        row.last_error = f"Stripe: {exc.message}"
        log.warning("stripe event %s failed: %s", row.event_id, exc.message)
    except Exception as exc:  # a bug must not lose the event: keep it for replay
        row.status = StripeEventStatus.FAILED
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("stripe event %s failed", row.event_id)
    else:
        _processed(row, run, now)
    _counted_and_released(row, run, gateway=gateway, parked=parked)
    db.session.flush()
    return row


_FLUSHES = "donations.stripe_events.flushes"


@event.listens_for(Session, "after_flush")
def _count_flush(session: Session, _context: object) -> None:
    session.info[_FLUSHES] = session.info.get(_FLUSHES, 0) + 1


def _changed_since(flushes: int) -> bool:
    """Whether the session wrote or holds a change since it counted ``flushes``."""
    session = db.session
    return bool(
        session.info.get(_FLUSHES, 0) != flushes or session.new or session.dirty or session.deleted
    )


def _refused(row: StripeEvent, refusal: Parked | NotOurs, parked: ParkedWatch | None) -> None:
    """Record a handler's refusal: parked until its payment has a gift, or not ours."""
    if isinstance(refusal, Parked):
        row.status = StripeEventStatus.PARKED
        row.object_id = refusal.object_id
        row.last_error = refusal.reason
        if parked is not None:
            parked.any = True
    else:
        row.status = StripeEventStatus.IGNORED
        row.last_error = str(refusal)
        row.processed_at = utcnow()


def _processed(row: StripeEvent, run: Run, now: datetime | None) -> None:
    row.status = StripeEventStatus.PROCESSED
    row.last_error = ""
    row.processed_at = now or utcnow()
    if run.gift is not None:
        row.gift_id = run.gift.id
    if run.plan is not None:
        row.plan_id = run.plan.id


def _counted_and_released(
    row: StripeEvent, run: Run, *, gateway: PaymentGateway, parked: ParkedWatch | None
) -> None:
    """Count the attempt with its outcome (one UPDATE: a crash rolls both back with the
    batch); then process again the parked events the payment releases."""
    row.attempts += 1
    if (
        row.status == StripeEventStatus.PROCESSED
        and run.linked_ids
        and (parked is None or parked.any)
    ):
        release_parked(run.linked_ids, gateway=gateway, exclude=row.id, parked=parked)


def release_parked(
    ids: Iterable[str], *, gateway: PaymentGateway, exclude: int, parked: ParkedWatch | None = None
) -> None:
    """Process again the parked events about payments that now have a gift."""
    rows = db.session.scalars(
        select(StripeEvent)
        .where(StripeEvent.status == StripeEventStatus.PARKED)
        .where(StripeEvent.object_id.in_(list(ids)))
        .where(StripeEvent.id != exclude)
        .order_by(StripeEvent.id)
    ).all()
    for row in rows:
        process_event(row, gateway=gateway, parked=parked)
