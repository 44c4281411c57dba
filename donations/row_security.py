"""PostgreSQL row-level security: the second wall between organisations.

Migration 0029 gives every ``OrgScoped`` table a policy that shows (and lets a statement
write) only the rows whose ``organization_id`` is the transaction's
``donations.organization_id`` setting, or every row while
``donations.all_organizations`` is ``on``. With neither set a query returns nothing:
a statement that forgot its organisation filter (raw SQL, a Core query on a ``Table``)
finds no other organisation's rows, and no rows at all, instead of everyone's.

This module keeps the two settings right. Before each statement a connection runs, it
compares what the statement needs (``current_organization_id()``, and ``on`` for a
statement marked ``ALL_ORGANIZATIONS`` or run inside an ``all_organizations()`` block)
with what it last set in the current transaction (kept in the connection's ``info``),
and only when they differ sends one ``SELECT set_config(..., true)``: the values are
transaction-local, so they end with the transaction and never leak to the next user of
a pooled connection. At the start of a transaction that statement goes with the
``BEGIN``, in the same round trip (``_begin_with``): in a request the settings cost no
round trip of their own.
Statements sent on the driver's cursor directly (the stock page, the donation page)
call ``sync`` first. SQLite has no such wall: nothing is installed there.

PostgreSQL superusers (and roles with BYPASSRLS) are never subject to the policies; the
tables are ``FORCE``d so that the owner the application connects as is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from donations.tenancy import ALL_ORGANIZATIONS, current_organization_id, reading_across

ORGANIZATION_SETTING = "donations.organization_id"
ALL_ORGANIZATIONS_SETTING = "donations.all_organizations"

_SENT = "row_security"  # connection info: (organisation, everyone) set in this transaction
_IDLE, _INERROR = 0, 3  # libpq's PQtransactionStatus: no transaction; a failed one
_INTRANS = 2  # idle in a healthy transaction
_TUPLES_OK = 2  # libpq's ExecStatusType: a query returned rows


def _set_sql(organization_id: int, everyone: bool) -> str:
    return (
        f"SELECT set_config('{ORGANIZATION_SETTING}', '{int(organization_id)}', true), "
        f"set_config('{ALL_ORGANIZATIONS_SETTING}', '{'on' if everyone else 'off'}', true)"
    )


def _sync(dbapi_connection: Any, info: dict, everyone: bool) -> None:
    wanted = (current_organization_id(), everyone)
    status = dbapi_connection.info.transaction_status
    if status == _IDLE:  # the next statement begins a transaction: nothing is set in it yet
        info.pop(_SENT, None)
        if _begin_with(dbapi_connection, _set_sql(*wanted)):
            info[_SENT] = wanted
            return
    elif status == _INERROR:  # the statement fails anyway, with the transaction's error
        return
    if info.get(_SENT) == wanted:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_set_sql(*wanted))
    finally:
        cursor.close()
    info[_SENT] = wanted


def _begin_with(dbapi_connection: Any, settings_sql: str) -> bool:
    """Begin the transaction and set its settings in one round trip; False when that is
    not for here (autocommit, a BEGIN with options) or did not work, and the usual way
    (psycopg's BEGIN, then the settings) is to be taken, which reports any error.

    psycopg would send its ``BEGIN`` on its own before the settings, a round trip of its
    own. Sent together as one simple query (libpq's ``PQexec``, which lets other threads
    run meanwhile), the transaction is open when it returns, and psycopg, which asks libpq
    whether one is, sends no ``BEGIN`` of its own."""
    if dbapi_connection.autocommit or (
        dbapi_connection.isolation_level is not None
        or dbapi_connection.read_only is not None
        or dbapi_connection.deferrable is not None
    ):
        return False
    result = dbapi_connection.pgconn.exec_(f"BEGIN; {settings_sql}".encode())
    if result.status == _TUPLES_OK:
        return True
    if dbapi_connection.info.transaction_status in (_INTRANS, _INERROR):
        dbapi_connection.rollback()  # BEGIN went through, the rest did not
    return False


def sync(connection: Connection) -> None:
    """Set the organisation on ``connection``'s transaction before a statement is sent on
    its driver connection directly (past the hook below). Free when already set."""
    if connection.dialect.name == "postgresql":
        _sync(connection.connection.dbapi_connection, connection.info, reading_across())


def sync_raw(engine: Engine, raw: Any) -> None:
    """The same for a connection from ``engine.raw_connection()``."""
    if engine.dialect.name == "postgresql":
        _sync(raw.dbapi_connection, raw.info, reading_across())


def _before_cursor_execute(conn, _cursor, _statement, _parameters, context, _many) -> None:
    everyone = reading_across() or bool(
        context is not None and context.execution_options.get(ALL_ORGANIZATIONS)
    )
    _sync(conn.connection.dbapi_connection, conn.info, everyone)


def _forget(conn: Connection, *_args: Any) -> None:
    """The transaction (or the savepoint the settings may have been made in) ended."""
    conn.info.pop(_SENT, None)


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info.pop(_SENT, None)


def install_row_security(engine: Engine) -> None:
    """Keep the settings on every transaction of ``engine`` (PostgreSQL only; idempotent)."""
    if engine.dialect.name != "postgresql":
        return
    if event.contains(engine, "before_cursor_execute", _before_cursor_execute):
        return
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    for name in ("commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)
    event.listen(engine, "checkin", _checked_in)
