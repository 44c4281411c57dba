"""CSRF on every POST, login rate limit, security headers, cookies, error pages."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, sign_in
from donations.models import Role, User

# Stripe signs its webhook instead: it carries no CSRF token by design.
CSRF_EXEMPT = {"webhooks.stripe_webhook", "webhooks.organization_stripe_webhook"}


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint not in CSRF_EXEMPT:
            yield rule


def test_only_the_webhook_is_exempt_from_csrf(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    exempt = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
        and f"{app.view_functions[rule.endpoint].__module__}.{rule.endpoint.split('.')[-1]}"
        in app.extensions["csrf"]._exempt_views
    }
    assert exempt == CSRF_EXEMPT


def _fill(rule) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)


def test_every_post_route_refuses_a_missing_csrf_token(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        admin = create_user(Role.ADMIN)
        rules = list(_post_rules(app))
        assert len(rules) >= 10
        for rule in rules:
            client = sign_in(app.test_client(), admin)
            response = client.post(_fill(rule), data={"email": "a@example.org"})
            assert response.status_code == 400, rule.rule
            assert b"nothing was saved" in response.data, rule.rule
            anonymous = app.test_client()
            response = anonymous.post(_fill(rule), data={})
            # public forms refuse with 400; the rest send strangers to sign in first
            assert response.status_code in (400, 302), rule.rule


def test_csrf_refusal_changes_nothing(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        admin = create_user(Role.ADMIN)
        client = sign_in(app.test_client(), admin)
        response = client.post(
            "/admin/users/new",
            data={"name": "X", "email": "x@example.org", "role": "admin", "password": PASSWORD},
        )
        assert response.status_code == 400
        from donations.services.accounts import find_user_by_email

        assert find_user_by_email("x@example.org") is None


def test_login_with_a_valid_csrf_token_works(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        create_user(Role.TREASURER, email="t@example.org")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            "/login", data={"email": "t@example.org", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        assert client.get("/dashboard").status_code == 200


def test_login_is_rate_limited_per_address(app, client):
    for _ in range(10):
        response = client.post("/login", data={"email": "no@example.org", "password": "wrong-one"})
        assert response.status_code == 200
    response = client.post("/login", data={"email": "no@example.org", "password": "wrong-one"})
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    assert b"Sign out" not in response.data  # rendered in the site layout, anonymous
    # another address is not limited
    other = app.test_client()
    response = other.post(
        "/login",
        data={"email": "no@example.org", "password": "wrong-one"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert response.status_code == 200
    # viewing the form is never limited
    assert client.get("/login").status_code == 200


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/no-such-page", "/static/site.css"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script_or_style(admin_client):
    for path in ("/", "/login", "/dashboard", "/admin/users", "/admin/organization"):
        html = admin_client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script " not in html, path
        assert "style=" not in html and "<style" not in html, path


def test_session_cookie_is_httponly_lax_and_secure_outside_debug(make_app, create_user):
    app = make_app(TESTING=False, SESSION_COOKIE_SECURE=None)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        create_user(Role.STAFF, email="s@example.org")
        client = app.test_client()
        response = client.post(
            "/login",
            data={"email": "s@example.org", "password": PASSWORD},
            base_url="https://donations.test",
        )
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" in cookie


def test_debug_app_cookie_is_not_secure(make_app):
    app = make_app(DEBUG=True, TESTING=False, SESSION_COOKIE_SECURE=None)
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_not_found_page_is_friendly(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b'class="site-header"' in response.data


def test_server_error_page_is_friendly(make_app):
    from donations.authz import public

    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @public
    def boom():
        raise RuntimeError("kaboom")

    app.add_url_rule("/boom", "boom", boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data
    assert b"kaboom" not in response.data
    assert b'class="site-header"' in response.data


def test_forbidden_page_is_friendly(staff_client):
    response = staff_client.get("/admin/users")
    assert response.status_code == 403
    assert b"Not allowed" in response.data
    assert b'class="site-header"' in response.data


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "dashboard"]
)
def test_login_never_redirects_off_site(app, client, create_user, target):
    create_user(Role.STAFF, email="s@example.org")
    response = client.post(
        f"/login?next={target}", data={"email": "s@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_login_follows_a_local_next(app, client, create_user):
    create_user(Role.ADMIN, email="a@example.org")
    response = client.post(
        "/login?next=/admin/users", data={"email": "a@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/admin/users"


def test_wsgi_refuses_to_serve_without_a_secret_key(monkeypatch, tmp_path):
    import importlib
    import sys

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "x.sqlite3"))
    monkeypatch.setattr("flask.Config.from_pyfile", lambda self, *a, **k: False)
    sys.modules.pop("wsgi", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        importlib.import_module("wsgi")
    assert User  # models import cleanly alongside
