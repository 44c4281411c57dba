"""Serialising writers that read before they write.

PostgreSQL: callers lock the rows they change (``SELECT ... FOR UPDATE``), or, for work
that changes many shared rows in an order of its own, take turns (``take_turns``).
SQLite has no row locks; ``serialize_writes`` makes the transaction take
SQLite's single write lock *before* it reads, by writing a lock row first, so
two such transactions never interleave their reads and writes.

SQLite's own wait for a busy lock sleeps in steps of up to 100 ms, which wastes
most of the time under contention. So before asking SQLite, a writer also takes
an advisory file lock beside the database (``<db>.lock``), which is handed over
the moment its holder commits. The file lock only speeds things up: if it cannot
be had within a few seconds the writer goes on, and SQLite's lock still keeps
the data right.

The file lock is only ever taken *before* SQLite's: a transaction that already
writes (it holds SQLite's lock) or that once gave up waiting never waits for the
file lock again, since its holder may be waiting for SQLite's lock, held by us.
"""

from __future__ import annotations

import os
import time
import zlib

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from donations.extensions import committed_for_good, db
from donations.tenancy import current_organization_id

try:
    import fcntl
except ImportError:  # not on POSIX: SQLite's lock alone
    fcntl = None  # type: ignore[assignment]

_FD_KEY = "donations.write_lock_fd"
_LOCKED_KEY = "donations.write_locked"  # this transaction wrote its lock row: SQLite's lock is ours
_NOT_HELD = -1  # this transaction goes on without the file lock: never wait for it again
FILE_LOCK_WAIT = 5.0  # seconds


def serialize_writes(name: str, *, session: Session | None = None) -> None:
    """On SQLite, take the database write lock now; on PostgreSQL, do nothing."""
    session = session if session is not None else db.session()
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or session.info.get(_LOCKED_KEY):
        return  # SQLite keeps a transaction's write lock until it ends, savepoints or not
    _take_file_lock(session, bind.url.database, writing=_writing(session))
    session.execute(
        text(
            "INSERT INTO app_locks (name, counter) VALUES (:name, 1) "
            "ON CONFLICT (name) DO UPDATE SET counter = app_locks.counter + 1"
        ),
        {"name": name},
    )
    session.info[_LOCKED_KEY] = True


def take_turns(name: str, *, session: Session | None = None) -> None:
    """Writers named ``name`` take turns within the current organisation, on any database:
    on SQLite the write lock (``serialize_writes``); on PostgreSQL a transaction-level
    advisory lock on (``name``, the organisation), held until the transaction ends.

    For work that changes many shared rows in an order of its own: a batch of Stripe
    events adds each gift to its day's, month's and year's totals and to the donor
    counts, flush after flush, so two batches at once would lock those rows crosswise and
    PostgreSQL would end one of them (a deadlock)."""
    session = session if session is not None else db.session()
    serialize_writes(name, session=session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:name, :organization)"),
            {"name": advisory_key(name), "organization": current_organization_id()},
        )


def advisory_key(name: str) -> int:
    """``name`` as the first key of a two-key PostgreSQL advisory lock (a signed int4)."""
    key = zlib.crc32(name.encode())
    return key - (1 << 32) if key >= 1 << 31 else key


def _writing(session: Session) -> bool:
    """Whether the session's SQLite connection already holds a write transaction."""
    raw = session.connection().connection.dbapi_connection
    return bool(getattr(raw, "in_transaction", False))


def _take_file_lock(session: Session, database: str | None, *, writing: bool) -> None:
    info = session.info
    if fcntl is None or not database or database == ":memory:" or _FD_KEY in info:
        return
    if writing:  # we hold SQLite's lock: the file lock's holder may be waiting for it
        info[_FD_KEY] = _NOT_HELD
        return
    fd = os.open(database + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + FILE_LOCK_WAIT
    pause = 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                info[_FD_KEY] = _NOT_HELD
                return
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)
        else:
            info[_FD_KEY] = fd
            return


def _unlock(session: Session) -> None:
    session.info.pop(_LOCKED_KEY, None)
    fd = session.info.pop(_FD_KEY, None)
    if fd is not None and fd != _NOT_HELD:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# First of the after-commit hooks: the commit let SQLite's lock go, so the file lock goes
# too, before other hooks run work of their own (a job the queue runs inline, say).
@event.listens_for(Session, "after_commit", insert=True)
def _release_file_lock_on_commit(session: Session) -> None:
    if committed_for_good(session):
        _unlock(session)


@event.listens_for(Session, "after_transaction_end")
def _release_file_lock(session: Session, transaction) -> None:
    if transaction.parent is None:
        _unlock(session)
