"""Stripe webhooks end to end: the real stripe library against the local Stripe
server, events shaped and signed exactly as Stripe's, delivered in any order."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy import event as sqla_event
from stripe_fixtures import deliver

from conftest import PASSWORD, drain_queue
from donations.extensions import db
from donations.jobs import stripe_webhooks
from donations.models import (
    Fund,
    Gift,
    JobRun,
    OutboxMessage,
    Receipt,
    RecurringPlan,
    Role,
    StripeEvent,
    StripeEventStatus,
)
from donations.queue import queue_of
from donations.services import accounts, giving, locking, payments, stripe_events
from donations.services.stripe_events import lookup
from donations.services.stripe_events.spool import Spool, current_spool, spool_path
from donations.tenancy import current_organization_id
from fakes.stripe import sign_payload

real_time = time.time

SECRET = "whsec_test_secret"


@pytest.fixture
def stripe_app(make_app, stripe_api):
    app = make_app(
        STRIPE_SECRET_KEY="sk_test_fake",
        STRIPE_API_BASE=stripe_api.url,
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_TIMEOUT=5,
        MAIL_SEND_AFTER_COMMIT=False,
    )
    from conftest import clean_database

    with app.app_context():
        clean_database()
        giving.ensure_default_funds()
        db.session.commit()
        yield app


@pytest.fixture
def webhook(stripe_app):
    client = stripe_app.test_client()

    def send(event, **kwargs):
        return deliver(client, event, SECRET, **kwargs)

    return send


def queue_without_consumer(app, monkeypatch):
    """The app's real queue, with no consumer yet: jobs wait in it until drained."""
    queue = queue_of(app)
    queue.register_all()
    monkeypatch.setattr(queue.huey, "immediate", False)
    return queue


def start_checkout(*, amount=5000, monthly=False, cover=False, email="ada@example.com"):
    fund = db.session.scalar(select(Fund).order_by(Fund.id))
    donation = giving.Donation(
        amount_cents=amount,
        currency="USD",
        frequency=giving.Frequency.MONTHLY if monthly else giving.Frequency.ONE_TIME,
        fund_id=fund.id,
        cover_fee=cover,
        name="Ada Lovelace",
        email=email,
    )
    gift = giving.prepare_checkout(donation=donation, attempt_id=f"attempt-{random.random()}")
    db.session.commit()
    session = giving.open_checkout_session(
        gift=gift,
        gateway=payments.get_gateway(),
        success_url="http://donations.test/thanks",
        cancel_url="http://donations.test/cancelled",
    )
    db.session.commit()
    return gift, session


def by_type(events, *types):
    return [e for e in events if e["type"] in types]


def reload(gift) -> Gift:
    db.session.expire_all()
    return db.session.get(Gift, gift.id)


def event_count() -> int:
    return db.session.scalar(select(func.count(StripeEvent.id)))


# --- checkout parameters ------------------------------------------------------------


def test_checkout_sends_amounts_in_cents_metadata_and_an_idempotency_key(stripe_app, stripe_api):
    gift, session = start_checkout(amount=5000, cover=True)
    posts = [r for r in stripe_api.requests if r["method"] == "POST"]
    assert len(posts) == 1
    params = posts[0]["params"]
    assert params["mode"] == "payment"
    assert params["submit_type"] == "donate"
    item = params["line_items"][0]
    assert (
        int(item["price_data"]["unit_amount"]) == 5180
    )  # least total netting 50.00 after 2.9 % + 30c
    assert item["price_data"]["currency"] == "usd"
    assert params["metadata"]["gift_id"] == str(gift.id)
    assert params["payment_intent_data"]["metadata"]["gift_id"] == str(gift.id)
    assert params["client_reference_id"] == str(gift.id)
    assert params["customer_email"] == "ada@example.com"
    assert posts[0]["headers"]["Idempotency-Key"] == f"checkout-{gift.checkout_attempt_id}"
    assert reload(gift).stripe_checkout_session_id == session.id


def test_monthly_checkout_is_a_subscription_with_a_monthly_price(stripe_app, stripe_api):
    gift, _session = start_checkout(amount=2000, monthly=True)
    params = next(r for r in stripe_api.requests if r["method"] == "POST")["params"]
    assert params["mode"] == "subscription"
    assert "submit_type" not in params
    assert params["line_items"][0]["price_data"]["recurring"]["interval"] == "month"
    assert params["subscription_data"]["metadata"]["plan_id"] == str(gift.plan_id)


def test_the_same_attempt_makes_one_session(stripe_app, stripe_api):
    gift, first = start_checkout()
    again = giving.open_checkout_session(
        gift=reload(gift),
        gateway=payments.get_gateway(),
        success_url="http://donations.test/thanks",
        cancel_url="http://donations.test/cancelled",
    )
    assert again.id == first.id
    assert len(stripe_api.local_sessions()) == 1


