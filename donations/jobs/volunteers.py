"""Volunteers' periodic job: the reminder mailed the day before a shift.

Run once for each organisation (``donations.queue``), safe to run again: a sign-up is
reminded once (``services.volunteers.reminders``).
"""

from __future__ import annotations

import logging

from huey import crontab

from donations.models import utcnow
from donations.queue import periodic_job
from donations.services import volunteers

log = logging.getLogger(__name__)


@periodic_job(crontab(hour="16", minute="30"))
def remind_volunteer_shifts() -> None:
    """16:30 UTC: remind volunteers of their shifts starting by the end of tomorrow, once."""
    sent = volunteers.remind_upcoming_shifts(now=utcnow())
    log.info("reminded %d volunteer(s) of a shift", sent)
