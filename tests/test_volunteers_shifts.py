"""Volunteers' shifts (services): capacity, past shifts, sensitive shifts and background
checks, cancelling, the confidential address in the volunteer's own mail only, and the
day-before reminder sent once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import flask_migrate
import pytest
from sqlalchemy import func, select, text
from volunteers_support import HIDDEN_ADDRESS, mails

from conftest import base_config, empty_database
from donations import create_app
from donations.extensions import db
from donations.jobs import volunteers as volunteer_jobs
from donations.models import Role, ShiftSignup, SignupStatus, VolunteerStatus, utcnow
from donations.queue import queue_of
from donations.services import volunteers
from donations.services.errors import InvalidInput, NotAllowed


def signups(shift_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ShiftSignup)
        .where(ShiftSignup.shift_id == shift_id, ShiftSignup.status == SignupStatus.SIGNED_UP)
    )


def test_an_approved_volunteer_signs_up_and_cancels(make_volunteer, make_shift):
    volunteer = make_volunteer("Ada Lovelace")
    shift = make_shift()
    volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    db.session.commit()
    assert signups(shift.id) == 1
    with pytest.raises(NotAllowed, match="already signed up"):
        volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    db.session.rollback()
    volunteers.cancel_signup(volunteer=volunteer, shift_id=shift.id)
    db.session.commit()
    assert signups(shift.id) == 0
    # Signing up again reuses the one row of the pair.
    volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    db.session.commit()
    assert signups(shift.id) == 1
    assert db.session.scalar(select(func.count()).select_from(ShiftSignup)) == 1


@pytest.mark.parametrize("status", [VolunteerStatus.PENDING, VolunteerStatus.DECLINED])
def test_only_approved_volunteers_sign_up(make_volunteer, make_shift, status):
    volunteer = make_volunteer(status=status)
    shift = make_shift()
    with pytest.raises(NotAllowed, match="approved"):
        volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    db.session.rollback()
    assert signups(shift.id) == 0


def test_a_full_shift_takes_no_one_more(make_volunteer, make_shift):
    shift = make_shift(capacity=2)
    first, second, third = (make_volunteer() for _ in range(3))
    for volunteer in (first, second):
        volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
        db.session.commit()
    with pytest.raises(NotAllowed, match="full"):
        volunteers.sign_up_for_shift(volunteer=third, shift_id=shift.id)
    db.session.rollback()
    assert signups(shift.id) == 2
    # A place freed by a cancellation is taken again.
    volunteers.cancel_signup(volunteer=first, shift_id=shift.id)
    volunteers.sign_up_for_shift(volunteer=third, shift_id=shift.id)
    db.session.commit()
    assert signups(shift.id) == 2


def test_a_past_shift_can_be_neither_joined_nor_left(make_volunteer, make_shift):
    volunteer = make_volunteer()
    shift = make_shift()
    volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    db.session.commit()
    later = shift.starts_at + timedelta(minutes=5)
    with pytest.raises(NotAllowed, match="already started"):
        volunteers.cancel_signup(volunteer=volunteer, shift_id=shift.id, now=later)
    db.session.rollback()
    other = make_volunteer()
    with pytest.raises(NotAllowed, match="already started or is over"):
        volunteers.sign_up_for_shift(volunteer=other, shift_id=shift.id, now=later)
    db.session.rollback()
    assert signups(shift.id) == 1


def test_a_shift_cannot_be_made_in_the_past_or_end_before_it_starts(make_shift):
    opportunity = volunteers.list_opportunities()[0]
    site_id = volunteers.open_sites()[0].id
    now = utcnow()
    for starts, ends, capacity, message in (
        (now - timedelta(hours=1), now + timedelta(hours=1), 3, "in the past"),
        (now + timedelta(hours=3), now + timedelta(hours=2), 3, "end after it starts"),
        (now + timedelta(hours=3), now + timedelta(hours=4), 0, "Capacity"),
    ):
        with pytest.raises(InvalidInput, match=message):
            volunteers.add_shift(
                actor=None,
                opportunity_id=opportunity.id,
                site_id=site_id,
                starts_at=starts,
                ends_at=ends,
                capacity=capacity,
            )
        db.session.rollback()
    assert volunteers.get_opportunity(opportunity.id).shifts == []


def test_only_an_admin_marks_a_shift_sensitive(make_shift, create_user):
    opportunity = volunteers.list_opportunities()[0]
    site_id = volunteers.open_sites()[0].id
    starts = utcnow() + timedelta(days=1)
    fields = dict(
        opportunity_id=opportunity.id,
        site_id=site_id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=2,
        sensitive=True,
    )
    with pytest.raises(NotAllowed, match="Only an admin"):
        volunteers.add_shift(actor=create_user(Role.STAFF), **fields)
    db.session.rollback()
    shift = volunteers.add_shift(actor=create_user(Role.ADMIN), **fields)
    assert shift.sensitive


def test_a_sensitive_shift_needs_a_check_valid_on_its_day(make_volunteer, make_shift):
    shift = make_shift(starts_in=timedelta(days=10), sensitive=True)
    day = shift.starts_at.date()
    unchecked = make_volunteer()
    expired = make_volunteer(
        checked_on=day - timedelta(days=400), check_expires_on=day - timedelta(days=1)
    )
    valid = make_volunteer(checked_on=utcnow().date() - timedelta(days=30))
    for volunteer in (unchecked, expired):
        with pytest.raises(NotAllowed, match="background check valid on"):
            volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
        db.session.rollback()
    volunteers.sign_up_for_shift(volunteer=valid, shift_id=shift.id)
    db.session.commit()
    assert signups(shift.id) == 1
    assert valid.background_check_expires_on > day  # two years by default


def test_the_confidential_address_is_in_the_volunteers_own_mail(
    make_volunteer, make_shift, volunteer_sites
):
    _warehouse, shelter = volunteer_sites
    volunteer = make_volunteer(email="ada@example.net")
    shift = make_shift(site=shelter)
    volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    db.session.commit()
    (message,) = mails("volunteer_signup")
    assert message.to_addr == "ada@example.net"
    assert HIDDEN_ADDRESS in message.body_text and "confidential" in message.body_text
    assert message.is_sensitive
    # No other mail carries it (the sign-up's confirmation, the approval).
    assert all(HIDDEN_ADDRESS not in m.body_text for m in mails() if m.id != message.id)


def test_the_reminder_goes_once_the_day_before(make_volunteer, make_shift, volunteer_sites):
    volunteer = make_volunteer(email="rem@example.net")
    # Tomorrow at noon (UTC), whatever the time of day now: "now + 30 hours" is the day
    # after tomorrow from 18:00 on.
    start = utcnow()
    noon_tomorrow = datetime.combine(start.date() + timedelta(days=1), time(12), tzinfo=UTC)
    tomorrow = make_shift(starts_in=noon_tomorrow - start, site=volunteer_sites[1])
    later = make_shift(starts_in=timedelta(days=5))
    cancelled = make_shift(starts_in=timedelta(hours=20))
    for shift in (tomorrow, later, cancelled):
        volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=shift.id)
    volunteers.cancel_signup(volunteer=volunteer, shift_id=cancelled.id)
    db.session.commit()
    now = utcnow()
    assert volunteers.remind_upcoming_shifts(now=now) == 1
    db.session.commit()
    assert volunteers.remind_upcoming_shifts(now=now) == 0
    db.session.commit()
    volunteer_jobs.remind_volunteer_shifts()  # the job itself, run again: still once
    db.session.commit()
    (reminder,) = mails(volunteers.REMINDER_KIND)
    assert reminder.to_addr == "rem@example.net"
    assert HIDDEN_ADDRESS in reminder.body_text
    assert "/volunteer/me/" in reminder.body_text
    # The later shift is reminded when its day before comes.
    assert volunteers.remind_upcoming_shifts(now=now + timedelta(days=4)) == 1


def test_the_reminder_job_is_periodic_once_a_day(app):
    job = volunteer_jobs.remind_volunteer_shifts
    schedule = job.definition.schedule
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    hits = sum(schedule(start + timedelta(minutes=m)) for m in range(24 * 60))
    assert hits == 1
    assert job.name in queue_of(app).register_all()


VOLUNTEER_TABLES = (
    "volunteer_skills",
    "volunteers",
    "volunteer_opportunities",
    "volunteer_shifts",
    "volunteer_signups",
    "volunteer_hours",
)


@pytest.mark.postgres_only
def test_migration_0032_walls_off_the_volunteer_tables(database_url, tmp_path):
    """On PostgreSQL the new OrgScoped tables get 0029's policy, forced; and lose it again."""

    def walled(conn) -> dict[str, tuple[bool, bool, int]]:
        found = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname "
                "AND p.policyname = 'organization_wall') "
                "FROM pg_class c WHERE c.relname = ANY(:names)"
            ),
            {"names": list(VOLUNTEER_TABLES)},
        )
        return {name: (on, forced, policies) for name, on, forced, policies in found}

    with empty_database(database_url, tmp_path, "volunteer_rls") as url:
        app = create_app(base_config(url, tmp_path))
        with app.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                assert walled(conn) == {t: (True, True, 1) for t in VOLUNTEER_TABLES}
            flask_migrate.downgrade(revision="0029_row_level_security")
            with db.engine.connect() as conn:
                assert walled(conn) == {}
            db.engine.dispose()
