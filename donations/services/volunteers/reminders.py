"""The reminder mailed the day before a shift: once per sign-up, however often the job runs.

The daily job (``donations.jobs.volunteers``) runs once for each organisation; it mails
every volunteer signed up for a shift that starts between now and the end of tomorrow
(UTC) and was not reminded yet, then marks the sign-up (``reminded_at``). Two runs at
once: the second waits on the sign-up's row, then sees the first's mark.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import (
    ShiftSignup,
    SignupStatus,
    Volunteer,
    VolunteerShift,
    VolunteerStatus,
)
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.volunteers.links import page_url
from donations.services.volunteers.shifts import shift_mail_lines
from donations.services.volunteers.signup import org_name

REMINDER_KIND = "volunteer_shift_reminder"


def _due(now: datetime) -> list[ShiftSignup]:
    until = datetime.combine(now.date() + timedelta(days=2), time(), tzinfo=now.tzinfo)
    return list(
        db.session.scalars(
            select(ShiftSignup)
            .join(ShiftSignup.shift)
            .join(ShiftSignup.volunteer)
            .options(joinedload(ShiftSignup.shift), joinedload(ShiftSignup.volunteer))
            .where(
                ShiftSignup.status == SignupStatus.SIGNED_UP,
                ShiftSignup.reminded_at.is_(None),
                VolunteerShift.starts_at > now,
                VolunteerShift.starts_at < until,
                Volunteer.status == VolunteerStatus.APPROVED,
                Volunteer.active,
            )
            .order_by(VolunteerShift.starts_at, ShiftSignup.id)
        )
    )


def remind_upcoming_shifts(*, now: datetime) -> int:
    """Mail each volunteer signed up for a shift starting by the end of tomorrow, once;
    return how many were mailed."""
    serialize_writes(REMINDER_KIND)
    sent = 0
    for signup in _due(now):
        db.session.execute(
            select(ShiftSignup.id).where(ShiftSignup.id == signup.id).with_for_update()
        )
        db.session.refresh(signup)
        if signup.reminded_at is not None or signup.status != SignupStatus.SIGNED_UP:
            continue
        volunteer = signup.volunteer
        lines = [
            f"Dear {volunteer.name},",
            "",
            f"A reminder of your volunteer shift with {org_name()}:",
            "",
            *shift_mail_lines(signup),
            "",
            "Thank you. If you cannot come, please cancel on your page so someone else can:",
            page_url(volunteer),
        ]
        queue_mail(
            kind=REMINDER_KIND,
            to=volunteer.email,
            subject=f"Reminder: {signup.shift.opportunity.title} "
            f"on {signup.shift.starts_at:%A %d %B}",
            body_text="\n".join(lines) + "\n",
            sensitive=signup.shift.site.is_confidential,
        )
        signup.reminded_at = now
        sent += 1
    return sent
