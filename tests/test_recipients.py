"""Programs and partner agencies as records, and the organisation's case-code pattern (issue 11)."""

from __future__ import annotations

from datetime import date

import flask_migrate
import pytest
from sqlalchemy import func, select, text
from test_migrations import empty_database_url  # noqa: F401  (a fixture)

from conftest import base_config
from donations import create_app
from donations.extensions import db
from donations.models import AuditEvent, Recipient, StockDocument
from donations.services import inventory, recipients
from donations.services.errors import DomainError, InvalidInput
from donations.services.organization import update_organization

TODAY = date.today()


def fail(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    db.session.rollback()
    return caught.value


def give(goods, *, recipient_id=None, recipient="", case_code="", note=""):
    return inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        recipient_id=recipient_id,
        recipient=recipient,
        case_code=case_code,
        note=note,
        lines=[goods.line("SOAP", 1)],
    )


def audit_actions(object_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "recipient", AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)
        )
    )


# --- the service ---------------------------------------------------------------------------


def test_create_rename_archive_and_reopen_are_audited(app):
    clinic = recipients.create_recipient(
        actor=None, kind="partner", name="  Bay   legal aid ", contact="Intake desk"
    )
    db.session.commit()
    assert (clinic.kind, clinic.name, clinic.contact, clinic.active) == (
        "partner",
        "Bay legal aid",
        "Intake desk",
        True,
    )
    recipients.update_recipient(
        actor=None, recipient_id=clinic.id, name="Bay Area legal aid", contact="Front desk"
    )
    recipients.set_recipient_active(actor=None, recipient_id=clinic.id, active=False)
    db.session.commit()
    assert clinic.name == "Bay Area legal aid" and not clinic.active and clinic.archived_at
    recipients.set_recipient_active(actor=None, recipient_id=clinic.id, active=True)
    db.session.commit()
    assert clinic.active and clinic.archived_at is None
    assert audit_actions(clinic.id) == [
        "recipient.create",
        "recipient.update",
        "recipient.archive",
        "recipient.reopen",
    ]


def test_names_are_unique_per_kind_without_case(app):
    recipients.create_recipient(actor=None, kind="program", name="Drop-in")
    db.session.commit()
    error = fail(recipients.create_recipient, actor=None, kind="program", name="drop-IN")
    assert error.field == "name" and "already a program called" in error.message
    # The same name as a partner agency is another record.
    recipients.create_recipient(actor=None, kind="partner", name="Drop-in")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Recipient)) == 2


@pytest.mark.parametrize(
    "name",
    ["Maria Gonzalez", "maria@example.com", "Call 555-123-4567", "", "x" * 121],
)
def test_a_person_or_blank_is_never_a_recipient(app, name):
    error = fail(recipients.create_recipient, actor=None, kind="program", name=name)
    assert error.field == "name"
    assert db.session.scalar(select(func.count()).select_from(Recipient)) == 0


def test_unknown_kind_is_refused(app):
    error = fail(recipients.create_recipient, actor=None, kind="person", name="Outreach")
    assert error.field == "kind"


def test_distribution_points_at_the_record_and_shows_its_name(goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    clinic = recipients.find_active_recipient(name="Safe Passage clinic")
    document = give(goods, recipient_id=clinic.id)
    db.session.commit()
    assert document.recipient_id == clinic.id
    assert document.recipient == "Safe Passage clinic"


@pytest.mark.parametrize("typed", ["Maria Gonzalez", "Room 4 resident", "Some new program"])
def test_free_text_recipient_is_refused(goods, stock_in, typed):
    stock_in(goods.shelter, SOAP=2)
    error = fail(give, goods=goods, recipient=typed)
    assert error.field == "recipient_id"
    assert db.session.scalar(select(func.count()).select_from(Recipient)) == 5
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(StockDocument)
            .where(StockDocument.kind == "distribution")
        )
        == 0
    )


