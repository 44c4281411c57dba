"""The session cookie and CSRF tokens made with kept serializers read as Flask's own."""

from __future__ import annotations

import re

import pytest
from flask import Flask, g, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf as flask_wtf_generate_csrf
from flask_wtf.csrf import validate_csrf
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
