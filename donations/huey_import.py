"""Huey, imported without the PostgreSQL driver it looks for at import.

``huey.storage`` imports ``psycopg`` if it can, for a PostgreSQL queue storage this app
does not use (its queue is ``SqliteHuey`` or ``RedisHuey``: ``queue.make_huey``). On
SQLite nothing else needs the driver, and importing it is about 70 ms of each start. So
while Huey is imported, ``psycopg`` is marked as missing (a ``None`` in ``sys.modules``
makes an import of it fail); the mark is removed at once, so the database layer imports
the driver as usual when a PostgreSQL database is configured. Huey's own PostgreSQL
storage would then refuse to start with a clear message; nothing here uses it.

Every module reaches Huey through this one (``donations.queue`` imports it, and the
package imports ``donations.queue`` first), so the order holds for ``from huey import
crontab`` in the job modules too.
"""

from __future__ import annotations

import sys

if "psycopg" not in sys.modules:  # loaded already (PostgreSQL): nothing to spare
    sys.modules["psycopg"] = None  # type: ignore[assignment]
    try:
        import huey.storage  # noqa: F401 - the module that looks for the driver
    finally:
        del sys.modules["psycopg"]

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, Task, TaskWrapper

__all__ = ["Huey", "RedisHuey", "SqliteHuey", "Task", "TaskWrapper"]