def test_archived_recipient_stays_on_old_documents_but_is_not_offered(
    goods, stock_in, staff_client
):
    stock_in(goods.shelter, SOAP=2)
    youth = recipients.find_active_recipient(name="Youth program")
    document = give(goods, recipient_id=youth.id)
    recipients.set_recipient_active(actor=None, recipient_id=youth.id, active=False)
    db.session.commit()
    error = fail(give, goods=goods, recipient_id=youth.id)
    assert error.field == "recipient_id" and "archived" in error.message
    form = staff_client.get("/inventory/distribution/new").get_data(as_text=True)
    assert "Youth program" not in form
    assert "Street outreach (program)" in form
    page = staff_client.get(f"/inventory/documents/{document.id}").get_data(as_text=True)
    assert "Youth program" in page and "archived" in page


# --- the case-code pattern --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "accepted"),
    [
        ("C-104", True),
        ("case-12b", True),
        ("ABCDEFGHIJ-1", True),  # 12 characters
        ("ABCDEFGHIJK-1", False),  # 13 characters
        ("RES", False),  # no digit
        ("MARIA-12", False),  # a given name
    ],
)
def test_default_pattern(code, accepted):
    if accepted:
        assert inventory.check_case_code(code) == code.upper()
    else:
        with pytest.raises(InvalidInput):
            inventory.check_case_code(code)


@pytest.mark.parametrize("pattern", ["C-[0-9", "(", "a{2,1}"])
def test_a_pattern_that_does_not_compile_is_refused(organization, pattern):
    error = fail(
        update_organization,
        actor=None,
        legal_name=organization.legal_name,
        case_code_pattern=pattern,
    )
    assert error.field == "case_code_pattern"
    assert "not a valid regular expression" in error.message


def test_a_pattern_matching_nothing_typed_is_refused(organization):
    error = fail(
        update_organization, actor=None, legal_name=organization.legal_name, case_code_pattern=".*"
    )
    assert error.field == "case_code_pattern"


def test_the_organisation_pattern_is_enforced_on_distribution(organization, goods, stock_in):
    update_organization(
        actor=None, legal_name=organization.legal_name, case_code_pattern=r"HH-\d{3}"
    )
    db.session.commit()
    stock_in(goods.shelter, SOAP=3)
    outreach = recipients.find_active_recipient(name="Street outreach")
    error = fail(give, goods=goods, recipient_id=outreach.id, case_code="C-104")
    assert error.field == "case_code" and "your organisation chose" in error.message
    assert give(goods, recipient_id=outreach.id, case_code="hh-204").case_code == "HH-204"
    db.session.commit()


def test_a_name_like_code_is_refused_whatever_the_pattern(organization, goods, stock_in):
    update_organization(
        actor=None, legal_name=organization.legal_name, case_code_pattern=r"[A-Z ]+"
    )
    db.session.commit()
    stock_in(goods.shelter, SOAP=3)
    outreach = recipients.find_active_recipient(name="Street outreach")
    for code in ("MARIA LOPEZ", "Maria", "JOSE"):
        error = fail(give, goods=goods, recipient_id=outreach.id, case_code=code)
        assert error.field == "case_code" and "looks like a name" in error.message


def test_admin_sets_the_pattern_on_the_organisation_page(organization, admin_client):
    page = admin_client.get("/admin/organization").get_data(as_text=True)
    assert 'name="case_code_pattern"' in page
    data = {
        "legal_name": organization.legal_name,
        "default_currency": "USD",
        "fiscal_year_start_month": "1",
        "case_code_pattern": "C-[0-9",
    }
    refused = admin_client.post("/admin/organization", data=data)
    assert refused.status_code == 200
    assert 'id="case_code_pattern-error"' in refused.get_data(as_text=True)
    data["case_code_pattern"] = r"C-\d{3}"
    assert admin_client.post("/admin/organization", data=data).status_code == 302
    assert recipients.case_code_pattern() == r"C-\d{3}"


# --- the admin pages ---------------------------------------------------------------------


