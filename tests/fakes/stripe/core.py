"""The simulator's core: storing, building, reading and expanding Stripe's objects and events."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fakes.stripe.objects import (
    _ADDRESS,
    DEFAULT_API_VERSION,
    Json,
    LocalStripeError,
    ObjectStore,
    _list,
    _missing,
    _strip_includables,
    new_id,
    round_half_up,
)


class StripeCore:
    """Stripe's objects, API answers and webhook events, kept in ``store``."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        fee_percent_bp: int = 290,
        fee_fixed_cents: int = 30,
        api_version: str = DEFAULT_API_VERSION,
        checkout_url_template: str = "https://checkout.local/{id}",
        portal_url_template: str = "https://billing.local/{customer}",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.fee_percent_bp = fee_percent_bp
        self.fee_fixed_cents = fee_fixed_cents
        self.api_version = api_version
        self.checkout_url_template = checkout_url_template
        self.portal_url_template = portal_url_template
        self.clock = clock
        self._lock = threading.RLock()

    # --- plumbing ----------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def _load(self, object_type: str, object_id: str) -> Json:
        obj = self.store.get(object_id) if object_id else None
        if obj is None or obj.get("object") != object_type:
            raise _missing(object_type, object_id)
        return obj

    def _save(self, *objects: Json) -> None:
        for obj in objects:
            self.store.put(obj)

    def processing_fee(self, amount: int) -> int:
        """Return Stripe's fee on a charge of ``amount``: percent (half up) plus fixed."""
        return round_half_up(amount * self.fee_percent_bp, 10_000) + self.fee_fixed_cents

    def render(self, obj: Json, expand: Iterable[str] = ()) -> Json:
        """Return a copy of ``obj`` as the API shows it, with ``expand`` paths expanded."""
        paths = [path.split(".") for path in expand if path]
        return self._render(copy.deepcopy(obj), paths, "")

    def _render(self, obj: Json, paths: list[list[str]], where: str) -> Json:
        heads: dict[str, list[list[str]]] = {}
        for path in paths:
            heads.setdefault(path[0], []).append(path[1:])
        _strip_includables(obj, heads)
        for field, rests in heads.items():
            name = f"{where}.{field}" if where else field
            if field not in obj:
                raise LocalStripeError(
                    400, None, f"This property cannot be expanded ({name}).", param="expand"
                )
            obj[field] = self._expand(obj[field], rests, name)
        return obj

    def _expand(self, value: Any, paths: list[list[str]], where: str) -> Any:
        deeper = [path for path in paths if path]
        if isinstance(value, list):
            return [self._expand(item, paths, where) for item in value]
        if isinstance(value, str):
            stored = self.store.get(value)
            if stored is None:
                raise LocalStripeError(
                    400, None, f"This property cannot be expanded ({where}).", param="expand"
                )
            return self._render(stored, deeper, where)
        if isinstance(value, dict):
            return self._render(value, deeper, where)
        return value

    def event(
        self,
        type: str,
        obj: Json,
        *,
        previous_attributes: Json | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """Return (and store) the event Stripe would send about ``obj`` as it is now."""
        data: Json = {"object": self.render(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": type,
        }
        self.store.put(event)
        return copy.deepcopy(event)

    # --- the API -----------------------------------------------------------

    def retrieve(self, object_type: str, object_id: str, expand: Iterable[str] = ()) -> Json:
        """Return the object as GET /v1/<objects>/<id> would, with ``expand`` expanded."""
        with self._lock:
            return self.render(self._load(object_type, object_id), expand)

    # --- object builders -----------------------------------------------------

    def _customer(self, email: str | None, name: str | None) -> Json:
        customer = {
            "id": new_id("cus_", 7),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self.now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "discount": None,
            "email": email,
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": {},
            "name": name,
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self._save(customer)
        return customer

    def _payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: dict[str, str],
        method_type: str,
        description: str | None = None,
    ) -> Json:
        pi_id = new_id("pi_")
        return {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{pi_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": self.now(),
            "currency": currency,
            "customer": customer,
            "description": description,
            "excluded_payment_method_types": None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(metadata),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": new_id("pm_"),
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": [method_type],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }

    def _charge(self, pi: Json, email: str | None) -> Json:
        """Return a new charge for ``pi`` (not yet stored), still pending."""
        charge_id = new_id("ch_")
        method_type = pi["payment_method_types"][0]
        if method_type == "us_bank_account":
            details: Json = {
                "type": "us_bank_account",
                "us_bank_account": {
                    "account_holder_type": "individual",
                    "account_type": "checking",
                    "bank_name": "STRIPE TEST BANK",
                    "fingerprint": secrets.token_hex(8),
                    "last4": "6789",
                    "mandate": None,
                    "payment_reference": None,
                    "routing_number": "110000000",
                },
            }
        else:
            details = {
                "type": "card",
                "card": {
                    "amount_authorized": pi["amount"],
                    "brand": "visa",
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "pass",
                    },
                    "country": "US",
                    "exp_month": 12,
                    "exp_year": datetime.fromtimestamp(self.now(), UTC).year + 3,
                    "fingerprint": secrets.token_hex(8),
                    "funding": "credit",
                    "last4": "4242",
                    "network": "visa",
                    "three_d_secure": None,
                    "wallet": None,
                },
            }
        return {
            "id": charge_id,
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": {
                "address": dict(_ADDRESS),
                "email": email,
                "name": None,
                "phone": None,
                "tax_id": None,
            },
            "calculated_statement_descriptor": "LOCAL STRIPE",
            "captured": False,
            "created": self.now(),
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "on_behalf_of": None,
            "outcome": None,
            "paid": False,
            "payment_intent": pi["id"],
            "payment_method": pi["payment_method"],
            "payment_method_details": details,
            "radar_options": {},
            "receipt_email": None,
            "receipt_number": None,
            "receipt_url": f"https://pay.local/receipts/{charge_id}",
            "refunded": False,
            "refunds": _list(f"/v1/charges/{charge_id}/refunds"),
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "pending",
            "transfer_data": None,
            "transfer_group": None,
        }

    def _balance_transaction(
        self,
        *,
        amount: int,
        fee: int,
        currency: str,
        source: str,
        kind: str,
        category: str,
        description: str | None = None,
        fee_description: str = "Stripe processing fees",
    ) -> Json:
        now = self.now()
        bt = {
            "id": new_id("txn_"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now + 2 * 86400,
            "balance_type": "payments",
            "created": now,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": currency,
                        "description": fee_description,
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else []
            ),
            "net": amount - fee,
            "reporting_category": category,
            "source": source,
            "status": "pending",
            "type": kind,
        }
        self._save(bt)
        return bt

    def _succeed_charge(self, charge: Json, pi: Json) -> None:
        """Mark ``charge`` and ``pi`` succeeded and create the balance transaction."""
        bt = self._balance_transaction(
            amount=charge["amount"],
            fee=self.processing_fee(charge["amount"]),
            currency=charge["currency"],
            source=charge["id"],
            kind="charge",
            category="charge",
            description=charge["description"],
        )
        charge.update(
            status="succeeded",
            paid=True,
            captured=True,
            amount_captured=charge["amount"],
            balance_transaction=bt["id"],
            failure_code=None,
            failure_message=None,
            outcome={
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": 12,
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
        )
        pi.update(
            status="succeeded",
            amount_received=pi["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
            processing=None,
        )

    def _fail_charge(self, charge: Json, pi: Json, *, code: str, message: str) -> None:
        charge.update(
            status="failed",
            paid=False,
            captured=False,
            failure_code=code,
            failure_message=message,
            outcome={
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "declined_by_network",
                "reason": "generic_decline" if code == "card_declined" else code,
                "risk_level": "normal",
                "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined",
            },
        )
        pi.update(
            status="requires_payment_method",
            amount_received=0,
            latest_charge=charge["id"],
            processing=None,
            last_payment_error={
                "charge": charge["id"],
                "code": code,
                "decline_code": "generic_decline" if code == "card_declined" else None,
                "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                "message": message,
                "payment_method": {"id": pi["payment_method"], "object": "payment_method"},
                "type": "card_error",
            },
        )

    def _pay(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: dict[str, str],
        email: str | None,
        method_type: str = "card",
        outcome: str = "succeeded",  # succeeded, processing, failed
        description: str | None = None,
    ) -> tuple[Json, Json]:
        """Create and store a PaymentIntent and its charge; return both."""
        pi = self._payment_intent(
            amount=amount,
            currency=currency,
            customer=customer,
            metadata=metadata,
            method_type=method_type,
            description=description,
        )
        charge = self._charge(pi, email)
        pi["latest_charge"] = charge["id"]
        if outcome == "succeeded":
            self._succeed_charge(charge, pi)
        elif outcome == "processing":
            pi.update(status="processing", processing=None)
        else:
            self._fail_charge(charge, pi, code="card_declined", message="Your card was declined.")
        self._save(pi, charge)
        return pi, charge

    def _payment_events(self, pi: Json, charge: Json) -> list[Json]:
        kind = {
            "succeeded": ("payment_intent.succeeded", "charge.succeeded"),
            "processing": ("payment_intent.processing", "charge.pending"),
            "requires_payment_method": ("payment_intent.payment_failed", "charge.failed"),
        }[pi["status"]]
        return [self.event(kind[0], pi), self.event(kind[1], charge)]

    # --- finding things, for tests ------------------------------------------------

    def session_charge_id(self, session_id: str) -> str | None:
        """Return the id of the charge that paid a Checkout Session (None if unpaid)."""
        with self._lock:
            session = self._load("checkout.session", session_id)
            if session["payment_intent"]:
                return self._load("payment_intent", session["payment_intent"])["latest_charge"]
            if session["invoice"]:
                return self.invoice_charge_id(session["invoice"])
            return None

    def invoice_charge_id(self, invoice_id: str) -> str | None:
        """Return the id of the latest charge that tried to pay an invoice."""
        with self._lock:
            invoice = self._load("invoice", invoice_id)
            for payment in invoice["payments"]["data"]:
                pi_id = payment["payment"].get("payment_intent")
                if pi_id:
                    return self._load("payment_intent", pi_id)["latest_charge"]
            return None
