"""Partner logins made on Admin -> Users (or on the agency's page): one service, one outcome."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from conftest import sign_in
from donations.extensions import db
from donations.models import AuditEvent, Recipient, Role, User
from donations.services import accounts, partner_requests, recipients
from donations.services.errors import InvalidInput

PASSWORD = "clinic-pass-123"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def agency(name: str) -> Recipient:
    return db.session.scalar(select(Recipient).where(Recipient.name == name))


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def new_user(**fields: str) -> dict[str, str]:
    data = {"name": "Intake desk", "email": "desk@clinic.example", "role": "partner"}
    data |= {"password": PASSWORD, "confirm": PASSWORD}
    return data | fields


def error_of(page: str, field: str) -> str:
    """The error shown next to a field of the page (its id + '-error'), or ''."""
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return found.group(1).strip() if found else ""


def agency_options(page: str) -> list[str]:
    select_html = page.split('id="recipient_id"')[1].split("</select>")[0]
    return [html.unescape(o) for o in re.findall(r"<option[^>]*>([^<]*)</option>", select_html)]


# --- Admin -> Users -> Add a user ----------------------------------------------------------


def test_new_user_offers_the_partner_role_and_only_open_partner_agencies(admin_client, goods):
    recipients.set_recipient_active(
        actor=None, recipient_id=agency("Legal advocacy partner").id, active=False
    )
    db.session.commit()
    page = text_of(admin_client.get("/admin/users/new"))
    assert '<option value="partner">Partner: asks for goods' in page
    options = agency_options(page)
    assert options[0].startswith("No agency")
    assert options[1:] == ["Safe Passage clinic"]  # no program, no archived agency


def test_admin_creates_a_partner_login_on_the_users_page(admin_client, goods):
    clinic = agency("Safe Passage clinic")
    response = admin_client.post(
        "/admin/users/new", data=new_user(recipient_id=str(clinic.id)), follow_redirects=True
    )
    assert response.status_code == 200
    assert "Intake desk can now sign in for Safe Passage clinic" in text_of(response)
    user = user_by_email("desk@clinic.example")
    assert user.role == Role.PARTNER and user.recipient_id == clinic.id
    assert "partner (Safe Passage clinic)" in text_of(admin_client.get("/admin/users"))
    summary = db.session.scalar(
        select(AuditEvent.summary)
        .where(AuditEvent.action == "user.create")
        .order_by(AuditEvent.id.desc())
    )
    assert summary == "created desk@clinic.example as partner for Safe Passage clinic"
    # The same login is listed on the agency's page, as one made there would be.
    assert "Intake desk" in text_of(admin_client.get(f"/admin/recipients/{clinic.id}"))


@pytest.mark.parametrize(
    ("role", "which", "message"),
    [
        ("partner", None, "A partner login belongs to a partner agency: choose one."),
        ("staff", "Safe Passage clinic", "Only a partner login belongs to a partner agency"),
        ("admin", "Safe Passage clinic", "Only a partner login belongs to a partner agency"),
        ("partner", "Street outreach", "A partner login belongs to a partner agency"),
        ("partner", "archived", "is archived; reopen it before adding a login"),
    ],
)
def test_a_wrong_role_and_agency_pair_is_refused_next_to_the_agency(
    admin_client, goods, role, which, message
):
    if which == "archived":
        which = "Legal advocacy partner"
        recipients.set_recipient_active(actor=None, recipient_id=agency(which).id, active=False)
        db.session.commit()
    chosen = str(agency(which).id) if which else ""
    response = admin_client.post("/admin/users/new", data=new_user(role=role, recipient_id=chosen))
    assert response.status_code == 200  # the form again, as every admin form answers
    page = text_of(response)
    assert message in error_of(page, "recipient_id")
    assert 'aria-invalid="true"' in page.split('id="recipient_id"')[0].rsplit("<select", 1)[1]
    # What was typed is kept; nothing is stored.
    assert 'value="desk@clinic.example"' in page and 'value="Intake desk"' in page
    assert re.search(rf'<option selected value="{role}"|<option value="{role}" selected', page)
    assert user_by_email("desk@clinic.example") is None
    assert db.session.scalar(select(User).where(User.recipient_id.is_not(None))) is None


def test_a_staff_user_is_made_without_an_agency(admin_client, goods):
    response = admin_client.post(
        "/admin/users/new", data=new_user(role="staff", email="rosa@example.org", recipient_id="")
    )
    assert response.status_code == 302
    user = user_by_email("rosa@example.org")
    assert user.role == Role.STAFF and user.recipient_id is None


# --- editing ------------------------------------------------------------------------------


def test_admin_moves_a_partner_login_to_another_agency(admin_client, goods, create_user):
    clinic, legal = agency("Safe Passage clinic"), agency("Legal advocacy partner")
    user = create_user(Role.PARTNER, email="desk@clinic.example", recipient_id=clinic.id)
    ours = partner_requests.create_request(
        actor=user, lines=[partner_requests.AskedLine(goods.items["SOAP"].id, 2)]
    )
    db.session.commit()
    page = text_of(admin_client.get(f"/admin/users/{user.id}/edit"))
    assert agency_options(page)[1:] == ["Legal advocacy partner", "Safe Passage clinic"]
    assert re.search(rf'<option selected value="{clinic.id}">Safe Passage clinic', page)
    response = admin_client.post(
        f"/admin/users/{user.id}/edit",
        data={
            "name": user.name,
            "email": user.email,
            "role": "partner",
            "recipient_id": str(legal.id),
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).recipient_id == legal.id
    summary = db.session.scalar(
        select(AuditEvent.summary).where(AuditEvent.action == "user.update")
    )
    assert "agency: Safe Passage clinic -> Legal advocacy partner" in summary
    # It now sees the new agency's requests, not the clinic's.
    client = sign_in(admin_client.application.test_client(), db.session.get(User, user.id))
    assert client.get(f"/partner/requests/{ours.id}").status_code == 404


def test_a_partner_login_of_an_archived_agency_can_still_be_edited(
    admin_client, goods, create_user
):
    clinic = agency("Safe Passage clinic")
    user = create_user(Role.PARTNER, recipient_id=clinic.id)
    recipients.set_recipient_active(actor=None, recipient_id=clinic.id, active=False)
    db.session.commit()
    page = text_of(admin_client.get(f"/admin/users/{user.id}/edit"))
    assert "Safe Passage clinic (archived)" in agency_options(page)
    response = admin_client.post(
        f"/admin/users/{user.id}/edit",
        data={
            "name": user.name,
            "email": user.email,
            "role": "partner",
            "recipient_id": str(clinic.id),
        },
    )
    assert response.status_code == 302  # deactivated, its agency kept
    db.session.expire_all()
    kept = db.session.get(User, user.id)
    assert kept.recipient_id == clinic.id and not kept.active


def test_staff_user_edit_has_no_agency_and_takes_none(admin_client, goods, create_user):
    user = create_user(Role.STAFF, email="sam@example.org")
    page = text_of(admin_client.get(f"/admin/users/{user.id}/edit"))
    assert 'id="recipient_id"' not in page
    response = admin_client.post(
        f"/admin/users/{user.id}/edit",
        data={
            "name": user.name,
            "email": user.email,
            "role": "staff",
            "recipient_id": str(agency("Safe Passage clinic").id),
            "active": "y",
        },
    )
    assert response.status_code == 302  # saved; an agency sent anyway is not read
    db.session.expire_all()
    assert db.session.get(User, user.id).recipient_id is None


def test_both_pages_make_the_same_login(admin_client, goods):
    """The agency's page and the Users page go through one service, with one outcome."""
    clinic = agency("Safe Passage clinic")
    admin_client.post(
        "/admin/users/new",
        data=new_user(email="a@clinic.example", recipient_id=str(clinic.id)),
    )
    admin_client.post(
        f"/admin/recipients/{clinic.id}/logins/new",
        data={"name": "Intake desk", "email": "b@clinic.example"}
        | {"password": PASSWORD, "confirm": PASSWORD},
    )
    made = [user_by_email(e) for e in ("a@clinic.example", "b@clinic.example")]
    assert [(u.role, u.recipient_id, u.active) for u in made] == [
        (Role.PARTNER, clinic.id, True)
    ] * 2
    summaries = list(
        db.session.scalars(
            select(AuditEvent.summary)
            .where(AuditEvent.action == "user.create")
            .where(AuditEvent.summary.contains("clinic.example"))
            .order_by(AuditEvent.id)
        )
    )
    assert summaries == [
        f"created {e} as partner for Safe Passage clinic"
        for e in ("a@clinic.example", "b@clinic.example")
    ]


def test_the_service_refuses_an_agency_for_anyone_but_a_partner(app, goods, create_user):
    staff = create_user(Role.STAFF)
    with pytest.raises(InvalidInput, match="Only a partner login") as refused:
        accounts.update_user(
            actor=None,
            user=staff,
            email=staff.email,
            name=staff.name,
            role="staff",
            active=True,
            recipient_id=agency("Safe Passage clinic").id,
        )
    assert refused.value.field == "recipient_id"
    db.session.rollback()
    partner = create_user(Role.PARTNER, recipient_id=agency("Safe Passage clinic").id)
    with pytest.raises(InvalidInput, match="belongs to a partner agency"):
        accounts.update_user(
            actor=None,
            user=partner,
            email=partner.email,
            name=partner.name,
            role="partner",
            active=True,
            recipient_id=agency("Street outreach").id,
        )
