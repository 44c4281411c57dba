"""Daily periodic jobs (UTC): pledge expiry, the low-stock digest, past-due plan reminders.

Each is safe to run again the same day (``flask jobs run NAME`` does, by hand): expired
pledges are no longer open, a digest is recorded per address and day, a reminder per
failure episode. Each run commits once, mail included, and the mail goes after the commit.
"""

from __future__ import annotations

import logging

from huey import crontab

from donations.models import utcnow
from donations.queue import periodic_job
from donations.services import plan_reminders, pledge_expiry, stock_digest

log = logging.getLogger(__name__)


@periodic_job(crontab(hour="4", minute="10"))
def expire_stale_pledges() -> None:
    """04:10 UTC: expire open pledges not delivered within PLEDGE_EXPIRY_DAYS of their day."""
    expired = pledge_expiry.expire_stale_pledges(now=utcnow())
    log.info("expired %d stale pledge(s)", len(expired))


@periodic_job(crontab(hour="6", minute="5"))
def send_low_stock_digest() -> None:
    """06:05 UTC: one digest per site contact of the items under par, once a day."""
    queued = stock_digest.send_low_stock_digests(day=utcnow().date())
    log.info("queued %d low-stock digest(s)", queued)


@periodic_job(crontab(hour="15", minute="0"))
def remind_past_due_plans() -> None:
    """15:00 UTC (morning in the Americas): ask donors of past-due plans to update the card,
    once per failure episode."""
    sent = plan_reminders.remind_past_due_plans(now=utcnow())
    log.info("reminded %d donor(s) of a past-due monthly gift", sent)
