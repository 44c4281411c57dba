"""The only module that imports ``stripe``: Stripe's API behind plain dataclasses.

Everything here takes and returns plain data. The parse functions turn
Stripe-shaped dicts into snapshots; the local test-mode gateway
(``local_gateway``) reuses them, so both read Stripe's objects the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the library itself is imported on first use: see _stripe()
    import stripe  # noqa: F401

Json = dict[str, Any]


# --- what the app sends and gets back -------------------------------------


@dataclass(frozen=True)
class CheckoutRequest:
    gift_id: int
    mode: str  # "payment" (one-time) or "subscription" (monthly)
    amount_cents: int
    currency: str  # ISO code, any case
    product_name: str
    customer_email: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None  # None when Stripe gives no hosted page to send the donor to


@dataclass(frozen=True)
class SessionSnapshot:
    id: str
    mode: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent_id: str | None
    subscription_id: str | None
    customer_id: str | None
    amount_total: int | None
    currency: str | None
    metadata: dict[str, str]
    client_reference_id: str | None


@dataclass(frozen=True)
class PaymentSnapshot:
    """A PaymentIntent and its charge, as Stripe has them now."""

    payment_intent_id: str | None
    status: str  # succeeded, processing, requires_payment_method, canceled, ...
    amount_cents: int
    currency: str
    charge_id: str | None
    charge_created: datetime | None
    payment_method_type: str | None
    fee_cents: int | None  # None until the balance transaction exists
    refunded_cents: int
    customer_id: str | None
    metadata: dict[str, str]
    failure_message: str


@dataclass(frozen=True)
class InvoiceSnapshot:
    id: str
    status: str  # draft, open, paid, uncollectible, void
    billing_reason: str
    subscription_id: str | None
    customer_id: str | None
    amount_paid: int
    amount_due: int
    currency: str
    payment_intent_id: str | None
    subscription_metadata: dict[str, str]
    paid_at: datetime | None
    created: datetime | None


@dataclass(frozen=True)
class SubscriptionSnapshot:
    id: str
    status: str  # incomplete, active, past_due, unpaid, canceled, ...
    customer_id: str | None
    metadata: dict[str, str]
    amount_cents: int | None
    currency: str | None
    current_period_end: datetime | None
    canceled_at: datetime | None
    latest_invoice_id: str | None
    start_date: datetime | None = None  # when the subscription started


@dataclass(frozen=True)
class RefundSnapshot:
    """A Refund (``re_...``): which charge it returns money from, and how far it got."""

    id: str
    charge_id: str | None
    payment_intent_id: str | None
    status: str  # pending, requires_action, succeeded, failed, canceled
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class DisputeSnapshot:
    id: str
    charge_id: str
    payment_intent_id: str | None
    status: str  # warning_needs_response, needs_response, under_review, won, lost, ...
    amount_cents: int
    withdrawn_cents: int  # held back now: the sum of its balance transactions, negated
    fee_cents: int  # dispute fees charged (net of any returned)


class GatewayError(Exception):
    """Stripe could not be reached or refused. ``retryable`` when trying again may work."""

    def __init__(self, message: str, *, retryable: bool = True, not_found: bool = False):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.not_found = not_found


class SignatureError(Exception):
    """A webhook's signature is missing, wrong, or too old."""


class PaymentGateway(Protocol):
    test_mode: bool

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession: ...
    def fetch_checkout_session(self, session_id: str) -> SessionSnapshot: ...
    def fetch_payment(self, payment_intent_id: str) -> PaymentSnapshot: ...
    def fetch_charge(self, charge_id: str) -> PaymentSnapshot: ...
    def fetch_invoice(self, invoice_id: str) -> InvoiceSnapshot: ...
    def fetch_subscription(self, subscription_id: str) -> SubscriptionSnapshot: ...
    def fetch_dispute(self, dispute_id: str) -> DisputeSnapshot: ...
    def fetch_refund(self, refund_id: str) -> RefundSnapshot: ...
    def create_portal_session(self, *, customer_id: str, return_url: str) -> str: ...
    def verify_webhook(self, payload: bytes, signature: str | None) -> Json: ...


# --- parsing Stripe's objects ---------------------------------------------


