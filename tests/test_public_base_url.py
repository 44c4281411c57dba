"""Every absolute link is built on PUBLIC_BASE_URL, never on the request's Host header.

TRUSTED_HOSTS comes from the same setting (another Host gets a 400), the admin sees the
address in use, and gunicorn (wsgi.py) refuses to serve without it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import sign_in
from donations import create_app
from donations.extensions import db
from donations.models import OutboxMessage
from donations.services.links import absolute_url

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://give.example.org/harbor"
# The test client's host stays trusted; the links must still go to PUBLIC.
BOTH_HOSTS = {"PUBLIC_BASE_URL": PUBLIC, "TRUSTED_HOSTS": ["donations.test", "give.example.org"]}


def _bodies() -> list[str]:
    db.session.expire_all()
    return [m.body_text for m in db.session.scalars(select(OutboxMessage))]


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", text)


@pytest.fixture
def public_app(make_app):
    app = make_app(**BOTH_HOSTS)
    with app.app_context():
        yield app
        db.session.remove()


def test_a_foreign_host_header_gets_a_400_and_no_reset_mail(app, client, create_user):
    create_user(email="ada@example.org")
    response = client.post(
        "/reset-password", data={"email": "ada@example.org"}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    assert "http://donations.test" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert client.get("/login", headers={"Host": "evil.example:5000"}).status_code == 400
    assert client.get("/login").status_code == 200


def test_the_trusted_hosts_come_from_the_public_address(make_app):
    app = make_app(PUBLIC_BASE_URL="https://Give.Example.org:8443/", TRUSTED_HOSTS=None)
    assert app.config["PUBLIC_BASE_URL"] == "https://give.example.org:8443"
    assert app.config["TRUSTED_HOSTS"] == ["give.example.org"]
    client = app.test_client()
    assert client.get("/login", base_url="https://give.example.org:8443").status_code == 200
    assert client.get("/login", base_url="https://donations.test").status_code == 400


@pytest.mark.parametrize("bad", ["give.example.org", "ftp://give.example.org", "https://"])
def test_a_malformed_public_address_stops_the_app(make_app, bad):
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        make_app(PUBLIC_BASE_URL=bad)


def test_the_reset_link_is_on_the_public_address_whatever_the_host(public_app, create_user):
    create_user(email="ada@example.org")
    client = public_app.test_client()
    client.post("/reset-password", data={"email": "ada@example.org"})
    links = [link for body in _bodies() for link in _links(body) if "/reset-password/" in link]
    assert len(links) == 1
    assert links[0].startswith(PUBLIC + "/reset-password/")


def test_the_my_gifts_link_is_on_the_public_address(public_app, create_donor, organization):
    create_donor("Grace", email="grace@example.com")
    client = public_app.test_client()
    client.post("/my-gifts", data={"email": "grace@example.com"})
    links = [link for body in _bodies() for link in _links(body) if "/my-gifts/" in link]
    assert links, _bodies()
    assert all(link.startswith(PUBLIC + "/my-gifts/") for link in links)


def test_absolute_url_ignores_the_request_and_works_without_one(public_app):
    assert absolute_url("receipts_public.verify", code="ABC") == PUBLIC + "/verify/ABC"
    with public_app.test_request_context("/", base_url="http://evil.example:9999"):
        assert absolute_url("give.thanks", token="t") == PUBLIC + "/give/thanks/t"
        assert absolute_url("give.index") == PUBLIC + "/give"


def test_no_view_builds_links_on_the_request_host():
    """Links for mail, PDFs and Stripe go through absolute_url, nowhere else."""
    offenders = []
    for path in (ROOT / "donations").rglob("*.py"):
        text = path.read_text()
        for pattern in (r"(?<!force)_external=True", r"request\.host", r"url_root", r"host_url"):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


def test_the_admin_sees_the_address_in_use(public_app, create_user):
    admin = sign_in(public_app.test_client(), create_user("admin"))
    page = admin.get("/admin/organization").get_data(as_text=True)
    assert PUBLIC in page
    assert "give.example.org" in page


def test_flask_commands_fall_back_to_the_local_address(monkeypatch):
    # Whatever this machine's environment or instance/config.py say: none given means the default.
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    app = create_app(
        {
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PUBLIC_BASE_URL": "",
            "TRUSTED_HOSTS": None,
        }
    )
    assert app.config["PUBLIC_BASE_URL_IS_DEFAULT"] is True
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1"]


def _instance_sets_public_base_url() -> bool:
    config = ROOT / "instance" / "config.py"
    return config.exists() and "PUBLIC_BASE_URL" in config.read_text()


def _gunicorn_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    env.update(SECRET_KEY="gunicorn-check-secret", DATABASE_URL="sqlite://", **extra_env)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.run(
        [str(gunicorn), "--check-config", "--print-config", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(_instance_sets_public_base_url(), reason="instance/config.py sets it")
def test_gunicorn_refuses_to_start_without_a_public_address():
    refused = _gunicorn_check({})
    assert refused.returncode != 0
    assert "PUBLIC_BASE_URL is not set" in refused.stdout + refused.stderr
    accepted = _gunicorn_check({"PUBLIC_BASE_URL": "https://give.example.org"})
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_wsgi_refuses_to_serve_without_a_public_address(monkeypatch, tmp_path):
    """The same check in-process, whatever this machine's instance/config.py says."""
    import importlib

    monkeypatch.setenv("SECRET_KEY", "wsgi-check-secret")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "x.sqlite3"))
    monkeypatch.setattr("flask.Config.from_pyfile", lambda self, *a, **k: False)
    sys.modules.pop("wsgi", None)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL is not set"):
        importlib.import_module("wsgi")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://give.example.org")
    sys.modules.pop("wsgi", None)
    served = importlib.import_module("wsgi").app
    assert served.config["TRUSTED_HOSTS"] == ["give.example.org"]
    sys.modules.pop("wsgi", None)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_serves_links_on_its_own_port():
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=5123"], cwd=ROOT, env=env, capture_output=True, text=True
    ).stdout
    serve = [line for line in plan.splitlines() if "flask run" in line]
    assert serve and "PUBLIC_BASE_URL='http://127.0.0.1:5123'" in serve[0]
    env["PUBLIC_BASE_URL"] = "https://give.example.org"
    plan = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, env=env, capture_output=True, text=True
    ).stdout
    assert "PUBLIC_BASE_URL='https://give.example.org'" in plan
