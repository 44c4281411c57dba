"""PostgreSQL: what a transaction costs in round trips, read from libpq's own trace of the
messages it sends. A transaction begins and sets its organisation in one round trip
(donations/row_security.py), so a read is three: that, the statement, and its end."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import func, select, text

from donations.extensions import db
from donations.models import Donor
from donations.services import donors

pytestmark = pytest.mark.postgres_only


@contextmanager
def traced(driver) -> Iterator[list[str]]:
    """The frontend messages ``driver`` sends inside the block (``Query`` and ``Sync`` each
    end a round trip), as libpq writes them."""
    sent: list[str] = []
    with tempfile.TemporaryFile() as trace:
        driver.pgconn.trace(trace.fileno())
        driver.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield sent
        finally:
            driver.pgconn.untrace()
            trace.seek(0)
            for line in trace.read().decode().splitlines():
                if line.startswith("F\t"):  # F, length, message, its content
                    parts = [*line.split("\t", 3), ""]
                    sent.append(f"{parts[2]} {parts[3].strip()}".strip())


def _round_trips(sent: list[str]) -> list[str]:
    return [message for message in sent if message.startswith(("Query", "Sync"))]


def _driver():
    db.session.rollback()
    return db.session.connection().connection.dbapi_connection


def test_a_read_is_three_round_trips_and_sees_its_organisations_rows(app, organization):
    donors.create_donor(actor=None, name="Counted")
    db.session.commit()
    driver = _driver()
    with traced(driver) as sent:
        count = db.session.scalar(select(func.count(Donor.id)))
        db.session.commit()
    assert count == 1
    trips = _round_trips(sent)
    assert len(trips) == 3, sent
    assert trips[0].startswith('Query "BEGIN; SELECT set_config(')  # one round trip
    assert trips[-1] == 'Query "COMMIT"'


def test_a_write_is_undone_by_its_rollback_as_before(app, organization):
    driver = _driver()
    with traced(driver) as sent:
        donors.create_donor(actor=None, name="Written then undone")
        db.session.flush()
        db.session.rollback()
    assert _round_trips(sent)[0].startswith('Query "BEGIN; SELECT set_config(')
    assert db.session.scalar(select(func.count(Donor.id))) == 0
    db.session.rollback()


def test_a_transaction_with_options_begins_as_psycopg_does(app, organization):
    driver = _driver()
    driver.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    try:
        with traced(driver) as sent:
            level = db.session.scalar(text("SHOW transaction_isolation"))
            setting = db.session.scalar(
                text("SELECT current_setting('donations.organization_id', true)")
            )
            db.session.rollback()
    finally:
        driver.isolation_level = None
    assert level == "serializable"
    assert setting == str(organization.id)
    trips = _round_trips(sent)
    assert trips[0] == 'Query "BEGIN ISOLATION LEVEL SERIALIZABLE"'
    assert trips[1].startswith('Query "SELECT set_config(')
