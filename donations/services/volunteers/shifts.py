"""Opportunities, their shifts, and volunteers signing up for shifts (and cancelling).

A shift's capacity is never exceeded: signing up locks the shift's row first (and takes
the write lock on SQLite). A shift that has started cannot be signed up for or left. A
sensitive shift takes only volunteers whose background check is valid on its day.

A confidential site's address is given in one place only: the mail to the volunteer who
signed up (the confirmation and the reminder). Pages that list shifts show its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from donations.extensions import db
from donations.models import (
    Role,
    ShiftSignup,
    SignupStatus,
    Site,
    User,
    Volunteer,
    VolunteerOpportunity,
    VolunteerShift,
    utcnow,
)
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.volunteers.hours import HoursSummary, hours_summary
from donations.services.volunteers.links import page_url
from donations.services.volunteers.signup import org_name

TITLE_MAX = 120
DESCRIPTION_MAX = 4000
CAPACITY_MAX = 1000


# --- opportunities and shifts (staff) ------------------------------------------------


def list_opportunities() -> list[VolunteerOpportunity]:
    return list(
        db.session.scalars(
            select(VolunteerOpportunity)
            .options(selectinload(VolunteerOpportunity.shifts).selectinload(VolunteerShift.signups))
            .order_by(VolunteerOpportunity.active.desc(), VolunteerOpportunity.title)
        )
    )


def get_opportunity(opportunity_id: int) -> VolunteerOpportunity:
    opportunity = db.session.get(VolunteerOpportunity, opportunity_id)
    if opportunity is None:
        raise NotFound("No such opportunity.")
    return opportunity


def get_shift(shift_id: int) -> VolunteerShift:
    shift = db.session.get(VolunteerShift, shift_id)
    if shift is None:
        raise NotFound("No such shift.")
    return shift


def open_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).where(Site.active).order_by(Site.name)))


def create_opportunity(
    *, actor: User | None, title: str, description: str = ""
) -> VolunteerOpportunity:
    """Add an opportunity: work volunteers may do, offered as shifts."""
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("Give the opportunity a title.", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"Use at most {TITLE_MAX} characters.", field="title")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"Use at most {DESCRIPTION_MAX} characters.", field="description")
    opportunity = VolunteerOpportunity(title=title, description=description)
    db.session.add(opportunity)
    db.session.flush()
    record_audit(
        actor=actor,
        action="volunteer_opportunity.create",
        object_type="volunteer_opportunity",
        object_id=opportunity.id,
        summary=title,
    )
    return opportunity


def add_shift(
    *,
    actor: User | None,
    opportunity_id: int,
    site_id: int | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    capacity: int | None,
    sensitive: bool = False,
    now: datetime | None = None,
) -> VolunteerShift:
    """Add a shift; only an admin may mark it sensitive (a background check is needed)."""
    opportunity = get_opportunity(opportunity_id)
    now = now or utcnow()
    site = db.session.get(Site, site_id) if site_id else None
    if site is None or not site.active:
        raise InvalidInput("Choose a site.", field="site_id")
    if starts_at is None:
        raise InvalidInput("Enter when the shift starts.", field="starts_at")
    if ends_at is None:
        raise InvalidInput("Enter when the shift ends.", field="ends_at")
    if starts_at <= now:
        raise InvalidInput("The shift would start in the past.", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput("The shift must end after it starts.", field="ends_at")
    if capacity is None or not 1 <= capacity <= CAPACITY_MAX:
        raise InvalidInput(f"Capacity is a number from 1 to {CAPACITY_MAX}.", field="capacity")
    if sensitive and actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed("Only an admin may mark a shift as sensitive.", field="sensitive")
    shift = VolunteerShift(
        opportunity=opportunity,
        site_id=site.id,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        sensitive=sensitive,
    )
    db.session.add(shift)
    db.session.flush()
    record_audit(
        actor=actor,
        action="volunteer_shift.create",
        object_type="volunteer_shift",
        object_id=shift.id,
        summary=f"{opportunity.title} {starts_at:%Y-%m-%d %H:%M}"
        + (" (sensitive)" if sensitive else ""),
    )
    return shift


# --- the volunteer's side -------------------------------------------------------------


def shift_address_lines(shift: VolunteerShift) -> list[str]:
    """The site's address for the signed-up volunteer's own mail, confidential or not."""
    return shift.site.address_lines


@dataclass
class VolunteerPage:
    volunteer: Volunteer
    upcoming: list[ShiftSignup]
    past: list[ShiftSignup]
    open_shifts: list[VolunteerShift]
    hours: HoursSummary


def volunteer_page(*, volunteer: Volunteer, now: datetime | None = None) -> VolunteerPage:
    """What a volunteer sees on their own page: their shifts, open shifts, their hours."""
    now = now or utcnow()
    signups = list(
        db.session.scalars(
            select(ShiftSignup)
            .join(ShiftSignup.shift)
            .options(selectinload(ShiftSignup.shift).selectinload(VolunteerShift.site))
            .where(ShiftSignup.volunteer_id == volunteer.id)
            .order_by(VolunteerShift.starts_at)
        )
    )
    mine = {s.shift_id for s in signups if s.active}
    open_shifts: list[VolunteerShift] = []
    if volunteer.can_serve:
        shifts = db.session.scalars(
            select(VolunteerShift)
            .join(VolunteerShift.opportunity)
            .options(selectinload(VolunteerShift.signups), selectinload(VolunteerShift.site))
            .where(VolunteerShift.starts_at > now, VolunteerOpportunity.active)
            .order_by(VolunteerShift.starts_at)
            .limit(200)
        )
        open_shifts = [s for s in shifts if s.id not in mine and s.places_left > 0]
    return VolunteerPage(
        volunteer=volunteer,
        upcoming=[s for s in signups if s.active and s.shift.starts_at > now],
        past=[s for s in signups if s.active and s.shift.starts_at <= now],
        open_shifts=open_shifts,
        hours=hours_summary(volunteer_id=volunteer.id),
    )


def _locked_shift(shift_id: int) -> VolunteerShift:
    serialize_writes("volunteer_shift")  # SQLite: one sign-up at a time
    shift = db.session.scalar(
        select(VolunteerShift).where(VolunteerShift.id == shift_id).with_for_update()
    )
    if shift is None:
        raise NotFound("No such shift.")
    db.session.refresh(shift)
    return shift


def _when(shift: VolunteerShift) -> str:
    return f"{shift.starts_at:%A %d %B %Y, %H:%M} to {shift.ends_at:%H:%M} UTC"


def shift_mail_lines(signup: ShiftSignup) -> list[str]:
    """The shift's details for the volunteer's own mail, the site's address included."""
    shift = signup.shift
    address = shift_address_lines(shift)
    lines = [
        f"{shift.opportunity.title}",
        f"When: {_when(shift)}",
        f"Where: {shift.site.name}",
        *(f"       {line}" for line in address),
    ]
    if shift.site.is_confidential:
        lines += [
            "",
            "This address is confidential: please keep it to yourself and do not share it, "
            "post it or give it to anyone who asks.",
        ]
    return lines


