"""PostgreSQL: check a pooled connection before lending it without a round trip.

The pool checks each connection it lends (``pool_pre_ping``): a connection the server
closed while it sat in the pool (a restart, an idle timeout, ``pg_terminate_backend``)
is replaced before a request fails on it. SQLAlchemy's check is ``SELECT 1``, a round
trip to the server at the start of every request: on a webhook delivery, half of its
work with the database.

A connection idle in the pool has nothing to read: the server sends nothing unasked. A
server that ends it says so (an error message, then the end of the stream), and a
notification it was sent waits there too. So the check first looks at the socket without
waiting (``poll`` with no timeout): nothing to read, on an idle connection libpq still
thinks good, means the connection is as the server left it after its last answer, and
it is lent at once. Anything to read (or an error) and the usual ``SELECT 1`` decides, so
a closed connection is replaced exactly as before. A server that vanished without a word
(its machine lost, a firewall that forgets the connection) is not seen by either check
until a statement waits on it: the same as with ``SELECT 1``, whose answer never comes.
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy.engine import Engine

_KEY = "donations.quiet_ping"
_OK = 0  # libpq's ConnStatusType: CONNECTION_OK
_IDLE = 0  # libpq's PQtransactionStatus: no transaction open


def quiet(driver: Any) -> bool:
    """Whether the psycopg connection ``driver`` is open, idle, and has nothing waiting
    to be read; False whenever that cannot be told."""
    try:
        if driver.closed or driver.pgconn.status != _OK:
            return False
        if driver.info.transaction_status != _IDLE:
            return False
        poller = select.poll()
        poller.register(driver.pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)  # POLLHUP and POLLERR are reported too
    except Exception:  # any doubt: the full check decides
        return False


def install_quiet_ping(engine: Engine) -> None:
    """Ping ``engine``'s pooled connections by a look at their sockets first (PostgreSQL
    with psycopg; idempotent)."""
    dialect = engine.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg" or getattr(dialect, _KEY, False):
        return
    ping = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        return quiet(dbapi_connection) or ping(dbapi_connection)

    dialect.do_ping = do_ping  # type: ignore[method-assign]
    setattr(dialect, _KEY, True)
