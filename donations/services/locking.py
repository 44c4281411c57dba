"""Serialising writers that read before they write.

PostgreSQL: callers lock the rows they change (``SELECT ... FOR UPDATE``).
SQLite has no row locks; ``serialize_writes`` makes the transaction take
SQLite's single write lock *before* it reads, by writing a lock row first, so
two such transactions never interleave their reads and writes.
"""

from __future__ import annotations

from sqlalchemy import text

from donations.extensions import db


def serialize_writes(name: str) -> None:
    """On SQLite, take the database write lock now; on PostgreSQL, do nothing."""
    if db.session.get_bind().dialect.name != "sqlite":
        return
    db.session.execute(
        text(
            "INSERT INTO app_locks (name, counter) VALUES (:name, 1) "
            "ON CONFLICT (name) DO UPDATE SET counter = app_locks.counter + 1"
        ),
        {"name": name},
    )