def _mail_signup(signup: ShiftSignup) -> None:
    volunteer = signup.volunteer
    lines = [
        f"Dear {volunteer.name},",
        "",
        f"You are signed up to volunteer with {org_name()}:",
        "",
        *shift_mail_lines(signup),
        "",
        "We will remind you the day before. To cancel, use your page:",
        page_url(volunteer),
    ]
    queue_mail(
        kind="volunteer_signup",
        to=volunteer.email,
        subject=f"You are signed up: {signup.shift.opportunity.title}",
        body_text="\n".join(lines) + "\n",
        sensitive=signup.shift.site.is_confidential,
    )


def sign_up_for_shift(
    *, volunteer: Volunteer, shift_id: int, now: datetime | None = None
) -> ShiftSignup:
    """Put an approved volunteer on a shift that has not started and has a place left."""
    now = now or utcnow()
    if not volunteer.can_serve:
        raise NotAllowed("Only approved, active volunteers may sign up for shifts.")
    shift = _locked_shift(shift_id)
    if shift.starts_at <= now:
        raise NotAllowed("This shift has already started or is over: choose another one.")
    if not shift.opportunity.active:
        raise NotAllowed("This opportunity is closed.")
    signup = next((s for s in shift.signups if s.volunteer_id == volunteer.id), None)
    if signup is not None and signup.active:
        raise NotAllowed("You are already signed up for this shift.")
    if shift.places_left <= 0:
        raise NotAllowed("This shift is full: choose another one.")
    day = shift.starts_at.date()
    if shift.sensitive and not volunteer.check_valid_on(day):
        raise NotAllowed(
            f"This shift needs a background check valid on {day:%Y-%m-%d}. "
            "Staff can tell you how to get one, or when yours will be renewed."
        )
    if signup is None:
        signup = ShiftSignup(shift=shift, volunteer=volunteer)
        db.session.add(signup)
    else:
        signup.status = SignupStatus.SIGNED_UP
        signup.cancelled_at = None
        signup.reminded_at = None
    db.session.flush()
    _mail_signup(signup)
    return signup


def cancel_signup(
    *, volunteer: Volunteer, shift_id: int, now: datetime | None = None
) -> ShiftSignup:
    """Take a volunteer off a shift that has not started."""
    now = now or utcnow()
    shift = _locked_shift(shift_id)
    signup = next((s for s in shift.signups if s.volunteer_id == volunteer.id), None)
    if signup is None or not signup.active:
        raise NotAllowed("You are not signed up for this shift.")
    if shift.starts_at <= now:
        raise NotAllowed("This shift has already started: call the organisation instead.")
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = now
    return signup
