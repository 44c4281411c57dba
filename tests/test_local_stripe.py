"""The tiny Stripe: LocalStripe's objects and events, and the HTTP server in front of it,
driven by the real ``stripe`` library and by the app's StripeGateway."""

from __future__ import annotations

import http.client
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import stripe
from flask import Flask, request
from stripe_fixtures import API_KEY, API_VERSION, WEBHOOK_SECRET, deliver

from donations.integrations.stripe_gateway import (
    CheckoutRequest,
    GatewayError,
    SignatureError,
    StripeGateway,
)
from fakes.stripe import (
    LocalStripe,
    LocalStripeError,
    MemoryStore,
    add_interval,
    sign_payload,
)
from fakes.stripe.server import StripeServer, parse_form


def checkout_request(**overrides) -> CheckoutRequest:
    fields = {
        "gift_id": 5,
        "mode": "payment",
        "amount_cents": 5000,
        "currency": "USD",
        "product_name": "Gift to the General Fund",
        "customer_email": "ada@example.com",
        "success_url": "https://donations.test/thanks",
        "cancel_url": "https://donations.test/cancelled",
        "idempotency_key": "checkout-attempt-1",
        "metadata": {"gift_id": "5", "fund": "general"},
    }
    fields.update(overrides)
    return CheckoutRequest(**fields)


def monthly_request(**overrides) -> CheckoutRequest:
    fields = {
        "mode": "subscription",
        "amount_cents": 2000,
        "product_name": "Monthly gift",
        "idempotency_key": "checkout-attempt-2",
        "metadata": {"plan_id": "9"},
    }
    fields.update(overrides)
    return checkout_request(**fields)


def of_type(events: list[dict], event_type: str) -> dict:
    [event] = [e for e in events if e["type"] == event_type]
    return event["data"]["object"]


def paid_one_time(gateway: StripeGateway, server: StripeServer, **overrides):
    session = gateway.create_checkout_session(checkout_request(**overrides))
    events = server.local.pay_checkout_session(session.id)
    return session, events, server.local.session_charge_id(session.id)


def paid_monthly(gateway: StripeGateway, server: StripeServer):
    session = gateway.create_checkout_session(monthly_request())
    events = server.local.pay_checkout_session(session.id)
    return session, events, gateway.fetch_checkout_session(session.id).subscription_id


# --- wire format -------------------------------------------------------------


def test_parse_form_reads_stripes_bracket_notation():
    params = parse_form(
        "mode=payment&metadata[gift_id]=5&metadata[0]=zero"
        "&line_items[0][quantity]=1&line_items[0][price_data][unit_amount]=5000"
        "&line_items[1][quantity]=2&expand%5B%5D=a&expand%5B%5D=b.c&empty="
    )
    assert params == {
        "mode": "payment",
        "metadata": {"gift_id": "5", "0": "zero"},
        "line_items": [
            {"quantity": "1", "price_data": {"unit_amount": "5000"}},
            {"quantity": "2"},
        ],
        "expand": ["a", "b.c"],
        "empty": "",
    }
    assert parse_form("expand%5B0%5D=x&expand%5B1%5D=y") == {"expand": ["x", "y"]}


def test_sign_payload_signs_exactly_as_stripe_does():
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "x"})
    expected = stripe.WebhookSignature.generate_signature_header(payload, "whsec_a", 1700000000)
    assert sign_payload(payload, "whsec_a", 1700000000) == expected
    assert sign_payload(payload.encode(), "whsec_a", 1700000000) == expected
    assert sign_payload(payload, "whsec_a").startswith(f"t={int(time.time())}")


# --- creating a checkout session ------------------------------------------------


