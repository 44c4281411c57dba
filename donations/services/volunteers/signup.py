"""The public sign-up: the form, the email confirmation, and a new link by email.

A sign-up counts once its email is confirmed through the mailed link. Signing up again
with the same address changes nothing and duplicates nothing: the address is mailed
again (the confirmation link while unconfirmed, otherwise a link to the volunteer's
page), and the page says the same to everyone, so it never tells a stranger who
volunteers here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from donations.extensions import db
from donations.models import Volunteer, VolunteerSkill, VolunteerStatus, utcnow
from donations.services.accounts import normalize_email
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.organization import get_organization
from donations.services.volunteers.links import confirm_url, page_url, volunteer_to_confirm
from donations.services.volunteers.skills import ensure_skills

WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
CONFIRM_KIND = "volunteer_confirm"
LINK_KIND = "volunteer_link"


@dataclass(frozen=True)
class Application:
    """What the sign-up form holds."""

    name: str
    email: str
    accepted_terms: bool
    phone: str = ""
    profession: str = ""
    skills: list[str] = field(default_factory=list)  # names, as the form offers them
    languages: str = ""
    availability: str = ""
    available_days: list[str] = field(default_factory=list)


def org_name() -> str:
    org = get_organization()
    return org.legal_name if org and org.legal_name else "our shelter"


def _text(value: str, limit: int, field_name: str, label: str, *, required: bool = False) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise InvalidInput(f"Enter {label}.", field=field_name)
    if len(value) > limit:
        raise InvalidInput(f"Use at most {limit} characters.", field=field_name)
    return value


def _checked(application: Application) -> tuple[dict[str, str], list[VolunteerSkill], str]:
    """The cleaned fields, the skills chosen and the weekdays, or InvalidInput."""
    if not application.accepted_terms:
        raise InvalidInput("Please accept the volunteer terms to sign up.", field="terms")
    fields = {
        "name": _text(application.name, 120, "name", "your name", required=True),
        "email": normalize_email(application.email or ""),
        "phone": _text(application.phone, 40, "phone", "a phone number"),
        "profession": _text(application.profession, 120, "profession", "your profession"),
        "languages": _text(application.languages, 200, "languages", "the languages"),
        "availability": (application.availability or "").strip(),
    }
    if not fields["email"] or "@" not in fields["email"] or len(fields["email"]) > 254:
        raise InvalidInput("Enter a valid email address.", field="email")
    if len(fields["availability"]) > 500:
        raise InvalidInput("Use at most 500 characters.", field="availability")
    offered = {s.name.lower(): s for s in ensure_skills() if s.active}
    chosen = list(dict.fromkeys(name.strip().lower() for name in application.skills))
    if any(name not in offered for name in chosen):
        raise InvalidInput("Choose skills from the list.", field="skills")
    skills = [offered[name] for name in chosen]
    if any(s.asks_languages for s in skills) and not fields["languages"]:
        raise InvalidInput("Say which languages you translate.", field="languages")
    known_days = [code for code, _label in WEEKDAYS]
    if any(day not in known_days for day in application.available_days):
        raise InvalidInput("Choose days of the week from the list.", field="days")
    days = " ".join(d for d in known_days if d in application.available_days)
    return fields, skills, days


def _mail_confirmation(volunteer: Volunteer, *, again: bool) -> None:
    lines = [
        f"Dear {volunteer.name},",
        "",
        (
            f"You signed up to volunteer with {org_name()} before with this address: "
            "nothing was changed or duplicated. "
            if again
            else f"Thank you for offering to volunteer with {org_name()}. "
        )
        + "Please confirm your email address by opening this link (it works for 7 days):",
        confirm_url(volunteer),
        "",
        "If you did not sign up, ignore this message: nothing happens without the link.",
    ]
    queue_mail(
        kind=CONFIRM_KIND,
        to=volunteer.email,
        subject=f"Confirm your email to volunteer with {org_name()}",
        body_text="\n".join(lines) + "\n",
    )


def mail_page_link(volunteer: Volunteer, *, again: bool = False) -> None:
    """Mail the volunteer the link to their own page."""
    first = (
        f"You have already signed up to volunteer with {org_name()} with this address: "
        "nothing was changed or duplicated."
        if again
        else f"Here is the link to your volunteer page at {org_name()}."
    )
    lines = [
        f"Dear {volunteer.name},",
        "",
        first,
        "Your page shows your shifts and hours; once you are approved, you sign up for "
        "shifts there. The link works for 30 days; ask for a new one any time:",
        page_url(volunteer),
    ]
    queue_mail(
        kind=LINK_KIND,
        to=volunteer.email,
        subject=f"Your volunteer page at {org_name()}",
        body_text="\n".join(lines) + "\n",
    )


def sign_up_volunteer(*, application: Application, now: datetime | None = None) -> Volunteer:
    """Record a sign-up and mail the confirmation link; for an address already signed up,
    change nothing and mail it again (the confirmation link, or the page link)."""
    fields, skills, days = _checked(application)
    serialize_writes("volunteer_signup")  # SQLite: two sign-ups at once never both insert
    existing = db.session.scalar(select(Volunteer).where(Volunteer.email == fields["email"]))
    if existing is not None:
        if existing.status == VolunteerStatus.UNVERIFIED:
            _mail_confirmation(existing, again=True)
        else:
            mail_page_link(existing, again=True)
        return existing
    volunteer = Volunteer(
        **fields,
        available_days=days,
        status=VolunteerStatus.UNVERIFIED,
        terms_accepted_at=now or utcnow(),
    )
    volunteer.skills = skills
    db.session.add(volunteer)
    db.session.flush()
    _mail_confirmation(volunteer, again=False)
    return volunteer


def confirm_email(*, token: str, now: datetime | None = None) -> Volunteer | None:
    """Confirm the address a link names; the sign-up now waits for staff. None: bad link."""
    volunteer = volunteer_to_confirm(token)
    if volunteer is None:
        return None
    if volunteer.status == VolunteerStatus.UNVERIFIED:
        volunteer.status = VolunteerStatus.PENDING
        volunteer.email_verified_at = now or utcnow()
        record_audit(
            actor=None,
            action="volunteer.confirm_email",
            object_type="volunteer",
            object_id=volunteer.id,
        )
    return volunteer


def request_page_link(*, email: str) -> None:
    """Mail a confirmed volunteer a new link to their page; say nothing either way."""
    address = normalize_email(email or "")
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.email == address))
    if volunteer is None:
        return
    if volunteer.status == VolunteerStatus.UNVERIFIED:
        _mail_confirmation(volunteer, again=True)
    else:
        mail_page_link(volunteer)
