"""Volunteer hours: attendance at shifts, work outside shifts, totals and the letter.

Hours are whole minutes, at most 24 hours a day per volunteer across every row (hours and
professional services alike: ``check_day``). A
shift's attendance is one row per sign-up (recorded again, it is replaced); work
outside shifts is a row of its own, with a screened description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    ContributedService,
    ShiftSignup,
    User,
    Volunteer,
    VolunteerHours,
    utcnow,
)
from donations.pdf.documents import render_volunteer_letter
from donations.pdf.volunteer_content import HoursMonth, VolunteerLetter, format_minutes
from donations.services import privacy
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.organization import letterhead

DAY_MINUTES = 24 * 60
DESCRIPTION_MAX = 300
BACKDATE_MAX_DAYS = 366
_MINUTE = timedelta(minutes=1)
_DECIMAL = re.compile(r"(\d{1,3})(?:[.,](\d{1,2}))?")
_CLOCK = re.compile(r"(\d{1,2})\s*(?::|h)\s*(\d{1,2})\s*(?:m|min)?")


def parse_hours(text: str, *, field: str = "hours") -> int:
    """Minutes from typed hours: "3", "2.5", "2,75", "2:30" or "2h30"; at most 24 hours."""
    text = (text or "").strip().lower().removesuffix("hours").removesuffix("h").strip()
    minutes = None
    if match := _DECIMAL.fullmatch(text):
        whole, part = match.groups()
        fraction = int(part.ljust(2, "0")) if part else 0
        minutes = int(whole) * 60 + round(fraction * 60 / 100)
    elif match := _CLOCK.fullmatch(text):
        hours, mins = (int(g) for g in match.groups())
        if mins < 60:
            minutes = hours * 60 + mins
    if minutes is None:
        raise InvalidInput("Type the hours as a number, like 2.5 or 2:30.", field=field)
    if minutes <= 0:
        raise InvalidInput("The hours must be more than zero.", field=field)
    if minutes > DAY_MINUTES:
        raise InvalidInput("That is more than 24 hours in a day.", field=field)
    return minutes


def _day_total(volunteer_id: int, day: date, *, leaving_out: int | None = None) -> int:
    """Minutes already recorded for the volunteer on ``day``: hours (but the row
    ``leaving_out``, which is being replaced) and professional services not voided."""
    hours = select(func.coalesce(func.sum(VolunteerHours.minutes), 0)).where(
        VolunteerHours.volunteer_id == volunteer_id, VolunteerHours.worked_on == day
    )
    if leaving_out is not None:
        hours = hours.where(VolunteerHours.id != leaving_out)
    services = select(func.coalesce(func.sum(ContributedService.minutes), 0)).where(
        ContributedService.volunteer_id == volunteer_id,
        ContributedService.service_date == day,
        ContributedService.voided_at.is_(None),
    )
    return int(db.session.scalar(hours) or 0) + int(db.session.scalar(services) or 0)


def check_day(
    volunteer_id: int, day: date, minutes: int, *, leaving_out: int | None = None
) -> None:
    """Refuse ``minutes`` more on ``day`` when the volunteer's day would pass 24 hours,
    counting every row: hours at shifts and outside them, and professional services."""
    already = _day_total(volunteer_id, day, leaving_out=leaving_out)
    if already + minutes > DAY_MINUTES:
        raise InvalidInput(
            f"That makes more than 24 hours on {day:%Y-%m-%d} "
            f"({format_minutes(already)} already recorded that day).",
            field="hours",
        )


def record_attendance(
    *,
    actor: User | None,
    signup_id: int,
    checked_in_at: datetime | None = None,
    checked_out_at: datetime | None = None,
    hours: str = "",
    now: datetime | None = None,
) -> VolunteerHours:
    """Record a volunteer's time at a shift: check-in and check-out, or hours typed.
    Recording again replaces what was recorded."""
    now = now or utcnow()
    signup = db.session.get(ShiftSignup, signup_id)
    if signup is None or not signup.active:
        raise NotFound("No such sign-up.")
    shift = signup.shift
    if shift.starts_at > now:
        raise InvalidInput("The shift has not started yet: record attendance afterwards.")
    if checked_in_at is not None or checked_out_at is not None:
        if checked_in_at is None or checked_out_at is None:
            raise InvalidInput("Enter both check-in and check-out, or type the hours.")
        if checked_out_at <= checked_in_at:
            raise InvalidInput("Check-out must be after check-in.", field="checked_out_at")
        if checked_out_at > now:
            raise InvalidInput("Check-out is in the future.", field="checked_out_at")
        minutes = (checked_out_at - checked_in_at) // _MINUTE
        if minutes > DAY_MINUTES:
            raise InvalidInput("That is more than 24 hours in a day.", field="checked_out_at")
        if minutes <= 0:
            raise InvalidInput("Check-out must be at least a minute after check-in.")
        day = checked_in_at.date()
    elif hours.strip():
        minutes = parse_hours(hours)
        day = shift.starts_at.date()
    else:
        raise InvalidInput("Enter check-in and check-out, or type the hours.")
    row = signup.hours
    check_day(signup.volunteer_id, day, minutes, leaving_out=row.id if row else None)
    if row is None:
        row = VolunteerHours(volunteer_id=signup.volunteer_id, signup=signup)
        db.session.add(row)
    row.worked_on = day
    row.minutes = minutes
    row.checked_in_at = checked_in_at
    row.checked_out_at = checked_out_at
    row.recorded_by_id = actor.id if actor is not None else None
    db.session.flush()
    record_audit(
        actor=actor,
        action="volunteer.attendance",
        object_type="volunteer",
        object_id=signup.volunteer_id,
        summary=f"shift {shift.id}: {minutes} min",
    )
    return row


def log_hours(
    *,
    actor: User | None,
    volunteer_id: int,
    worked_on: date | None,
    hours: str,
    description: str = "",
    today: date | None = None,
) -> VolunteerHours:
    """Record work outside shifts on one day."""
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("No such volunteer.")
    today = today or utcnow().date()
    if worked_on is None:
        raise InvalidInput("Enter the day.", field="worked_on")
    if worked_on > today:
        raise InvalidInput("The day is in the future.", field="worked_on")
    if (today - worked_on).days > BACKDATE_MAX_DAYS:
        raise InvalidInput("The day is more than a year ago.", field="worked_on")
    minutes = parse_hours(hours)
    description = " ".join((description or "").split())
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"Use at most {DESCRIPTION_MAX} characters.", field="description")
    privacy.check_free_text(description, field="description")
    check_day(volunteer.id, worked_on, minutes)
    row = VolunteerHours(
        volunteer_id=volunteer.id,
        worked_on=worked_on,
        minutes=minutes,
        description=description,
        recorded_by_id=actor.id if actor is not None else None,
    )
    db.session.add(row)
    db.session.flush()
    record_audit(
        actor=actor,
        action="volunteer.hours",
        object_type="volunteer",
        object_id=volunteer.id,
        summary=f"{worked_on:%Y-%m-%d}: {minutes} min",
    )
    return row


@dataclass
class HoursSummary:
    rows: list[VolunteerHours]
    months: list[HoursMonth]  # newest first
    years: list[tuple[int, int]]  # (year, minutes), newest first
    total_minutes: int


def hours_summary(*, volunteer_id: int) -> HoursSummary:
    """A volunteer's hours: every row, and totals by month and year (from those rows)."""
    rows = list(
        db.session.scalars(
            select(VolunteerHours)
            .where(VolunteerHours.volunteer_id == volunteer_id)
            .order_by(VolunteerHours.worked_on.desc(), VolunteerHours.id.desc())
        )
    )
    by_month: dict[tuple[int, int], int] = {}
    by_year: dict[int, int] = {}
    for row in rows:
        key = (row.worked_on.year, row.worked_on.month)
        by_month[key] = by_month.get(key, 0) + row.minutes
        by_year[key[0]] = by_year.get(key[0], 0) + row.minutes
    months = [HoursMonth(year=y, month=m, minutes=by_month[(y, m)]) for y, m in by_month]
    return HoursSummary(
        rows=rows,
        months=months,
        years=sorted(by_year.items(), reverse=True),
        total_minutes=sum(by_year.values()),
    )


def letter_pdf(*, volunteer: Volunteer, today: date | None = None) -> bytes:
    """The letter of hours, for a school or an employer; refused when there are none."""
    summary = hours_summary(volunteer_id=volunteer.id)
    if not summary.rows:
        raise NotAllowed("No hours are recorded for you yet, so there is no letter to give.")
    letter = VolunteerLetter(
        **letterhead(),
        volunteer_name=volunteer.name,
        first_day=min(r.worked_on for r in summary.rows),
        last_day=max(r.worked_on for r in summary.rows),
        months=sorted(summary.months, key=lambda m: (m.year, m.month)),
        total_minutes=summary.total_minutes,
        made_on=today or utcnow().date(),
    )
    return render_volunteer_letter(letter)