def test_checkout_session_is_created_with_the_params_as_sent(stripe_api, stripe_gateway):
    session = stripe_gateway.create_checkout_session(checkout_request())

    [post] = stripe_api.requests_to("POST", "/v1/checkout/sessions")
    params = post.params
    assert params["mode"] == "payment"
    assert params["submit_type"] == "donate"
    assert params["client_reference_id"] == "5"
    assert params["customer_email"] == "ada@example.com"
    assert params["metadata"] == {"gift_id": "5", "fund": "general"}
    assert params["payment_intent_data"] == {"metadata": {"gift_id": "5", "fund": "general"}}
    assert "subscription_data" not in params
    assert params["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "usd",
                "unit_amount": "5000",
                "product_data": {"name": "Gift to the General Fund"},
            },
        }
    ]
    assert post.idempotency_key == "checkout-attempt-1"
    assert post["headers"]["Idempotency-Key"] == "checkout-attempt-1"
    assert post.stripe_version == API_VERSION
    assert post.status == 200

    assert session.id.startswith("cs_test_")
    assert session.url == f"https://checkout.local/{session.id}"
    snapshot = stripe_gateway.fetch_checkout_session(session.id)
    assert (snapshot.status, snapshot.payment_status) == ("open", "unpaid")
    assert (snapshot.amount_total, snapshot.currency) == (5000, "USD")
    assert snapshot.metadata == {"gift_id": "5", "fund": "general"}
    assert snapshot.client_reference_id == "5"
    assert snapshot.payment_intent_id is None  # basil: created only when the donor pays


def test_monthly_checkout_sends_a_monthly_price_and_subscription_metadata(
    stripe_api, stripe_gateway
):
    stripe_gateway.create_checkout_session(monthly_request())
    [post] = stripe_api.requests_to("POST", "/v1/checkout/sessions")
    assert post.params["mode"] == "subscription"
    assert "submit_type" not in post.params and "payment_intent_data" not in post.params
    assert post.params["line_items"][0]["price_data"]["recurring"] == {"interval": "month"}
    assert post.params["subscription_data"] == {"metadata": {"plan_id": "9"}}


def test_the_same_idempotency_key_makes_one_session(stripe_api, stripe_gateway):
    first = stripe_gateway.create_checkout_session(checkout_request())
    again = stripe_gateway.create_checkout_session(checkout_request())
    assert again == first
    assert len(stripe_api.local_sessions()) == 1
    assert [r.replayed for r in stripe_api.requests] == [False, True]

    with pytest.raises(GatewayError) as error:  # same key, other parameters
        stripe_gateway.create_checkout_session(checkout_request(amount_cents=6000))
    assert not error.value.retryable
    assert len(stripe_api.local_sessions()) == 1


def test_stripe_refuses_what_it_would_refuse(stripe_api):
    client = stripe.StripeClient(
        API_KEY, base_addresses={"api": stripe_api.url}, stripe_version=API_VERSION
    )
    line_items = [
        {"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 5000,
                                       "product_data": {"name": "Gift"}}}
    ]  # fmt: skip
    base = {"mode": "payment", "success_url": "https://x/s", "line_items": line_items}
    cases = {
        "parameter_unknown": {**base, "sucess_url": "https://x/s"},
        "parameter_invalid_empty": {**base, "customer_email": ""},
        "parameter_missing": {"mode": "payment", "success_url": "https://x/s"},
        "parameter_invalid_integer": {
            **base,
            "line_items": [{**line_items[0], "quantity": "one"}],
        },
        "amount_too_small": {
            **base,
            "line_items": [{"price_data": {**line_items[0]["price_data"], "unit_amount": 49}}],
        },
    }
    for code, params in cases.items():
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.checkout.sessions.create(params=params)
        assert (error.value.http_status, error.value.code) == (400, code)
    with pytest.raises(stripe.InvalidRequestError, match="recurring price"):
        client.v1.checkout.sessions.create(params={**base, "mode": "subscription"})
    assert stripe_api.local_sessions() == []


# --- one-time gifts ---------------------------------------------------------------


def test_paying_a_session_sends_the_events_stripe_sends(stripe_api, stripe_gateway):
    session, events, charge_id = paid_one_time(stripe_gateway, stripe_api)
    assert [e["type"] for e in events] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
    ]
    for event in events:
        assert event["id"].startswith("evt_")
        assert event["object"] == "event" and event["api_version"] == API_VERSION
        assert event["livemode"] is False and event["pending_webhooks"] == 1
        assert set(event["request"]) == {"id", "idempotency_key"}
    completed = of_type(events, "checkout.session.completed")
    assert completed["id"] == session.id and completed["status"] == "complete"
    assert completed["payment_status"] == "paid"
    assert completed["payment_intent"].startswith("pi_")
    assert "line_items" not in completed and "_local" not in completed
    charge = of_type(events, "charge.succeeded")
    assert charge["id"] == charge_id and charge["balance_transaction"].startswith("txn_")
    assert "refunds" not in charge  # includable: only when expanded


