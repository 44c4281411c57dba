"""Stripe's webhook events, processed on the queue after the webhook has said 200.

The webhook view verifies the signature, stores the event (once per event id, as received)
and, after its commit, wakes ``process_stripe_events`` unless a run is already waiting to
start: a burst of deliveries wakes one run, which processes every waiting event, oldest
first, a batch per transaction, and the mail they queued goes out after each commit. A run
lost with its consumer is replaced by the next delivery after two minutes, and by the retry
job every 15 minutes.
"""

from __future__ import annotations

from datetime import timedelta

from donations.extensions import db
from donations.queue import enqueue_after_commit, job, started
from donations.services import payments, stripe_events
from donations.tenancy import current_organization_id

# Events processed per transaction: short enough that a webhook waiting for the database
# write lock (SQLite) is not kept long, long enough to keep commits few.
BATCH = 25
WAKE_KEY = "donations.stripe-events-waiting"
WAITING_TOO_LONG = timedelta(minutes=10)


def _wake_key() -> str:
    """One waiting run per organisation: its events are processed as it."""
    return f"{WAKE_KEY}:{current_organization_id()}"


def wake_after_commit() -> None:
    """Have the queue process waiting events once the caller's transaction commits."""
    enqueue_after_commit(process_stripe_events, once=_wake_key())


@job(retries=3, retry_delay=30)
def process_stripe_events() -> None:
    """Process every event waiting as received, a batch per transaction."""
    started(_wake_key())  # a delivery from now on wakes another run
    gateway = payments.get_gateway()
    while stripe_events.process_received(gateway=gateway, limit=BATCH):
        db.session.commit()


def process_waiting_now() -> int:
    """The retry job's sweep: process what waits (its run was lost); return how many."""
    gateway = payments.get_gateway()
    total = 0
    while done := stripe_events.process_received(gateway=gateway, limit=BATCH):
        db.session.commit()
        total += done
    return total
