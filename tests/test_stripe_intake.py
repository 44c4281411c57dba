"""PostgreSQL: a webhook delivery is one statement, committed at once
(donations/services/stripe_events/intake.py), and stores the row the ORM would."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from stripe_fixtures import deliver
from test_stripe_webhooks import (
    SECRET,
    _paid_events,
    event_count,
    queue_without_consumer,
    start_checkout,
    stripe_app,
    webhook,
)

from donations.extensions import db
from donations.models import StripeEvent, StripeEventStatus
from donations.services import stripe_events
from donations.tenancy import current_organization_id

pytestmark = pytest.mark.postgres_only
__all__ = ["stripe_app", "webhook"]  # fixtures


def test_a_delivery_is_one_statement_and_a_repeat_stores_nothing(
    stripe_app, stripe_api, webhook, monkeypatch, sent_statements
):
    queue_without_consumer(stripe_app, monkeypatch)  # stored only; nothing processes it
    _gift, session = start_checkout(amount=4200)
    first, second, *_ = _paid_events(stripe_api, session)
    db.session.commit()
    assert webhook(first).get_json() == {"received": True, "duplicate": False}
    sent_statements.clear()
    before = datetime.now(UTC)
    assert webhook(second).get_json() == {"received": True, "duplicate": False}
    # One statement: no ping, no BEGIN, no read first, no COMMIT.
    assert len(sent_statements) == 1 and "INSERT INTO stripe_events" in sent_statements[0]
    sent_statements.clear()
    assert webhook(second).get_json() == {"received": True, "duplicate": True}
    assert len(sent_statements) == 1

    rows = db.session.scalars(select(StripeEvent).where(StripeEvent.event_id == second["id"])).all()
    assert len(rows) == 1
    row = rows[0]
    obj = second["data"]["object"]
    assert (row.organization_id, row.type, row.api_version, row.livemode) == (
        current_organization_id(),
        second["type"],
        second.get("api_version") or "",
        bool(second.get("livemode")),
    )
    assert row.stripe_created_at == datetime.fromtimestamp(second["created"], UTC)
    assert before - timedelta(seconds=1) <= row.received_at <= datetime.now(UTC)
    assert json.loads(row.payload) == second
    assert (row.status, row.attempts, row.last_error, row.object_id) == (
        StripeEventStatus.RECEIVED,
        0,
        "",
        obj["id"],
    )
    assert (row.processed_at, row.gift_id, row.plan_id) == (None, None, None)
    assert stripe_events.count_waiting() == 2


def test_the_pool_gets_its_connection_back_as_it_lent_it(stripe_app, stripe_api, webhook):
    """The statement ran in autocommit: the connection goes back to transactions."""
    db.session.remove()
    db.engine.dispose()
    _gift, session = start_checkout(amount=1500)
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    event = _paid_events(stripe_api, session)[0]
    assert webhook(event).status_code == 200
    pooled = db.engine.pool.checkedin()
    assert pooled >= 1
    lent = [db.engine.raw_connection() for _ in range(pooled)]  # every pooled connection
    try:
        for raw in lent:
            driver = raw.dbapi_connection
            assert driver.autocommit is False
            cursor = driver.cursor()
            cursor.execute("SELECT current_setting('donations.organization_id', true)")
            assert cursor.fetchone()[0] in ("", None)  # the statement's settings ended
            driver.rollback()
    finally:
        for raw in lent:
            raw.close()


def test_a_repeat_delivery_is_answered_while_a_batch_holds_its_event(
    stripe_app, stripe_api, webhook, monkeypatch
):
    """A batch updates the stored events' rows and commits at its end. A repeat of one of
    them delivered meanwhile is known by a read and answered at once: PostgreSQL's check of
    the unique index alone waited for the batch to end (a quarter of a second on average
    in the webhook bench), and Stripe's sender with it."""
    queue_without_consumer(stripe_app, monkeypatch)
    _gift, session = start_checkout(amount=5000)
    events = _paid_events(stripe_api, session)
    for event in events:
        assert webhook(event).get_json()["duplicate"] is False
    engine = create_engine(stripe_app.config["SQLALCHEMY_DATABASE_URI"])
    batch = engine.connect()
    answers: list[dict] = []

    def repeat() -> None:
        with stripe_app.app_context():
            answers.append(deliver(stripe_app.test_client(), events[0], SECRET).get_json())

    thread = threading.Thread(target=repeat)
    try:
        held = batch.execute(  # as a batch processing the event does, not yet committed
            text(
                "UPDATE stripe_events SET status = 'processed', attempts = attempts + 1 "
                "WHERE event_id = :event_id"
            ),
            {"event_id": events[0]["id"]},
        )
        assert held.rowcount == 1
        thread.start()
        thread.join(10)
        assert answers == [{"received": True, "duplicate": True}]  # the batch still open
    finally:
        batch.rollback()
        batch.close()
        engine.dispose()
        thread.join(30)
    assert event_count() == len(events)
