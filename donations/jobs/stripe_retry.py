"""Periodic job: every 15 minutes, process failed and parked Stripe events again, and enqueue
events whose processing job was lost."""

from __future__ import annotations

from huey import crontab

from donations.jobs.stripe_webhooks import requeue_waiting_events
from donations.queue import periodic_job
from donations.services import payments
from donations.services.stripe_replay import replay_events


@periodic_job(crontab(minute="*/15"))
def retry_failed_stripe_events() -> None:
    """Replay every failed or parked Stripe event (the job commits what they change)."""
    replay_events(gateway=payments.get_gateway())
    requeue_waiting_events()