def test_a_paid_session_reads_back_through_the_gateway(stripe_api, stripe_gateway):
    session, _events, charge_id = paid_one_time(stripe_gateway, stripe_api)

    snapshot = stripe_gateway.fetch_checkout_session(session.id)
    assert (snapshot.status, snapshot.payment_status) == ("complete", "paid")
    assert snapshot.customer_id.startswith("cus_")
    assert snapshot.payment_intent_id.startswith("pi_")

    payment = stripe_gateway.fetch_payment(snapshot.payment_intent_id)
    assert payment.status == "succeeded"
    assert (payment.amount_cents, payment.currency) == (5000, "USD")
    assert payment.charge_id == charge_id
    assert payment.fee_cents == 175  # 2.9 % of 50.00 plus 30c, from the balance transaction
    assert payment.refunded_cents == 0
    assert payment.payment_method_type == "card"
    assert payment.customer_id == snapshot.customer_id
    assert payment.metadata == {"gift_id": "5", "fund": "general"}
    assert payment.charge_created is not None
    assert stripe_gateway.fetch_charge(charge_id) == payment

    [get] = stripe_api.requests_to("GET", "/v1/payment_intents/")
    assert get.params == {"expand": ["latest_charge.balance_transaction"]}
    [get] = stripe_api.requests_to("GET", "/v1/charges/")
    assert get.params == {"expand": ["balance_transaction", "payment_intent"]}


def test_partial_then_full_refund(stripe_api, stripe_gateway):
    _session, _events, charge_id = paid_one_time(stripe_gateway, stripe_api)

    events = stripe_api.local.refund(charge_id, 2000)
    assert [e["type"] for e in events] == ["charge.refunded", "refund.created"]
    charge = of_type(events, "charge.refunded")
    assert (charge["amount_refunded"], charge["refunded"]) == (2000, False)
    assert stripe_gateway.fetch_charge(charge_id).refunded_cents == 2000

    events = stripe_api.local.refund(charge_id)
    charge = of_type(events, "charge.refunded")
    assert (charge["amount_refunded"], charge["refunded"]) == (5000, True)
    snapshot = stripe_gateway.fetch_charge(charge_id)
    assert snapshot.refunded_cents == 5000 and snapshot.fee_cents == 175

    expanded = stripe_api.local.retrieve("charge", charge_id, ["refunds"])
    assert [r["amount"] for r in expanded["refunds"]["data"]] == [3000, 2000]
    with pytest.raises(LocalStripeError) as error:
        stripe_api.local.refund(charge_id, 1)
    assert error.value.http_status == 400


def test_a_refund_cannot_exceed_what_remains(stripe_api, stripe_gateway):
    _session, _events, charge_id = paid_one_time(stripe_gateway, stripe_api)
    with pytest.raises(LocalStripeError) as error:
        stripe_api.local.refund(charge_id, 5001)
    assert (error.value.http_status, error.value.code) == (400, "amount_too_large")
    assert stripe_gateway.fetch_charge(charge_id).refunded_cents == 0


def test_a_bank_debit_is_processing_until_it_succeeds_or_fails(stripe_api, stripe_gateway):
    session = stripe_gateway.create_checkout_session(checkout_request())
    events = stripe_api.local.pay_checkout_session(session.id, async_payment=True)
    assert [e["type"] for e in events] == [
        "checkout.session.completed",
        "payment_intent.processing",
        "charge.pending",
    ]
    snapshot = stripe_gateway.fetch_checkout_session(session.id)
    assert (snapshot.status, snapshot.payment_status) == ("complete", "unpaid")
    payment = stripe_gateway.fetch_payment(snapshot.payment_intent_id)
    assert payment.status == "processing" and payment.fee_cents is None
    assert payment.payment_method_type == "us_bank_account"

    events = stripe_api.local.succeed_async_payment(session.id)
    assert events[0]["type"] == "checkout.session.async_payment_succeeded"
    assert events[0]["data"]["object"]["payment_status"] == "paid"
    payment = stripe_gateway.fetch_payment(snapshot.payment_intent_id)
    assert payment.status == "succeeded" and payment.fee_cents == 175

    other = stripe_gateway.create_checkout_session(checkout_request(idempotency_key="k2"))
    stripe_api.local.pay_checkout_session(other.id, async_payment=True)
    events = stripe_api.local.fail_async_payment(other.id)
    assert events[0]["type"] == "checkout.session.async_payment_failed"
    assert events[0]["data"]["object"]["payment_status"] == "unpaid"
    failed = stripe_gateway.fetch_payment(
        stripe_gateway.fetch_checkout_session(other.id).payment_intent_id
    )
    assert failed.status == "requires_payment_method"
    assert "insufficient funds" in failed.failure_message


