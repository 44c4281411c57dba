"""Stripe's webhook events, processed on the queue after the webhook has said 200.

The webhook view verifies the signature, stores the event (once per event id, as received)
and enqueues ``process_stripe_event`` after its commit; this job records the gift, fees,
refunds and receipts, and the mail it queued goes out once it commits. A job that was lost
(the queue emptied, a consumer killed) leaves its event received: the retry job every 15
minutes enqueues again every event that has waited longer than ``WAITING_TOO_LONG``.
"""

from __future__ import annotations

from datetime import timedelta

from donations.models import utcnow
from donations.queue import enqueue_after_commit, job
from donations.services import payments, stripe_events

WAITING_TOO_LONG = timedelta(minutes=10)


def process_after_commit(row_id: int) -> None:
    """Have the queue process a stored event once the caller's transaction commits."""
    enqueue_after_commit(process_stripe_event, row_id)


@job(retries=3, retry_delay=30)
def process_stripe_event(row_id: int) -> None:
    """Process one stored Stripe event (nothing, if it was processed already)."""
    stripe_events.process_received(row_id, gateway=payments.get_gateway())


def requeue_waiting_events() -> int:
    """Enqueue again the events whose job was lost; return how many."""
    waiting = stripe_events.waiting_events(received_before=utcnow() - WAITING_TOO_LONG)
    for row_id in waiting:
        process_after_commit(row_id)
    return len(waiting)
