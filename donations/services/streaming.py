"""Reading a table once from end to end, as the CSV exports do, in constant memory.

Every SQLite connection keeps a large page cache (32 MiB, ``donations/__init__.py``) so
that pages read again and again (one organisation's rows among many) come from memory.
An export reads each page once: a cache that size only fills up as the file grows,
which is memory that grows with the export and buys nothing. While an export streams,
its connection keeps a small cache (512 KiB); the setting is put back after. Even SQLite's
default 2 MiB was still filling at 450,000 gifts (memory 0.8 MB at 100,000 gifts and 2.4 MB
at a million); 512 KiB is full by 100,000, and the rows come as fast (pages are read
through the memory map, and the tree's upper pages fit).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Executable, Row

EXPORT_CACHE_KIB = 512


@contextmanager
def read_once(connection: Connection) -> Iterator[Connection]:
    """Yield ``connection`` with a page cache fit for reading each page once (SQLite);
    other databases keep their own settings."""
    if connection.dialect.name != "sqlite":
        yield connection
        return
    raw = connection.connection.driver_connection
    (kept,) = raw.execute("PRAGMA cache_size").fetchone()
    raw.execute(f"PRAGMA cache_size=-{EXPORT_CACHE_KIB}")
    try:
        yield connection
    finally:
        raw.execute(f"PRAGMA cache_size={int(kept)}")


def partitions(connection: Connection, statement: Executable) -> Iterator[Sequence[Row]]:
    """Run ``statement`` (with its ``yield_per``) and yield its rows a batch at a time,
    reading once (``read_once``) until the last batch or until the reader stops."""
    with read_once(connection):
        yield from connection.execute(statement).partitions()
