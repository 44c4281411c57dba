"""Replaying Stripe events: process failed or parked events again.

Kept apart from ``stripe_events`` (which receives and processes one event) and
from ``gifts`` (which lists them): a replay needs the payment gateway and the
event processing, and neither of those needs a replay.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from donations.extensions import db
from donations.integrations.stripe_gateway import PaymentGateway
from donations.models import StripeEvent, StripeEventStatus, User
from donations.services import payments
from donations.services.audit import record_audit
from donations.services.errors import NotAllowed
from donations.services.locking import take_turns
from donations.services.stripe_events import process_event

REPLAYABLE = (StripeEventStatus.FAILED, StripeEventStatus.PARKED)


def replay_events(
    *, gateway: PaymentGateway, event_ids: Iterable[int] | None = None
) -> list[StripeEvent]:
    """Process failed and parked events again (all, or those with these row ids)."""
    take_turns("stripe")
    query = select(StripeEvent).where(StripeEvent.status.in_(REPLAYABLE)).order_by(StripeEvent.id)
    if event_ids is not None:
        query = query.where(StripeEvent.id.in_(list(event_ids)))
    rows = list(db.session.scalars(query))
    for row in rows:
        if row.status in REPLAYABLE:
            process_event(row, gateway=gateway)
    return rows


def replay_event(
    *, actor: User | None, event: StripeEvent, gateway: PaymentGateway | None = None
) -> StripeEvent:
    """Process a failed or parked Stripe event again; return it with its new status."""
    if event.status not in REPLAYABLE:
        raise NotAllowed(f"Event {event.event_id} is {event.status}: there is nothing to redo.")
    before = event.status
    replay_events(
        gateway=gateway if gateway is not None else payments.get_gateway(),
        event_ids=[event.id],
    )
    record_audit(
        actor=actor,
        action="stripe_event.replay",
        object_type="stripe_event",
        object_id=event.id,
        summary=f"{event.type} {event.event_id}: {before} -> {event.status}",
    )
    return event