def test_admin_creates_renames_and_archives_on_the_pages(admin_client, app):
    page = admin_client.get("/admin/recipients")
    assert page.status_code == 200
    assert "No programs or partner agencies yet" in page.get_data(as_text=True)
    created = admin_client.post(
        "/admin/recipients",
        data={"kind": "partner", "name": "Safe Harbor legal aid", "contact": "Intake desk"},
    )
    assert created.status_code == 302
    record = db.session.scalar(select(Recipient))
    assert (record.kind, record.name, record.contact) == (
        "partner",
        "Safe Harbor legal aid",
        "Intake desk",
    )
    refused = admin_client.post(
        "/admin/recipients", data={"kind": "program", "name": "Maria Gonzalez"}
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="name-error"' in html
    assert "Don&#39;t write the names or contact details of the people you serve" in html
    renamed = admin_client.post(
        f"/admin/recipients/{record.id}",
        data={"name": "Harbor legal aid", "contact": "Front desk"},
    )
    assert renamed.status_code == 302
    archived = admin_client.post(f"/admin/recipients/{record.id}/active", data={"active": "0"})
    assert archived.status_code == 302
    db.session.refresh(record)
    assert (record.name, record.contact, record.active) == ("Harbor legal aid", "Front desk", False)
    assert audit_actions(record.id) == ["recipient.create", "recipient.update", "recipient.archive"]
    listing = admin_client.get("/admin/recipients").get_data(as_text=True)
    assert "Harbor legal aid" in listing and "Archived" in listing and "Reopen" in listing
    history = admin_client.get(f"/admin/recipients/{record.id}").get_data(as_text=True)
    assert "recipient.archive" in history


def test_staff_cannot_manage_recipients(staff_client, goods):
    assert staff_client.get("/admin/recipients").status_code == 403
    response = staff_client.post("/admin/recipients", data={"kind": "program", "name": "X 1"})
    assert response.status_code == 403


def test_distribution_form_offers_only_the_list(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    html = staff_client.get("/inventory/distribution/new").get_data(as_text=True)
    assert '<select aria-describedby="recipient_id-hint" id="recipient_id"' in html
    assert 'name="recipient"' not in html


# --- the migration ----------------------------------------------------------------------


def test_migration_moves_free_text_recipients_into_records(
    empty_database_url,  # noqa: F811
    tmp_path,
):
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision="0006_statement_basis")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sites (id, name, kind, is_confidential, address_line1, "
                    "address_line2, city, region, postal_code, public_hours, contact_email, "
                    "active, created_at) VALUES (1, 'Harbor House', 'shelter', true, '', '', "
                    "'', '', '', '', '', true, CURRENT_TIMESTAMP)"
                )
            )
            for number, recipient in enumerate(
                ["Street outreach", "street  outreach", "Safe Passage clinic", "", "Youth"], 1
            ):
                conn.execute(
                    text(
                        "INSERT INTO stock_documents (id, kind, effective_date, recorded_at, "
                        "site_id, source, drive_name, recipient, case_code, reason, note) "
                        "VALUES (:id, :kind, CURRENT_DATE, CURRENT_TIMESTAMP, 1, '', '', "
                        ":recipient, '', '', '')"
                    ),
                    {
                        "id": number,
                        "kind": "distribution" if recipient else "adjustment",
                        "recipient": recipient,
                    },
                )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            records = conn.execute(text("SELECT id, kind, name FROM recipients ORDER BY id")).all()
            pointers = dict(
                conn.execute(text("SELECT id, recipient_id FROM stock_documents")).all()
            )
        flask_migrate.downgrade(revision="0006_statement_basis")
        with db.engine.connect() as conn:
            restored = dict(conn.execute(text("SELECT id, recipient FROM stock_documents")).all())
        db.engine.dispose()
    names = {name: (record_id, kind) for record_id, kind, name in records}
    assert set(names) == {"Street outreach", "Safe Passage clinic", "Youth"}
    assert names["Safe Passage clinic"][1] == "partner"
    assert names["Street outreach"][1] == "program"
    outreach = names["Street outreach"][0]
    assert pointers == {
        1: outreach,
        2: outreach,
        3: names["Safe Passage clinic"][0],
        4: None,
        5: names["Youth"][0],
    }
    assert restored == {
        1: "Street outreach",
        2: "Street outreach",
        3: "Safe Passage clinic",
        4: "",
        5: "Youth",
    }