# --- signatures ---------------------------------------------------------------------


def _paid_events(stripe_api, session):
    return stripe_api.local.pay_checkout_session(session.id)


def test_bad_missing_and_stale_signatures_are_refused_and_nothing_is_stored(
    stripe_app, stripe_api, webhook
):
    _gift, session = start_checkout()
    event = by_type(_paid_events(stripe_api, session), "checkout.session.completed")[0]
    client = stripe_app.test_client()
    payload = json.dumps(event)

    wrong = client.post(
        "/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": sign_payload(payload, "whsec_wrong")},
        content_type="application/json",
    )
    missing = client.post("/stripe/webhook", data=payload, content_type="application/json")
    stale = webhook(event, timestamp=int(time.time()) - 301)
    tampered = client.post(
        "/stripe/webhook",
        data=payload.replace('"livemode": false', '"livemode": true'),
        headers={"Stripe-Signature": sign_payload(payload, SECRET)},
        content_type="application/json",
    )
    for response in (wrong, missing, stale, tampered):
        assert response.status_code == 400
    assert event_count() == 0


# --- the happy path and idempotency -------------------------------------------------


def test_a_paid_checkout_becomes_a_paid_gift_with_fee_and_net(stripe_app, stripe_api, webhook):
    gift, session = start_checkout(amount=5000)
    events = _paid_events(stripe_api, session)
    for event in events:
        assert webhook(event).status_code == 200
    gift = reload(gift)
    assert gift.status == "paid"
    assert gift.amount_cents == 5000
    assert gift.fee_cents == 175  # round(5000 * 2.9 %) + 30, from the balance transaction
    assert gift.net_cents == 4825
    assert gift.stripe_charge_id and gift.stripe_payment_intent_id
    thanks = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "gift_thanks"))
    assert [m.to_addr for m in thanks] == ["ada@example.com"]


def test_the_same_event_twice_has_one_effect(stripe_app, stripe_api, webhook):
    gift, session = start_checkout()
    events = _paid_events(stripe_api, session)
    for event in events + events:
        assert webhook(event).status_code == 200
    assert event_count() == len(events)
    gift = reload(gift)
    assert gift.fee_cents == 175 and gift.refunded_cents == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_a_gift_thanked_since_the_session_read_it_is_not_thanked_again(
    stripe_app, stripe_api, webhook
):
    """The lookup locks the gift and reads it as it stands: the thank-you note and its
    receipt trust that read (they do not read the gift again)."""
    gift, session = start_checkout()
    held = db.session.get(Gift, gift.id)
    assert held.thanked_at is None  # the session holds it, not thanked
    # Another transaction thanks it meanwhile (past the session's identity map).
    thanked = datetime(2026, 1, 5, tzinfo=UTC)
    db.session.connection().execute(
        Gift.__table__.update().where(Gift.__table__.c.id == gift.id).values(thanked_at=thanked)
    )
    found = lookup.locked_gift(Gift.id == gift.id)
    assert found is held and found.thanked_at is not None
    db.session.commit()
    for event in _paid_events(stripe_api, session):
        assert webhook(event).status_code == 200
    assert reload(gift).status == "paid"
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(Receipt.id))) == 0


def test_unknown_event_types_are_stored_and_acknowledged(stripe_app, stripe_api, webhook):
    event = stripe_api.local.event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    response = webhook(event)
    assert response.status_code == 200
    row = db.session.scalar(select(StripeEvent))
    assert row.status == "ignored" and row.type == "customer.tax_id.created"
    assert json.loads(row.payload)["id"] == event["id"]


# --- order independence -------------------------------------------------------------


def test_refund_before_checkout_completed_still_ends_right(stripe_app, stripe_api, webhook):
    gift, session = start_checkout(amount=5000)
    paid = _paid_events(stripe_api, session)
    charge_id = stripe_api.local.session_charge_id(session.id)
    refund = stripe_api.local.refund(charge_id, 2000)
    for event in by_type(refund, "charge.refunded") + paid:
        assert webhook(event).status_code == 200
    gift = reload(gift)
    assert gift.status == "paid"
    assert gift.refunded_cents == 2000
    assert gift.net_cents == 5000 - 175 - 2000
    assert gift.display_status == "partially refunded"


