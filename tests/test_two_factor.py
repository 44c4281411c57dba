"""Two-step sign-in: enrolment, the second step, recovery codes, the organisation setting."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from conftest import PASSWORD, sign_in
from donations.config import Defaults
from donations.demo import load_demo
from donations.extensions import db
from donations.models import AuditEvent, RecoveryCode, Role, User, utcnow
from donations.services import accounts, two_factor, user_sessions
from donations.services.organization import get_organization, update_organization

CODE_RE = re.compile(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>")


class Clock:
    def __init__(self) -> None:
        self.moment = utcnow()

    def __call__(self):
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(user_sessions, "now", clock)
    return clock


def code_at(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.moment)


def enrol(user: User, clock: Clock) -> tuple[str, list[str]]:
    """Turn two-step sign-in on for the user; return the secret and recovery codes."""
    secret = two_factor.new_secret()
    codes = two_factor.enable_two_factor(user=user, secret=secret, code=code_at(secret, clock))
    db.session.commit()
    clock.advance(seconds=30)  # the enrolment code is used up; the next one is fresh
    return secret, codes


def password_step(client, user: User):
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def signed_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def require_two_factor(required: bool) -> None:
    update_organization(actor=None, legal_name="Harbor Light", require_two_factor=required)
    db.session.commit()


def test_enrolment_shows_a_qr_code_and_a_right_code_turns_it_on(app, login, clock):
    client = login(Role.TREASURER)
    page = client.get("/account/two-step")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html
    with client.session_transaction() as session:
        secret = session["two_factor_setup_secret"]
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html

    response = client.post("/account/two-step", data={"code": code_at(secret, clock)})
    assert response.status_code == 302 and response.location.endswith("/account/recovery-codes")
    shown = client.get("/account/recovery-codes").get_data(as_text=True)
    codes = CODE_RE.findall(shown)
    assert len(set(codes)) == 10

    user = db.session.get(User, client.user.id)
    assert user.totp_secret == secret and user.totp_enabled_at is not None
    stored = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10
    assert not {r.code_hash for r in stored} & set(codes)  # kept hashed
    # Shown once: the page does not show them again, nor the secret.
    again = client.get("/account/recovery-codes", follow_redirects=True).get_data(as_text=True)
    assert codes[0] not in again
    assert secret not in client.get("/account").get_data(as_text=True)


def test_a_wrong_code_at_enrolment_is_shown_next_to_the_field(app, login, clock):
    client = login(Role.STAFF)
    client.get("/account/two-step")
    response = client.post("/account/two-step", data={"code": "000000"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="code-error"' in html and "That code does not match" in html
    assert db.session.get(User, client.user.id).totp_secret is None


def test_sign_in_asks_for_the_code_after_the_password(app, create_user, clock):
    user = create_user(Role.ADMIN)
    secret, _ = enrol(user, clock)
    client = app.test_client()
    response = password_step(client, user)
    assert response.status_code == 302 and response.location.endswith("/login/code")
    assert not signed_in(client)  # the password alone is not enough
    assert db.session.get(User, user.id).last_login_at is None

    wrong = client.post("/login/code", data={"code": "123456"})
    assert wrong.status_code == 200 and 'id="code-error"' in wrong.get_data(as_text=True)
    assert not signed_in(client)

    response = client.post("/login/code", data={"code": code_at(secret, clock)})
    assert response.status_code == 302 and response.location.endswith("/dashboard")
    assert signed_in(client)
    assert db.session.get(User, user.id).last_login_at == clock.moment


def test_a_code_cannot_be_used_twice(app, create_user, clock):
    user = create_user(Role.TREASURER)
    secret, _ = enrol(user, clock)
    code = code_at(secret, clock)
    first = app.test_client()
    password_step(first, user)
    assert first.post("/login/code", data={"code": code}).status_code == 302

    clock.advance(seconds=5)  # same 30-second window
    second = app.test_client()
    password_step(second, user)
    replay = second.post("/login/code", data={"code": code})
    assert replay.status_code == 200 and "used already" in replay.get_data(as_text=True)
    assert not signed_in(second)


def test_a_recovery_code_works_once(app, create_user, clock):
    user = create_user(Role.TREASURER)
    _, codes = enrol(user, clock)
    client = app.test_client()
    password_step(client, user)
    response = client.post("/login/code", data={"code": codes[3].upper()}, follow_redirects=True)
    assert "Signed in with a recovery code; 9 left" in response.get_data(as_text=True)
    client.post("/logout")

    password_step(client, user)
    again = client.post("/login/code", data={"code": codes[3]})
    assert again.status_code == 200
    assert not signed_in(client)
    assert two_factor.unused_recovery_codes(user=user) == 9


def test_the_second_step_expires(app, create_user, clock):
    user = create_user(Role.ADMIN)
    secret, _ = enrol(user, clock)
    client = app.test_client()
    password_step(client, user)
    clock.advance(seconds=301)
    response = client.post("/login/code", data={"code": code_at(secret, clock)})
    assert response.status_code == 302 and response.location.endswith("/login")
    assert not signed_in(client)


def test_the_second_step_without_a_password_goes_back_to_sign_in(client):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.location.endswith("/login")


def test_the_second_step_is_rate_limited_per_account(make_app, clock):
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        user = accounts.create_user(
            actor=None, email="a@example.org", name="A", role=Role.ADMIN, password=PASSWORD
        )
        db.session.commit()
        enrol(user, clock)
        statuses = []
        for _ in range(4):
            client = app.test_client()
            password_step(client, user)
            statuses.append(client.post("/login/code", data={"code": "000000"}).status_code)
        assert statuses[:3] == [200, 200, 200] and statuses[3] == 429


def test_when_required_an_admin_without_a_factor_must_set_it_up_first(app, login, clock):
    require_two_factor(True)
    admin = login(Role.ADMIN)
    for path in ("/dashboard", "/admin/users", "/account"):
        response = admin.get(path)
        assert response.status_code == 302 and response.location.endswith("/account/two-step")
    assert admin.get("/account/two-step").status_code == 200
    staff = login(Role.STAFF)
    assert signed_in(staff)  # staff are not required to

    with admin.session_transaction() as session:
        secret = session["two_factor_setup_secret"]
    admin.post("/account/two-step", data={"code": code_at(secret, clock)})
    assert signed_in(admin)


def test_a_required_factor_cannot_be_turned_off_but_an_optional_one_can(app, create_user, clock):
    require_two_factor(True)
    user = create_user(Role.TREASURER)
    enrol(user, clock)
    client = sign_in(app.test_client(), user)
    assert "cannot be turned off" in client.get("/account").get_data(as_text=True)
    response = client.post("/account/two-step/off", follow_redirects=True)
    assert "requires two-step sign-in" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).totp_secret is not None

    require_two_factor(False)
    response = client.post("/account/two-step/off", follow_redirects=True)
    assert "Two-step sign-in is off." in response.get_data(as_text=True)
    assert db.session.get(User, user.id).totp_secret is None
    assert two_factor.unused_recovery_codes(user=user) == 0


def test_new_recovery_codes_replace_the_old_ones(app, create_user, clock):
    user = create_user(Role.TREASURER)
    _, old_codes = enrol(user, clock)
    client = sign_in(app.test_client(), user)
    response = client.post("/account/recovery-codes", follow_redirects=True)
    new_codes = re.findall(
        r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.get_data(as_text=True)
    )
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)

    other = app.test_client()
    password_step(other, user)
    assert other.post("/login/code", data={"code": old_codes[0]}).status_code == 200
    assert other.post("/login/code", data={"code": new_codes[0]}).status_code == 302


def test_an_admin_resets_a_lost_factor_audited_and_signs_the_user_out(
    app, admin_client, create_user, clock
):
    user = create_user(Role.TREASURER)
    secret, _ = enrol(user, clock)
    browser = app.test_client()
    password_step(browser, user)
    browser.post("/login/code", data={"code": code_at(secret, clock)})
    assert signed_in(browser)
    page = admin_client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "Reset two-step sign-in" in page

    response = admin_client.post(f"/admin/users/{user.id}/reset-two-step")
    assert response.status_code == 302
    assert db.session.get(User, user.id).totp_secret is None
    assert not signed_in(browser)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset")
    )
    assert event.actor_id == admin_client.user.id and event.object_id == str(user.id)

    # Signing in now needs only the password (the organisation does not require it here).
    fresh = app.test_client()
    assert password_step(fresh, user).location.endswith("/dashboard")


def test_only_admins_reset_factors_and_not_their_own(app, admin_client, login, clock):
    treasurer = login(Role.TREASURER)
    enrol(treasurer.user, clock)
    assert treasurer.post(f"/admin/users/{treasurer.user.id}/reset-two-step").status_code == 403
    admin = admin_client.user
    enrol(admin, clock)
    response = admin_client.post(f"/admin/users/{admin.id}/reset-two-step", follow_redirects=True)
    assert "from your account page" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).totp_secret is not None


def test_a_new_installation_requires_two_step_sign_in(make_app):
    app = make_app(TWO_FACTOR_REQUIRED_BY_DEFAULT=True)  # the real default
    with app.app_context():
        assert app.config["TWO_FACTOR_REQUIRED_BY_DEFAULT"] is True
        admin = accounts.create_user(
            actor=None, email="first@example.org", name="First", role=Role.ADMIN, password=PASSWORD
        )
        assert two_factor.is_required(user=admin, organization=None, default=True)
        org = update_organization(actor=None, legal_name="New Shelter")
        assert org.require_two_factor is True
        db.session.rollback()


def test_the_default_setting_is_on():
    assert Defaults.TWO_FACTOR_REQUIRED_BY_DEFAULT is True
    assert Defaults.IDLE_TIMEOUT_MINUTES == 30


def test_the_dashboard_warns_admins_when_two_step_sign_in_is_off(app, admin_client, login):
    require_two_factor(False)
    assert "Two-step sign-in is off" in admin_client.get("/dashboard").get_data(as_text=True)
    treasurer = login(Role.TREASURER)
    assert "Two-step sign-in is off" not in treasurer.get("/dashboard").get_data(as_text=True)


def test_the_organisation_page_turns_the_requirement_on(app, admin_client, clock):
    require_two_factor(False)
    form = {"legal_name": "Harbor Light", "default_currency": "USD", "fiscal_year_start_month": "1"}
    form["require_two_factor"] = "y"
    response = admin_client.post("/admin/organization", data=form)
    assert response.status_code == 302
    assert get_organization().require_two_factor is True
    # The admin has no factor yet, so the next page is the set-up.
    assert admin_client.get("/dashboard").location.endswith("/account/two-step")
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "organization.update")
        .order_by(AuditEvent.id.desc())
    )
    assert "require_two_factor" in event.summary


def test_the_demo_has_two_step_sign_in_off(app):
    load_demo()
    db.session.commit()
    assert get_organization().require_two_factor is False
