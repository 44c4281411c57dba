"""The session cookie and CSRF tokens made with kept serializers read as Flask's own."""

from __future__ import annotations

import re

import pytest
from flask import Flask, g, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf as flask_wtf_generate_csrf
from flask_wtf.csrf import validate_csrf
from markupsafe import Markup
from wtforms import ValidationError

from donations.cookie_session import CookieSessionInterface, generate_csrf


def _app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="one key", **config)
    return app


def test_a_cookie_made_here_reads_as_flasks_and_the_other_way_round():
    app = _app()
    ours, flasks = CookieSessionInterface(), SecureCookieSessionInterface()
    for writer, reader in ((ours, flasks), (flasks, ours)):
        cookie = writer.get_signing_serializer(app).dumps({"csrf_token": "abc", "n": 1})
        assert reader.get_signing_serializer(app).loads(cookie) == {"csrf_token": "abc", "n": 1}


def test_a_new_secret_key_gets_its_own_serializer_and_old_cookies_stop_working():
    app = _app()
    interface = CookieSessionInterface()
    cookie = interface.get_signing_serializer(app).dumps({"a": 1})
    app.secret_key = "another key"
    with pytest.raises(Exception, match="Signature"):
        interface.get_signing_serializer(app).loads(cookie)
    app.config["SECRET_KEY_FALLBACKS"] = ["one key"]
    assert interface.get_signing_serializer(app).loads(cookie) == {"a": 1}


def test_the_token_is_flask_wtfs_kept_for_the_request_and_validated_by_it():
    app = _app()
    with app.test_request_context():
        token = generate_csrf()
        assert re.fullmatch(r"[0-9a-f]{40}", session["csrf_token"])
        assert generate_csrf() == token == g.csrf_token
        assert flask_wtf_generate_csrf() == token
        validate_csrf(token)  # raises when it does not hold
    with app.test_request_context():
        session["csrf_token"] = "a" * 40
        with pytest.raises(ValidationError):
            validate_csrf(token)  # another visitor's session


def test_the_token_follows_the_csrf_secret_key_and_field_name():
    app = _app(WTF_CSRF_SECRET_KEY="csrf key", WTF_CSRF_FIELD_NAME="guard")
    with app.test_request_context():
        token = generate_csrf()
        assert "guard" in session and "csrf_token" not in session
        validate_csrf(token, secret_key="csrf key", token_key="guard")
        with pytest.raises(ValidationError):
            validate_csrf(token, secret_key="one key", token_key="guard")


def _stock_session_serializer(app: Flask):
    return SecureCookieSessionInterface().get_signing_serializer(app)


@pytest.mark.parametrize(
    "value",
    [
        {"csrf_token": "ab" * 20},
        {"_user_id": "17", "_fresh": True, "_id": "f" * 128, "csrf_token": "c" * 40},
        {"n": 1, "none": None, "text": 'naïve "quoted" \\ </script>', "z": False},
        {"long": "x" * 500},  # compressed: shorter that way
        {" t": "a key that is one of Flask's tags"},
        {"tuple": (1, 2), "markup": Markup("<b>"), "bytes": b"\x00"},  # tagged: stock path
        {"nested": {"a": [1, {"b": 2}]}},
        {},
    ],
)
def test_a_session_cookie_is_byte_for_byte_flasks_own(value, monkeypatch):
    app = _app()
    monkeypatch.setattr("time.time", lambda: 1_780_000_000.25)
    with app.app_context():
        ours = CookieSessionInterface().get_signing_serializer(app).dumps(dict(value))
        stock = _stock_session_serializer(app).dumps(dict(value))
    assert ours == stock
    assert _stock_session_serializer(app).loads(ours) == value


def test_a_csrf_token_is_byte_for_byte_flask_wtfs_own(monkeypatch):
    app = _app()
    monkeypatch.setattr("time.time", lambda: 1_780_000_000.9)
    with app.test_request_context():
        session["csrf_token"] = "0123456789abcdef" * 2 + "01234567"
        assert generate_csrf() == flask_wtf_generate_csrf()
    with app.test_request_context():  # a raw value that is not hex goes the stock way
        session["csrf_token"] = 'not "hex" at all'
        ours = generate_csrf()
        g.pop("csrf_token")
        assert ours == flask_wtf_generate_csrf()


def test_vary_cookie_is_added_to_what_the_view_said_once():
    app = _app()
    app.session_interface = CookieSessionInterface()

    @app.get("/plain")
    def plain():
        session["seen"] = True
        return "ok"

    @app.get("/varied")
    def varied():
        session["seen"] = True
        return "ok", {"Vary": "Accept-Encoding"}

    @app.get("/cleared")
    def cleared():
        session.clear()
        return "ok"

    client = app.test_client()
    assert client.get("/plain").headers["Vary"] == "Cookie"
    assert client.get("/varied").headers["Vary"] == "Accept-Encoding, Cookie"
    response = client.get("/cleared")  # the session had "seen": the cookie is removed
    assert response.headers["Vary"] == "Cookie"
    assert "session=;" in response.headers["Set-Cookie"]
