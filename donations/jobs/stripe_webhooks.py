"""Stripe's webhook events, processed on the queue after the webhook has said 200.

The webhook view verifies the signature, stores the event (once per event id, as received)
and, after its commit, wakes ``process_stripe_events`` unless a run is already waiting to
start: a burst of deliveries wakes one run, which processes every waiting event, oldest
first, a batch per transaction, and the mail they queued goes out after each commit. A run
lost with its consumer is replaced by the next delivery after two minutes, and by the retry
job every 15 minutes.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import current_app

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


class _RunHere:
    """The one run of an organisation's events in this process, and whether more work
    was asked of it since it last looked.

    Batches take turns (``locking.take_turns``), so a second run in the same process
    would only take the interpreter from the run holding the turn: a consumer's worker
    threads share one interpreter lock. A second run therefore asks the first to look
    again and ends; the first looks again before it lets go, so nothing is left waiting.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.again = False


_RUNS_KEY = "donations.stripe-event-runs"
_RUNS_GUARD = threading.Lock()


def _run_here() -> _RunHere:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _RUNS_GUARD:
        runs: dict[int, _RunHere] = app.extensions.setdefault(_RUNS_KEY, {})
        return runs.setdefault(current_organization_id(), _RunHere())


@job(retries=3, retry_delay=30)
def process_stripe_events() -> None:
    """Process every event waiting as received, a batch per transaction; when another
    run of the organisation's events is going in this process, leave the work to it."""
    started(_wake_key())  # a delivery from now on wakes another run
    here = _run_here()
    here.again = True
    while here.lock.acquire(blocking=False):
        try:
            here.again = False
            gateway = payments.get_gateway()
            while stripe_events.process_received(gateway=gateway, limit=BATCH):
                db.session.commit()
        finally:
            here.lock.release()
        if not here.again:  # unless asked meanwhile: then look again (or another run has)
            return


def process_waiting_now() -> int:
    """The retry job's sweep: process what waits (its run was lost); return how many."""
    gateway = payments.get_gateway()
    total = 0
    while done := stripe_events.process_received(gateway=gateway, limit=BATCH):
        db.session.commit()
        total += done
    return total
