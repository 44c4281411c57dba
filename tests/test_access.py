"""Every route with every role: each role reaches exactly its pages.

The table below must name every route the app has; a new route fails
``test_table_covers_every_route`` until it is added here with its roles.
"""

from __future__ import annotations

import pytest

from conftest import sign_in
from donations.extensions import db
from donations.models import Role
from donations.services import accounts
from donations.services.mail import queue_mail

PUBLIC = "public"
ANY = frozenset(Role)
ADMIN = frozenset({Role.ADMIN})
BOOKS = frozenset({Role.ADMIN, Role.TREASURER})

# (endpoint, method, path, who may reach it)
ROUTES = [
    ("main.home", "GET", "/", PUBLIC),
    ("main.healthz", "GET", "/healthz", PUBLIC),
    ("main.favicon", "GET", "/favicon.ico", PUBLIC),
    ("main.dashboard", "GET", "/dashboard", ANY),
    ("auth.login", "GET", "/login", PUBLIC),
    ("auth.login", "POST", "/login", PUBLIC),
    ("auth.logout", "POST", "/logout", ANY),
    ("auth.change_password", "GET", "/account/password", ANY),
    ("auth.change_password", "POST", "/account/password", ANY),
    ("auth.reset_request", "GET", "/reset-password", PUBLIC),
    ("auth.reset_request", "POST", "/reset-password", PUBLIC),
    ("auth.reset_password", "GET", "/reset-password/{token}", PUBLIC),
    ("auth.reset_password", "POST", "/reset-password/{token}", PUBLIC),
    ("admin.users", "GET", "/admin/users", ADMIN),
    ("admin.new_user", "GET", "/admin/users/new", ADMIN),
    ("admin.new_user", "POST", "/admin/users/new", ADMIN),
    ("admin.edit_user", "GET", "/admin/users/{user_id}/edit", ADMIN),
    ("admin.edit_user", "POST", "/admin/users/{user_id}/edit", ADMIN),
    ("admin.set_user_active", "POST", "/admin/users/{user_id}/active", ADMIN),
    ("admin.organization", "GET", "/admin/organization", ADMIN),
    ("admin.organization", "POST", "/admin/organization", ADMIN),
    ("admin.outgoing_mail", "GET", "/admin/mail", ADMIN),
    ("admin.mail_message", "GET", "/admin/mail/{message_id}", ADMIN),
    ("admin.requeue_mail", "POST", "/admin/mail/{message_id}/requeue", ADMIN),
    ("admin.audit_log", "GET", "/admin/audit", ADMIN),
    ("donors.index", "GET", "/donors/", BOOKS),
    ("donors.new", "GET", "/donors/new", BOOKS),
    ("donors.new", "POST", "/donors/new", BOOKS),
    ("donors.detail", "GET", "/donors/{donor_id}", BOOKS),
    ("donors.edit", "GET", "/donors/{donor_id}/edit", BOOKS),
    ("donors.edit", "POST", "/donors/{donor_id}/edit", BOOKS),
    ("donors.merge", "GET", "/donors/{donor_id}/merge", BOOKS),
    ("donors.merge", "POST", "/donors/{donor_id}/merge", BOOKS),
    ("donors.lookup", "GET", "/donors/lookup?q=a", ANY),
    ("donors.lookup_json", "GET", "/donors/lookup.json?q=a", ANY),
]


def test_table_covers_every_route(app):
    in_app = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    in_table = {(endpoint, method) for endpoint, method, _path, _who in ROUTES}
    assert in_app - in_table == set(), "routes missing from the access table"
    assert in_table - in_app == set(), "routes in the table the app does not have"


@pytest.fixture
def objects(app, create_user, create_donor):
    target = create_user(Role.STAFF, email="target@example.org")
    donor = create_donor("Access Donor")
    message = queue_mail(kind="test", to="x@example.org", subject="Hi", body_text="Hello")
    db.session.commit()
    return {
        "user_id": target.id,
        "donor_id": donor.id,
        "message_id": message.id,
        "token": accounts.make_password_reset_token(target),
    }


def _request(client, method, path, objects):
    url = path.format(**objects)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={})


def _went_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("endpoint", "method", "path", "who"), ROUTES, ids=[f"{m} {p}" for _e, m, p, _w in ROUTES]
)
def test_route_by_role(app, create_user, objects, endpoint, method, path, who):
    anonymous = app.test_client()
    response = _request(anonymous, method, path, objects)
    if who == PUBLIC:
        assert response.status_code < 400 or (response.status_code == 400 and method == "POST")
        assert not _went_to_login(response) or endpoint.startswith("auth.")
    else:
        assert _went_to_login(response), f"anonymous reached {method} {path}"

    for role in Role:
        client = sign_in(app.test_client(), create_user(role))
        response = _request(client, method, path, objects)
        if who == PUBLIC or role in who:
            assert response.status_code not in (401, 403), f"{role} refused {method} {path}"
            assert not _went_to_login(response) or endpoint == "auth.logout"
            assert response.status_code < 500
        else:
            assert response.status_code == 403, f"{role} reached {method} {path}"
            assert b"Not allowed" in response.data


def test_every_view_declares_access(app):
    from donations.authz import ACCESS_ATTR

    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and getattr(view, ACCESS_ATTR, None) is None
    ]
    assert undeclared == []


def test_app_refuses_to_start_with_an_undeclared_view():
    from flask import Flask

    from donations.authz import check_every_view_declares_access

    app = Flask(__name__)
    app.add_url_rule("/open", "open", lambda: "open")
    with pytest.raises(RuntimeError, match="open"):
        check_every_view_declares_access(app)