def _id(value: Any) -> str | None:
    """Return the id of an expandable field, whether it was expanded or not."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _metadata(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def parse_session(data: Json) -> SessionSnapshot:
    return SessionSnapshot(
        id=data["id"],
        mode=data.get("mode") or "payment",
        status=data.get("status") or "",
        payment_status=data.get("payment_status") or "",
        payment_intent_id=_id(data.get("payment_intent")),
        subscription_id=_id(data.get("subscription")),
        customer_id=_id(data.get("customer")),
        amount_total=data.get("amount_total"),
        currency=(data.get("currency") or "").upper() or None,
        metadata=_metadata(data.get("metadata")),
        client_reference_id=data.get("client_reference_id"),
    )


def parse_charge(charge: Json, payment_intent: Json | None = None) -> PaymentSnapshot:
    """Read a charge (balance_transaction expanded) and, if given, its PaymentIntent."""
    bt = charge.get("balance_transaction")
    fee = bt.get("fee") if isinstance(bt, dict) else None
    pi = payment_intent or (
        charge["payment_intent"] if isinstance(charge.get("payment_intent"), dict) else None
    )
    metadata = _metadata(charge.get("metadata"))
    if pi is not None:
        metadata = {**metadata, **_metadata(pi.get("metadata"))}
    if pi is not None and _id(pi.get("latest_charge")) in (None, charge.get("id")):
        status = pi.get("status") or ""
    else:  # no PaymentIntent, or this charge is an earlier attempt: the charge decides
        status = {"succeeded": "succeeded", "pending": "processing"}.get(
            charge.get("status") or "", "requires_payment_method"
        )
    details = charge.get("payment_method_details") or {}
    return PaymentSnapshot(
        payment_intent_id=_id(charge.get("payment_intent")) or (pi or {}).get("id"),
        status=status,
        amount_cents=int(charge.get("amount") or 0),
        currency=(charge.get("currency") or "").upper(),
        charge_id=charge.get("id"),
        charge_created=_time(charge.get("created")),
        payment_method_type=details.get("type"),
        fee_cents=int(fee) if fee is not None else None,
        refunded_cents=int(charge.get("amount_refunded") or 0),
        customer_id=_id(charge.get("customer")) or _id((pi or {}).get("customer")),
        metadata=metadata,
        failure_message=charge.get("failure_message") or "",
    )


def parse_payment_intent(pi: Json) -> PaymentSnapshot:
    """Read a PaymentIntent whose latest_charge (and its balance_transaction) is expanded."""
    charge = pi.get("latest_charge")
    if isinstance(charge, dict):
        snapshot = parse_charge(charge, pi)
        return snapshot
    error = pi.get("last_payment_error") or {}
    return PaymentSnapshot(
        payment_intent_id=pi["id"],
        status=pi.get("status") or "",
        amount_cents=int(pi.get("amount") or 0),
        currency=(pi.get("currency") or "").upper(),
        charge_id=_id(charge),
        charge_created=None,
        payment_method_type=None,
        fee_cents=None,
        refunded_cents=0,
        customer_id=_id(pi.get("customer")),
        metadata=_metadata(pi.get("metadata")),
        failure_message=error.get("message") or "",
    )


def parse_invoice(data: Json) -> InvoiceSnapshot:
    parent = data.get("parent") or {}
    details = parent.get("subscription_details") or {}
    payment_intent_id = None
    for payment in (data.get("payments") or {}).get("data", []):
        inner = payment.get("payment") or {}
        if inner.get("payment_intent"):
            payment_intent_id = _id(inner["payment_intent"])
            if payment.get("status") == "paid":
                break
    transitions = data.get("status_transitions") or {}
    return InvoiceSnapshot(
        id=data["id"],
        status=data.get("status") or "",
        billing_reason=data.get("billing_reason") or "",
        subscription_id=_id(details.get("subscription")),
        customer_id=_id(data.get("customer")),
        amount_paid=int(data.get("amount_paid") or 0),
        amount_due=int(data.get("amount_due") or 0),
        currency=(data.get("currency") or "").upper(),
        payment_intent_id=payment_intent_id,
        subscription_metadata=_metadata(details.get("metadata")),
        paid_at=_time(transitions.get("paid_at")),
        created=_time(data.get("created")),
    )


def parse_subscription(data: Json) -> SubscriptionSnapshot:
    items = (data.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or {}
    return SubscriptionSnapshot(
        id=data["id"],
        status=data.get("status") or "",
        customer_id=_id(data.get("customer")),
        metadata=_metadata(data.get("metadata")),
        amount_cents=price.get("unit_amount"),
        currency=(price.get("currency") or data.get("currency") or "").upper() or None,
        current_period_end=_time(item.get("current_period_end")),
        canceled_at=_time(data.get("canceled_at") or data.get("ended_at")),
        latest_invoice_id=_id(data.get("latest_invoice")),
        start_date=_time(data.get("start_date")),
    )


def parse_dispute(data: Json) -> DisputeSnapshot:
    transactions = data.get("balance_transactions") or []
    return DisputeSnapshot(
        id=data["id"],
        charge_id=_id(data.get("charge")) or "",
        payment_intent_id=_id(data.get("payment_intent")),
        status=data.get("status") or "",
        amount_cents=int(data.get("amount") or 0),
        withdrawn_cents=-sum(int(t.get("amount") or 0) for t in transactions),
        fee_cents=sum(int(t.get("fee") or 0) for t in transactions),
    )


def parse_refund(data: Json) -> RefundSnapshot:
    return RefundSnapshot(
        id=data["id"],
        charge_id=_id(data.get("charge")),
        payment_intent_id=_id(data.get("payment_intent")),
        status=data.get("status") or "",
        amount_cents=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").upper(),
    )


def _stripe() -> Any:
    """The stripe library, imported on first use rather than with this module.

    It brings requests and urllib3 along (about a tenth of a second), and most processes
    (a worker starting, a page of the app) never talk to Stripe; this is still the only
    module that uses it.
    """
    return import_module("stripe")


def verify_signature(payload: bytes, signature: str | None, secret: str, tolerance: int) -> Json:
    """Check a Stripe-Signature header on the raw body; return the parsed event."""
    stripe = _stripe()
    if not signature:
        raise SignatureError("missing Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=tolerance
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise SignatureError(str(exc)) from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise SignatureError("body is not JSON") from None
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise SignatureError("body is not a Stripe event")
    return event


def checkout_params(request: CheckoutRequest) -> Json:
    """Return the Checkout Session parameters for a one-time or monthly gift."""
    price_data: Json = {
        "currency": request.currency.lower(),
        "unit_amount": request.amount_cents,
        "product_data": {"name": request.product_name},
    }
    params: Json = {
        "mode": request.mode,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "client_reference_id": str(request.gift_id),
        "metadata": dict(request.metadata),
        "line_items": [{"quantity": 1, "price_data": price_data}],
    }
    if request.customer_email:
        params["customer_email"] = request.customer_email
    if request.mode == "subscription":
        price_data["recurring"] = {"interval": "month"}
        params["subscription_data"] = {"metadata": dict(request.metadata)}
    else:
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": dict(request.metadata)}
    return params


# --- the real thing ---------------------------------------------------------


class StripeGateway:
    """Talks to Stripe (or anything that answers like it at ``api_base``)."""

    test_mode = False

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str,
        api_version: str,
        timeout: float = 20,
        max_network_retries: int = 2,
        webhook_tolerance: int = 300,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.webhook_tolerance = webhook_tolerance
        stripe = _stripe()
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base},
            stripe_version=api_version,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def _call(self, func, *args, **kwargs) -> Json:
        stripe = _stripe()
        try:
            result = func(*args, **kwargs)
        except stripe.InvalidRequestError as exc:
            missing = getattr(exc, "code", None) == "resource_missing" or exc.http_status == 404
            raise GatewayError(
                exc.user_message or str(exc), retryable=False, not_found=missing
            ) from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}", retryable=True) from None
        except stripe.StripeError as exc:
            # 409: another request with the same idempotency key is in flight
            retryable = getattr(exc, "http_status", None) == 409
            raise GatewayError(f"{type(exc).__name__}: {exc}", retryable=retryable) from None
        return result.to_dict()

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        data = self._call(
            self.client.v1.checkout.sessions.create,
            params=checkout_params(request),
            options={"idempotency_key": request.idempotency_key},
        )
        return CheckoutSession(id=data["id"], url=data.get("url") or None)

    def fetch_checkout_session(self, session_id: str) -> SessionSnapshot:
        return parse_session(self._call(self.client.v1.checkout.sessions.retrieve, session_id))

    def fetch_payment(self, payment_intent_id: str) -> PaymentSnapshot:
        data = self._call(
            self.client.v1.payment_intents.retrieve,
            payment_intent_id,
            params={"expand": ["latest_charge.balance_transaction"]},
        )
        return parse_payment_intent(data)

    def fetch_charge(self, charge_id: str) -> PaymentSnapshot:
        data = self._call(
            self.client.v1.charges.retrieve,
            charge_id,
            params={"expand": ["balance_transaction", "payment_intent"]},
        )
        return parse_charge(data)

    def fetch_invoice(self, invoice_id: str) -> InvoiceSnapshot:
        data = self._call(
            self.client.v1.invoices.retrieve, invoice_id, params={"expand": ["payments"]}
        )
        return parse_invoice(data)

    def fetch_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        return parse_subscription(
            self._call(self.client.v1.subscriptions.retrieve, subscription_id)
        )

    def fetch_dispute(self, dispute_id: str) -> DisputeSnapshot:
        return parse_dispute(self._call(self.client.v1.disputes.retrieve, dispute_id))

    def fetch_refund(self, refund_id: str) -> RefundSnapshot:
        return parse_refund(self._call(self.client.v1.refunds.retrieve, refund_id))

    def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        data = self._call(
            self.client.v1.billing_portal.sessions.create,
            params={"customer": customer_id, "return_url": return_url},
        )
        return data["url"]

    def verify_webhook(self, payload: bytes, signature: str | None) -> Json:
        return verify_signature(payload, signature, self.webhook_secret, self.webhook_tolerance)
