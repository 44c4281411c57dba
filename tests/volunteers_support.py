"""Fixtures and helpers of the volunteer tests (tests/test_volunteers*.py, test_access)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from donations.extensions import db
from donations.models import (
    CheckStatus,
    OutboxMessage,
    Site,
    Volunteer,
    VolunteerShift,
    VolunteerStatus,
    utcnow,
)
from donations.services import catalog, volunteers

HIDDEN_ADDRESS = "77 Quiet Court"
OPEN_ADDRESS = "9 Depot Road"


def mails(kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if to:
        query = query.where(OutboxMessage.to_addr == to)
    return list(db.session.scalars(query))


def link_in(body: str, fragment: str) -> str:
    """The path of the first link in ``body`` containing ``fragment`` (no host)."""
    found = re.search(r"http://donations\.test(\S*" + re.escape(fragment) + r"\S*)", body)
    assert found, f"no link with {fragment!r} in:\n{body}"
    return found.group(1)


@pytest.fixture
def volunteer_sites(app) -> tuple[Site, Site]:
    """A public warehouse and a confidential shelter, committed."""
    warehouse = catalog.create_site(
        actor=None, name="Depot", kind="warehouse", address_line1=OPEN_ADDRESS, city="Springfield"
    )
    shelter = catalog.create_site(
        actor=None,
        name="Safe House",
        kind="shelter",
        is_confidential=True,
        address_line1=HIDDEN_ADDRESS,
        city="Springfield",
    )
    db.session.commit()
    return warehouse, shelter


@pytest.fixture
def make_volunteer(app) -> Callable[..., Volunteer]:
    """Make a volunteer through the services: signed up, confirmed and (by default) approved."""
    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None,
        *,
        email: str | None = None,
        status: VolunteerStatus = VolunteerStatus.APPROVED,
        checked_on: date | None = None,
        check_expires_on: date | None = None,
    ) -> Volunteer:
        n = next(counter)
        volunteer = volunteers.sign_up_volunteer(
            application=volunteers.Application(
                name=name or f"Helper {n}",
                email=email or f"helper{n}@example.net",
                accepted_terms=True,
            )
        )
        if status != VolunteerStatus.UNVERIFIED:
            volunteers.confirm_email(token=volunteers.confirm_token(volunteer))
        if status in (VolunteerStatus.APPROVED, VolunteerStatus.DECLINED):
            decision = "approve" if status == VolunteerStatus.APPROVED else "decline"
            volunteers.decide_volunteer(actor=None, volunteer_id=volunteer.id, decision=decision)
        if checked_on is not None:
            volunteers.update_volunteer_record(
                actor=None,
                volunteer_id=volunteer.id,
                background_check=CheckStatus.CLEARED,
                checked_on=checked_on,
                check_expires_on=check_expires_on,
                training_completed_on=None,
                active=True,
                notes="",
            )
        db.session.commit()
        return volunteer

    return make


@pytest.fixture
def make_shift(app, volunteer_sites) -> Callable[..., VolunteerShift]:
    """Make a shift of one opportunity ("Sorting day"), by default at the warehouse in 2 days."""
    opportunity = volunteers.create_opportunity(
        actor=None, title="Sorting day", description="Sort and shelve donated goods."
    )
    db.session.commit()

    def make(
        *,
        starts_in: timedelta = timedelta(days=2),
        hours: int = 3,
        capacity: int = 5,
        site: Site | None = None,
        sensitive: bool = False,
    ) -> VolunteerShift:
        now = utcnow()
        starts_at = (now + starts_in).replace(second=0, microsecond=0)
        shift = volunteers.add_shift(
            actor=None,
            opportunity_id=opportunity.id,
            site_id=(site or volunteer_sites[0]).id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            capacity=capacity,
            sensitive=sensitive,
            now=min(now, starts_at - timedelta(minutes=1)),  # a past shift is made "before"
        )
        db.session.commit()
        return shift

    return make


def at(text: str) -> datetime:
    """An aware UTC time from "2026-03-02 09:00"."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def volunteer_objects() -> dict[str, object]:
    """The rows the volunteer routes' paths name (tests/test_access.py)."""
    warehouse = catalog.create_site(actor=None, name="Access depot", kind="warehouse")
    volunteer = volunteers.sign_up_volunteer(
        application=volunteers.Application(
            name="Access Helper", email="access-helper@example.net", accepted_terms=True
        )
    )
    volunteers.confirm_email(token=volunteers.confirm_token(volunteer))
    volunteers.decide_volunteer(actor=None, volunteer_id=volunteer.id, decision="approve")
    opportunity = volunteers.create_opportunity(actor=None, title="Access sorting")
    now = utcnow()
    shift = volunteers.add_shift(
        actor=None,
        opportunity_id=opportunity.id,
        site_id=warehouse.id,
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
        capacity=3,
    )
    signup = volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    volunteers.log_hours(actor=None, volunteer_id=volunteer.id, worked_on=now.date(), hours="2")
    skill = volunteers.ensure_skills()[0]
    service = volunteers.log_service(
        actor=None,
        volunteer_id=volunteer.id,
        service_type="legal",
        service_date=now.date() - timedelta(days=1),
        hours="1",
        description="Access clinic",
        program_id=None,
        fair_rate_cents=10000,
    )
    db.session.commit()
    return {
        "volunteer_id": volunteer.id,
        "opportunity_id": opportunity.id,
        "shift_id": shift.id,
        "signup_id": signup.id,
        "skill_id": skill.id,
        "service_id": service.id,
        "volunteer_link": volunteers.page_token(volunteer),
        "confirm_link": volunteers.confirm_token(volunteer),
    }
