"""Test mode's small offline Stripe: it sends what the full simulator (and Stripe) sends,
and the gateway reads its objects as the real gateway reads Stripe's."""

from __future__ import annotations

import ast
import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from donations.integrations import local_gateway
from donations.integrations.local_gateway import (
    LocalGateway,
    OfflineStripe,
    add_months,
)
from donations.integrations.stripe_gateway import CheckoutRequest, GatewayError, checkout_params
from fakes.stripe import LocalStripe, MemoryStore, add_interval, sign_payload

PACKAGE = Path(local_gateway.__file__).resolve().parents[1]


class DictStore:
    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}

    def get(self, object_id: str) -> dict | None:
        obj = self.objects.get(object_id)
        return copy.deepcopy(obj) if obj is not None else None

    def put(self, obj: dict) -> None:
        self.objects[obj["id"]] = copy.deepcopy(obj)


def request(mode: str = "payment", *, key: str = "attempt-1", email: str = "d@example.com"):
    return CheckoutRequest(
        gift_id=7,
        mode=mode,
        amount_cents=2500,
        currency="USD",
        product_name="Gift to the General fund",
        customer_email=email,
        success_url="http://x/thanks",
        cancel_url="http://x/cancelled",
        idempotency_key=key,
        metadata={"gift_id": "7"},
    )


@pytest.fixture
def gateway() -> LocalGateway:
    return LocalGateway(OfflineStripe(DictStore()), webhook_secret="whsec_t")


def types(events: list[dict]) -> list[str]:
    return [event["type"] for event in events]


def of_type(events: list[dict], kind: str) -> dict:
    return next(e for e in events if e["type"] == kind)["data"]["object"]


def both(mode: str) -> tuple[LocalStripe, str, OfflineStripe, str]:
    """Open the same checkout on the full simulator and on test mode's offline Stripe."""
    full, small = LocalStripe(MemoryStore()), OfflineStripe(DictStore())
    params = checkout_params(request(mode))
    full_id = full.create_checkout_session(params)["id"]
    small_id = small.create_checkout_session(params)["id"]
    return full, full_id, small, small_id


def test_a_one_time_gift_sends_what_stripe_sends_and_reads_back(gateway):
    session = gateway.create_checkout_session(request())
    assert session.url == f"https://checkout.local/{session.id}"
    assert gateway.create_checkout_session(request()).id == session.id  # same attempt, same one
    events = gateway.local.pay_checkout_session(session.id)
    assert types(events) == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
    ]
    snapshot = gateway.fetch_checkout_session(session.id)
    assert (snapshot.status, snapshot.payment_status, snapshot.amount_total) == (
        "complete",
        "paid",
        2500,
    )
    assert snapshot.metadata == {"gift_id": "7"} and snapshot.client_reference_id == "7"
    payment = gateway.fetch_payment(snapshot.payment_intent_id)
    assert (payment.status, payment.amount_cents, payment.currency) == ("succeeded", 2500, "USD")
    assert payment.fee_cents == 103 and payment.metadata == {"gift_id": "7"}
    assert gateway.fetch_charge(payment.charge_id) == payment

    refunded = gateway.local.refund(payment.charge_id, 1000, reason="requested_by_customer")
    assert types(refunded) == ["charge.refunded", "refund.created"]
    assert gateway.fetch_charge(payment.charge_id).refunded_cents == 1000
    refund = gateway.fetch_refund(of_type(refunded, "refund.created")["id"])
    assert (refund.charge_id, refund.amount_cents, refund.status) == (
        payment.charge_id,
        1000,
        "succeeded",
    )
    gateway.local.refund(payment.charge_id)
    assert gateway.fetch_charge(payment.charge_id).refunded_cents == 2500
    with pytest.raises(GatewayError):
        gateway.local.refund(payment.charge_id, 1)


def test_events_are_signed_for_the_webhook_and_carry_no_private_notes(gateway):
    session = gateway.create_checkout_session(request("subscription"))
    for event in gateway.local.pay_checkout_session(session.id):
        assert not [key for key in event["data"]["object"] if key.startswith("_")]
        payload = json.dumps(event)
        assert gateway.verify_webhook(payload.encode(), sign_payload(payload, "whsec_t")) == event


