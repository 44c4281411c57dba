"""SQLite's write lock and the file lock beside it: taken in one order, never a standoff.

A writer that already holds SQLite's lock must not wait for the file lock: its holder
may be waiting for SQLite's lock, held by that very writer (a consumer processing Stripe
events once stood still for five seconds an event this way).
"""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from donations.models import AppLock
from donations.services import locking


@pytest.fixture
def engine(tmp_path):
    """A SQLite database of its own (the file lock is SQLite's), whatever the suite runs on."""
    engine = create_engine(f"sqlite:///{tmp_path / 'locks.sqlite3'}")
    AppLock.__table__.create(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_file(engine):
    return engine.url.database


@pytest.fixture
def file_lock_held_elsewhere(sqlite_file):
    fd = os.open(sqlite_file + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    yield
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _finishes(work) -> bool:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    return done.is_set()


def test_a_writer_holding_sqlites_lock_does_not_wait_for_the_file_lock(
    engine, file_lock_held_elsewhere, monkeypatch
):
    monkeypatch.setattr(locking, "FILE_LOCK_WAIT", 3600.0)  # it would wait an hour

    def work() -> None:
        with Session(engine) as session:
            session.execute(text("INSERT INTO app_locks (name, counter) VALUES ('x', 1)"))
            locking.serialize_writes("test", session=session)
            session.rollback()

    assert _finishes(work)


def test_a_writer_that_gave_up_once_does_not_wait_again_in_that_transaction(
    engine, file_lock_held_elsewhere, monkeypatch
):
    monkeypatch.setattr(locking, "FILE_LOCK_WAIT", 0.01)
    with Session(engine) as session:
        locking.serialize_writes("first", session=session)  # gives up, takes SQLite's lock
        monkeypatch.setattr(locking, "FILE_LOCK_WAIT", 3600.0)
        assert _finishes(lambda: locking.serialize_writes("second", session=session))
        counters = dict(session.execute(text("SELECT name, counter FROM app_locks")).all())
        assert counters == {"first": 1}  # SQLite's lock is already ours: nothing more to write
        session.rollback()
    with Session(engine) as session:  # the next transaction tries the file lock again
        monkeypatch.setattr(locking, "FILE_LOCK_WAIT", 0.01)
        locking.serialize_writes("third", session=session)
        session.commit()
        assert session.info == {}  # nothing held over: no file descriptor left open


def test_the_file_lock_is_handed_over_at_commit(engine, sqlite_file):
    with Session(engine) as first:
        locking.serialize_writes("a", session=first)
        fd = os.open(sqlite_file + ".lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            first.commit()
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free the moment it committed
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
