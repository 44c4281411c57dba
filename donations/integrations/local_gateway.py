"""Test mode without Stripe keys: the PaymentGateway over the local tiny Stripe.

It reads the same Stripe-shaped objects with the same parse functions as the
real gateway, and verifies webhooks with the same signature check.
"""

from __future__ import annotations

from collections.abc import Callable

from donations.integrations.local_stripe import LocalStripe, LocalStripeError
from donations.integrations.stripe_gateway import (
    CheckoutRequest,
    CheckoutSession,
    DisputeSnapshot,
    GatewayError,
    InvoiceSnapshot,
    Json,
    PaymentSnapshot,
    RefundSnapshot,
    SessionSnapshot,
    SubscriptionSnapshot,
    checkout_params,
    parse_charge,
    parse_dispute,
    parse_invoice,
    parse_payment_intent,
    parse_refund,
    parse_session,
    parse_subscription,
    verify_signature,
)


class LocalGateway:
    """A PaymentGateway whose Stripe is ``LocalStripe`` in this process."""

    test_mode = True

    def __init__(
        self,
        local: LocalStripe | Callable[[], LocalStripe],
        *,
        webhook_secret: str,
        tolerance: int = 300,
    ) -> None:
        self._local = local
        self.webhook_secret = webhook_secret
        self.tolerance = tolerance

    @property
    def local(self) -> LocalStripe:
        """The local Stripe, built on first use (a repeated webhook never needs it)."""
        if not isinstance(self._local, LocalStripe):
            self._local = self._local()
        return self._local

    def _get(self, object_type: str, object_id: str, expand: list[str] | None = None) -> Json:
        return self._guard(self.local.retrieve, object_type, object_id, expand or [])

    @staticmethod
    def _guard(func, *args, **kwargs):
        """Call the local Stripe, turning its refusals into GatewayError as Stripe's are."""
        try:
            return func(*args, **kwargs)
        except LocalStripeError as exc:
            raise GatewayError(
                exc.message, retryable=False, not_found=exc.http_status == 404
            ) from None

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        key = f"idem_{request.idempotency_key}"
        remembered = self.local.store.get(key)
        if remembered is not None:
            session = self._get("checkout.session", remembered["session"])
        else:
            session = self._guard(self.local.create_checkout_session, checkout_params(request))
            self.local.store.put({"id": key, "object": "idempotency_key", "session": session["id"]})
        return CheckoutSession(id=session["id"], url=session.get("url") or None)

    def fetch_checkout_session(self, session_id: str) -> SessionSnapshot:
        return parse_session(self._get("checkout.session", session_id))

    def fetch_payment(self, payment_intent_id: str) -> PaymentSnapshot:
        return parse_payment_intent(
            self._get("payment_intent", payment_intent_id, ["latest_charge.balance_transaction"])
        )

    def fetch_charge(self, charge_id: str) -> PaymentSnapshot:
        return parse_charge(
            self._get("charge", charge_id, ["balance_transaction", "payment_intent"])
        )

    def fetch_invoice(self, invoice_id: str) -> InvoiceSnapshot:
        return parse_invoice(self._get("invoice", invoice_id, ["payments"]))

    def fetch_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        return parse_subscription(self._get("subscription", subscription_id))

    def fetch_dispute(self, dispute_id: str) -> DisputeSnapshot:
        return parse_dispute(self._get("dispute", dispute_id))

    def fetch_refund(self, refund_id: str) -> RefundSnapshot:
        return parse_refund(self._get("refund", refund_id))

    def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        return self._guard(self.local.create_portal_session, customer_id, return_url)["url"]

    def verify_webhook(self, payload: bytes, signature: str | None) -> Json:
        return verify_signature(payload, signature, self.webhook_secret, self.tolerance)
