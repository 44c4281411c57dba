"""Volunteer hours: attendance (check-in/out or hours typed), hours outside shifts, at most
24 hours a day, totals by month that reconcile with the rows, and the letter of hours."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from volunteers_support import at

from donations.extensions import db
from donations.models import VolunteerHours, utcnow
from donations.services import volunteers
from donations.services.errors import InvalidInput, NotAllowed


def rows() -> list[VolunteerHours]:
    return list(db.session.scalars(select(VolunteerHours).order_by(VolunteerHours.id)))


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("3", 180), ("2.5", 150), ("2,75", 165), ("2:30", 150), ("1h45", 105), ("0.1", 6)],
)
def test_typed_hours_become_whole_minutes(typed, minutes):
    assert volunteers.parse_hours(typed) == minutes


@pytest.mark.parametrize("typed", ["", "abc", "0", "24.5", "25", "2:75", "-1"])
def test_bad_typed_hours_are_refused(typed):
    with pytest.raises(InvalidInput):
        volunteers.parse_hours(typed)


@pytest.fixture
def attended(make_volunteer, make_shift):
    """A volunteer signed up for a shift that started two hours ago; (volunteer, shift, signup)."""
    volunteer = make_volunteer()
    shift = make_shift(starts_in=timedelta(hours=-2), hours=3)
    signup = volunteers.sign_up_for_shift(
        volunteer=volunteer, shift_id=shift.id, now=shift.starts_at - timedelta(hours=1)
    )
    db.session.commit()
    return volunteer, shift, signup


def test_check_in_and_out_record_minutes_and_replace_on_correction(attended):
    _volunteer, shift, signup = attended
    start = shift.starts_at
    volunteers.record_attendance(
        actor=None,
        signup_id=signup.id,
        checked_in_at=start,
        checked_out_at=start + timedelta(minutes=95),
    )
    db.session.commit()
    (row,) = rows()
    assert row.minutes == 95 and row.worked_on == start.date() and row.signup_id == signup.id
    volunteers.record_attendance(actor=None, signup_id=signup.id, hours="1.5")
    db.session.commit()
    (row,) = rows()
    assert row.minutes == 90 and row.checked_in_at is None


def test_bad_attendance_changes_nothing(attended, make_shift, make_volunteer):
    volunteer, shift, signup = attended
    start = shift.starts_at
    for fields, message in (
        (
            {"checked_in_at": start, "checked_out_at": start - timedelta(minutes=5)},
            "after check-in",
        ),
        ({"checked_in_at": start, "checked_out_at": start}, "after check-in"),
        ({"checked_in_at": start}, "both check-in and check-out"),
        ({"hours": "25"}, "more than 24 hours"),
        ({}, "check-in and check-out, or type the hours"),
        ({"checked_in_at": start, "checked_out_at": utcnow() + timedelta(hours=2)}, "future"),
    ):
        with pytest.raises(InvalidInput, match=message):
            volunteers.record_attendance(actor=None, signup_id=signup.id, **fields)
        db.session.rollback()
    # A shift that has not started yet takes no attendance.
    later = make_shift(starts_in=timedelta(days=1))
    ahead = volunteers.sign_up_for_shift(volunteer=volunteer, shift_id=later.id)
    db.session.commit()
    with pytest.raises(InvalidInput, match="not started"):
        volunteers.record_attendance(actor=None, signup_id=ahead.id, hours="2")
    db.session.rollback()
    assert rows() == []


def test_no_more_than_24_hours_in_a_day_across_rows(attended):
    volunteer, shift, signup = attended
    day = shift.starts_at.date()
    volunteers.log_hours(actor=None, volunteer_id=volunteer.id, worked_on=day, hours="20")
    db.session.commit()
    with pytest.raises(InvalidInput, match="more than 24 hours on"):
        volunteers.record_attendance(actor=None, signup_id=signup.id, hours="5")
    db.session.rollback()
    with pytest.raises(InvalidInput, match="more than 24 hours on"):
        volunteers.log_hours(actor=None, volunteer_id=volunteer.id, worked_on=day, hours="4:01")
    db.session.rollback()
    volunteers.record_attendance(actor=None, signup_id=signup.id, hours="4")
    db.session.commit()
    assert sum(r.minutes for r in rows()) == 24 * 60


def test_hours_outside_shifts_are_screened_and_not_in_the_future(make_volunteer):
    volunteer = make_volunteer()
    today = utcnow().date()
    with pytest.raises(InvalidInput, match="names or contact details"):
        volunteers.log_hours(
            actor=None,
            volunteer_id=volunteer.id,
            worked_on=today,
            hours="2",
            description="Drove Maria Lopez to court",
        )
    db.session.rollback()
    with pytest.raises(InvalidInput, match="future"):
        volunteers.log_hours(
            actor=None, volunteer_id=volunteer.id, worked_on=today + timedelta(days=2), hours="2"
        )
    db.session.rollback()
    assert rows() == []


def test_the_staff_pages_refuse_bad_input_with_a_message(staff_client, attended):
    volunteer, shift, signup = attended
    prefix = f"s{signup.id}-"
    start = shift.starts_at
    response = staff_client.post(
        f"/volunteers/shifts/{shift.id}/attendance/{signup.id}",
        data={
            prefix + "checked_in_at": start.strftime("%Y-%m-%dT%H:%M"),
            prefix + "checked_out_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert "Check-out must be after check-in" in response.get_data(as_text=True)
    response = staff_client.post(
        f"/volunteers/{volunteer.id}/hours",
        data={"worked_on": start.date().isoformat(), "hours": "30"},
    )
    assert response.status_code == 400
    assert "more than 24 hours" in response.get_data(as_text=True)
    response = staff_client.post(
        f"/volunteers/{volunteer.id}/record",
        data={"background_check": "cleared", "notes": "Call her at 555-123-4567", "active": "y"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter the date the check was done" in page
    assert rows() == []
    response = staff_client.post(
        f"/volunteers/shifts/{shift.id}/attendance/{signup.id}", data={prefix + "hours": "2:15"}
    )
    assert response.status_code == 302
    assert [r.minutes for r in rows()] == [135]


def test_notes_are_screened(make_volunteer):
    volunteer = make_volunteer()
    with pytest.raises(InvalidInput, match="names or contact details"):
        volunteers.update_volunteer_record(
            actor=None,
            volunteer_id=volunteer.id,
            background_check="none",
            checked_on=None,
            check_expires_on=None,
            training_completed_on=None,
            active=True,
            notes="Drove the client, Maria Lopez, to the clinic",
        )


def test_totals_by_month_and_year_reconcile_with_the_rows(make_volunteer):
    volunteer = make_volunteer()
    today = date(2026, 3, 20)
    for day, typed in (
        (date(2025, 12, 30), "3"),
        (date(2026, 1, 5), "2.5"),
        (date(2026, 1, 6), "1:15"),
        (date(2026, 3, 1), "4"),
        (date(2026, 3, 1), "0.25"),
    ):
        volunteers.log_hours(
            actor=None, volunteer_id=volunteer.id, worked_on=day, hours=typed, today=today
        )
    db.session.commit()
    summary = volunteers.hours_summary(volunteer_id=volunteer.id)
    by_month = {(m.year, m.month): m.minutes for m in summary.months}
    assert by_month == {(2026, 3): 255, (2026, 1): 225, (2025, 12): 180}
    assert dict(summary.years) == {2026: 480, 2025: 180}
    in_rows = db.session.scalar(
        select(func.sum(VolunteerHours.minutes)).where(VolunteerHours.volunteer_id == volunteer.id)
    )
    assert summary.total_minutes == sum(by_month.values()) == in_rows == 660


def _pdf_text(data: bytes) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True, timeout=30
    )
    return done.stdout.decode()


def test_the_letter_of_hours(client, make_volunteer, organization):
    volunteer = make_volunteer("Mary Jackson")
    volunteers.log_hours(
        actor=None,
        volunteer_id=volunteer.id,
        worked_on=at("2026-01-05 10:00").date(),
        hours="2.5",
        today=date(2026, 2, 1),
    )
    volunteers.log_hours(
        actor=None,
        volunteer_id=volunteer.id,
        worked_on=date(2026, 2, 3),
        hours="4",
        today=date(2026, 2, 10),
    )
    db.session.commit()
    response = client.get(f"/volunteer/me/{volunteers.page_token(volunteer)}/letter.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data.startswith(b"%PDF")
    text = _pdf_text(response.data)
    if text is not None:
        assert "Mary Jackson" in text and "Harbor Light Shelter" in text
        assert "January 2026" in text and "February 2026" in text
        assert "2 h 30 min" in text and "6 h 30 min" in text


def test_no_letter_without_hours(client, make_volunteer):
    volunteer = make_volunteer()
    with pytest.raises(NotAllowed, match="No hours"):
        volunteers.letter_pdf(volunteer=volunteer)
    mine = f"/volunteer/me/{volunteers.page_token(volunteer)}"
    response = client.get(f"{mine}/letter.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith(mine)
    assert "No hours are recorded for you yet" in client.get(mine).get_data(as_text=True)
