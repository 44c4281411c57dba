"""Password reset by an emailed, signed, expiring link; and sign-in's vague answer.

The reset mail goes through the real SMTP server the ``smtp`` fixture starts.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from donations.blueprints.auth import GENERIC_LOGIN_ERROR
from donations.extensions import db
from donations.jobs.mail_worker import deliver_due
from donations.models import AuditEvent, OutboxMessage, User, utcnow

OLD_PASSWORD = "old password, long enough"
NEW_PASSWORD = "a brand new passphrase"
EXPIRED = "This reset link has expired: ask for a new one."
NOT_VALID = "This reset link is not valid: ask for a new one."
USED = "This reset link has already been used or is no longer valid."
REQUEST_ANSWER = "If that address belongs to an account, a reset link is on its way."


@pytest.fixture(autouse=True)
def _no_rate_limit(app):
    """These tests sign in and post forms more often than a person would."""
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"


@pytest.fixture
def ada(create_user) -> User:
    return create_user(email="ada@example.org", name="Ada", password=OLD_PASSWORD)


def fresh(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def has_password(user: User, password: str) -> bool:
    return check_password_hash(fresh(user).password_hash, password)


def mail_text(message) -> str:
    return message.get_payload(decode=True).decode()


def link_path(text: str) -> str:
    """Return the path of the one reset link in a mail body."""
    links = re.findall(r"https?://\S+/reset-password/\S+", text)
    assert len(links) == 1, text
    parts = urlsplit(links[0])
    assert parts.netloc == "donations.test"
    return parts.path


def request_link(app, user: User, smtp) -> str:
    """Ask for a reset link as the user would and return its path from the mail."""
    client = app.test_client()
    client.post("/reset-password", data={"email": user.email})
    assert len(smtp.messages) == 1
    return link_path(mail_text(smtp.messages[-1]))


def sign_in(app, email: str, password: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    return client, response


def error_box(html: str) -> str:
    match = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', html, re.S)
    assert match, html
    return match.group(1).strip()


# --- the whole way, through the SMTP server -----------------------------------


def test_reset_by_emailed_link(app, client, ada, smtp):
    response = client.post("/reset-password", data={"email": "ADA@Example.org"})

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "ada@example.org"
    assert mail["Subject"] == "Reset your password"
    path = link_path(mail_text(mail))

    form = client.get(path)
    assert form.status_code == 200
    assert 'name="password"' in form.get_data(as_text=True)
    assert 'name="confirm"' in form.get_data(as_text=True)

    done = client.post(
        path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "Your password is set" in done.get_data(as_text=True)
    assert done.request.path == "/login"

    signed_in, response = sign_in(app, "ada@example.org", NEW_PASSWORD)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/dashboard"
    assert signed_in.get("/dashboard").status_code == 200

    _, old = sign_in(app, "ada@example.org", OLD_PASSWORD)
    assert old.status_code == 200
    assert GENERIC_LOGIN_ERROR in old.get_data(as_text=True)

    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == str(ada.id))
    ).all()
    assert "user.password_reset_requested" in actions
    assert "user.password_reset" in actions


def test_a_link_works_once(app, client, ada, smtp):
    path = request_link(app, ada, smtp)
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert has_password(ada, NEW_PASSWORD)

    again = client.get(path, follow_redirects=True)
    assert again.request.path == "/reset-password"
    assert USED in again.get_data(as_text=True)

    third = "yet another long password"
    response = client.post(path, data={"password": third, "confirm": third}, follow_redirects=True)
    assert USED in response.get_data(as_text=True)
    assert has_password(ada, NEW_PASSWORD)
    assert not has_password(ada, third)


def test_an_older_link_dies_when_the_password_changes(app, client, ada, smtp):
    first = request_link(app, ada, smtp)
    smtp.reset()
    second = request_link(app, ada, smtp)
    client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    response = client.get(first, follow_redirects=True)

    assert USED in response.get_data(as_text=True)


def test_an_expired_link_is_refused(app, client, ada, smtp):
    path = request_link(app, ada, smtp)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1

    response = client.get(path, follow_redirects=True)

    assert response.request.path == "/reset-password"
    assert EXPIRED in response.get_data(as_text=True)
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert has_password(ada, OLD_PASSWORD)


def test_a_link_expires_after_an_hour(app, client, ada, smtp, monkeypatch):
    assert app.config["PASSWORD_RESET_MAX_AGE"] == 3600
    path = request_link(app, ada, smtp)
    now = int(utcnow().timestamp())

    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 3500)
    assert client.get(path).status_code == 200

    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 3700)
    response = client.get(path, follow_redirects=True)
    assert EXPIRED in response.get_data(as_text=True)
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert has_password(ada, OLD_PASSWORD)


def flip(char: str) -> str:
    return "A" if char != "A" else "B"


@pytest.mark.parametrize("where", ["payload", "signature", "garbage"])
def test_a_tampered_link_is_refused(app, client, ada, smtp, where):
    path = request_link(app, ada, smtp)
    prefix, token = path.rsplit("/", 1)
    if where == "payload":
        token = flip(token[0]) + token[1:]
    elif where == "signature":
        # Not the last character: its low bits are base64 padding, so flipping
        # it can decode to the same signature bytes.
        token = token[:-5] + flip(token[-5]) + token[-4:]
    else:
        token = "not-a-token"
    bad = f"{prefix}/{token}"

    response = client.get(bad, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/reset-password"
    assert NOT_VALID in response.get_data(as_text=True)
    client.post(bad, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert has_password(ada, OLD_PASSWORD)


def test_a_link_for_a_user_deactivated_since_is_refused(app, client, ada, smtp):
    path = request_link(app, ada, smtp)
    fresh(ada).active = False
    db.session.commit()

    response = client.get(path, follow_redirects=True)

    assert USED in response.get_data(as_text=True)


def test_a_too_short_password_is_a_form_error(app, client, ada, smtp):
    path = request_link(app, ada, smtp)

    response = client.post(path, data={"password": "short", "confirm": "short"})

    assert response.status_code == 200
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert has_password(ada, OLD_PASSWORD)
    # Nothing changed, so the link still works.
    assert client.get(path).status_code == 200


def test_two_different_passwords_are_a_form_error(app, client, ada, smtp):
    path = request_link(app, ada, smtp)

    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})

    assert response.status_code == 200
    assert "The two passwords differ." in response.get_data(as_text=True)
    assert has_password(ada, OLD_PASSWORD)


# --- the request page says nothing about who has an account --------------------


def ask_for_reset(app, email: str):
    """Return what a visitor sees: the redirect, then the page it leads to."""
    client = app.test_client()
    response = client.post("/reset-password", data={"email": email})
    page = client.get(response.headers["Location"])
    return response.status_code, response.headers["Location"], page.get_data(as_text=True)


def test_request_page_never_reveals_whether_an_email_is_known(app, create_user, smtp):
    create_user(email="known@example.org")
    create_user(email="gone@example.org", active=False)

    unknown = ask_for_reset(app, "nobody@example.org")
    inactive = ask_for_reset(app, "gone@example.org")

    assert smtp.messages == []
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0

    known = ask_for_reset(app, "known@example.org")

    assert [m["To"] for m in smtp.messages] == ["known@example.org"]
    assert unknown == inactive == known
    assert known[0] == 302
    assert REQUEST_ANSWER in known[2]


def test_request_page_renders_and_checks_the_address(app, client, smtp):
    page = client.get("/reset-password")
    assert page.status_code == 200
    assert 'name="email"' in page.get_data(as_text=True)

    response = client.post("/reset-password", data={"email": "not an email"})

    assert response.status_code == 200
    assert "Invalid email address." in response.get_data(as_text=True)
    assert smtp.messages == []


def test_without_smtp_the_reset_mail_is_an_eml_file(app, client, ada):
    client.post("/reset-password", data={"email": ada.email})

    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == "sent"
    with open(row.delivered_via, "rb") as fh:
        raw = fh.read()
    from email import message_from_bytes

    path = link_path(mail_text(message_from_bytes(raw)))
    assert client.get(path).status_code == 200


def test_reset_mail_waits_for_the_worker_when_told(app, client, ada, smtp):
    app.config["MAIL_SEND_AFTER_COMMIT"] = False
    client.post("/reset-password", data={"email": ada.email})
    assert smtp.messages == []

    deliver_due(app=app)

    path = link_path(mail_text(smtp.messages[0]))
    assert client.get(path).status_code == 200


# --- sign-in ------------------------------------------------------------------


def test_every_failed_sign_in_looks_the_same(app, create_user):
    create_user(email="known@example.org", password=OLD_PASSWORD)
    create_user(email="gone@example.org", password=OLD_PASSWORD, active=False)

    attempts = {
        "wrong password": ("known@example.org", "not the password at all"),
        "unknown email": ("nobody@example.org", OLD_PASSWORD),
        "inactive user": ("gone@example.org", OLD_PASSWORD),
    }
    pages = {}
    for reason, (email, password) in attempts.items():
        _, response = sign_in(app, email, password)
        assert response.status_code == 200, reason
        html = response.get_data(as_text=True)
        assert error_box(html) == f"<p>{GENERIC_LOGIN_ERROR}</p>", reason
        # Apart from the address typed in, the pages are identical.
        pages[reason] = html.replace(email, "EMAIL")

    assert len(set(pages.values())) == 1


def test_signing_in_records_when(app, create_user):
    user = create_user(email="known@example.org", password=OLD_PASSWORD)
    assert user.last_login_at is None

    sign_in(app, "known@example.org", "wrong password here")
    assert fresh(user).last_login_at is None

    before = utcnow()
    client, response = sign_in(app, "Known@Example.org", OLD_PASSWORD)
    after = utcnow()

    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    last = fresh(user).last_login_at
    assert last is not None
    assert before - timedelta(seconds=1) <= last <= after + timedelta(seconds=1)
