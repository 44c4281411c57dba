"""PostgreSQL: a transaction that wrote nothing ends by COMMIT, so psycopg keeps the
statements it prepared (donations/prepared_statements.py); one that wrote, or failed,
still rolls back and undoes everything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from donations.extensions import db
from donations.models import Donor
from donations.services import donors

pytestmark = pytest.mark.postgres_only

PROBE = "SELECT count(*) AS prepared_probe FROM donors"


def _driver():
    return db.session.connection().connection.dbapi_connection


def _prepared_on(driver) -> list[str]:
    cursor = driver.cursor()
    try:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


def test_a_transaction_that_only_read_keeps_what_was_prepared(app):
    for _ in range(6):  # psycopg prepares a statement on its fifth run
        db.session.execute(text(PROBE)).all()
    driver = _driver()
    assert any("prepared_probe" in s for s in _prepared_on(driver))
    db.session.rollback()  # how a request that only read ends
    assert _driver() is driver  # the same pooled connection, in a new transaction
    assert any("prepared_probe" in s for s in _prepared_on(driver))
    db.session.remove()  # the session handing its connection back to the pool
    assert _driver() is driver
    assert any("prepared_probe" in s for s in _prepared_on(driver))


def test_a_transaction_that_wrote_still_rolls_back(app):
    donors.create_donor(actor=None, name="Written then undone")
    db.session.flush()
    assert db.session.scalar(select(func.count(Donor.id))) == 1  # reads after the write
    db.session.rollback()
    assert db.session.scalar(select(func.count(Donor.id))) == 0
    db.session.remove()
    assert db.session.scalar(select(func.count(Donor.id))) == 0


def test_what_a_read_only_transaction_set_ends_with_it(app):
    db.session.execute(text("SELECT set_config('donations.probe', 'kept?', true)"))
    assert db.session.scalar(text("SELECT current_setting('donations.probe', true)")) == "kept?"
    db.session.rollback()
    assert db.session.scalar(text("SELECT current_setting('donations.probe', true)")) in ("", None)


def test_a_failed_statement_rolls_back_and_the_connection_goes_on(app):
    donors.create_donor(actor=None, name="Kept")
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(text("SELECT 1 / 0")).all()
    db.session.rollback()
    assert db.session.scalar(text("SELECT 1")) == 1
    assert db.session.scalar(select(func.count(Donor.id))) == 1
