"""Webhook deliveries on PostgreSQL: each stored in one statement, committed at once.

A delivery is acknowledged once its event is stored, and Stripe sends every event more
than once. Through the ORM session a delivery took a transaction of its own: ``BEGIN``,
the organisation's settings (``row_security``), a read of the event id, the insert and
``COMMIT``, five round trips and most of a millisecond of Python, for a row that nothing
else in the request writes or reads.

Here the delivery is one ``INSERT ... ON CONFLICT (event_id) DO NOTHING`` sent on a
pooled driver connection in autocommit: PostgreSQL runs it as a transaction of its own,
and a repeat (the event id stored already, or being stored by a delivery at the same
moment, which it waits for) inserts nothing. The statement first sets the row security
settings in its own transaction, in a ``WITH`` part the inserted row is made from: the
row's organisation is the one the wall checks it against, and the settings end with the
statement, as ``row_security`` sets them for a transaction. SQLite deliveries go to the
spool instead (``spool.py``).

A repeat is known by a read first (``NOT EXISTS``), which waits for nobody. The unique
index alone would make it wait: while a consumer's batch has the stored event's row
updated and not yet committed, PostgreSQL's check of the index waits for that batch to end
(seen: 22 waits of 231 ms on average in one run of the webhook bench, up to 861 ms), and
the delivery's answer with it. The ``ON CONFLICT`` stays for two deliveries of a new event
at the same moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from donations.row_security import ALL_ORGANIZATIONS_SETTING, ORGANIZATION_SETTING

_INSERT = f"""
WITH wall AS MATERIALIZED (
    SELECT set_config('{ORGANIZATION_SETTING}', %(organization_id)s, true) AS organization_id,
           set_config('{ALL_ORGANIZATIONS_SETTING}', 'off', true) AS everyone
)
INSERT INTO stripe_events (
    organization_id, event_id, type, api_version, livemode, stripe_created_at,
    received_at, payload, status, attempts, last_error, object_id
)
SELECT CAST(wall.organization_id AS integer), %(event_id)s, %(type)s, %(api_version)s,
       %(livemode)s, %(stripe_created_at)s, %(received_at)s, %(payload)s, %(status)s,
       0, '', %(object_id)s
FROM wall
WHERE NOT EXISTS (  -- tied to wall's row, so read after its settings are made
    SELECT 1 FROM stripe_events AS known
    WHERE known.event_id = CAST(%(event_id)s AS varchar) AND wall.organization_id IS NOT NULL
)
ON CONFLICT (event_id) DO NOTHING
"""  # noqa: S608 -- the settings' names are this code's constants, values are parameters

_IDLE = 0  # libpq's PQtransactionStatus: no transaction open


def store_at_once(engine: Engine, organization_id: int, values: dict[str, Any]) -> bool:
    """Store one event row (``values``: the columns ``receiving`` makes for it) for
    ``organization_id``, committed when this returns; False when its event id is stored
    already. PostgreSQL only."""
    params = dict(values, organization_id=str(int(organization_id)))
    received_at: datetime = params["received_at"]
    if received_at.tzinfo is None:
        raise ValueError("naive datetime given for a UTC column")
    connection = engine.raw_connection()  # the pool's check on taking it out, as always
    driver = connection.dbapi_connection
    try:
        driver.autocommit = True  # no transaction is open on a connection the pool lends
        try:
            with driver.cursor() as cursor:
                cursor.execute(_INSERT, params)
                return cursor.rowcount == 1
        finally:
            if driver.info.transaction_status == _IDLE:
                driver.autocommit = False
            else:  # the connection broke mid-statement: not one to lend again
                connection.invalidate()
    finally:
        connection.close()