def test_an_unpaid_session_expires(stripe_api, stripe_gateway):
    session = stripe_gateway.create_checkout_session(checkout_request())
    [event] = stripe_api.local.expire_checkout_session(session.id)
    assert event["type"] == "checkout.session.expired"
    assert stripe_gateway.fetch_checkout_session(session.id).status == "expired"
    with pytest.raises(LocalStripeError):
        stripe_api.local.pay_checkout_session(session.id)


# --- disputes -----------------------------------------------------------------------


@pytest.mark.parametrize("won", [True, False])
def test_a_dispute_withdraws_the_amount_and_a_fee_until_closed(stripe_api, stripe_gateway, won):
    _session, _events, charge_id = paid_one_time(stripe_gateway, stripe_api)

    events = stripe_api.local.open_dispute(charge_id)
    assert [e["type"] for e in events] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    dispute_id = of_type(events, "charge.dispute.created")["id"]
    dispute = stripe_gateway.fetch_dispute(dispute_id)
    assert dispute.status == "needs_response" and dispute.charge_id == charge_id
    assert dispute.payment_intent_id.startswith("pi_")
    assert (dispute.amount_cents, dispute.withdrawn_cents, dispute.fee_cents) == (5000, 5000, 1500)
    assert stripe_api.local.retrieve("charge", charge_id)["disputed"] is True

    events = stripe_api.local.close_dispute(dispute_id, won=won)
    expected = ["charge.dispute.closed"] + (["charge.dispute.funds_reinstated"] if won else [])
    assert [e["type"] for e in events] == expected
    dispute = stripe_gateway.fetch_dispute(dispute_id)
    assert dispute.status == ("won" if won else "lost")
    assert dispute.withdrawn_cents == (0 if won else 5000)
    assert dispute.fee_cents == 1500  # Stripe keeps the fee either way
    with pytest.raises(LocalStripeError):
        stripe_api.local.close_dispute(dispute_id, won=True)


# --- monthly gifts --------------------------------------------------------------------


def test_a_paid_monthly_session_starts_a_subscription(stripe_api, stripe_gateway):
    session, events, sub_id = paid_monthly(stripe_gateway, stripe_api)
    assert [e["type"] for e in events][:4] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    snapshot = stripe_gateway.fetch_checkout_session(session.id)
    assert snapshot.payment_status == "paid" and snapshot.payment_intent_id is None

    subscription = stripe_gateway.fetch_subscription(sub_id)
    assert subscription.status == "active"
    assert (subscription.amount_cents, subscription.currency) == (2000, "USD")
    assert subscription.metadata == {"plan_id": "9"}
    assert subscription.customer_id == snapshot.customer_id
    created = of_type(events, "customer.subscription.created")
    start = datetime.fromtimestamp(created["items"]["data"][0]["current_period_start"], UTC)
    end = subscription.current_period_end
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1

    invoice_event = of_type(events, "invoice.paid")
    assert "payments" not in invoice_event  # includable: fetch the invoice to see them
    assert invoice_event["parent"]["subscription_details"] == {
        "metadata": {"plan_id": "9"},
        "subscription": sub_id,
    }
    invoice = stripe_gateway.fetch_invoice(invoice_event["id"])
    assert subscription.latest_invoice_id == invoice.id
    assert (invoice.status, invoice.billing_reason) == ("paid", "subscription_create")
    assert invoice.subscription_id == sub_id and invoice.customer_id == snapshot.customer_id
    assert (invoice.amount_paid, invoice.amount_due, invoice.currency) == (2000, 2000, "USD")
    assert invoice.subscription_metadata == {"plan_id": "9"}
    assert invoice.paid_at is not None
    payment = stripe_gateway.fetch_payment(invoice.payment_intent_id)
    assert payment.status == "succeeded" and payment.fee_cents == 88
    assert payment.charge_id == stripe_api.local.invoice_charge_id(invoice.id)


