"""Staff's side of volunteers: the list, approval, background check, training, notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from donations.extensions import db
from donations.models import (
    CheckStatus,
    User,
    Volunteer,
    VolunteerSkillChoice,
    VolunteerStatus,
    utcnow,
)
from donations.services import privacy
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.mail import queue_mail
from donations.services.volunteers.links import page_url
from donations.services.volunteers.signup import org_name

NOTES_MAX = 2000
# A background check stands this long when staff give no end date.
CHECK_VALID_DAYS = 730
DECISIONS = {"approve": VolunteerStatus.APPROVED, "decline": VolunteerStatus.DECLINED}


@dataclass
class VolunteerList:
    items: list[Volunteer]
    page: int
    has_next: bool


def list_volunteers(
    *, status: str = "", skill_id: int | None = None, page: int = 1, per_page: int = 50
) -> VolunteerList:
    """Volunteers by status and skill, newest first; unconfirmed sign-ups only when asked."""
    query = select(Volunteer).options(selectinload(Volunteer.skills))
    if status in {s.value for s in VolunteerStatus}:
        query = query.where(Volunteer.status == status)
    else:
        query = query.where(Volunteer.status != VolunteerStatus.UNVERIFIED)
    if skill_id:
        query = query.where(
            Volunteer.id.in_(
                select(VolunteerSkillChoice.volunteer_id).where(
                    VolunteerSkillChoice.skill_id == skill_id
                )
            )
        )
    page = max(1, min(page, 10_000))
    rows = list(
        db.session.scalars(
            query.order_by(Volunteer.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
        )
    )
    return VolunteerList(items=rows[:per_page], page=page, has_next=len(rows) > per_page)


def get_volunteer(volunteer_id: int) -> Volunteer:
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("No such volunteer.")
    return volunteer


def _mail_approval(volunteer: Volunteer) -> None:
    lines = [
        f"Dear {volunteer.name},",
        "",
        f"Thank you for offering your time: {org_name()} has approved you as a volunteer.",
        "Open shifts are on your own page, where you sign up (and cancel) in a click. "
        "The link works for 30 days; ask for a new one any time:",
        page_url(volunteer),
    ]
    queue_mail(
        kind="volunteer_approved",
        to=volunteer.email,
        subject=f"You are approved to volunteer with {org_name()}",
        body_text="\n".join(lines) + "\n",
    )


def decide_volunteer(
    *, actor: User | None, volunteer_id: int, decision: str, now: datetime | None = None
) -> Volunteer:
    """Approve or decline a confirmed sign-up (a decision may be changed later)."""
    volunteer = get_volunteer(volunteer_id)
    status = DECISIONS.get(decision)
    if status is None:
        raise InvalidInput("Choose approve or decline.")
    if volunteer.status == VolunteerStatus.UNVERIFIED:
        raise NotAllowed("This sign-up's email is not confirmed yet: it cannot be decided.")
    if volunteer.status == status:
        raise NotAllowed(f"{volunteer.name} is already {status.label.lower()}.")
    volunteer.status = status
    volunteer.decided_at = now or utcnow()
    volunteer.decided_by_id = actor.id if actor is not None else None
    if status == VolunteerStatus.APPROVED:
        _mail_approval(volunteer)
    record_audit(
        actor=actor,
        action=f"volunteer.{decision}",
        object_type="volunteer",
        object_id=volunteer.id,
    )
    return volunteer


def update_volunteer_record(
    *,
    actor: User | None,
    volunteer_id: int,
    background_check: str,
    checked_on: date | None,
    check_expires_on: date | None,
    training_completed_on: date | None,
    active: bool,
    notes: str,
    today: date | None = None,
) -> Volunteer:
    """Record the background check, training, the active flag and staff's (screened) notes."""
    volunteer = get_volunteer(volunteer_id)
    today = today or utcnow().date()
    try:
        check = CheckStatus(background_check)
    except ValueError:
        raise InvalidInput("Choose a background check status.", field="background_check") from None
    if checked_on is not None and checked_on > today:
        raise InvalidInput("The check's date is in the future.", field="checked_on")
    if check == CheckStatus.CLEARED:
        if checked_on is None:
            raise InvalidInput("Enter the date the check was done.", field="checked_on")
        if check_expires_on is None:
            check_expires_on = checked_on + timedelta(days=CHECK_VALID_DAYS)
    if checked_on and check_expires_on and check_expires_on < checked_on:
        raise InvalidInput("The check cannot expire before it was done.", field="check_expires_on")
    if training_completed_on is not None and training_completed_on > today:
        raise InvalidInput("The training date is in the future.", field="training_completed_on")
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise InvalidInput(f"Use at most {NOTES_MAX} characters.", field="notes")
    privacy.check_free_text(notes, field="notes")
    volunteer.background_check = check
    volunteer.background_checked_on = checked_on
    volunteer.background_check_expires_on = check_expires_on
    volunteer.training_completed_on = training_completed_on
    volunteer.active = active
    volunteer.notes = notes
    record_audit(
        actor=actor,
        action="volunteer.update",
        object_type="volunteer",
        object_id=volunteer.id,
        summary=f"check {check.value}, {'active' if active else 'inactive'}",
    )
    return volunteer