def test_partial_then_full_refund_in_either_order(stripe_app, stripe_api, webhook):
    gift, session = start_checkout(amount=5000)
    for event in _paid_events(stripe_api, session):
        webhook(event)
    charge_id = stripe_api.local.session_charge_id(session.id)
    partial = by_type(stripe_api.local.refund(charge_id, 1000), "charge.refunded")
    rest = by_type(stripe_api.local.refund(charge_id), "charge.refunded")
    for event in rest + partial:  # the later event first
        webhook(event)
    gift = reload(gift)
    assert gift.refunded_cents == 5000
    assert gift.display_status == "refunded"
    assert gift.net_cents == -175  # the fee is not returned on a refund
    # Each change is dated for the journal; repeats add nothing.
    for event in partial + rest:
        webhook(event)
    assert adjustments(gift) == {"refund": 5000}


def adjustments(gift) -> dict[str, int]:
    """The dated refund and dispute changes of a gift, summed per kind."""
    from donations.models import GiftAdjustment

    totals: dict[str, int] = {}
    for row in db.session.scalars(select(GiftAdjustment).where(GiftAdjustment.gift_id == gift.id)):
        totals[row.kind] = totals.get(row.kind, 0) + row.delta_cents
    return totals


@pytest.mark.parametrize("won", [True, False])
def test_dispute_opened_then_closed(stripe_app, stripe_api, webhook, won):
    gift, session = start_checkout(amount=5000)
    for event in _paid_events(stripe_api, session):
        webhook(event)
    charge_id = stripe_api.local.session_charge_id(session.id)
    opened = stripe_api.local.open_dispute(charge_id)
    for event in opened:
        webhook(event)
    gift = reload(gift)
    assert gift.display_status == "disputed"
    assert gift.dispute_cents == 5000 and gift.dispute_fee_cents == 1500
    dispute_id = by_type(opened, "charge.dispute.created")[0]["data"]["object"]["id"]
    for event in stripe_api.local.close_dispute(dispute_id, won=won):
        webhook(event)
    gift = reload(gift)
    assert gift.dispute_status == ("won" if won else "lost")
    assert gift.dispute_cents == (0 if won else 5000)
    assert gift.net_cents == 5000 - 175 - 1500 - (0 if won else 5000)
    expected = {"dispute_fee": 1500} if won else {"dispute": 5000, "dispute_fee": 1500}
    assert {k: v for k, v in adjustments(gift).items() if v} == expected


def test_dispute_closed_before_created_ends_closed(stripe_app, stripe_api, webhook):
    gift, session = start_checkout(amount=5000)
    paid = _paid_events(stripe_api, session)
    charge_id = stripe_api.local.session_charge_id(session.id)
    opened = stripe_api.local.open_dispute(charge_id)
    dispute_id = by_type(opened, "charge.dispute.created")[0]["data"]["object"]["id"]
    closed = stripe_api.local.close_dispute(dispute_id, won=False)
    for event in closed + opened + paid:
        assert webhook(event).status_code == 200
    gift = reload(gift)
    assert gift.dispute_status == "lost"
    assert gift.status == "paid"


# --- monthly gifts ------------------------------------------------------------------


def test_monthly_gift_makes_a_plan_and_one_gift_per_instalment(stripe_app, stripe_api, webhook):
    gift, session = start_checkout(amount=2000, monthly=True)
    events = stripe_api.local.pay_checkout_session(session.id)
    random.Random(7).shuffle(events)
    for event in events:
        assert webhook(event).status_code == 200
    plan = db.session.get(RecurringPlan, gift.plan_id)
    assert plan.status == "active"
    assert plan.next_payment_at is not None
    first = reload(gift)
    assert first.status == "paid" and first.stripe_invoice_id and first.fee_cents == 88
    for event in stripe_api.local.renew_subscription(plan.stripe_subscription_id):
        webhook(event)
    instalments = db.session.scalars(
        select(Gift).where(Gift.plan_id == plan.id).order_by(Gift.id)
    ).all()
    assert [g.status for g in instalments] == ["paid", "paid"]
    assert len({g.stripe_invoice_id for g in instalments}) == 2
    assert all(g.frequency == "monthly" and g.donor_id == first.donor_id for g in instalments)


def test_failed_then_recovered_instalment(stripe_app, stripe_api, webhook):
    accounts.create_user(
        actor=None, email="theo@example.org", name="Theo", role=Role.TREASURER, password=PASSWORD
    )
    gift, session = start_checkout(amount=2000, monthly=True)
    for event in stripe_api.local.pay_checkout_session(session.id):
        webhook(event)
    plan = db.session.get(RecurringPlan, gift.plan_id)
    failed = stripe_api.local.renew_subscription(plan.stripe_subscription_id, fail=True)
    for event in failed + failed:
        webhook(event)
    plan = db.session.get(RecurringPlan, gift.plan_id)
    assert plan.status == "past_due"
    second = db.session.scalars(
        select(Gift).where(Gift.plan_id == plan.id).order_by(Gift.id.desc())
    ).first()
    assert second.status == "failed"
    alerts = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "instalment_failed")
    ).all()
    assert [m.to_addr for m in alerts] == ["theo@example.org"]

    invoice_id = by_type(failed, "invoice.payment_failed")[0]["data"]["object"]["id"]
    for event in stripe_api.local.retry_invoice(invoice_id):
        webhook(event)
    plan = db.session.get(RecurringPlan, gift.plan_id)
    assert plan.status == "active"
    second = reload(second)
    assert second.status == "paid" and second.fee_cents == 88
    assert db.session.scalar(select(func.count(Gift.id)).where(Gift.plan_id == plan.id)) == 2


