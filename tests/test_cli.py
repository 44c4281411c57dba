"""The flask commands: users and demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from donations.demo import DEMO_DONORS
from donations.extensions import db
from donations.models import Donor, Membership, Organization, User
from donations.services import accounts


def test_users_create_prompts_for_the_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "Boss@Example.org", "--role", "admin"],
        input="a long admin password\na long admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created boss@example.org (admin)." in result.output
    user = accounts.authenticate(email="boss@example.org", password="a long admin password")
    assert user is not None and user.role == "admin"


def test_users_create_refuses_a_duplicate_and_a_short_password(app, create_user):
    create_user("staff", email="sam@example.org")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "SAM@example.org"], input="long enough pw\nlong enough pw\n"
    )
    assert result.exit_code != 0
    assert "Another user already has this email address." in result.output
    result = runner.invoke(args=["users", "create", "new@example.org"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "Use at least 10 characters." in result.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_users_set_password_and_list(app, create_user):
    create_user("staff", email="sam@example.org")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "set-password", "sam@example.org"], input="a fresh password\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(email="sam@example.org", password="a fresh password")
    result = runner.invoke(args=["users", "list"])
    assert "sam@example.org" in result.output and "staff" in result.output


def test_demo_load_runs_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "admin@example.org" in result.output and "admin-demo-pass" in result.output
    # The first member's three staff accounts and the partner agency's login, printed
    # with its agency; the second member's two people and the coalition's admin.
    members = select(func.count(Membership.id)).where(Membership.organization_id == 1)
    assert db.session.scalar(members) == 4
    assert db.session.scalar(select(func.count(User.id))) == 4 + 2 + 1
    assert (
        "coalition@example.org" in result.output and "dana@northstar.example.org" in result.output
    )
    assert "partner@example.org" in result.output and "(Safe Passage clinic)" in result.output
    # The demo donors, and four people who first gave online (the checkout adds them).
    assert db.session.scalar(select(func.count(Donor.id))) == len(DEMO_DONORS) + 4 == 21
    assert db.session.get(Organization, 1).tax_id == "12-3456789"
    for email, password in [
        ("admin@example.org", "admin-demo-pass"),
        ("treasurer@example.org", "treasurer-demo-pass"),
        ("staff@example.org", "staff-demo-pass"),
        ("partner@example.org", "partner-demo-pass"),
    ]:
        assert accounts.authenticate(email=email, password=password) is not None

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0
    assert "already has users" in again.output
    assert db.session.scalar(select(func.count(Donor.id))) == 21