def test_renewals_fail_recover_and_cancel(stripe_api, stripe_gateway):
    _session, _events, sub_id = paid_monthly(stripe_gateway, stripe_api)
    first_end = stripe_gateway.fetch_subscription(sub_id).current_period_end

    events = stripe_api.local.renew_subscription(sub_id)
    assert [e["type"] for e in events][:3] == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    second = stripe_gateway.fetch_invoice(of_type(events, "invoice.paid")["id"])
    assert (second.status, second.billing_reason) == ("paid", "subscription_cycle")
    subscription = stripe_gateway.fetch_subscription(sub_id)
    assert subscription.current_period_end > first_end
    assert subscription.latest_invoice_id == second.id

    events = stripe_api.local.renew_subscription(sub_id, fail=True)
    assert [e["type"] for e in events][:2] == [
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert of_type(events, "customer.subscription.updated")["status"] == "past_due"
    failed = stripe_gateway.fetch_invoice(of_type(events, "invoice.payment_failed")["id"])
    assert failed.status == "open" and failed.amount_paid == 0 and failed.paid_at is None
    payment = stripe_gateway.fetch_payment(failed.payment_intent_id)
    assert payment.status == "requires_payment_method"
    assert payment.failure_message == "Your card was declined." and payment.fee_cents is None
    assert stripe_gateway.fetch_subscription(sub_id).status == "past_due"

    events = stripe_api.local.retry_invoice(failed.id)
    assert [e["type"] for e in events][:3] == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    recovered = stripe_gateway.fetch_invoice(failed.id)
    assert recovered.status == "paid" and recovered.paid_at is not None
    assert recovered.payment_intent_id == failed.payment_intent_id
    payment = stripe_gateway.fetch_payment(failed.payment_intent_id)
    assert payment.status == "succeeded" and payment.fee_cents == 88
    assert stripe_gateway.fetch_subscription(sub_id).status == "active"

    [event] = stripe_api.local.cancel_subscription(sub_id)
    assert event["type"] == "customer.subscription.deleted"
    subscription = stripe_gateway.fetch_subscription(sub_id)
    assert subscription.status == "canceled" and subscription.canceled_at is not None


def test_a_declined_charge_stays_failed_after_its_invoice_is_paid(stripe_api, stripe_gateway):
    _session, _events, sub_id = paid_monthly(stripe_gateway, stripe_api)
    failed = stripe_api.local.renew_subscription(sub_id, fail=True)
    declined_charge = of_type(failed, "charge.failed")["id"]
    stripe_api.local.retry_invoice(of_type(failed, "invoice.payment_failed")["id"])
    assert stripe_gateway.fetch_charge(declined_charge).status == "requires_payment_method"


def test_periods_keep_the_anchor_day_like_stripe():
    jan31 = int(datetime(2027, 1, 31, 12, tzinfo=UTC).timestamp())
    ends = [datetime.fromtimestamp(add_interval(jan31, "month", 1, k), UTC) for k in (1, 2, 12)]
    assert [(d.month, d.day) for d in ends] == [(2, 28), (3, 31), (1, 31)]

    now = [jan31]
    local = LocalStripe(MemoryStore(), clock=lambda: now[0])
    session = local.create_checkout_session(
        {
            "mode": "subscription",
            "success_url": "https://x/s",
            "customer_email": "m@example.com",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1000,
                        "product_data": {"name": "Monthly"},
                        "recurring": {"interval": "month"},
                    },
                }
            ],
        }
    )
    events = local.pay_checkout_session(session["id"])
    sub_id = of_type(events, "customer.subscription.created")["id"]
    periods = []
    for _ in range(2):
        item = local.retrieve("subscription", sub_id)["items"]["data"][0]
        periods.append((item["current_period_start"], item["current_period_end"]))
        local.renew_subscription(sub_id)
    assert periods[1][0] == periods[0][1]
    assert datetime.fromtimestamp(periods[1][1], UTC).day == 31