def test_subscription_cancelled(stripe_app, stripe_api, webhook):
    gift, session = start_checkout(amount=2000, monthly=True)
    for event in stripe_api.local.pay_checkout_session(session.id):
        webhook(event)
    plan = db.session.get(RecurringPlan, gift.plan_id)
    for event in stripe_api.local.cancel_subscription(plan.stripe_subscription_id):
        webhook(event)
    plan = db.session.get(RecurringPlan, gift.plan_id)
    assert plan.status == "cancelled" and plan.cancelled_at is not None
    assert plan.next_payment_at is None


def test_refund_of_an_instalment_before_its_invoice_is_parked_then_applied(
    stripe_app, stripe_api, webhook
):
    gift, session = start_checkout(amount=2000, monthly=True)
    for event in stripe_api.local.pay_checkout_session(session.id):
        webhook(event)
    plan = db.session.get(RecurringPlan, gift.plan_id)
    renewal = stripe_api.local.renew_subscription(plan.stripe_subscription_id)
    invoice = by_type(renewal, "invoice.paid")[0]["data"]["object"]
    charge_id = stripe_api.local.invoice_charge_id(invoice["id"])
    refund = by_type(stripe_api.local.refund(charge_id), "charge.refunded")[0]
    webhook(refund)
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == refund["id"]))
    assert row.status == "parked"
    for event in renewal:
        webhook(event)
    db.session.expire_all()
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == refund["id"]))
    assert row.status == "processed"
    second = db.session.scalar(select(Gift).where(Gift.stripe_invoice_id == invoice["id"]))
    assert second.refunded_cents == 2000 and second.display_status == "refunded"


def test_an_event_parked_and_released_within_one_batch(
    stripe_app, stripe_api, webhook, monkeypatch
):
    """A batch looks for parked events once, and then knows of those it parks itself: a
    refund parked early in a batch is applied when its invoice comes later in it."""
    gift, session = start_checkout(amount=2000, monthly=True)
    for event in stripe_api.local.pay_checkout_session(session.id):
        webhook(event)  # processed at once: nothing is parked
    queue_without_consumer(stripe_app, monkeypatch)
    plan = db.session.get(RecurringPlan, gift.plan_id)
    renewal = stripe_api.local.renew_subscription(plan.stripe_subscription_id)
    invoice = by_type(renewal, "invoice.paid")[0]["data"]["object"]
    charge_id = stripe_api.local.invoice_charge_id(invoice["id"])
    refund = by_type(stripe_api.local.refund(charge_id), "charge.refunded")[0]
    for event in [refund, *renewal]:
        webhook(event)
    assert drain_queue(stripe_app) == 1  # one run, one batch
    db.session.expire_all()
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == refund["id"]))
    assert (row.status, row.attempts) == ("processed", 2)  # parked, then released
    second = db.session.scalar(select(Gift).where(Gift.stripe_invoice_id == invoice["id"]))
    assert second.refunded_cents == 2000 and second.display_status == "refunded"


