"""Webhook deliveries waiting to be taken in: on SQLite, a spool file beside the database.

A SQLite database has one write lock for all its tables, and the consumer holds it while
it applies a batch of events. A webhook that wrote its event into the same database had to
wait for that batch, so Stripe's deliveries were acknowledged at the pace of processing.
On SQLite the webhook therefore writes the verified event into a small database of its
own beside the main one (``<database>.stripe-spool``, its own lock, one short insert), and
the consumer takes spooled events into ``stripe_events`` in the same transaction that
processes them (``receiving.process_received``); the spool marks them taken once that
transaction has committed. A consumer that dies in between leaves them waiting: the next
run takes them again, and an event already stored is not stored twice.

The spool keeps each event's id for a week after it was taken in (Stripe retries a
delivery for three days), so a repeated delivery is known without reading the main
database. PostgreSQL locks rows, not the database: there the webhook stores the event in
``stripe_events`` directly and no spool exists (unless ``STRIPE_SPOOL_PATH`` names one),
nor for a database in memory.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction

from donations.extensions import committed_for_good, db, undone_by

try:
    import fcntl
except ImportError:  # not on POSIX: SQLite's own lock alone
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

KEEP_TAKEN = timedelta(days=7)  # Stripe stops retrying a delivery after three days
_EXTENSION = "donations.stripe_spool"
_TO_MARK = "donations.stripe_spool.to_mark"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS spooled ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " event_id TEXT NOT NULL UNIQUE,"
    " payload TEXT NOT NULL,"
    " received_at TEXT NOT NULL,"
    " taken_at TEXT)",
    "CREATE INDEX IF NOT EXISTS spooled_waiting ON spooled (seq) WHERE taken_at IS NULL",
    "CREATE INDEX IF NOT EXISTS spooled_taken ON spooled (taken_at) WHERE taken_at IS NOT NULL",
)


@dataclass(frozen=True)
class Spooled:
    """One event waiting in the spool, as the webhook received it."""

    seq: int
    event_id: str
    payload: str
    received_at: datetime

    @property
    def event(self) -> dict:
        return json.loads(self.payload)


class Spool:
    """The spool file: a connection per thread, writes one at a time (a file lock)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._ready = False

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # not one inherited across a fork
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # as the main database
            if not self._ready:
                for statement in _SCHEMA:
                    conn.execute(statement)
                self._ready = True
            local.conn, local.pid = conn, os.getpid()
        return local.conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, after the writers before it (woken as each one ends,
        rather than sleeping in SQLite's busy steps)."""
        conn = self._connection()
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600) if fcntl else None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if fd is not None:
                os.close(fd)  # lets the lock go

    def accept(self, event_id: str, payload: str, received_at: datetime) -> bool:
        """Keep a delivery; False when that event is kept already (a repeat).

        Stripe delivers an event more than once: a repeat already kept is known by a read,
        which waits for no writer (WAL), so only a new event takes the write lock. Two
        deliveries of a new event at once both insert, and the second is ignored."""
        known = (
            self._connection()
            .execute("SELECT 1 FROM spooled WHERE event_id = ?", (event_id,))
            .fetchone()
        )
        if known is not None:
            return False
        with self._writing() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO spooled (event_id, payload, received_at) VALUES (?, ?, ?)",
                (event_id, payload, received_at.astimezone(UTC).isoformat()),
            )
            return cursor.rowcount == 1

    def waiting(self, limit: int) -> list[Spooled]:
        """The oldest ``limit`` events not yet taken in."""
        rows = (
            self._connection()
            .execute(
                "SELECT seq, event_id, payload, received_at FROM spooled "
                "WHERE taken_at IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        return [Spooled(seq, eid, body, datetime.fromisoformat(at)) for seq, eid, body, at in rows]

    def count_waiting(self) -> int:
        row = (
            self._connection()
            .execute("SELECT count(*) FROM spooled WHERE taken_at IS NULL")
            .fetchone()
        )
        return int(row[0])

    def mark_taken(self, seqs: list[int], *, now: datetime | None = None) -> None:
        """Mark events as taken in (their transaction committed); forget old ones."""
        now = now or datetime.now(UTC)
        with self._writing() as conn:
            conn.executemany(
                "UPDATE spooled SET taken_at = ? WHERE seq = ? AND taken_at IS NULL",
                [(now.isoformat(), seq) for seq in seqs],
            )
            conn.execute(
                "DELETE FROM spooled WHERE taken_at < ?", ((now - KEEP_TAKEN).isoformat(),)
            )

    def clear(self) -> None:
        """Forget every delivery (the database it feeds was emptied)."""
        with self._writing() as conn:
            conn.execute("DELETE FROM spooled")


def spool_path(database_uri: str) -> str | None:
    """Where the spool of the database ``database_uri`` lives; None when it has none."""
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database + ".stripe-spool"


def current_spool() -> Spool | None:
    """The current app's spool (on SQLite), made on first use."""
    app = current_app
    if _EXTENSION not in app.extensions:
        path = app.config.get("STRIPE_SPOOL_PATH") or spool_path(
            app.config["SQLALCHEMY_DATABASE_URI"]
        )
        app.extensions[_EXTENSION] = Spool(path) if path else None
    return app.extensions[_EXTENSION]


def mark_taken_after_commit(spool: Spool, seqs: list[int]) -> None:
    """Mark ``seqs`` taken once the current transaction commits (never if it rolls back)."""
    if seqs:
        db.session().info.setdefault(_TO_MARK, []).append((spool, seqs))


@event.listens_for(Session, "after_commit")
def _mark_taken(session: Session) -> None:
    if not committed_for_good(session):
        return
    for spool, seqs in session.info.pop(_TO_MARK, ()):
        try:
            spool.mark_taken(seqs)
        except sqlite3.Error:  # they stay waiting: the next run finds them stored already
            log.exception("could not mark %d spooled Stripe events as taken", len(seqs))


@event.listens_for(Session, "after_soft_rollback")
def _forget_marks(session: Session, previous_transaction: SessionTransaction) -> None:
    if undone_by(previous_transaction).parent is None:
        session.info.pop(_TO_MARK, None)
