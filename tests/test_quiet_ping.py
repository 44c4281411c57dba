"""PostgreSQL: the pool lends a healthy connection without a round trip, and still
replaces one the server ended while it sat in the pool (donations/quiet_ping.py)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from donations.extensions import db

pytestmark = pytest.mark.postgres_only


def _backend_pid() -> int:
    raw = db.engine.raw_connection()
    try:
        return raw.dbapi_connection.info.backend_pid
    finally:
        raw.close()


def test_a_healthy_pooled_connection_is_lent_without_a_round_trip(app, sent_statements):
    db.engine.dispose()
    first = _backend_pid()  # made, used and handed back to the pool
    sent_statements.clear()
    raw = db.engine.raw_connection()
    try:
        assert raw.dbapi_connection.info.backend_pid == first  # the pooled one
        assert sent_statements == []  # no ping before lending it
        cursor = raw.cursor()
        cursor.execute("SELECT 41 + 1")
        assert cursor.fetchone()[0] == 42
    finally:
        raw.close()


def test_a_connection_the_server_ended_is_replaced_before_it_is_lent(app, sent_statements):
    db.engine.dispose()
    ended = _backend_pid()
    admin = create_engine(db.engine.url, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": ended})
            deadline = time.monotonic() + 10
            while connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": ended}
            ):
                assert time.monotonic() < deadline, "the server did not end the connection"
                time.sleep(0.05)
                connection.rollback()
    finally:
        admin.dispose()
    sent_statements.clear()
    # The session's first statement works, on a new connection: the ended one was seen
    # (its socket had the server's last words) and checked the full way, then replaced.
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != ended
    ping = db.engine.dialect._dialect_specific_select_one  # what SQLAlchemy's ping sends
    assert sent_statements[0] == ping
    db.session.rollback()
