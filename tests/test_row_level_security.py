"""PostgreSQL row-level security, the second wall (migration 0029, donations/row_security.py):
a query that forgets its organisation sees no rows, one with the setting sees only that
organisation's, a row written for another is refused, and the app's own reads and writes
set the setting so they keep working as a role the policies bind.

The suite connects as a superuser, whom the policies never bind, so each test puts the
wall up (the migration's SQL) and acts as a role without privileges of its own.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from test_tenancy import _record_cash, seed

from donations.extensions import db
from donations.models import Donor, Fund, Item, Role, Site, StripeEvent
from donations.services import (
    giving,
    inventory,
    organizations,
    stock_page,
    stripe_events,
    summaries,
)
from donations.services.keyset import Position
from donations.tenancy import ALL_ORGANIZATIONS, HOME_ORGANIZATION_ID, use_organization

pytestmark = pytest.mark.postgres_only

_PATH = Path(__file__).parents[1] / "migrations" / "versions" / "0029_row_level_security.py"
_spec = importlib.util.spec_from_file_location("rls_migration", _PATH)
assert _spec is not None and _spec.loader is not None
MIGRATION = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(MIGRATION)

CHECKED = ("donors", "gifts", "funds", "items", "sites", "stock_documents", "stock_entries")


def _stock(marker: str) -> None:
    """An intake of soap at the organisation's warehouse (rows in stock_documents/_entries)."""
    site = db.session.scalar(select(Site.id).where(Site.name == "Main warehouse"))
    soap = db.session.scalar(select(Item.id).where(Item.code == "SOAP"))
    inventory.record_intake(
        actor=None,
        site_id=site,
        effective_date=date.today(),
        source="anonymous",
        lines=[inventory.Line(soap, 5 if marker == "home" else 7, "new")],
        note=marker,
    )
    db.session.commit()


@pytest.fixture
def two_orgs(app, organization) -> int:
    """The home organisation and a second one, each with donors, gifts, funds, goods and
    stock; returns the second one's id."""
    other = organizations.create_organization(
        actor=None, slug="safe-harbor", legal_name="Safe Harbor Coalition Member"
    )
    db.session.commit()
    other_id = other.id
    seed("home")
    _stock("home")
    with use_organization(other_id):
        seed("other")
        _stock("other")
    db.session.commit()
    db.session.close()  # no lock held while the wall goes up
    return other_id


def _role(connection: Connection) -> str:
    return f"rls_probe_{connection.engine.url.database}"[:63]


def _put_up_wall(connection: Connection) -> str:
    """In ``connection``'s transaction: the policies and a role they bind; return it."""
    role = _role(connection)
    for statement in MIGRATION.enable_statements():
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN')
    connection.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
    connection.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    return role


