"""Sessions live on the server: logout, sign out everywhere, idle timeout, role changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from conftest import PASSWORD, sign_in
from donations.extensions import db
from donations.models import AuditEvent, Role, User, UserSession, utcnow
from donations.services import accounts, user_sessions


class Clock:
    """The sessions module's clock, moved by hand."""

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


def form_sign_in(app, user: User):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/dashboard")
    return client


def signed_in(client) -> bool:
    response = client.get("/dashboard")
    return response.status_code == 200


def copy_cookies(source, target) -> None:
    for name in ("session", "remember_token"):
        cookie = source.get_cookie(name, domain="donations.test")
        if cookie is not None:
            target.set_cookie(name, cookie.value, domain="donations.test")


def test_a_cookie_copied_before_logout_is_refused_after_it(app, create_user):
    user = create_user(Role.TREASURER)
    browser = form_sign_in(app, user)
    thief = app.test_client()
    copy_cookies(browser, thief)
    assert signed_in(thief)

    response = browser.post("/logout")
    assert response.status_code == 302
    assert not signed_in(browser)
    stolen = thief.get("/dashboard")
    assert stolen.status_code == 302 and "/login" in stolen.location
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.revoked_at is not None and record.revoked_reason == "signed out"


def test_the_cookie_keeps_no_reusable_secret_in_the_database(app, create_user):
    user = create_user(Role.STAFF)
    session_id = user_sessions.start_session(user=user)
    db.session.commit()
    token = session_id.split(":", 1)[1]
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert token not in record.token_hash and len(record.token_hash) == 64


def test_a_remember_me_cookie_is_revoked_with_its_session(app, create_user):
    user = create_user(Role.STAFF)
    session_id = user_sessions.start_session(user=user)
    db.session.commit()
    remembered = app.test_client()
    remembered.set_cookie("remember_token", encode_cookie(session_id), domain="donations.test")
    assert signed_in(remembered)

    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    user_sessions.revoke_session(record=record)
    db.session.commit()
    later = app.test_client()
    later.set_cookie("remember_token", encode_cookie(session_id), domain="donations.test")
    assert not signed_in(later)


def test_logout_in_one_browser_leaves_the_others_signed_in(app, create_user):
    user = create_user(Role.STAFF)
    laptop = form_sign_in(app, user)
    phone = form_sign_in(app, user)
    laptop.post("/logout")
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_sign_out_everywhere_ends_every_session_and_is_audited(app, create_user):
    user = create_user(Role.TREASURER)
    laptop = form_sign_in(app, user)
    phone = form_sign_in(app, user)
    response = laptop.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and "/login" in response.location
    assert not signed_in(laptop)
    assert not signed_in(phone)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.sign_out_everywhere")
    )
    assert event.actor_id == user.id and event.object_id == str(user.id)
    assert "ended 2 sessions" in event.summary


def test_admin_signs_a_user_out_everywhere(app, admin_client, create_user):
    sam = create_user(Role.STAFF)
    sams_browser = form_sign_in(app, sam)
    page = admin_client.get(f"/admin/users/{sam.id}/edit").get_data(as_text=True)
    assert "Sign out everywhere" in page and "1 browser" in page

    response = admin_client.post(f"/admin/users/{sam.id}/sign-out-everywhere")
    assert response.status_code == 302
    assert not signed_in(sams_browser)
    assert signed_in(admin_client)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.sign_out_everywhere")
    )
    assert event.actor_id == admin_client.user.id and event.object_id == str(sam.id)


def test_staff_cannot_sign_others_out(app, staff_client, create_user):
    other = create_user(Role.STAFF)
    other_browser = form_sign_in(app, other)
    response = staff_client.post(f"/admin/users/{other.id}/sign-out-everywhere")
    assert response.status_code == 403
    assert signed_in(other_browser)


def test_deactivation_takes_effect_on_the_next_request(app, admin_client, create_user):
    sam = create_user(Role.TREASURER)
    sams_browser = form_sign_in(app, sam)
    admin_client.post(f"/admin/users/{sam.id}/active", data={"active": "0"})
    assert not signed_in(sams_browser)
    live = db.session.scalars(
        select(UserSession).where(UserSession.user_id == sam.id, UserSession.revoked_at.is_(None))
    ).all()
    assert live == []