def test_fees_round_half_up():
    local = LocalStripe(MemoryStore())
    assert local.processing_fee(500) == 15 + 30  # 14.5 -> 15
    assert local.processing_fee(1050) == 30 + 30  # 30.45 -> 30
    assert local.processing_fee(2000) == 58 + 30
    assert LocalStripe(MemoryStore(), fee_percent_bp=0, fee_fixed_cents=0).processing_fee(999) == 0


# --- the portal, expansion and events ---------------------------------------------------


def test_portal_session_for_a_customer(stripe_api, stripe_gateway):
    session, _events, _charge_id = paid_one_time(stripe_gateway, stripe_api)
    customer_id = stripe_gateway.fetch_checkout_session(session.id).customer_id
    url = stripe_gateway.create_portal_session(
        customer_id=customer_id, return_url="https://donations.test/account"
    )
    assert url == f"https://billing.local/{customer_id}"
    [post] = stripe_api.requests_to("POST", "/v1/billing_portal/sessions")
    assert post.params == {"customer": customer_id, "return_url": "https://donations.test/account"}
    with pytest.raises(GatewayError) as error:
        stripe_gateway.create_portal_session(customer_id="cus_nope", return_url="https://x")
    assert error.value.not_found


def test_retrieve_expands_dotted_paths_and_refuses_unknown_ones(stripe_api, stripe_gateway):
    session, _events, charge_id = paid_one_time(stripe_gateway, stripe_api)
    pi_id = stripe_gateway.fetch_checkout_session(session.id).payment_intent_id
    local = stripe_api.local
    plain = local.retrieve("payment_intent", pi_id)
    assert plain["latest_charge"] == charge_id
    deep = local.retrieve("payment_intent", pi_id, ["latest_charge.balance_transaction"])
    assert deep["latest_charge"]["balance_transaction"]["fee"] == 175
    assert "refunds" not in deep["latest_charge"]
    items = local.retrieve("checkout.session", session.id, ["line_items"])["line_items"]
    assert items["data"][0]["price"]["unit_amount"] == 5000
    with pytest.raises(LocalStripeError) as error:
        local.retrieve("payment_intent", pi_id, ["no_such_field"])
    assert error.value.http_status == 400
    with pytest.raises(LocalStripeError) as error:
        local.retrieve("charge", pi_id)  # a PaymentIntent is not a charge
    assert (error.value.http_status, error.value.code) == (404, "resource_missing")


def test_event_builder_wraps_any_object():
    local = LocalStripe(MemoryStore(), api_version="2026-10-28.endive", clock=lambda: 1_800_000_000)
    event = local.event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    assert event["type"] == "customer.tax_id.created"
    assert event["data"] == {"object": {"id": "txi_1", "object": "tax_id"}}
    assert event["created"] == 1_800_000_000 and event["api_version"] == "2026-10-28.endive"
    assert local.retrieve("event", event["id"]) == event


# --- errors, outages and timeouts -------------------------------------------------------


def test_unknown_ids_are_not_found(stripe_api, stripe_gateway):
    with pytest.raises(GatewayError) as error:
        stripe_gateway.fetch_charge("ch_missing")
    assert error.value.not_found and not error.value.retryable
    [get] = stripe_api.requests_to("GET", "/v1/charges/ch_missing")
    assert get.status == 404
    assert get.response["error"]["type"] == "invalid_request_error"
    assert get.response["error"]["code"] == "resource_missing"
    assert "ch_missing" in get.response["error"]["message"]


def test_an_injected_failure_is_retryable_and_then_goes_away(stripe_api, stripe_gateway):
    session = stripe_gateway.create_checkout_session(checkout_request())
    stripe_api.fail_next(2, status=500)
    for _ in range(2):
        with pytest.raises(GatewayError) as error:
            stripe_gateway.fetch_checkout_session(session.id)
        assert error.value.retryable and not error.value.not_found
    assert stripe_gateway.fetch_checkout_session(session.id).id == session.id
    assert [r.status for r in stripe_api.requests] == [200, 500, 500, 200]
    assert stripe_api.requests[1].response["error"]["type"] == "api_error"

    stripe_api.fail_next(1, status=429)
    with pytest.raises(GatewayError) as error:
        stripe_gateway.fetch_checkout_session(session.id)
    assert error.value.retryable


