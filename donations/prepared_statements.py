"""PostgreSQL: keep psycopg's prepared statements from one request to the next.

psycopg prepares a statement on a connection once it has run five times there, and then
sends only its parameters: PostgreSQL neither parses nor plans it again (planning the
session check, or the stock page's items, cost more than running them). But psycopg
forgets every prepared statement of a connection whenever a transaction rolls back (a
rollback may undo the objects they refer to), and every request that only reads ends
with a rollback: the session returns its connection that way. So nothing stayed
prepared past a request, and every statement of every request was planned anew.

A transaction that wrote nothing ends the same way by COMMIT as by ROLLBACK (its
transaction-local settings and locks go either way), and a COMMIT keeps the prepared
statements. So the engine's rollback becomes a COMMIT when the transaction is open,
healthy, and ran no statement but SELECTs: every statement SQLAlchemy sends is looked
at (``before_cursor_execute``); anything else (INSERT, UPDATE, DELETE, DDL, SAVEPOINT,
a WITH that may write) marks the transaction as writing, and it rolls back as before.
Statements sent on the driver's cursor directly (the stock page, the donation page) are
SELECTs only. SQLite is left as it is: its driver keeps its statement cache anyway.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_INTRANS = 2  # libpq's PQtransactionStatus: idle in a healthy transaction
_KEY = "donations.read_only_commit"
_wrote: weakref.WeakSet[Any] = weakref.WeakSet()  # driver connections whose transaction wrote


def _reads_only(statement: str) -> bool:
    return statement.lstrip()[:6].upper() == "SELECT"


def _note(_conn, cursor, statement: str, _parameters, _context, _many) -> None:
    if not _reads_only(statement):
        _wrote.add(cursor.connection)


def _ended(conn, *_args: Any) -> None:
    _wrote.discard(conn.connection.dbapi_connection)


def install_read_only_commit(engine: Engine) -> None:
    """End ``engine``'s transactions that wrote nothing by COMMIT (PostgreSQL; idempotent)."""
    if engine.dialect.name != "postgresql" or getattr(engine.dialect, _KEY, False):
        return
    dialect = engine.dialect
    roll_back = dialect.do_rollback

    def do_rollback(connection: Any) -> None:
        driver = getattr(connection, "dbapi_connection", connection)
        status = driver.info.transaction_status
        if status == _INTRANS and driver not in _wrote:
            driver.commit()  # nothing to undo: the same end, prepared statements kept
        else:
            _wrote.discard(driver)
            roll_back(connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    setattr(dialect, _KEY, True)
    event.listen(engine, "before_cursor_execute", _note)
    event.listen(engine, "commit", _ended)