def test_a_role_change_takes_effect_on_the_next_request(app, admin_client, create_user):
    tess = create_user(Role.TREASURER)
    tess_browser = form_sign_in(app, tess)
    assert tess_browser.get("/donors/").status_code == 200

    form = {"name": tess.name, "email": tess.email, "role": "staff", "active": "y"}
    assert admin_client.post(f"/admin/users/{tess.id}/edit", data=form).status_code == 302
    assert tess_browser.get("/donors/").status_code == 403

    form["role"] = "admin"
    admin_client.post(f"/admin/users/{tess.id}/edit", data=form)
    assert tess_browser.get("/admin/users").status_code == 200


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, create_user):
    user = create_user(Role.STAFF)
    here = form_sign_in(app, user)
    elsewhere = form_sign_in(app, user)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TREASURER])
def test_an_idle_admin_or_treasurer_is_signed_out(app, create_user, clock, role):
    user = create_user(role)
    browser = sign_in(app.test_client(), user)
    clock.advance(minutes=29)
    assert signed_in(browser)  # activity restarts the count
    clock.advance(minutes=29)
    assert signed_in(browser)

    clock.advance(minutes=31)
    response = browser.get("/donors/?q=ada")
    assert response.status_code == 302
    assert "/login" in response.location and "next=" in response.location
    page = browser.get(response.location).get_data(as_text=True)
    assert "signed out after 30 minutes without activity" in page
    clock.advance(minutes=1)
    assert not signed_in(browser)  # the session stays ended
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.revoked_reason == "idle"


def test_staff_sessions_have_no_idle_timeout(app, create_user, clock):
    browser = sign_in(app.test_client(), create_user(Role.STAFF))
    clock.advance(hours=3)
    assert signed_in(browser)


def test_the_idle_timeout_is_configurable(make_app, create_user, clock):
    app = make_app(IDLE_TIMEOUT_MINUTES=5)
    with app.app_context():
        user = accounts.create_user(
            actor=None, email="t@example.org", name="T", role=Role.TREASURER, password=PASSWORD
        )
        db.session.commit()
        browser = sign_in(app.test_client(), user)
        clock.advance(minutes=4)
        assert signed_in(browser)
        clock.advance(minutes=6)
        assert not signed_in(browser)


def test_last_seen_is_written_at_most_once_a_minute(app, create_user, clock):
    user = create_user(Role.STAFF)
    browser = sign_in(app.test_client(), user)
    started = clock.moment
    clock.advance(seconds=30)
    browser.get("/dashboard")
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.last_seen_at == started
    clock.advance(seconds=40)
    browser.get("/dashboard")
    db.session.refresh(record)
    assert record.last_seen_at == clock.moment


def test_an_old_style_cookie_is_refused(app, create_user):
    user = create_user(Role.ADMIN)
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_token}"
    assert not signed_in(old)


def test_a_session_id_for_another_user_is_refused(app, create_user):
    staff = create_user(Role.STAFF)
    admin = create_user(Role.ADMIN)
    session_id = user_sessions.start_session(user=staff)
    db.session.commit()
    forged = app.test_client()
    with forged.session_transaction() as session:
        session["_user_id"] = f"{admin.id}:{session_id.split(':', 1)[1]}"
    assert not signed_in(forged)


def test_the_account_page_lists_this_browser(app, create_user):
    user = create_user(Role.STAFF)
    browser = app.test_client()
    browser.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"User-Agent": "Firefox on the office laptop"},
    )
    form_sign_in(app, user)
    page = browser.get("/account").get_data(as_text=True)
    assert "2 browsers signed in" in page
    assert "Firefox on the office laptop <strong>(this one)</strong>" in page


def test_a_password_reset_ends_every_session(app, create_user):
    user = create_user(Role.TREASURER)
    browser = form_sign_in(app, user)
    token = accounts.make_password_reset_token(user)
    new = "a reset passphrase here"
    response = app.test_client().post(
        f"/reset-password/{token}", data={"password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert not signed_in(browser)
