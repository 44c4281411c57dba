"""Periodic job: every 15 minutes, process failed and parked Stripe events again, and any
event still waiting because its run was lost."""

from __future__ import annotations

from huey import crontab

from donations.jobs.stripe_webhooks import process_waiting_now
from donations.queue import periodic_job
from donations.services import payments
from donations.services.stripe_replay import replay_events


@periodic_job(crontab(minute="*/15"))
def retry_failed_stripe_events() -> None:
    """Replay every failed or parked Stripe event (the job commits what they change)."""
    replay_events(gateway=payments.get_gateway())
    process_waiting_now()
