"""Professional services given pro bono: logged by staff for an approved volunteer, numbered
gap-free in their own series ("PB-2026-0001"), acknowledged by a letter with hours and no
value, mailed with the letter attached, voided with the number kept."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from volunteers_support import mails

from donations.extensions import db
from donations.models import (
    AuditEvent,
    ContributedService,
    OutboxAttachment,
    Recipient,
    VolunteerStatus,
    utcnow,
)
from donations.services import organizations, recipients, volunteers
from donations.services.errors import InvalidInput, NotAllowed
from donations.tenancy import use_organization


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(ContributedService))


@pytest.fixture
def program(app, organization) -> Recipient:
    made = recipients.create_recipient(actor=None, kind="program", name="Legal advocacy")
    db.session.commit()
    return made


def log(volunteer, program=None, **overrides):
    values = {
        "actor": None,
        "volunteer_id": volunteer.id,
        "service_type": "legal",
        "service_date": utcnow().date() - timedelta(days=3),
        "hours": "2.5",
        "description": "Immigration law clinic for residents",
        "program_id": program.id if program else None,
        "fair_rate_cents": 15000,
    }
    values.update(overrides)
    service = volunteers.log_service(**values)
    db.session.commit()
    return service


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def test_services_are_numbered_gap_free_in_their_own_series(make_volunteer, program):
    lawyer = make_volunteer("Dana Whitfield")
    first = log(lawyer, program)
    second = log(lawyer, program, hours="1:15")
    year = utcnow().year
    assert (first.number, second.number) == (f"PB-{year}-0001", f"PB-{year}-0002")
    assert second.minutes == 75 and second.fair_rate_cents == 15000 and second.currency == "USD"
    # A refused service takes no number: the next one is still 0003.
    with pytest.raises(InvalidInput):
        log(lawyer, hours="0")
    db.session.rollback()
    assert log(lawyer).number == f"PB-{year}-0003"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("pro_bono.log") == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"hours": "0"}, "hours"),
        ({"hours": "-2"}, "hours"),
        ({"hours": "25"}, "hours"),
        ({"service_date": utcnow().date() + timedelta(days=1)}, "service_date"),
        ({"service_date": None}, "service_date"),
        ({"service_type": "massage"}, "service_type"),
        ({"description": ""}, "description"),
        ({"description": "Met with Maria Gonzalez about her visa"}, "description"),
        ({"fair_rate_cents": None}, "fair_rate"),
        ({"program_id": 999_999}, "program_id"),
    ],
)
def test_bad_services_are_refused_and_change_nothing(make_volunteer, program, overrides, field):
    lawyer = make_volunteer()
    with pytest.raises(InvalidInput) as refused:
        log(lawyer, program, **overrides)
    assert refused.value.field == field
    db.session.rollback()
    assert count() == 0


def test_a_day_holds_at_most_24_hours_with_the_volunteers_other_hours(make_volunteer):
    doctor = make_volunteer()
    day = utcnow().date() - timedelta(days=1)
    volunteers.log_hours(actor=None, volunteer_id=doctor.id, worked_on=day, hours="20")
    db.session.commit()
    with pytest.raises(InvalidInput, match="more than 24 hours"):
        log(doctor, service_date=day, hours="5")
    db.session.rollback()
    assert log(doctor, service_date=day, hours="4").minutes == 240


def test_hours_logged_after_a_service_count_it_toward_the_day_until_it_is_voided(make_volunteer):
    doctor = make_volunteer()
    day = utcnow().date() - timedelta(days=1)
    service = log(doctor, service_date=day, hours="20")
    with pytest.raises(InvalidInput, match="more than 24 hours on") as refused:
        volunteers.log_hours(actor=None, volunteer_id=doctor.id, worked_on=day, hours="5")
    assert "20 h already recorded" in str(refused.value) and refused.value.field == "hours"
    db.session.rollback()
    volunteers.void_service(
        actor=None, volunteer_id=doctor.id, service_id=service.id, reason="Logged twice"
    )
    db.session.commit()
    row = volunteers.log_hours(actor=None, volunteer_id=doctor.id, worked_on=day, hours="5")
    assert row.minutes == 300


@pytest.mark.parametrize(
    "status", [VolunteerStatus.PENDING, VolunteerStatus.DECLINED, VolunteerStatus.UNVERIFIED]
)
def test_only_approved_volunteers_get_services_logged(make_volunteer, status):
    person = make_volunteer(status=status)
    with pytest.raises(NotAllowed, match="not an approved volunteer"):
        log(person)
    db.session.rollback()
    assert count() == 0


def test_the_letter_states_hours_and_never_a_value(make_volunteer, program, organization):
    lawyer = make_volunteer("Dana Whitfield")
    service = log(lawyer, program, fair_rate_cents=98765)
    text = pdf_text(volunteers.service_letter_pdf(service=service))
    for expected in (
        "Harbor Light Shelter",
        "PO Box 4410",
        "Dana Whitfield",
        service.number,
        "Legal",
        "Immigration law clinic",
        "2 h 30 min",
        "Legal advocacy",
        "not tax-deductible",
        "No goods or services were provided",
    ):
        assert expected in text, expected
    assert "$" not in text and "987" not in text and "USD" not in text


def test_staff_log_download_mail_and_void_from_the_volunteers_page(
    staff_client, make_volunteer, program, organization
):
    lawyer = make_volunteer("Dana Whitfield", email="dana@example.net")
    day = (utcnow().date() - timedelta(days=2)).isoformat()
    page = staff_client.post(
        f"/volunteers/{lawyer.id}/services",
        data={
            "service_type": "legal",
            "service_date": day,
            "hours": "3",
            "description": "Visa paperwork clinic",
            "program_id": str(program.id),
            "fair_rate": "150.00",
        },
        follow_redirects=True,
    )
    assert page.status_code == 200
    service = db.session.scalars(select(ContributedService)).one()
    assert service.minutes == 180 and service.fair_rate_cents == 15000
    html = page.get_data(as_text=True)
    assert service.number in html and "150.00" not in html
    letter = staff_client.get(f"/volunteers/{lawyer.id}/services/{service.id}/letter.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert service.number in pdf_text(letter.data)

    staff_client.post(f"/volunteers/{lawyer.id}/services/{service.id}/mail")
    sent = mails("pro_bono_acknowledgement", to="dana@example.net")
    assert len(sent) == 1 and service.number in sent[0].subject
    attachment = db.session.scalars(select(OutboxAttachment)).one()
    assert attachment.content_type == "application/pdf" and service.number in attachment.filename

    staff_client.post(
        f"/volunteers/{lawyer.id}/services/{service.id}/void", data={"reason": "Logged twice"}
    )
    db.session.expire_all()
    voided = db.session.get(ContributedService, service.id)
    assert voided.voided and voided.number == service.number
    assert "VOID" in pdf_text(volunteers.service_letter_pdf(service=voided))
    # A void one is never mailed; a second void is refused.
    with pytest.raises(NotAllowed):
        volunteers.mail_service_letter(actor=None, volunteer_id=lawyer.id, service_id=service.id)
    with pytest.raises(NotAllowed):
        volunteers.void_service(
            actor=None, volunteer_id=lawyer.id, service_id=service.id, reason="Again"
        )


def test_a_bad_form_keeps_the_input_and_changes_nothing(staff_client, make_volunteer):
    lawyer = make_volunteer()
    future = (utcnow().date() + timedelta(days=3)).isoformat()
    page = staff_client.post(
        f"/volunteers/{lawyer.id}/services",
        data={
            "service_type": "medical",
            "service_date": future,
            "hours": "2",
            "description": "Health checks",
            "fair_rate": "90",
        },
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "The date is in the future." in html and "Health checks" in html
    assert count() == 0


def test_another_organisations_services_are_out_of_reach(
    staff_client, make_volunteer, organization
):
    other = organizations.create_organization(actor=None, slug="north", legal_name="North Star")
    db.session.commit()
    with use_organization(other.id):
        theirs = volunteers.sign_up_volunteer(
            application=volunteers.Application(
                name="North Lawyer", email="north@example.net", accepted_terms=True
            )
        )
        volunteers.confirm_email(token=volunteers.confirm_token(theirs))
        volunteers.decide_volunteer(actor=None, volunteer_id=theirs.id, decision="approve")
        their_service = log(theirs)
    ours = log(make_volunteer())
    year = utcnow().year
    # Each organisation numbers its own series.
    assert their_service.number == ours.number == f"PB-{year}-0001"
    path = f"/volunteers/{theirs.id}/services/{their_service.id}/letter.pdf"
    assert staff_client.get(path).status_code == 404