@contextmanager
def bare_connection(app) -> Iterator[Connection]:
    """A connection of its own, past the app's engine and its hook (like psql or a script):
    the wall and the role are made in its transaction, which is rolled back."""
    engine = create_engine(db.engine.url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            role = _put_up_wall(connection)
            connection.exec_driver_sql(f'SET LOCAL ROLE "{role}"')
            try:
                yield connection
            finally:
                connection.rollback()
    finally:
        engine.dispose()


def _count(connection: Connection, table: str) -> int:
    return connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608


def _set(connection: Connection, organization_id: int | None, everyone: bool = False) -> None:
    connection.execute(
        text(
            "SELECT set_config('donations.organization_id', :org, true), "
            "set_config('donations.all_organizations', :all, true)"
        ),
        {
            "org": "" if organization_id is None else str(organization_id),
            "all": "on" if everyone else "off",
        },
    )


def test_without_the_setting_a_query_sees_no_rows(two_orgs, app):
    with bare_connection(app) as connection:
        for table in CHECKED:
            assert _count(connection, table) == 0, table
        connection.exec_driver_sql("RESET ROLE")  # the same query as the superuser
        for table in CHECKED:
            assert _count(connection, table) > 0, table


def test_with_the_setting_a_query_sees_that_organisation_only(two_orgs, app):
    other_id = two_orgs
    with bare_connection(app) as connection:
        seen = {}
        for org in (HOME_ORGANIZATION_ID, other_id):
            _set(connection, org)
            seen[org] = {table: _count(connection, table) for table in CHECKED}
            owners = connection.exec_driver_sql(
                "SELECT DISTINCT organization_id FROM donors UNION "
                "SELECT DISTINCT organization_id FROM stock_entries"
            ).scalars()
            assert set(owners) == {org}
            names = set(connection.exec_driver_sql("SELECT name FROM donors").scalars())
            marker = "home" if org == HOME_ORGANIZATION_ID else "other"
            assert names == {"Alex Doe", f"Only in {marker}"}
        assert all(seen[HOME_ORGANIZATION_ID][t] > 0 for t in CHECKED)
        _set(connection, HOME_ORGANIZATION_ID, everyone=True)
        for table in CHECKED:
            both = seen[HOME_ORGANIZATION_ID][table] + seen[other_id][table]
            assert _count(connection, table) == both, table


def test_a_row_for_another_organisation_is_refused(two_orgs, app):
    other_id = two_orgs
    with bare_connection(app) as connection:
        _set(connection, HOME_ORGANIZATION_ID)

        def intruder(org: int):
            return Donor.__table__.insert().values(organization_id=org, name="Intruder")

        with pytest.raises(DBAPIError, match="row-level security"), connection.begin_nested():
            connection.execute(intruder(other_id))
        connection.execute(intruder(HOME_ORGANIZATION_ID))  # its own organisation: fine
        # Nor can a row be moved to another organisation.
        with pytest.raises(DBAPIError, match="row-level security"), connection.begin_nested():
            connection.exec_driver_sql(f"UPDATE donors SET organization_id = {other_id}")  # noqa: S608
        # Without the setting nothing is there to change or delete.
        _set(connection, None)
        assert connection.exec_driver_sql("UPDATE donors SET name = 'Changed'").rowcount == 0
        assert connection.exec_driver_sql("DELETE FROM gifts").rowcount == 0


def test_the_apps_own_reads_and_writes_set_the_organisation(two_orgs, app):
    """In the app's session, as the bound role: its ORM, Core and driver reads, a block
    across organisations and a write each see what they should."""
    other_id = two_orgs
    connection = db.session.connection()
    role = _put_up_wall(connection)
    connection.exec_driver_sql(f'SET LOCAL ROLE "{role}"')
    try:
        for org, marker in ((HOME_ORGANIZATION_ID, "home"), (other_id, "other")):
            with use_organization(org):
                names = set(db.session.scalars(select(Donor.name)))
                assert names == {"Alex Doe", f"Only in {marker}"}
                page = giving.donation_page()  # Core, in the session's transaction
                assert page is not None and "General" in [f.name for f in page.funds]
                sites = [s.id for s in db.session.scalars(select(Site))]
                rows = stock_page.stock_page(  # the driver's cursor
                    text="SOAP",
                    category_id=None,
                    site_ids=sites,
                    show="held",
                    position=Position(),
                    per_page=50,
                ).items
                assert [row.total for row in rows] == [5 if marker == "home" else 7]
                fund = db.session.scalar(select(Fund.id))
                donor = db.session.scalar(select(Donor.id).where(Donor.name == "Alex Doe"))
                _record_cash(donor_id=donor, fund_id=fund, amount_cents=100)  # flushed as org
        everyone = select(func.count()).select_from(Donor)
        assert db.session.scalar(everyone.execution_options(**{ALL_ORGANIZATIONS: True})) == 4
        assert db.session.scalar(everyone) == 2
        assert summaries.verify_money() == []  # it reads every organisation's gifts
    finally:
        db.session.rollback()


@pytest.fixture
def app_as_bound_role(two_orgs, app) -> Iterator[int]:
    """The wall up (committed), and every new connection of the app's engine acting as a
    role it binds, until the test ends; yields the second organisation's id."""
    engine = db.engine
    with engine.begin() as connection:
        role = _put_up_wall(connection)

    def act_as_role(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET ROLE "{role}"')
        cursor.close()
        dbapi_connection.commit()

    engine.dispose()
    event.listen(engine, "connect", act_as_role)
    try:
        yield two_orgs
    finally:
        event.remove(engine, "connect", act_as_role)
        db.session.remove()
        engine.dispose()
        with engine.begin() as connection:
            for statement in MIGRATION.disable_statements():
                connection.exec_driver_sql(statement)
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')


def test_pages_work_as_a_role_the_wall_binds(app_as_bound_role, app, login):
    """Requests on connections of the bound role: the donation page (its driver path
    without a session), the stock page and a report show the organisation's own rows."""
    assert db.session.scalar(text("SELECT current_user")) != "postgres"
    db.session.rollback()
    raw = db.engine.raw_connection()  # a driver connection nobody set an organisation on
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT count(*) FROM donors")
        assert cursor.fetchone()[0] == 0
    finally:
        raw.close()
    client = app.test_client()
    assert "General" in client.get("/give").get_data(as_text=True)
    assert "General" in client.get("/o/safe-harbor/give").get_data(as_text=True)
    staff = login(Role.ADMIN)
    page = staff.get("/inventory/?q=SOAP")
    assert page.status_code == 200
    assert "Soap" in page.get_data(as_text=True) or "SOAP" in page.get_data(as_text=True)
    assert staff.get("/donors/").status_code == 200
    assert "Only in home" in staff.get("/donors/").get_data(as_text=True)
    assert "Only in other" not in staff.get("/donors/").get_data(as_text=True)


def test_webhook_deliveries_are_stored_for_their_organisation_as_a_bound_role(
    app_as_bound_role, app
):
    """A delivery's one statement (stripe_events/intake.py) sets the organisation for
    itself: the wall lets its row in, for that organisation, and the setting ends with it."""
    other_id = app_as_bound_role
    db.session.remove()
    db.engine.dispose()  # the deliveries' connection is the only one in the pool
    for organization_id, event_id in ((HOME_ORGANIZATION_ID, "evt_home"), (other_id, "evt_other")):
        event = {
            "id": event_id,
            "object": "event",
            "type": "customer.created",
            "created": 1_765_000_000,
            "data": {"object": {"id": f"cus_{event_id}", "object": "customer"}},
        }
        with use_organization(organization_id):
            for duplicate in (False, True):
                receipt = stripe_events.record_event(
                    event=event, payload=json.dumps(event), gateway=None, defer=True
                )
                assert receipt.duplicate is duplicate
    assert db.engine.pool.checkedin() == 1
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT count(*) FROM stripe_events")  # no setting: no rows
        assert cursor.fetchone()[0] == 0
        raw.dbapi_connection.rollback()
    finally:
        raw.close()
    stored = db.session.execute(
        select(StripeEvent.event_id, StripeEvent.organization_id).execution_options(
            **{ALL_ORGANIZATIONS: True}
        )
    ).all()
    assert sorted(stored) == [("evt_home", HOME_ORGANIZATION_ID), ("evt_other", other_id)]
    db.session.rollback()
