"""People of several organisations: memberships, switching, each organisation's signed-in
pages at its own address, and the coalition admin who runs the deployment."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import PASSWORD, engine_statements, sign_in
from donations.extensions import db
from donations.models import Membership, OutboxMessage, Role, User
from donations.services import accounts, donors, organizations, user_sessions
from donations.tenancy import ALL_ORGANIZATIONS, use_organization


@pytest.fixture
def north(app, organization):
    other = organizations.create_organization(
        actor=None, slug="north", legal_name="North Star Refuge"
    )
    db.session.commit()
    return other


def _member(north, role: Role = Role.ADMIN, email: str = "dana@north.example") -> User:
    with use_organization(north.id):
        user = accounts.create_user(
            actor=None, email=email, name="Dana Okafor", role=role, password=PASSWORD
        )
    db.session.commit()
    return user


def test_a_member_of_another_organisation_uses_its_pages_at_its_address(app, north):
    donors.create_donor(actor=None, name="Maria Home")
    with use_organization(north.id):
        donors.create_donor(actor=None, name="Nora North")
    db.session.commit()
    client = sign_in(app.test_client(), _member(north))
    page = client.get("/o/north/donors/").get_data(as_text=True)
    assert "Nora North" in page and "Maria Home" not in page
    # Not one of the first organisation's people: its pages do not exist for them.
    assert client.get("/donors/").status_code == 404
    assert client.get("/o/north/admin/users").status_code == 200


def test_signing_in_at_the_root_leads_a_member_elsewhere_to_their_organisation(app, north):
    _member(north)
    client = app.test_client()
    response = client.post("/login", data={"email": "dana@north.example", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/o/north/dashboard")
    assert client.get("/o/north/dashboard").status_code == 200


def test_someone_in_two_organisations_switches_between_them(app, north, create_user):
    user = create_user(Role.STAFF, email="sam@example.org")
    with use_organization(north.id):
        again = accounts.create_user(
            actor=None, email="SAM@example.org", name="ignored", role="admin", password=""
        )
    db.session.commit()
    assert again.id == user.id and user.name != "ignored"  # the same account, its own name
    client = sign_in(app.test_client(), user)
    home = client.get("/dashboard").get_data(as_text=True)
    assert "Switch organisation" in home and 'href="/o/north/dashboard"' in home
    assert client.get("/admin/users").status_code == 403  # staff here
    assert client.get("/o/north/admin/users").status_code == 200  # admin there


def test_the_switcher_is_read_with_the_session(app, north, create_user):
    """Its organisations come with the session's own query (none more per page): each
    active membership of an open organisation, in order, names as they are."""
    user = create_user(Role.STAFF, email="sam@example.org")
    east = organizations.create_organization(
        actor=None, slug="east", legal_name='East "Harbour" Refuge & Hôtel 東'
    )
    west = organizations.create_organization(actor=None, slug="west", legal_name="West House")
    south = organizations.create_organization(actor=None, slug="south", legal_name="South Rest")
    for org in (north, east, west, south):
        with use_organization(org.id):
            accounts.create_user(
                actor=None, email="sam@example.org", name="Sam", role="staff", password=""
            )
    db.session.flush()
    organizations.archive_organization(actor=None, slug="west")
    left = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organization_id == south.id
        )
    )
    left.active = False
    db.session.commit()
    expected = [(1, True), (north.id, False), (east.id, False)]
    user_id = user.id

    def seen(choices):
        return [(c.organization_id, c.current) for c in choices]

    session_id = user_sessions.start_session(user=user)
    db.session.commit()
    db.session.expunge_all()
    loaded = user_sessions.load_session(session_id).user
    with engine_statements() as statements:
        choices = organizations.switch_choices(loaded)
    assert statements == []
    assert seen(choices) == expected
    assert choices[2].legal_name == 'East "Harbour" Refuge & Hôtel 東'
    assert choices[1].url.endswith("/o/north/dashboard")
    # Read by a query of its own (a user not loaded with a session): the same choices.
    db.session.expunge_all()
    again = db.session.get(User, user_id)
    assert seen(organizations.switch_choices(again)) == expected
    page = sign_in(app.test_client(), again).get("/dashboard").get_data(as_text=True)
    assert "East &#34;Harbour&#34; Refuge &amp; Hôtel 東" in page and "West House" not in page
    assert "South Rest" not in page


def test_an_admin_never_reaches_another_organisations_people(app, north, admin_client):
    theirs = _member(north, Role.STAFF)
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "dana@north.example" not in page
    assert admin_client.get(f"/admin/users/{theirs.id}/edit").status_code == 404
    response = admin_client.post(f"/admin/users/{theirs.id}/active", data={"active": "0"})
    assert response.status_code in (400, 404)
    db.session.expire_all()
    assert db.session.get(User, theirs.id).active


def test_adding_an_existing_account_keeps_its_password_and_other_membership(
    app, north, admin_client
):
    theirs = _member(north, Role.ADMIN)
    before = theirs.password_hash
    response = admin_client.post(
        "/admin/users/new",
        data={
            "email": "dana@north.example",
            "name": "Someone else",
            "role": "staff",
            "password": "a different password",
            "confirm": "a different password",
            "recipient_id": "",
        },
        follow_redirects=True,
    )
    assert "already had an account with another organisation" in response.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, theirs.id)
    assert user.password_hash == before and user.name == "Dana Okafor"
    roles = {m.organization_id: m.role for m in user.memberships}
    assert roles == {1: "staff", north.id: "admin"}


def test_deactivating_here_leaves_the_other_organisation_alone(app, north, create_user):
    user = create_user(Role.STAFF, email="sam@example.org")
    create_user(Role.ADMIN, email="boss@example.org")
    with use_organization(north.id):
        accounts.create_user(
            actor=None, email="sam@example.org", name="", role="staff", password=""
        )
    db.session.commit()
    accounts.set_user_active(actor=None, user=user, active=False)
    db.session.commit()
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.active  # still signs in, for North Star
    client = sign_in(app.test_client(), user)
    assert client.get("/o/north/dashboard").status_code == 200
    assert client.get("/dashboard").status_code == 404


def test_the_email_of_someone_in_two_organisations_is_theirs_to_change(app, north, create_user):
    user = create_user(Role.STAFF, email="sam@example.org")
    create_user(Role.ADMIN, email="boss@example.org")
    with use_organization(north.id):
        accounts.create_user(
            actor=None, email="sam@example.org", name="", role="staff", password=""
        )
    db.session.commit()
    with pytest.raises(accounts.NotAllowed, match="also belongs to another organisation"):
        accounts.update_user(
            actor=None,
            user=user,
            email="attacker@example.net",
            name=user.name,
            role="staff",
            active=True,
        )
    db.session.rollback()
    assert accounts.find_user_by_email("sam@example.org") is not None


def test_a_coalition_admin_adds_a_member_and_invites_its_admin(app, organization):
    admin = accounts.create_coalition_admin(
        actor=None, email="cora@coalition.example", name="Cora", password=PASSWORD
    )
    db.session.commit()
    client = sign_in(app.test_client(), admin)
    form = {
        "legal_name": "River House",
        "slug": "",
        "default_currency": "usd",
        "admin_name": "Rae Rivers",
        "admin_email": "rae@river.example",
    }
    response = client.post("/coalition/members/new", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "River House" in response.get_data(as_text=True)
    river = organizations.find_organization("river-house")
    assert river is not None and river.default_currency == "USD"
    rae = accounts.find_user_by_email("rae@river.example")
    assert [(m.organization_id, m.role) for m in rae.memberships] == [(river.id, "admin")]
    mail = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.to_addr == "rae@river.example")
        .execution_options(**{ALL_ORGANIZATIONS: True})
    )
    assert mail.organization_id == river.id
    assert "/o/river-house/reset-password/" in mail.body_text
    # Invited twice: a clear message, nothing added.
    again = client.post(
        "/coalition/members/river-house/admins",
        data={"admin_name": "Rae", "admin_email": "RAE@river.example"},
        follow_redirects=True,
    )
    assert "already one of River House" in again.get_data(as_text=True)
    assert (
        db.session.scalar(select(db.func.count(Membership.id)).where(Membership.user_id == rae.id))
        == 1
    )
    # A taken slug: a clear message next to it, no second organisation.
    form["slug"] = "river-house"
    taken = client.post("/coalition/members/new", data=form)
    assert "already uses the slug" in taken.get_data(as_text=True)
    # The coalition admin sees no member's records.
    assert client.get("/donors/").status_code == 404
    assert client.get("/o/river-house/gifts/").status_code == 404


def test_coalition_pages_are_for_coalition_admins_only(app, north, admin_client):
    assert admin_client.get("/coalition/members").status_code == 403
    assert admin_client.get("/coalition/report").status_code == 403
    assert app.test_client().get("/coalition/members").status_code == 302  # sign in first


def test_the_coalition_report_counts_goods_of_all_and_gifts_of_those_who_share(app, north, goods):
    from datetime import date

    from donations.models import Fund
    from donations.services import gifts as gift_service
    from donations.services import inventory

    def cash(amount_cents: int) -> None:
        fund = Fund(name="General")
        db.session.add(fund)
        donor = donors.create_donor(actor=None, name="Alex Doe")
        db.session.flush()
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount_cents,
            currency="USD",
            received_on=date.today(),
        )

    cash(2500)
    inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=date.today(),
        source="anonymous",
        lines=[goods.line("SOAP", 12, "new")],
    )
    organization = db.session.get(organizations.Organization, 1)
    organization.shares_figures = True
    with use_organization(north.id):
        cash(9900)  # North Star does not share its figures
    db.session.commit()
    admin = accounts.create_coalition_admin(
        actor=None, email="cora@coalition.example", name="Cora", password=PASSWORD
    )
    db.session.commit()
    client = sign_in(app.test_client(), admin)
    page = client.get("/coalition/report").get_data(as_text=True)
    assert "Harbor Light" in page and "North Star Refuge" in page
    assert "$25.00" in page and "$99.00" not in page and "Not shared" in page
    assert "Alex Doe" not in page  # never a donor
    report = client.get("/coalition/report?date_from=2030-01-02&date_to=2030-01-01")
    assert report.status_code == 400 and "before the start date" in report.get_data(as_text=True)


def test_commands_run_as_the_organisation_named_by_org(app, north):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["users", "create", "lee@north.example", "--org", "north", "--role", "staff"],
        input="long enough pw\nlong enough pw\n",
    )
    assert made.exit_code == 0, made.output
    listed = runner.invoke(args=["users", "list", "--org", "north"])
    assert "lee@north.example" in listed.output and "staff" in listed.output
    assert "lee@north.example" not in runner.invoke(args=["users", "list"]).output
    seeded = runner.invoke(args=["inventory", "seed", "--org", "north"])
    assert seeded.exit_code == 0 and "Added" in seeded.output
    from donations.models import Item

    with use_organization(north.id):
        assert db.session.scalar(select(db.func.count(Item.id))) > 0
    assert db.session.scalar(select(db.func.count(Item.id))) == 0  # the first's catalog
    unknown = runner.invoke(args=["privacy", "scan", "--org", "nowhere"])
    assert (
        unknown.exit_code != 0 and "No open organisation has the slug 'nowhere'" in unknown.output
    )


def test_someone_who_is_no_member_here_still_reaches_their_account_and_signs_out(app, north):
    admin = accounts.create_coalition_admin(
        actor=None, email="cora@coalition.example", name="Cora", password=PASSWORD
    )
    db.session.commit()
    client = sign_in(app.test_client(), admin)
    assert client.get("/account").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/coalition/members").status_code == 302  # signed out