def test_a_monthly_gift_renews_declines_recovers_and_stops(gateway):
    session = gateway.create_checkout_session(request("subscription"))
    events = gateway.local.pay_checkout_session(session.id)
    sub_id = gateway.fetch_checkout_session(session.id).subscription_id
    subscription = gateway.fetch_subscription(sub_id)
    assert (subscription.status, subscription.amount_cents, subscription.currency) == (
        "active",
        2500,
        "USD",
    )
    assert subscription.metadata == {"gift_id": "7"}
    first = gateway.fetch_invoice(subscription.latest_invoice_id)
    assert (first.status, first.billing_reason, first.amount_paid) == (
        "paid",
        "subscription_create",
        2500,
    )
    assert first.subscription_metadata == {"gift_id": "7"} and first.paid_at is not None
    assert of_type(events, "invoice.paid")["id"] == first.id

    renewed = gateway.local.renew_subscription(sub_id)
    second = gateway.fetch_invoice(of_type(renewed, "invoice.paid")["id"])
    assert second.billing_reason == "subscription_cycle"
    later = gateway.fetch_subscription(sub_id)
    assert later.current_period_end > subscription.current_period_end
    assert later.latest_invoice_id == second.id

    failed = gateway.local.renew_subscription(sub_id, fail=True)
    assert of_type(failed, "customer.subscription.updated")["status"] == "past_due"
    invoice = gateway.fetch_invoice(of_type(failed, "invoice.payment_failed")["id"])
    assert invoice.status == "open" and invoice.amount_paid == 0 and invoice.paid_at is None
    payment = gateway.fetch_payment(invoice.payment_intent_id)
    assert payment.status == "requires_payment_method" and payment.fee_cents is None
    assert payment.failure_message == "Your card was declined."
    declined_charge = payment.charge_id

    retried = gateway.local.retry_invoice(invoice.id)
    assert gateway.fetch_invoice(invoice.id).status == "paid"
    assert gateway.fetch_payment(invoice.payment_intent_id).status == "succeeded"
    assert gateway.fetch_subscription(sub_id).status == "active"
    assert gateway.fetch_charge(declined_charge).status == "requires_payment_method"
    assert of_type(retried, "invoice.paid")["attempt_count"] == 2

    [cancelled] = gateway.local.cancel_subscription(sub_id)
    assert cancelled["type"] == "customer.subscription.deleted"
    assert gateway.fetch_subscription(sub_id).canceled_at is not None
    with pytest.raises(GatewayError):
        gateway.local.cancel_subscription(sub_id)


def test_an_abandoned_checkout_expires_once(gateway):
    session = gateway.create_checkout_session(request())
    [event] = gateway.local.expire_checkout_session(session.id)
    assert event["type"] == "checkout.session.expired"
    assert gateway.fetch_checkout_session(session.id).status == "expired"
    with pytest.raises(GatewayError):
        gateway.local.pay_checkout_session(session.id)


def test_unknown_ids_are_not_found(gateway):
    with pytest.raises(GatewayError) as error:
        gateway.fetch_payment("pi_nope")
    assert error.value.not_found and not error.value.retryable
    with pytest.raises(GatewayError) as error:
        gateway.create_portal_session(customer_id="cus_nope", return_url="http://x/")
    assert error.value.not_found


def test_the_portal_opens_for_a_known_customer(gateway):
    session = gateway.create_checkout_session(request("subscription"))
    gateway.local.pay_checkout_session(session.id)
    customer = gateway.fetch_checkout_session(session.id).customer_id
    url = gateway.create_portal_session(customer_id=customer, return_url="http://x/")
    assert url == f"https://billing.local/{customer}"


def test_test_mode_sends_the_same_events_as_the_full_simulator():
    full, full_id, small, small_id = both("payment")
    assert types(small.pay_checkout_session(small_id)) == types(full.pay_checkout_session(full_id))
    full_charge = full.session_charge_id(full_id)
    small_charge = small.retrieve("payment_intent", small.store.get(small_id)["payment_intent"])
    assert types(small.refund(small_charge["latest_charge"], 100)) == types(
        full.refund(full_charge, 100)
    )

    full, full_id, small, small_id = both("payment")
    assert types(small.expire_checkout_session(small_id)) == types(
        full.expire_checkout_session(full_id)
    )

    full, full_id, small, small_id = both("subscription")
    assert types(small.pay_checkout_session(small_id)) == types(full.pay_checkout_session(full_id))
    full_sub = full.retrieve("checkout.session", full_id)["subscription"]
    small_sub = small.retrieve("checkout.session", small_id)["subscription"]
    for fail in (False, True):
        full_events = full.renew_subscription(full_sub, fail=fail)
        small_events = small.renew_subscription(small_sub, fail=fail)
        assert types(small_events) == types(full_events)
    full_invoice = of_type(full_events, "invoice.payment_failed")["id"]
    small_invoice = of_type(small_events, "invoice.payment_failed")["id"]
    assert types(small.retry_invoice(small_invoice)) == types(full.retry_invoice(full_invoice))
    assert types(small.cancel_subscription(small_sub)) == types(full.cancel_subscription(full_sub))


def test_months_are_counted_as_stripe_counts_them():
    jan31 = int(datetime(2027, 1, 31, 12, tzinfo=UTC).timestamp())
    for months in (1, 2, 12, 13, 25):
        assert add_months(jan31, months) == add_interval(jan31, "month", 1, months)
    assert OfflineStripe(DictStore()).processing_fee(2500) == 103


def test_the_product_keeps_a_small_test_mode_and_never_imports_the_tests():
    assert len(Path(local_gateway.__file__).read_text().splitlines()) <= 400
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in ("tests", "fakes", "conftest"), (path, name)
                if name == "stripe" or name.startswith("stripe."):
                    assert path.name == "stripe_gateway.py", path