def test_everything_shuffled_and_repeated_ends_with_exact_totals(stripe_app, stripe_api, webhook):
    events = []
    expected_net = 0
    for amount in (1000, 2500, 10000):
        _gift, session = start_checkout(amount=amount)
        events += stripe_api.local.pay_checkout_session(session.id)
        fee = (amount * 290 + 5000) // 10000 + 30
        expected_net += amount - fee
    _gift, session = start_checkout(amount=2500)
    events += stripe_api.local.pay_checkout_session(session.id)
    charge_id = stripe_api.local.session_charge_id(session.id)
    events += stripe_api.local.refund(charge_id, 500)
    expected_net += 2500 - ((2500 * 290 + 5000) // 10000 + 30) - 500
    deliveries = events * 3
    random.Random(42).shuffle(deliveries)
    for event in deliveries:
        assert webhook(event).status_code == 200
    total_net = db.session.scalar(select(func.sum(Gift.net_cents)).where(Gift.status == "paid"))
    assert total_net == expected_net
    failed = db.session.scalar(
        select(func.count(StripeEvent.id)).where(StripeEvent.status.in_(["failed", "parked"]))
    )
    assert failed == 0


# --- Stripe trouble -----------------------------------------------------------------


def test_a_stripe_outage_while_processing_keeps_the_event_for_replay(
    stripe_app, stripe_api, webhook
):
    gift, session = start_checkout()
    events = by_type(_paid_events(stripe_api, session), "checkout.session.completed")
    stripe_api.fail_next(1, status=500)
    assert webhook(events[0]).status_code == 200
    row = db.session.scalar(select(StripeEvent))
    assert row.status == "failed" and "Stripe" in row.last_error
    assert reload(gift).status == "pending"

    runner = stripe_app.test_cli_runner()
    result = runner.invoke(args=["stripe", "replay"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(StripeEvent)).status == "processed"
    assert reload(gift).status == "paid"


def test_concurrent_deliveries_of_the_same_events_have_one_effect(stripe_app, stripe_api):
    import threading

    gift, session = start_checkout(amount=5000)
    events = _paid_events(stripe_api, session)
    charge_id = stripe_api.local.session_charge_id(session.id)
    events += stripe_api.local.refund(charge_id, 1000)
    statuses: list[int] = []
    lock = threading.Lock()

    def sender(seed: int) -> None:
        order = list(events)
        random.Random(seed).shuffle(order)
        with stripe_app.app_context():
            client = stripe_app.test_client()
            for event in order:
                response = deliver(client, event, SECRET)
                with lock:
                    statuses.append(response.status_code)

    threads = [threading.Thread(target=sender, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * (4 * len(events))
    assert event_count() == len(events)
    gift = reload(gift)
    assert gift.status == "paid" and gift.refunded_cents == 1000 and gift.fee_cents == 175
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    bad = db.session.scalar(
        select(func.count(StripeEvent.id)).where(StripeEvent.status.in_(["failed", "parked"]))
    )
    assert bad == 0


@pytest.mark.postgres_only
def test_batches_of_events_take_turns_on_postgresql(stripe_app, stripe_api, webhook, monkeypatch):
    """Each batch adds its gifts to the same day's, month's and year's totals, flush after
    flush: two at once locked those rows crosswise and PostgreSQL ended one (a deadlock,
    events failed). A batch waits for the one before it, after reading Stripe."""
    queue_without_consumer(stripe_app, monkeypatch)
    gift, session = start_checkout(amount=5000)
    for event in _paid_events(stripe_api, session):
        webhook(event)
    engine = create_engine(stripe_app.config["SQLALCHEMY_DATABASE_URI"])
    other = engine.connect()
    other.execute(  # another batch of the same organisation is being written
        text("SELECT pg_advisory_xact_lock(:name, :organization)"),
        {"name": locking.advisory_key("stripe"), "organization": current_organization_id()},
    )
    done: list[int] = []

    def batch() -> None:
        with stripe_app.app_context():
            done.append(stripe_events.process_received(gateway=payments.get_gateway(), limit=100))
            db.session.commit()

    thread = threading.Thread(target=batch)
    thread.start()
    try:
        time.sleep(0.5)
        assert thread.is_alive() and done == []  # its turn has not come
        assert reload(gift).status == "pending"
    finally:
        other.rollback()  # the other batch ends
        other.close()
        engine.dispose()
    thread.join(30)
    assert done and done[0] > 0
    assert reload(gift).status == "paid"


# --- receipts follow refunds ----------------------------------------------------------


def test_a_refund_voids_the_receipt_and_reissues_it_for_the_rest(stripe_app, stripe_api, webhook):
    from donations.models import Receipt
    from donations.services import receipts
    from donations.services.organization import update_organization

    update_organization(actor=None, legal_name="Harbor Light Shelter, Inc.", tax_id="12-3456789")
    gift, session = start_checkout(amount=5000)
    for event in _paid_events(stripe_api, session):
        webhook(event)
    first = receipts.valid_receipt_for_gift(gift.id)  # issued when paid, if per-gift is on
    if first is None:
        first = receipts.issue_gift_receipt(actor=None, gift=reload(gift))
        db.session.commit()
    charge_id = stripe_api.local.session_charge_id(session.id)

    for event in by_type(stripe_api.local.refund(charge_id, 2000), "charge.refunded"):
        assert webhook(event).status_code == 200
    db.session.expire_all()
    assert first.is_void and first.void_reason == "Part of the gift was refunded"
    second = receipts.valid_receipt_for_gift(gift.id)
    assert second.amount_cents == 3000 and second.replaces_id == first.id

    for event in by_type(stripe_api.local.refund(charge_id), "charge.refunded"):
        assert webhook(event).status_code == 200
    db.session.expire_all()
    assert second.is_void and second.void_reason == "Refunded in full"
    assert receipts.valid_receipt_for_gift(gift.id) is None
    assert db.session.scalar(select(func.count(Receipt.id))) == 2


# --- on a real queue: acknowledged at once, processed by the consumer ----------------


def test_the_webhook_answers_before_processing_and_the_queue_processes(
    stripe_app, stripe_api, webhook, monkeypatch
):
    queue = queue_without_consumer(stripe_app, monkeypatch)
    gift, session = start_checkout(amount=5000)
    events = _paid_events(stripe_api, session)
    repeats = []
    for event in events + events:  # each delivered twice before any is processed
        response = webhook(event)
        assert response.status_code == 200 and response.get_json()["received"] is True
        repeats.append(response.get_json()["duplicate"])
    assert repeats == [False] * len(events) + [True] * len(events)
    assert stripe_events.count_waiting() == len(events)  # kept once each, none processed
    processed = select(StripeEvent).where(StripeEvent.status != StripeEventStatus.RECEIVED)
    assert db.session.scalars(processed).all() == []
    assert reload(gift).status == "pending"  # nothing processed in the requests
    assert queue.huey.pending_count() == 1  # the burst woke one run

    assert drain_queue(stripe_app) == 1
    gift = reload(gift)
    assert (gift.status, gift.fee_cents, gift.net_cents) == ("paid", 175, 4825)
    rows = db.session.scalars(select(StripeEvent)).all()
    assert len(rows) == len(events)
    assert StripeEventStatus.RECEIVED not in {row.status for row in rows}
    assert stripe_events.count_waiting() == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1  # thanks, once


def test_a_run_lost_with_its_consumer_is_replaced_and_nothing_is_processed_twice(
    stripe_app, stripe_api, webhook, monkeypatch
):
    queue = queue_without_consumer(stripe_app, monkeypatch)
    gift, session = start_checkout(amount=5000)
    events = _paid_events(stripe_api, session)
    webhook(events[0])
    assert queue.huey.dequeue() is not None  # the consumer holding the run dies with it
    for event in events[1:]:
        webhook(event)
    assert queue.huey.pending_count() == 0  # a run is still thought to be waiting...
    monkeypatch.setattr(time, "time", lambda: real_time() + 121)
    webhook(events[0])  # ...until two minutes later: a repeat stores nothing, wakes nothing
    assert queue.huey.pending_count() == 0
    gift2, session2 = start_checkout(amount=2500, email="grace@example.com")
    more = _paid_events(stripe_api, session2)
    webhook(more[0])  # a new event wakes a run in place of the lost one
    assert queue.huey.pending_count() == 1
    for event in more[1:]:
        webhook(event)
    assert stripe_webhooks.process_waiting_now() == len(events) + len(more)  # and a sweep
    db.session.commit()
    assert drain_queue(stripe_app) == 1  # the woken run finds nothing left to do
    assert (reload(gift).status, reload(gift2).status) == ("paid", "paid")
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2
    attempts = [row.attempts for row in db.session.scalars(select(StripeEvent))]
    assert attempts == [1] * (len(events) + len(more))  # each processed once


def test_a_second_run_in_the_same_process_leaves_the_work_to_the_first(
    stripe_app, stripe_api, webhook, monkeypatch
):
    """A consumer's worker threads share one interpreter: a second run of the same
    organisation's events there only asks the first to look again, and the first does
    before it ends, so events stored at its last moment are not left waiting."""
    queue_without_consumer(stripe_app, monkeypatch)
    gift, session = start_checkout(amount=5000)
    for event in _paid_events(stripe_api, session):
        webhook(event)
    waiting = stripe_events.count_waiting()
    here = stripe_webhooks._run_here()
    with here.lock:  # a run is going in another thread of this process
        stripe_webhooks.process_stripe_events()
    assert stripe_events.count_waiting() == waiting > 0  # left to the run going
    assert reload(gift).status == "pending"

    gift2, session2 = start_checkout(amount=2500, email="grace@example.com")
    late = _paid_events(stripe_api, session2)
    real = stripe_events.process_received
    looks: list[int] = []

    def process_received(**kwargs):
        done = real(**kwargs)
        looks.append(done)
        if not done and len([n for n in looks if not n]) == 1:
            # At the run's last look: events arrive and their delivery's run starts in
            # another worker thread, which finds this run going.
            for event in late:
                stripe_events.record_event(
                    event=event, payload=json.dumps(event), gateway=payments.get_gateway(),
                    defer=True,
                )  # fmt: skip
            stripe_webhooks.process_stripe_events()
        return done

    monkeypatch.setattr(stripe_events, "process_received", process_received)
    stripe_webhooks.process_stripe_events()
    db.session.commit()
    assert stripe_events.count_waiting() == 0
    assert (reload(gift).status, reload(gift2).status) == ("paid", "paid")
    assert looks[-1] == 0 and looks.count(0) == 2  # it looked once more, and found them
    attempts = [row.attempts for row in db.session.scalars(select(StripeEvent))]
    assert attempts == [1] * len(attempts)


def test_a_batch_reads_stripe_before_it_takes_the_write_lock(
    stripe_app, stripe_api, webhook, monkeypatch
):
    """Processing asks Stripe for each object (a round trip in production): a batch makes
    those reads first, then holds the database's write lock only for its own work."""
    from donations.services.stripe_events import receiving

    queue_without_consumer(stripe_app, monkeypatch)
    gift, session = start_checkout(amount=5000)
    plan_gift, plan_session = start_checkout(amount=2000, monthly=True, email="b@example.com")
    events = _paid_events(stripe_api, session) + _paid_events(stripe_api, plan_session)
    charge_id = stripe_api.local.session_charge_id(session.id)
    events += stripe_api.local.refund(charge_id, 1000)
    for event in events:
        webhook(event)
    seen: list[str] = []
    gateway = payments.get_gateway()
    for name in ("fetch_checkout_session", "fetch_payment", "fetch_charge", "fetch_invoice",
                 "fetch_subscription", "fetch_refund", "fetch_dispute"):  # fmt: skip
        real = getattr(gateway, name)
        monkeypatch.setattr(
            gateway,
            name,
            lambda object_id, real=real, name=name: seen.append(name) or real(object_id),
        )
    real_lock = receiving.take_turns
    monkeypatch.setattr(receiving, "take_turns", lambda key: seen.append("LOCK") or real_lock(key))
    assert receiving.process_received(gateway=gateway, limit=100) == len(events)
    db.session.commit()
    assert seen.count("LOCK") == 1 and seen[-1] == "LOCK", seen  # every read came first
    assert {"fetch_checkout_session", "fetch_invoice", "fetch_charge"} <= set(seen), seen
    gift, plan_gift = reload(gift), reload(plan_gift)
    assert (gift.status, gift.refunded_cents) == ("paid", 1000)
    assert plan_gift.status == "paid"
    statuses = {row.status for row in db.session.scalars(select(StripeEvent))}
    assert statuses <= {StripeEventStatus.PROCESSED, StripeEventStatus.IGNORED}


def test_a_batch_writes_the_totals_it_moves_once_and_they_equal_the_gifts(
    stripe_app, stripe_api, webhook, monkeypatch
):
    """A batch's gifts are added to the summaries once, at its end (not per event), and
    the summaries then equal the gifts: money, donors, retention and giving days."""
    from conftest import engine_statements
    from donations.services import summaries

    queue_without_consumer(stripe_app, monkeypatch)
    events = []
    for n in range(4):
        _gift, session = start_checkout(amount=1000 + n, email=f"donor{n}@example.com")
        events += _paid_events(stripe_api, session)
    charge_id = stripe_api.local.session_charge_id(session.id)
    events += stripe_api.local.refund(charge_id, 300)
    for event in events:
        webhook(event)
    with engine_statements() as seen:
        done = stripe_events.process_received(gateway=payments.get_gateway(), limit=100)
    db.session.commit()
    assert done == len(events)
    upserts = [s for s in seen if s.lstrip().startswith("INSERT INTO gift_period_totals ")]
    assert len(upserts) == 1
    paid = db.session.scalars(select(Gift).where(Gift.status == "paid")).all()
    assert len(paid) == 4 and sum(g.refunded_cents for g in paid) == 300
    assert summaries.verify_money() == []


# --- the spool: deliveries never wait for the database's write lock -------------------


def test_the_spool_keeps_each_delivery_once_in_order_and_forgets_taken_ones_after_a_week(
    tmp_path,
):
    spool = Spool(str(tmp_path / "deliveries.stripe-spool"))
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert spool.accept("evt_b", '{"id": "evt_b"}', moment) is True
    assert spool.accept("evt_a", '{"id": "evt_a"}', moment) is True
    assert spool.accept("evt_b", '{"id": "evt_b", "again": 1}', moment) is False  # a repeat
    waiting = spool.waiting(10)
    assert [(item.event_id, item.received_at) for item in waiting] == [
        ("evt_b", moment),
        ("evt_a", moment),
    ]  # as they came, the first payload kept
    assert waiting[0].event == {"id": "evt_b"}
    spool.mark_taken([waiting[0].seq], now=moment)
    assert [item.event_id for item in spool.waiting(10)] == ["evt_a"]
    assert spool.count_waiting() == 1
    assert spool.accept("evt_b", "{}", moment) is False  # still known once taken in...
    spool.mark_taken([], now=moment + timedelta(days=8))
    assert spool.accept("evt_b", '{"id": "evt_b"}', moment) is True  # ...for a week
    assert spool_path("sqlite:////srv/donations/db.sqlite3") == (
        "/srv/donations/db.sqlite3.stripe-spool"
    )
    assert spool_path("postgresql+psycopg://u@h/db") is None
    assert spool_path("sqlite://") is None


def test_a_repeated_delivery_is_known_while_a_new_one_holds_the_spools_write_lock(tmp_path):
    spool = Spool(str(tmp_path / "deliveries.stripe-spool"))
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert spool.accept("evt_kept", '{"id": "evt_kept"}', moment) is True
    answers: dict[str, bool] = {}
    inside, release = threading.Event(), threading.Event()

    def new_delivery_held_open() -> None:
        with spool._writing():  # another delivery, in the middle of its insert
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=new_delivery_held_open)
    holder.start()
    assert inside.wait(10)
    repeat = threading.Thread(
        target=lambda: answers.update(repeat=spool.accept("evt_kept", "{}", moment))
    )
    repeat.start()
    repeat.join(5)
    finished_while_held = not repeat.is_alive()
    release.set()
    holder.join(10)
    repeat.join(10)
    assert finished_while_held and answers == {"repeat": False}
    assert [item.event_id for item in spool.waiting(10)] == ["evt_kept"]
    assert spool.waiting(10)[0].event == {"id": "evt_kept"}  # the first payload kept


@pytest.fixture
def spooled_app(make_app, stripe_api, tmp_path):
    """The Stripe app with a spool (on PostgreSQL too) and a real queue, no consumer yet."""
    app = make_app(
        STRIPE_SECRET_KEY="sk_test_fake",
        STRIPE_API_BASE=stripe_api.url,
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_TIMEOUT=5,
        MAIL_SEND_AFTER_COMMIT=False,
        STRIPE_SPOOL_PATH=str(tmp_path / "spooled.stripe-spool"),
    )
    from conftest import clean_database

    with app.app_context():
        clean_database()
        giving.ensure_default_funds()
        db.session.commit()
        queue = queue_of(app)
        queue.register_all()
        queue.huey.immediate = False
        yield app


def test_a_delivery_writes_nothing_to_the_database_and_a_rolled_back_run_loses_nothing(
    spooled_app, stripe_api
):
    client = spooled_app.test_client()
    gift, session = start_checkout(amount=5000)
    events = _paid_events(stripe_api, session)
    writes: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    sqla_event.listen(db.engine, "before_cursor_execute", note)
    try:
        for event in events + events[:1]:
            assert deliver(client, event, SECRET).status_code == 200
    finally:
        sqla_event.remove(db.engine, "before_cursor_execute", note)
    # The deliveries went to the spool, never near the write lock; the database only got
    # the record of the one run they woke (a burst wakes one run).
    assert not [w for w in writes if "stripe_events" in w]
    assert db.session.scalar(select(func.count(JobRun.id))) == 1
    assert all("job_runs" in w or "app_locks" in w for w in writes), writes
    assert event_count() == 0 and stripe_events.count_waiting() == len(events)

    gateway = payments.get_gateway()
    assert stripe_events.process_received(gateway=gateway, limit=100) == len(events)
    db.session.rollback()  # the consumer died before its commit
    assert event_count() == 0 and stripe_events.count_waiting() == len(events)
    assert reload(gift).status == "pending"

    assert drain_queue(spooled_app) == 1  # the run the deliveries woke
    assert reload(gift).status == "paid"
    assert stripe_events.count_waiting() == 0
    assert [row.attempts for row in db.session.scalars(select(StripeEvent))] == [1] * len(events)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1  # thanked once


def test_events_stored_but_not_marked_taken_are_not_processed_twice(
    spooled_app, stripe_api, monkeypatch
):
    client = spooled_app.test_client()
    gift, session = start_checkout(amount=5000)
    events = _paid_events(stripe_api, session)
    for event in events:
        deliver(client, event, SECRET)
    spool = current_spool()

    def lost(*_args, **_kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(spool, "mark_taken", lost)
    gateway = payments.get_gateway()
    assert stripe_events.process_received(gateway=gateway, limit=100) == len(events)
    db.session.commit()  # stored and processed; the spool could not be told
    assert spool.count_waiting() == len(events)
    monkeypatch.undo()
    # The next run finds them stored already: it only marks them taken.
    assert stripe_events.process_received(gateway=gateway, limit=100) == len(events)
    db.session.commit()
    assert spool.count_waiting() == 0
    assert stripe_events.process_received(gateway=gateway, limit=100) == 0
    assert [row.attempts for row in db.session.scalars(select(StripeEvent))] == [1] * len(events)
    assert (reload(gift).status, reload(gift).net_cents) == ("paid", 4825)