def test_the_library_retries_a_failed_post_with_the_same_key(stripe_api):
    gateway = StripeGateway(
        secret_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=stripe_api.url,
        api_version=API_VERSION,
        max_network_retries=1,
    )
    stripe_api.fail_next(1, status=500)
    gateway.create_checkout_session(checkout_request())
    posts = stripe_api.requests_to("POST", "/v1/checkout/sessions")
    assert [p.status for p in posts] == [500, 200]
    assert {p.idempotency_key for p in posts} == {"checkout-attempt-1"}
    assert len(stripe_api.local_sessions()) == 1


def test_a_slow_stripe_times_out_as_a_retryable_error(stripe_api):
    gateway = StripeGateway(
        secret_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=stripe_api.url,
        api_version=API_VERSION,
        timeout=0.2,
        max_network_retries=0,
    )
    stripe_api.delay_next(1, 2.0)
    started = time.monotonic()
    with pytest.raises(GatewayError) as error:
        gateway.fetch_charge("ch_slow")
    assert error.value.retryable and time.monotonic() - started < 1.5
    with pytest.raises(GatewayError) as error:  # the next request is answered at once
        gateway.fetch_charge("ch_missing")
    assert error.value.not_found


def test_requests_without_a_key_or_to_unknown_urls_fail_like_stripe(stripe_api):
    def get(path, headers):
        connection = http.client.HTTPConnection(urlsplit(stripe_api.url).netloc, timeout=5)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())["error"]
        finally:
            connection.close()

    status, error = get("/v1/charges/ch_1", {})
    assert status == 401 and "API key" in error["message"]
    status, error = get("/v1/nothing", {"Authorization": f"Bearer {API_KEY}"})
    assert status == 404 and "Unrecognized request URL" in error["message"]
    assert error["type"] == "invalid_request_error"


def test_reset_forgets_everything(stripe_api, stripe_gateway):
    stripe_gateway.create_checkout_session(checkout_request())
    stripe_api.fail_next(3)
    stripe_api.reset()
    assert stripe_api.requests == [] and stripe_api.local_sessions() == []
    stripe_gateway.create_checkout_session(checkout_request())  # the key is forgotten too
    assert [r.replayed for r in stripe_api.requests] == [False]


# --- webhooks ---------------------------------------------------------------------------


def test_verify_webhook_accepts_stripes_signature_and_refuses_the_rest(stripe_gateway):
    event = LocalStripe(MemoryStore()).event("charge.succeeded", {"id": "ch_1", "object": "charge"})
    payload = json.dumps(event).encode()
    assert stripe_gateway.verify_webhook(payload, sign_payload(payload, WEBHOOK_SECRET)) == event

    refused = {
        "wrong secret": (payload, sign_payload(payload, "whsec_other")),
        "tampered body": (payload.replace(b"ch_1", b"ch_2"), sign_payload(payload, WEBHOOK_SECRET)),
        "missing header": (payload, None),
        "empty header": (payload, ""),
        "garbage header": (payload, "t=soon,v1=abc"),
        "too old": (payload, sign_payload(payload, WEBHOOK_SECRET, int(time.time()) - 301)),
    }
    for case, (body, header) in refused.items():
        with pytest.raises(SignatureError):
            stripe_gateway.verify_webhook(body, header)
            pytest.fail(case)


def test_deliver_posts_a_signed_event_to_the_webhook(stripe_gateway):
    app = Flask(__name__)
    seen = []

    @app.post("/stripe/webhook")
    def webhook():
        try:
            event = stripe_gateway.verify_webhook(
                request.get_data(), request.headers.get("Stripe-Signature")
            )
        except SignatureError as exc:
            return str(exc), 400
        seen.append((event["id"], request.content_type))
        return "", 200

    client = app.test_client()
    event = LocalStripe(MemoryStore()).event("invoice.paid", {"id": "in_1", "object": "invoice"})
    assert deliver(client, event, WEBHOOK_SECRET).status_code == 200
    assert seen == [(event["id"], "application/json")]
    old = int(time.time()) - 301
    assert deliver(client, event, WEBHOOK_SECRET, timestamp=old).status_code == 400
    assert deliver(client, event, "whsec_other").status_code == 400
    assert deliver(client, event, WEBHOOK_SECRET, signature="").status_code == 400
    assert len(seen) == 1
