"""Nightly job: a backup of the database at 02:30 UTC into BACKUP_DIR, keeping BACKUP_KEEP."""

from __future__ import annotations

from flask import current_app
from huey import crontab

from donations.queue import periodic_job
from donations.services.backup import backup_folder, take_backup


@periodic_job(crontab(minute="30", hour="2"), enabled_by="BACKUP_NIGHTLY")
def nightly_backup() -> None:
    """Take tonight's backup and prune the oldest beyond BACKUP_KEEP."""
    take_backup(backup_folder(current_app), keep=int(current_app.config["BACKUP_KEEP"]))
