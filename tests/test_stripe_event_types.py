"""Every handled Stripe event is read by the type of object it carries, as Stripe sends it.

Each event is built around Stripe's own example object of its type (tests/stripe_examples.json,
copied from stripe-mock's fixtures3.json), with its ids pointed at objects the local Stripe
server holds, then signed and delivered like a real webhook.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from stripe_fixtures import deliver

from donations.extensions import db
from donations.integrations.stripe_gateway import StripeGateway
from donations.models import Fund, Gift, RecurringPlan, StripeEvent
from donations.services import giving, payments, stripe_events

SECRET = "whsec_test_secret"
EXAMPLES = json.loads((Path(__file__).parent / "stripe_examples.json").read_text())


def example(object_type: str, **changes: Any) -> dict[str, Any]:
    """Stripe's example object of this type, with some fields changed."""
    obj = copy.deepcopy(EXAMPLES[object_type])
    assert obj["object"] == object_type
    obj.update(changes)
    return obj


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
def send(stripe_app, stripe_api):
    """Deliver an event of ``type`` carrying ``obj``; return its stored row."""
    client = stripe_app.test_client()

    def post(type: str, obj: dict[str, Any]) -> StripeEvent:
        event = stripe_api.local.event(type, obj)
        event["data"]["object"] = obj  # exactly the example, not the local Stripe's copy
        assert deliver(client, event, SECRET).status_code == 200
        db.session.expire_all()
        return db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == event["id"]))

    return post


