"""``flask privacy scan`` and redaction of stored notes (issue 11)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from donations.extensions import db
from donations.models import AuditEvent, ContributedService, Pledge, Recipient, StockDocument
from donations.services import inventory, pledges, privacy, volunteers
from donations.services.errors import DomainError

NAME_NOTE = "given to Maria Gonzalez, room 4, arrived from Houston"
PHONE_NOTE = "her number is 555-123-4567"


@pytest.fixture
def stored(goods, stock_in):
    """Notes written before the screen existed: put straight into the database."""
    stock_in(goods.shelter, SOAP=5)
    clean = inventory.record_adjustment(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date.today(),
        reason="damaged",
        lines=[goods.line("SOAP", 1)],
        note="Water damage",
    )
    named = inventory.record_adjustment(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date.today(),
        reason="damaged",
        lines=[goods.line("SOAP", 1)],
        note="placeholder",
    )
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name="Pat Giver",
            email="pat@example.com",
            site_id=goods.dropoff.id,
            expected_on=date.today() + timedelta(days=2),
            lines=[goods.line("SOAP", 2)],
        )
    )
    person = Recipient(kind="program", name="Tyrone Jackson", contact="", active=True)
    db.session.add(person)
    db.session.flush()
    db.session.execute(
        update(StockDocument).where(StockDocument.id == named.id).values(note=NAME_NOTE)
    )
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(note=PHONE_NOTE))
    db.session.commit()
    return {"clean": clean, "named": named, "pledge": pledge, "person": person}


def test_scan_lists_what_the_screen_would_refuse(stored):
    found = {(f.kind, f.id, f.field) for f in privacy.scan_stored_text()}
    assert found == {
        ("document", stored["named"].id, "note"),
        ("pledge", stored["pledge"].id, "note"),
        ("recipient", stored["person"].id, "name"),
    }


def test_cli_scan_and_redact(app, stored):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "scan"])
    assert result.exit_code == 0, result.output
    assert stored["named"].number in result.output
    assert "a person's name" in result.output and "a phone number" in result.output
    assert "3 findings" in result.output
    assert "Maria" not in result.output  # the list names records, not what they hold

    result = runner.invoke(args=["privacy", "redact", "document", str(stored["named"].id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(StockDocument, stored["named"].id).note == "[redacted]"
    result = runner.invoke(args=["privacy", "redact", "pledge", str(stored["pledge"].id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Pledge, stored["pledge"].id).note == "[redacted]"

    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.note_redacted"))
    )
    assert {e.object_type for e in events} == {"stock_document", "pledge"}
    for event in events:
        assert "Note redacted" in event.summary
        assert "Maria" not in event.summary and "555" not in event.summary

    result = runner.invoke(args=["privacy", "scan"])
    assert "1 finding." in result.output  # only the recipient is left

    again = runner.invoke(args=["privacy", "redact", "document", str(stored["named"].id)])
    assert again.exit_code != 0 and "nothing left to redact" in again.output
    missing = runner.invoke(args=["privacy", "redact", "document", "999999"])
    assert missing.exit_code != 0 and "no such document" in missing.output
    bad_kind = runner.invoke(args=["privacy", "redact", "donor", "1"])
    assert bad_kind.exit_code != 0


def test_redaction_keeps_the_ledger(stored):
    named = stored["named"]
    entries = [(e.item_id, e.quantity) for e in named.entries]
    privacy.redact(actor=None, kind="document", object_id=named.id)
    db.session.commit()
    db.session.expire_all()
    document = db.session.get(StockDocument, named.id)
    assert document.note == "[redacted]"
    assert [(e.item_id, e.quantity) for e in document.entries] == entries
    assert document.kind == "adjustment" and document.reason == "damaged"


def test_redacting_a_recipient_archives_it_under_a_neutral_name(stored):
    person = stored["person"]
    privacy.redact(actor=None, kind="recipient", object_id=person.id)
    db.session.commit()
    db.session.refresh(person)
    assert person.name.startswith("[redacted]") and "Tyrone" not in person.name
    assert not person.active
    assert privacy.scan_stored_text() == [
        f for f in privacy.scan_stored_text() if f.kind != "recipient"
    ]


def test_admin_page_lists_and_redacts(admin_client, stored):
    page = admin_client.get("/admin/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert stored["named"].number in html and f"Pledge #{stored['pledge'].id}" in html
    assert "Maria Gonzalez" not in html and "555-123-4567" not in html
    response = admin_client.post(f"/admin/privacy/document/{stored['named'].id}/redact")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(StockDocument, stored["named"].id).note == "[redacted]"
    document_page = admin_client.get(f"/inventory/documents/{stored['named'].id}")
    assert "Maria Gonzalez" not in document_page.get_data(as_text=True)
    assert "[redacted]" in document_page.get_data(as_text=True)
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "privacy.note_redacted" in audit and "Maria Gonzalez" not in audit
    assert admin_client.post("/admin/privacy/donor/1/redact").status_code == 404


def test_staff_can_neither_scan_nor_redact(staff_client, stored):
    assert staff_client.get("/admin/privacy").status_code == 403
    response = staff_client.post(f"/admin/privacy/document/{stored['named'].id}/redact")
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(StockDocument, stored["named"].id).note == NAME_NOTE


def test_unknown_kind_is_refused(app):
    with pytest.raises(DomainError):
        privacy.redact(actor=None, kind="donor", object_id=1)


def test_a_professional_services_texts_are_scanned_and_redacted_keeping_its_number(
    admin_client, make_volunteer
):
    """A service's description and void reason stored before the screen (straight into the
    database) are found, shown under the volunteer, and redacted; the number, date and
    hours stay, and the letter no longer carries the name."""
    lawyer = make_volunteer("Dana Whitfield")

    def legal_service(days_ago: int, hours: str, description: str) -> ContributedService:
        return volunteers.log_service(
            actor=None,
            volunteer_id=lawyer.id,
            service_type="legal",
            service_date=date.today() - timedelta(days=days_ago),
            hours=hours,
            description=description,
            program_id=None,
            fair_rate_cents=15000,
        )

    clean = legal_service(2, "2", "Lease review clinic")
    named = legal_service(1, "1:30", "placeholder")
    db.session.flush()
    db.session.execute(
        update(ContributedService)
        .where(ContributedService.id == named.id)
        .values(description=NAME_NOTE, void_reason=PHONE_NOTE)
    )
    db.session.commit()
    found = {(f.kind, f.id, f.field) for f in privacy.scan_stored_text()}
    assert found == {("service", named.id, "description"), ("service", named.id, "void_reason")}

    html = admin_client.get("/admin/privacy").get_data(as_text=True)
    assert f"Service {named.number}" in html and f"/volunteers/{lawyer.id}#services" in html
    assert "Maria Gonzalez" not in html and clean.number not in html
    response = admin_client.post(f"/admin/privacy/service/{named.id}/redact")
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(ContributedService, named.id)
    assert (kept.description, kept.void_reason) == ("[redacted]", "[redacted]")
    assert (kept.number, kept.minutes) == (named.number, 90)
    letter = admin_client.get(f"/volunteers/{lawyer.id}/services/{named.id}/letter.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.data)).pages)
    assert "[redacted]" in text and "Gonzalez" not in text and named.number in text
    assert privacy.scan_stored_text() == []
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.object_type == "contributed_service")
    )
    assert event.action == "privacy.note_redacted" and named.number in event.summary
    assert "Maria" not in event.summary and "555" not in event.summary
    again = admin_client.post(f"/admin/privacy/service/{named.id}/redact", follow_redirects=True)
    assert "nothing left to redact" in again.get_data(as_text=True)
