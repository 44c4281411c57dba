"""Stored Stripe events on the treasurer's screens: one gift's, and those needing a retry."""

from __future__ import annotations

from sqlalchemy import Select, case, func, or_, select

from donations.extensions import db
from donations.models import Gift, StripeEvent, StripeEventStatus
from donations.services.errors import InvalidInput
from donations.services.stripe_replay import REPLAYABLE

__all__ = [
    "EVENT_FILTERS",
    "NEEDS_ATTENTION",
    "REPLAYABLE",
    "count_events_needing_attention",
    "events_query",
    "gift_events",
]

NEEDS_ATTENTION = "attention"
EVENT_FILTERS: dict[str, str] = {
    NEEDS_ATTENTION: "Failed or parked",
    **{s.value: s.value.capitalize() for s in StripeEventStatus},
    "all": "All",
}


def gift_events(gift: Gift) -> list[StripeEvent]:
    """Return the Stripe events about this gift, oldest first, parked ones included."""
    stripe_ids = [
        value
        for value in (
            gift.stripe_checkout_session_id,
            gift.stripe_payment_intent_id,
            gift.stripe_charge_id,
            gift.stripe_invoice_id,
            gift.stripe_dispute_id,
        )
        if value
    ]
    about = StripeEvent.gift_id == gift.id
    if stripe_ids:
        about = or_(about, StripeEvent.object_id.in_(stripe_ids))
    return list(
        db.session.scalars(
            select(StripeEvent).where(about).order_by(StripeEvent.received_at, StripeEvent.id)
        )
    )


def events_query(status: str | None = None) -> Select[tuple[StripeEvent]]:
    """Return stored Stripe events, failed and parked first, then newest first.

    ``status`` is one of EVENT_FILTERS ("attention": failed or parked) or None for all.
    """
    query = select(StripeEvent).order_by(
        case((StripeEvent.status.in_(REPLAYABLE), 0), else_=1),
        StripeEvent.received_at.desc(),
        StripeEvent.id.desc(),
    )
    if status in (None, "all"):
        return query
    if status == NEEDS_ATTENTION:
        return query.where(StripeEvent.status.in_(REPLAYABLE))
    if status not in {s.value for s in StripeEventStatus}:
        raise InvalidInput("Choose an event status from the list.", field="status")
    return query.where(StripeEvent.status == status)


def count_events_needing_attention() -> int:
    """Return how many Stripe events failed or are parked."""
    return int(
        db.session.scalar(
            select(func.count(StripeEvent.id)).where(StripeEvent.status.in_(REPLAYABLE))
        )
        or 0
    )