def start_checkout(*, amount: int = 5000, monthly: bool = False):
    fund = db.session.scalar(select(Fund).order_by(Fund.id))
    donation = giving.Donation(
        amount_cents=amount,
        currency="USD",
        frequency=giving.Frequency.MONTHLY if monthly else giving.Frequency.ONE_TIME,
        fund_id=fund.id,
        cover_fee=False,
        name="Ada Lovelace",
        email="ada@example.com",
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
    return gift.id, session


def gift_of(gift_id: int) -> Gift:
    db.session.expire_all()
    return db.session.get(Gift, gift_id)


def paid_one_time(stripe_api) -> tuple[int, str, str]:
    """A one-time gift paid at the local Stripe; no webhook delivered yet."""
    gift_id, session = start_checkout()
    stripe_api.local.pay_checkout_session(session.id)
    return gift_id, session.id, stripe_api.local.session_charge_id(session.id)


def events_of(object_type: str) -> list[str]:
    return sorted(t for t, o in stripe_events.OBJECT_TYPES.items() if o == object_type)


# --- the table ----------------------------------------------------------------------


def test_every_handled_event_names_the_object_type_stripe_sends():
    assert set(stripe_events.OBJECT_TYPES) == set(stripe_events.HANDLERS)
    for object_type in stripe_events.OBJECT_TYPES.values():
        assert EXAMPLES[object_type]["object"] == object_type
    assert stripe_events.OBJECT_TYPES["charge.refund.updated"] == "refund"
    assert stripe_events.OBJECT_TYPES["charge.refunded"] == "charge"
    assert stripe_events.OBJECT_TYPES["charge.dispute.created"] == "dispute"


# --- each object type, with Stripe's example of it ------------------------------------


@pytest.mark.parametrize("type", events_of("checkout.session"))
def test_checkout_session_events(stripe_app, stripe_api, send, type):
    gift_id, session_id, _charge_id = paid_one_time(stripe_api)
    row = send(type, example("checkout.session", id=session_id, metadata={}))
    assert (row.status, row.last_error) == ("processed", "")
    gift = gift_of(gift_id)
    assert gift.status == "paid" and gift.amount_cents == 5000 and gift.fee_cents == 175
    assert stripe_api.requests_to("GET", f"/v1/checkout/sessions/{session_id}")


@pytest.mark.parametrize("type", events_of("charge"))
def test_charge_events(stripe_app, stripe_api, send, type):
    gift_id, _session_id, charge_id = paid_one_time(stripe_api)
    row = send(type, example("charge", id=charge_id, amount=5000))
    assert (row.status, row.last_error) == ("processed", "")
    gift = gift_of(gift_id)
    assert gift.status == "paid" and gift.stripe_charge_id == charge_id
    assert stripe_api.requests_to("GET", f"/v1/charges/{charge_id}")


def test_charge_refund_updated_carries_a_refund_read_from_v1_refunds(stripe_app, stripe_api, send):
    gift_id, _session_id, charge_id = paid_one_time(stripe_api)
    refunded = stripe_api.local.refund(charge_id, 2000)
    refund = next(e for e in refunded if e["type"] == "refund.created")["data"]["object"]
    assert refund["id"].startswith("re_")

    row = send(
        "charge.refund.updated",
        example("refund", id=refund["id"], charge=charge_id, amount=2000, currency="usd"),
    )
    assert (row.status, row.last_error) == ("processed", "")
    gift = gift_of(gift_id)
    assert gift.status == "paid"
    assert gift.refunded_cents == 2000
    assert gift.display_status == "partially refunded"
    assert row.gift_id == gift_id
    assert stripe_api.requests_to("GET", f"/v1/refunds/{refund['id']}")
    assert not stripe_api.requests_to("GET", f"/v1/charges/{refund['id']}")  # the old bug


def test_a_refund_event_for_a_refund_stripe_does_not_have_fails_for_replay(
    stripe_app, stripe_api, send
):
    row = send("charge.refund.updated", example("refund"))  # Stripe's own ids: unknown here
    assert row.status == "failed"
    assert "re_1Pgc72B7WZ01zgkWqPvrRrPE" in row.last_error


@pytest.mark.parametrize("type", events_of("dispute"))
def test_dispute_events(stripe_app, stripe_api, send, type):
    gift_id, _session_id, charge_id = paid_one_time(stripe_api)
    opened = stripe_api.local.open_dispute(charge_id)
    dispute_id = next(e for e in opened if e["type"] == "charge.dispute.created")["data"]["object"][
        "id"
    ]
    row = send(type, example("dispute", id=dispute_id, charge=charge_id, amount=5000))
    assert (row.status, row.last_error) == ("processed", "")
    gift = gift_of(gift_id)
    assert gift.stripe_dispute_id == dispute_id
    assert gift.dispute_cents == 5000 and gift.dispute_fee_cents == 1500
    assert stripe_api.requests_to("GET", f"/v1/disputes/{dispute_id}")


def paid_monthly(stripe_api) -> tuple[int, str]:
    gift_id, session = start_checkout(amount=2000, monthly=True)
    stripe_api.local.pay_checkout_session(session.id)
    subscription_id = stripe_api.local.retrieve("checkout.session", session.id)["subscription"]
    return gift_id, subscription_id


@pytest.mark.parametrize("type", events_of("invoice"))
def test_invoice_events(stripe_app, stripe_api, send, type):
    gift_id, subscription_id = paid_monthly(stripe_api)
    invoice_id = stripe_api.local.retrieve("subscription", subscription_id)["latest_invoice"]
    row = send(type, example("invoice", id=invoice_id, attempt_count=1))
    assert (row.status, row.last_error) == ("processed", "")
    gift = gift_of(gift_id)
    assert gift.status == "paid" and gift.stripe_invoice_id == invoice_id
    assert db.session.get(RecurringPlan, gift.plan_id).status == "active"
    assert stripe_api.requests_to("GET", f"/v1/invoices/{invoice_id}")


@pytest.mark.parametrize("type", events_of("subscription"))
def test_subscription_events(stripe_app, stripe_api, send, type):
    gift_id, subscription_id = paid_monthly(stripe_api)
    row = send(type, example("subscription", id=subscription_id, metadata={}))
    assert (row.status, row.last_error) == ("processed", "")
    plan = db.session.get(RecurringPlan, gift_of(gift_id).plan_id)
    assert plan.status == "active" and plan.stripe_subscription_id == subscription_id
    assert stripe_api.requests_to("GET", f"/v1/subscriptions/{subscription_id}")


# --- an event carrying another kind of object --------------------------------------------


def test_an_event_carrying_the_wrong_kind_of_object_is_kept_as_failed_not_misread(
    stripe_app, stripe_api, send
):
    gift_id, _session_id, charge_id = paid_one_time(stripe_api)
    before = len(stripe_api.requests)
    row = send("charge.refund.updated", example("charge", id=charge_id))
    assert row.status == "failed"
    assert (
        row.last_error == "charge.refund.updated should carry a refund, but this one carries charge"
    )
    assert len(stripe_api.requests) == before  # nothing looked up at the wrong address
    assert gift_of(gift_id).status == "pending"


# --- a Checkout Session without a url ------------------------------------------------------


def test_a_checkout_session_without_a_url_is_read_as_none(stripe_app, stripe_api, monkeypatch):
    local = stripe_api.local
    original = local.create_checkout_session
    monkeypatch.setattr(local, "create_checkout_session", lambda p: {**original(p), "url": None})
    gateway = payments.get_gateway()
    assert isinstance(gateway, StripeGateway)
    _gift_id, session = start_checkout()
    assert session.url is None and session.id.startswith("cs_")


def test_a_checkout_session_without_a_url_gives_a_calm_page_and_the_gift_stays_pending(
    stripe_app, stripe_api, monkeypatch
):
    local = stripe_api.local
    original = local.create_checkout_session
    monkeypatch.setattr(local, "create_checkout_session", lambda p: {**original(p), "url": None})
    client = stripe_app.test_client()
    fund = db.session.scalar(select(Fund).order_by(Fund.id))
    review = client.post(
        "/give",
        data={
            "amount": "5000",
            "frequency": "one_time",
            "fund": str(fund.id),
            "name": "Ann Lee",
            "email": "ann@example.com",
        },
    ).get_data(as_text=True)
    payload = review.split('name="payload" value="')[1].split('"')[0]

    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 502
    html = response.get_data(as_text=True)
    assert "We could not open the payment page" in html
    assert "Nothing has been charged" in html
    assert "Traceback" not in html
    gift = db.session.scalars(select(Gift)).one()
    assert gift.status == "pending"
    assert gift.stripe_checkout_session_id is None
