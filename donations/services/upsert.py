"""``INSERT ... ON CONFLICT`` in the dialect of the database in use.

SQLite and PostgreSQL each have their own ``insert`` construct with ``on_conflict_do_*``;
PostgreSQL's is imported only on PostgreSQL, so a SQLite deployment never loads that
dialect (some 30 ms of every start, ``bench/bench_startup.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_for(dialect_name: str) -> Callable[[Any], Any]:
    """The ``insert`` with ``ON CONFLICT`` of the dialect called ``dialect_name``."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # noqa: PLC0415 -- see the module

        return insert
    return sqlite_insert
