"""Every job module, imported so the queue knows each job by name (app and consumer)."""

from __future__ import annotations

from donations.jobs import (
    backup,
    daily,
    mail_worker,
    stripe_retry,
    stripe_webhooks,
    tracking,
    volunteers,
    year_end_queue,
)

__all__ = [
    "backup",
    "daily",
    "mail_worker",
    "stripe_retry",
    "stripe_webhooks",
    "tracking",
    "volunteers",
    "year_end_queue",
]
