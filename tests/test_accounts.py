"""Users, roles, passwords and the organisation profile, through their screens."""

from __future__ import annotations

from sqlalchemy import func, select

from conftest import PASSWORD, sign_in
from donations.extensions import db
from donations.models import AuditEvent, Organization, Role, User
from donations.services import accounts


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def _new_user_form(**overrides):
    data = {
        "name": "Tess Treasurer",
        "email": "Tess@Example.org",
        "role": "treasurer",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    data.update(overrides)
    return data


def test_admin_creates_a_treasurer_who_can_sign_in(app, admin_client):
    response = admin_client.post("/admin/users/new", data=_new_user_form())
    assert response.status_code == 302
    user = accounts.find_user_by_email("tess@example.org")
    assert user.role == "treasurer" and user.active
    assert user.password_hash != PASSWORD
    event = _audit("user.create")[-1]
    assert event.actor_email == admin_client.user.email
    assert event.object_id == str(user.id)

    browser = app.test_client()
    response = browser.post("/login", data={"email": "TESS@example.org ", "password": PASSWORD})
    assert response.status_code == 302
    page = browser.get("/dashboard").get_data(as_text=True)
    assert "signed in as <strong>treasurer" in page
    assert browser.get("/admin/users").status_code == 403


def test_duplicate_email_in_any_case_is_a_form_error(app, admin_client, create_user):
    create_user(Role.STAFF, email="sam@example.org")
    before = _user_count()
    response = admin_client.post("/admin/users/new", data=_new_user_form(email="SAM@Example.ORG"))
    assert response.status_code == 200
    assert "Another user already has this email address." in response.get_data(as_text=True)
    assert _user_count() == before


def test_new_user_form_keeps_input_and_refuses_bad_values(app, admin_client):
    before = _user_count()
    long_name = "N" * 121
    response = admin_client.post("/admin/users/new", data=_new_user_form(name=long_name))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Field cannot be longer than 120 characters." in html
    assert 'value="Tess@Example.org"' in html  # input kept

    response = admin_client.post(
        "/admin/users/new", data=_new_user_form(password="short", confirm="short")
    )
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    response = admin_client.post("/admin/users/new", data=_new_user_form(confirm="different one"))
    assert "The two passwords differ." in response.get_data(as_text=True)
    response = admin_client.post("/admin/users/new", data=_new_user_form(email="not-an-email"))
    assert "Invalid email address." in response.get_data(as_text=True)
    response = admin_client.post("/admin/users/new", data=_new_user_form(role="superuser"))
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert _user_count() == before


def test_admin_changes_a_role_and_it_is_audited(app, admin_client, create_user):
    sam = create_user(Role.STAFF, email="sam@example.org", name="Sam")
    response = admin_client.post(
        f"/admin/users/{sam.id}/edit",
        data={"name": "Sam", "email": "sam@example.org", "role": "treasurer", "active": "y"},
    )
    assert response.status_code == 302
    assert db.session.get(User, sam.id).role == "treasurer"
    assert _audit("user.update")[-1].summary == "role: staff -> treasurer"
    page = admin_client.get(f"/admin/users/{sam.id}/edit").get_data(as_text=True)
    assert "role: staff -&gt; treasurer" in page


def test_deactivating_signs_the_user_out_and_blocks_sign_in(app, admin_client, create_user):
    sam = create_user(Role.STAFF, email="sam@example.org")
    sams_browser = sign_in(app.test_client(), sam)
    assert sams_browser.get("/dashboard").status_code == 200

    response = admin_client.post(f"/admin/users/{sam.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert db.session.get(User, sam.id).active is False

    response = sams_browser.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = app.test_client().post(
        "/login", data={"email": "sam@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "do not match an active account" in response.get_data(as_text=True)

    admin_client.post(f"/admin/users/{sam.id}/active", data={"active": "1"})
    assert db.session.get(User, sam.id).active is True
    assert [e.summary for e in _audit("user.update")] == ["active: yes -> no", "active: no -> yes"]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, admin_client):
    me = admin_client.user
    response = admin_client.post(
        f"/admin/users/{me.id}/edit",
        data={"name": me.name, "email": me.email, "role": "staff", "active": "y"},
    )
    assert response.status_code == 200
    assert "only active admin" in response.get_data(as_text=True)
    assert db.session.get(User, me.id).role == "admin"

    response = admin_client.post(
        f"/admin/users/{me.id}/edit", data={"name": me.name, "email": me.email, "role": "admin"}
    )
    assert "only active admin" in response.get_data(as_text=True)
    assert db.session.get(User, me.id).active is True


def test_an_admin_can_step_down_when_another_admin_exists(app, admin_client, create_user):
    create_user(Role.ADMIN)
    me = admin_client.user
    response = admin_client.post(
        f"/admin/users/{me.id}/edit",
        data={"name": me.name, "email": me.email, "role": "treasurer", "active": "y"},
    )
    assert response.status_code == 302
    assert db.session.get(User, me.id).role == "treasurer"


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/users/9999/edit").status_code == 404


def test_change_password_signs_out_other_browsers(app, create_user):
    user = create_user(Role.STAFF, email="sam@example.org")
    here = sign_in(app.test_client(), user)
    elsewhere = sign_in(app.test_client(), user)

    response = here.post(
        "/account/password",
        data={"current_password": "wrong password", "new_password": "x" * 12, "confirm": "x" * 12},
    )
    assert "That is not your current password." in response.get_data(as_text=True)

    new = "a brand new passphrase"
    response = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert here.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302
    assert accounts.authenticate(email="sam@example.org", password=new) is not None
    assert accounts.authenticate(email="sam@example.org", password=PASSWORD) is None
    assert _audit("user.password_change")


def test_change_password_refuses_a_short_one(app, staff_client):
    response = staff_client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert accounts.authenticate(email=staff_client.user.email, password=PASSWORD) is not None


ORG_FORM = {
    "legal_name": "Harbor Light Shelter, Inc.",
    "tax_id": "123456789",
    "address_line1": "PO Box 4410",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": "United States",
    "default_currency": "usd",
    "fiscal_year_start_month": "7",
    "signatory_name": "Maria Alvarez",
    "signatory_title": "Treasurer",
}


def test_organisation_settings_are_validated_and_saved(app, admin_client):
    response = admin_client.post("/admin/organization", data=ORG_FORM)
    assert response.status_code == 302
    org = db.session.get(Organization, 1)
    assert org.tax_id == "12-3456789"
    assert org.default_currency == "USD"
    assert org.fiscal_year_start_month == 7
    assert _audit("organization.create")
    # the name now heads every page
    assert "Harbor Light Shelter, Inc." in admin_client.get("/dashboard").get_data(as_text=True)

    response = admin_client.post("/admin/organization", data={**ORG_FORM, "city": "Chatham"})
    assert _audit("organization.update")[-1].summary == "city: Springfield -> Chatham"


def test_organisation_settings_refuse_bad_values(app, admin_client):
    cases = [
        ({"tax_id": "12-345"}, "A US EIN has nine digits, written NN-NNNNNNN."),
        ({"default_currency": "ABC"}, "three-letter ISO 4217 currency code"),
        ({"default_currency": "US"}, "Use a three-letter code."),
        ({"legal_name": ""}, "This field is required."),
        ({"legal_name": "L" * 201}, "Field cannot be longer than 200 characters."),
        ({"fiscal_year_start_month": "13"}, "Not a valid choice"),
    ]
    for change, message in cases:
        response = admin_client.post("/admin/organization", data={**ORG_FORM, **change})
        assert response.status_code == 200, change
        assert message in response.get_data(as_text=True), change
    assert db.session.get(Organization, 1) is None


def test_a_foreign_tax_id_is_kept_as_typed(app, admin_client):
    data = {**ORG_FORM, "country": "Canada", "tax_id": "123456789 RR 0001"}
    response = admin_client.post("/admin/organization", data=data)
    assert response.status_code == 302
    assert db.session.get(Organization, 1).tax_id == "123456789 RR 0001"


def test_audit_log_lists_changes(app, admin_client, create_user):
    create_user(Role.STAFF, email="sam@example.org")
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "user.create" in html and "created sam@example.org as staff" in html
    html = admin_client.get("/admin/audit?type=donor").get_data(as_text=True)
    assert "created sam@example.org" not in html


def test_audit_events_cannot_be_edited(app, create_user):
    import pytest

    create_user(Role.STAFF)
    event = _audit("user.create")[0]
    event.summary = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_an_id_beyond_any_database_integer_is_404(admin_client):
    for path in ("/admin/users/99999999999999999999/edit", "/admin/mail/99999999999999999999"):
        assert admin_client.get(path).status_code == 404, path
