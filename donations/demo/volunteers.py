"""Demo volunteers: a dozen people, two of them professionals (a lawyer and a doctor),
two opportunities with past and upcoming shifts, and the hours recorded at past ones.

Through the services like the rest of the demo: sign-ups confirmed, most approved, a
background check for those who take the evening shifts at Harbor House (confidential,
and sensitive), attendance at the past shifts and a few hours outside shifts.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from donations.extensions import db
from donations.models import Site, Volunteer, VolunteerStatus, utcnow
from donations.services import organization, volunteers

# name, email, profession, skills, languages, days, status
DEMO_VOLUNTEERS = (
    (
        "Dana Whitfield",
        "dana.whitfield@example.net",
        "Lawyer (immigration)",
        ["Legal"],
        "",
        "tue thu",
        "approved",
    ),
    (
        "Samuel Okafor",
        "samuel.okafor@example.net",
        "Doctor (family medicine)",
        ["Medical"],
        "",
        "sat",
        "approved",
    ),
    (
        "Lucía Herrera",
        "lucia.herrera@example.net",
        "",
        ["Translation", "Counselling"],
        "Spanish, Portuguese",
        "mon wed",
        "approved",
    ),
    ("Tom Becker", "tom.becker@example.net", "", ["Driving", "Sorting"], "", "sat sun", "approved"),
    (
        "Aisha Rahman",
        "aisha.rahman@example.net",
        "",
        ["Sorting", "Events"],
        "",
        "fri sat",
        "approved",
    ),
    ("Ben Carter", "ben.carter@example.net", "", ["Sorting"], "", "sat", "approved"),
    (
        "Mei Lin",
        "mei.lin@example.net",
        "",
        ["Translation"],
        "Mandarin, Cantonese",
        "sun",
        "approved",
    ),
    (
        "Olga Petrenko",
        "olga.petrenko@example.net",
        "",
        ["Translation", "Sorting"],
        "Ukrainian, Russian",
        "wed sat",
        "approved",
    ),
    (
        "Grace Adeyemi",
        "grace.adeyemi@example.net",
        "Grant writer",
        ["Grant writing"],
        "",
        "",
        "approved",
    ),
    ("Noah Fischer", "noah.fischer@example.net", "", ["Events", "Driving"], "", "fri", "pending"),
    ("Rosa Delgado", "rosa.delgado@example.net", "", ["Counselling"], "Spanish", "mon", "pending"),
    ("Kevin Walsh", "kevin.walsh@example.net", "", ["Driving"], "", "sun", "declined"),
)
# Those cleared for the evening shifts at Harbor House.
CHECKED = {"Lucía Herrera", "Aisha Rahman", "Samuel Okafor", "Olga Petrenko"}
SORTERS = ("Tom Becker", "Aisha Rahman", "Ben Carter", "Olga Petrenko")
EVENING = ("Lucía Herrera", "Samuel Okafor", "Aisha Rahman")


def _at(day_offset: int, hour: int) -> datetime:
    day = utcnow().date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _site(name: str) -> Site:
    return db.session.scalars(select(Site).where(Site.name == name)).one()


def _people() -> dict[str, Volunteer]:
    long_ago = utcnow() - timedelta(days=120)
    people = {}
    for name, email, profession, offered, languages, days, status in DEMO_VOLUNTEERS:
        person = volunteers.sign_up_volunteer(
            application=volunteers.Application(
                name=name,
                email=email,
                accepted_terms=True,
                profession=profession,
                skills=offered,
                languages=languages,
                available_days=days.split(),
            ),
            now=long_ago,
        )
        volunteers.confirm_email(token=volunteers.confirm_token(person), now=long_ago)
        if status != VolunteerStatus.PENDING:
            decision = "approve" if status == VolunteerStatus.APPROVED else "decline"
            volunteers.decide_volunteer(actor=None, volunteer_id=person.id, decision=decision)
        if name in CHECKED:
            volunteers.update_volunteer_record(
                actor=None,
                volunteer_id=person.id,
                background_check="cleared",
                checked_on=utcnow().date() - timedelta(days=100),
                check_expires_on=None,
                training_completed_on=utcnow().date() - timedelta(days=90),
                active=True,
                notes="Completed the trauma-informed care training.",
            )
        people[name] = person
    return people


def _shifts(people: dict[str, Volunteer]) -> None:
    sorting = volunteers.create_opportunity(
        actor=None,
        title="Sorting donations",
        description="Sort, count and shelve donated goods at the warehouse. No experience needed.",
    )
    evening = volunteers.create_opportunity(
        actor=None,
        title="Evening activities at Harbor House",
        description="Art, cooking and homework help with residents. Background check needed.",
    )
    plans = [
        (sorting, "Main warehouse", offset, 10, 3, 4, False, SORTERS)
        for offset in (-17, -10, -3, 4, 11)
    ] + [(evening, "Harbor House", offset, 18, 2, 2, True, EVENING) for offset in (-8, -1, 6)]
    for opportunity, site, offset, hour, hours, capacity, sensitive, who in plans:
        starts = _at(offset, hour)
        made = min(utcnow(), starts - timedelta(days=1))
        shift = volunteers.add_shift(
            actor=None,
            opportunity_id=opportunity.id,
            site_id=_site(site).id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            capacity=capacity,
            sensitive=sensitive,
            now=made,
        )
        signed = [people[name] for name in who if people[name].check_valid_on(starts.date())]
        for person in signed[:capacity]:
            signup = volunteers.sign_up_for_shift(volunteer=person, shift_id=shift.id, now=made)
            if offset < 0:  # past: attendance recorded
                volunteers.record_attendance(
                    actor=None,
                    signup_id=signup.id,
                    checked_in_at=starts + timedelta(minutes=5),
                    checked_out_at=starts + timedelta(hours=hours, minutes=-10),
                )


# The professionals' services, acknowledged without a value; the fair rate is for the books.
# (professional, type, days ago, hours, what was done, fair rate per hour in cents)
DEMO_SERVICES = (
    ("Dana Whitfield", "legal", 40, "3", "Immigration consultations at the legal clinic", 25_000),
    ("Dana Whitfield", "legal", 12, "2.5", "Reviewed visa applications with staff", 25_000),
    ("Samuel Okafor", "medical", 30, "4", "Health checks at the Saturday drop-in", 18_000),
)
# What the organisation counts a volunteer hour as worth in its grant reports: Independent
# Sector's estimate of the value of a volunteer hour in the United States ($34.79, 2024).
DEMO_HOUR_VALUE_CENTS = 3_479


def load_demo_volunteers() -> None:
    """Add the demo volunteers, opportunities, shifts and hours in this transaction."""
    people = _people()
    _shifts(people)
    profile = organization.get_organization()
    if profile is not None:
        organization.update_organization(
            actor=None,
            legal_name=profile.legal_name,
            volunteer_hour_value_cents=DEMO_HOUR_VALUE_CENTS,
        )
    today = utcnow().date()
    programs = volunteers.program_choices()
    for name, kind, days_ago, typed, what, rate in DEMO_SERVICES:
        volunteers.log_service(
            actor=None,
            volunteer_id=people[name].id,
            service_type=kind,
            service_date=today - timedelta(days=days_ago),
            hours=typed,
            description=what,
            program_id=programs[0].id if programs else None,
            fair_rate_cents=rate,
        )
    volunteers.log_hours(
        actor=None,
        volunteer_id=people["Grace Adeyemi"].id,
        worked_on=today - timedelta(days=20),
        hours="6",
        description="Drafted the spring foundation grant",
    )
