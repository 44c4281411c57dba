"""Test mode without Stripe keys: a small offline Stripe behind the PaymentGateway.

``OfflineStripe`` keeps the Stripe-shaped objects test mode needs and returns the events
Stripe would send; ``LocalGateway`` reads them with the real gateway's parse functions and
verifies webhooks with its signature check. The full simulator the suite talks to
(validation, bank debits, disputes, the HTTP API) is under ``tests/fakes/stripe``.
"""

from __future__ import annotations

import calendar
import copy
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from donations.integrations import stripe_gateway as sg
from donations.integrations.stripe_gateway import GatewayError, Json


def _refused(message: str, *, missing: bool = False) -> GatewayError:
    """Return the error the gateway raises when Stripe refuses a call (404 when ``missing``)."""
    return GatewayError(message, retryable=False, not_found=missing)


class ObjectStore(Protocol):
    """Where the offline Stripe keeps its objects, by id."""

    def get(self, object_id: str) -> Json | None: ...
    def put(self, obj: Json) -> None: ...


def sign_payload(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """Return the Stripe-Signature header value Stripe would send with ``payload``."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    t = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def add_months(anchor: int, months: int) -> int:
    """Return ``anchor`` ``months`` later, keeping its day of month (Jan 31 -> Feb 28 -> Mar 31)."""
    start = datetime.fromtimestamp(anchor, UTC)
    year, month = divmod(start.month - 1 + months, 12)
    day = min(start.day, calendar.monthrange(start.year + year, month + 1)[1])
    return int(start.replace(year=start.year + year, month=month + 1, day=day).timestamp())


def _obj(kind: str, prefix: str, **fields: Any) -> Json:
    """Return a new Stripe-shaped object: a fresh id such as ``ch_3f9a...``, its type, fields."""
    return {"id": prefix + secrets.token_hex(12), "object": kind, **fields}


def _shown(obj: Json) -> Json:
    """Return ``obj`` as Stripe shows it: without the offline Stripe's own notes (``_...``)."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}


@dataclass
class OfflineStripe:
    """Stripe's objects and webhook events for test mode, kept in ``store``."""

    store: ObjectStore
    _: KW_ONLY
    fee_percent_bp: int = 290
    fee_fixed_cents: int = 30
    api_version: str = "2026-10-28.endive"
    checkout_url_template: str = "https://checkout.local/{id}"
    portal_url_template: str = "https://billing.local/{customer}"
    clock: Callable[[], float] = time.time

    def now(self) -> int:
        return int(self.clock())

    def processing_fee(self, amount: int) -> int:
        """Return Stripe's fee on a charge of ``amount``: percent (half up) plus fixed."""
        return (2 * amount * self.fee_percent_bp + 10_000) // 20_000 + self.fee_fixed_cents

    def _load(self, object_type: str, object_id: str | None) -> Json:
        obj = self.store.get(object_id) if object_id else None
        if obj is None or obj.get("object") != object_type:
            raise _refused(f"No such {object_type}: '{object_id}'", missing=True)
        return obj

    def _save(self, *objects: Json) -> None:
        for obj in objects:
            self.store.put(obj)

    def event(self, type: str, obj: Json, previous: Json | None = None) -> Json:
        """Return the event Stripe would send about ``obj`` as it is now."""
        data: Json = {"object": _shown(copy.deepcopy(obj))}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        event = _obj("event", "evt_", api_version=self.api_version, created=self.now())
        event.update(data=data, livemode=False, pending_webhooks=1, type=type)
        return {**event, "request": {"id": None, "idempotency_key": None}}

    def events(self, obj: Json, *types: str) -> list[Json]:
        """Return one event of each of ``types`` about ``obj``."""
        return [self.event(type, obj) for type in types]

    def retrieve(self, object_type: str, object_id: str, expand: Iterable[str] = ()) -> Json:
        """Return the object with the ids on each dotted ``expand`` path replaced by objects."""
        obj = self._load(object_type, object_id)
        for path in expand:
            node = obj
            for field in path.split("."):
                value = node.get(field)
                if isinstance(value, str):
                    value = node[field] = self.store.get(value) or value
                if not isinstance(value, dict):
                    break
                node = value
        return _shown(obj)

    # --- checkout and the portal ---------------------------------------------

    def create_checkout_session(self, params: Mapping[str, Any]) -> Json:
        """Create an open Checkout Session from the app's checkout parameters."""
        mode, (item,) = params["mode"], params["line_items"]  # one gift, paid once or monthly
        price_data = item["price_data"]
        amount = int(price_data["unit_amount"]) * int(item.get("quantity", 1))
        currency = str(price_data["currency"]).lower()
        session = _obj("checkout.session", "cs_test_", mode=mode, status="open")
        session.update(payment_status="unpaid", amount_total=amount, currency=currency)
        session.update({k: params.get(k) for k in ("customer_email", "client_reference_id")})
        session.update(success_url=params.get("success_url"), cancel_url=params.get("cancel_url"))
        session.update(metadata=dict(params.get("metadata") or {}), created=self.now())
        session.update(customer=None, payment_intent=None, subscription=None, invoice=None)
        session["url"] = self.checkout_url_template.format(id=session["id"])
        line = {"description": price_data["product_data"]["name"], "amount_total": amount}
        session["line_items"] = {"object": "list", "data": [line]}
        session["_price"] = {"unit_amount": amount, "currency": currency}  # monthly, if a plan
        pi_data, sub_data = params.get("payment_intent_data"), params.get("subscription_data")
        session["_pi_metadata"] = dict((pi_data or {}).get("metadata") or {})
        session["_sub_metadata"] = dict((sub_data or {}).get("metadata") or {})
        self._save(session)
        return _shown(session)

    def create_portal_session(self, customer: str, return_url: str) -> Json:
        """Return a billing portal session for a known customer."""
        self._load("customer", customer)
        portal = _obj("billing_portal.session", "bps_", customer=customer, return_url=return_url)
        return {
            **portal,
            "url": self.portal_url_template.format(customer=customer, id=portal["id"]),
        }

    # --- paying --------------------------------------------------------------

    def _charge(self, pi: Json, *, fail: bool) -> list[Json]:
        """Charge ``pi`` now (declined if ``fail``); store both and return their two events."""
        declined = "Your card was declined." if fail else None
        charge = _obj("charge", "ch_", amount=pi["amount"], amount_refunded=0, refunded=False)
        charge.update(currency=pi["currency"], customer=pi["customer"], created=self.now())
        charge.update(metadata=dict(pi["metadata"]), payment_intent=pi["id"])
        charge.update(payment_method_details={"type": "card"}, balance_transaction=None)
        charge.update(status="failed" if fail else "succeeded", failure_message=declined)
        if fail:
            error = {"charge": charge["id"], "code": "card_declined", "message": declined}
            pi.update(status="requires_payment_method", last_payment_error=error)
        else:
            fee = self.processing_fee(charge["amount"])
            bt = _obj("balance_transaction", "txn_", source=charge["id"], fee=fee)
            bt.update(amount=charge["amount"], net=charge["amount"] - fee)
            self._save(bt)
            charge["balance_transaction"] = bt["id"]
            pi.update(status="succeeded", last_payment_error=None)
        pi["latest_charge"] = charge["id"]
        self._save(pi, charge)
        kinds = ("payment_failed", "failed") if fail else ("succeeded", "succeeded")
        return [
            self.event(f"payment_intent.{kinds[0]}", pi),
            self.event(f"charge.{kinds[1]}", charge),
        ]

    def _pay(self, owner: Json, amount: int, metadata: Json, *, fail: bool = False) -> list[Json]:
        """Create a PaymentIntent for ``owner``'s customer and charge it; return the events."""
        pi = _obj("payment_intent", "pi_", amount=amount, metadata=dict(metadata))
        pi.update(currency=owner["currency"], customer=owner["customer"], created=self.now())
        return self._charge(pi, fail=fail)

    def _open_session(self, session_id: str) -> Json:
        session = self._load("checkout.session", session_id)
        if session["status"] != "open":
            raise _refused(f"Checkout Session {session_id} is {session['status']}.")
        return session

    def pay_checkout_session(self, session_id: str) -> list[Json]:
        """Have the donor pay the session by card; return the events Stripe would send."""
        session = self._open_session(session_id)
        email = session["customer_email"]
        if email or session["mode"] == "subscription":
            customer = _obj("customer", "cus_", email=email)
            self._save(customer)
            session["customer"] = customer["id"]
        session.update(status="complete", url=None, payment_status="paid")
        session["customer_details"] = {"email": email}
        if session["mode"] == "subscription":
            return self._start_subscription(session)
        events = self._pay(session, session["amount_total"], session["_pi_metadata"])
        session["payment_intent"] = events[0]["data"]["object"]["id"]
        self._save(session)
        return [self.event("checkout.session.completed", session), *events]

    def expire_checkout_session(self, session_id: str) -> list[Json]:
        """Let an open session expire unpaid."""
        session = self._open_session(session_id)
        session.update(status="expired", url=None)
        self._save(session)
        return [self.event("checkout.session.expired", session)]

    def refund(self, charge_id: str, amount: int | None = None, *, reason: str = "") -> list[Json]:
        """Refund ``amount`` (default: what remains) of a succeeded charge."""
        charge = self._load("charge", charge_id)
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = remaining if amount is None else amount
        if charge["status"] != "succeeded" or not 0 < amount <= remaining:
            raise _refused(f"Charge {charge_id} cannot be refunded {amount}.")
        refund = _obj("refund", "re_", amount=amount, charge=charge_id, reason=reason or None)
        refund.update(currency=charge["currency"], payment_intent=charge["payment_intent"])
        refund.update(status="succeeded", created=self.now())
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": False}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._save(refund, charge)
        refunded = self.event("charge.refunded", charge, previous)
        return [refunded, self.event("refund.created", refund)]

    # --- monthly gifts -------------------------------------------------------

    def _start_subscription(self, session: Json) -> list[Json]:
        price, now = session["_price"], self.now()
        items = {"object": "list", "data": [{"price": price, "quantity": 1}]}
        subscription = _obj("subscription", "sub_", status="active", customer=session["customer"])
        subscription.update(metadata=dict(session["_sub_metadata"]), currency=price["currency"])
        subscription.update(billing_cycle_anchor=now, start_date=now, created=now, items=items)
        subscription.update(canceled_at=None, ended_at=None)
        self._set_period(subscription, now, cycles=1)
        invoice, payment = self._invoice(subscription, "subscription_create", fail=False)
        session.update(subscription=subscription["id"], invoice=invoice["id"])
        self._save(subscription, session)
        return [
            self.event("checkout.session.completed", session),
            self.event("customer.subscription.created", subscription),
            *self.events(invoice, "invoice.paid", "invoice.payment_succeeded"),
            *payment,
        ]

    @staticmethod
    def _set_period(subscription: Json, start: int, *, cycles: int) -> None:
        """Make the current period run from ``start`` to the end of monthly cycle ``cycles``."""
        end = add_months(subscription["billing_cycle_anchor"], cycles)
        subscription["items"]["data"][0].update(current_period_start=start, current_period_end=end)
        subscription["_cycles"] = cycles

    def _invoice(self, subscription: Json, reason: str, *, fail: bool) -> tuple[Json, list[Json]]:
        """Create the invoice for the subscription's current period and try to pay it."""
        amount, now = subscription["items"]["data"][0]["price"]["unit_amount"], self.now()
        events = self._pay(subscription, amount, {}, fail=fail)
        pi_id, status = events[0]["data"]["object"]["id"], "open" if fail else "paid"
        invoice = _obj("invoice", "in_", status=status, billing_reason=reason, created=now)
        invoice.update(customer=subscription["customer"], currency=subscription["currency"])
        invoice.update(amount_due=amount, amount_paid=0 if fail else amount, attempt_count=1)
        details = {"subscription": subscription["id"], "metadata": dict(subscription["metadata"])}
        invoice["parent"] = {"type": "subscription_details", "subscription_details": details}
        payment = {"payment": {"type": "payment_intent", "payment_intent": pi_id}, "status": status}
        invoice["payments"] = {"object": "list", "data": [payment]}
        invoice["status_transitions"] = {"paid_at": None if fail else now}
        invoice["_payment_intent"] = pi_id
        self._save(invoice)
        subscription["latest_invoice"] = invoice["id"]
        return invoice, events

    def renew_subscription(self, subscription_id: str, *, fail: bool = False) -> list[Json]:
        """Start the subscription's next period and invoice it (paid, or declined if ``fail``)."""
        subscription = self._load("subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise _refused(f"Subscription {subscription_id} is canceled.")
        previous = {key: copy.deepcopy(subscription[key]) for key in ("items", "latest_invoice")}
        end = subscription["items"]["data"][0]["current_period_end"]
        self._set_period(subscription, end, cycles=subscription["_cycles"] + 1)
        invoice, payment = self._invoice(subscription, "subscription_cycle", fail=fail)
        status = "past_due" if fail else "active"
        if subscription["status"] != status:
            previous["status"], subscription["status"] = subscription["status"], status
        self._save(subscription)
        updated = self.event("customer.subscription.updated", subscription, previous)
        kinds = (
            ("invoice.payment_failed",) if fail else ("invoice.paid", "invoice.payment_succeeded")
        )
        return [*self.events(invoice, *kinds), updated, *payment]

    def retry_invoice(self, invoice_id: str, *, fail: bool = False) -> list[Json]:
        """Try again to collect an open invoice (paid, or declined again if ``fail``)."""
        invoice = self._load("invoice", invoice_id)
        if invoice["status"] != "open":
            raise _refused(f"Invoice {invoice_id} is {invoice['status']}, not open.")
        payment = self._charge(self._load("payment_intent", invoice["_payment_intent"]), fail=fail)
        invoice["attempt_count"] += 1
        if fail:
            self._save(invoice)
            return [self.event("invoice.payment_failed", invoice), *payment]
        invoice.update(status="paid", amount_paid=invoice["amount_due"])
        invoice["status_transitions"]["paid_at"] = self.now()
        invoice["payments"]["data"][0]["status"] = "paid"
        self._save(invoice)
        events = self.events(invoice, "invoice.paid", "invoice.payment_succeeded")
        sub_id = invoice["parent"]["subscription_details"]["subscription"]
        subscription = self._load("subscription", sub_id)
        if subscription["status"] == "past_due" and subscription["latest_invoice"] == invoice_id:
            subscription["status"] = "active"
            self._save(subscription)
            previous = {"status": "past_due"}
            events.append(self.event("customer.subscription.updated", subscription, previous))
        return [*events, *payment]

    def cancel_subscription(self, subscription_id: str) -> list[Json]:
        """Cancel a subscription now."""
        subscription = self._load("subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise _refused(f"Subscription {subscription_id} is already canceled.")
        now = self.now()
        subscription.update(status="canceled", canceled_at=now, ended_at=now)
        subscription["cancellation_details"] = {"reason": "cancellation_requested"}
        self._save(subscription)
        return [self.event("customer.subscription.deleted", subscription)]


@dataclass
class LocalGateway:
    """A PaymentGateway whose Stripe is an ``OfflineStripe`` in this process."""

    source: OfflineStripe | Callable[[], OfflineStripe]  # a factory: built on first use
    _: KW_ONLY
    webhook_secret: str
    tolerance: int = 300
    test_mode: ClassVar[bool] = True

    @property
    def local(self) -> OfflineStripe:
        """The offline Stripe, built on first use (a repeated webhook never needs it)."""
        if not isinstance(self.source, OfflineStripe):
            self.source = self.source()
        return self.source

    def _get(self, object_type: str, object_id: str, *expand: str) -> Json:
        return self.local.retrieve(object_type, object_id, expand)

    def create_checkout_session(self, request: sg.CheckoutRequest) -> sg.CheckoutSession:
        key = f"idem_{request.idempotency_key}"
        remembered = self.local.store.get(key)
        if remembered is not None:
            session = self._get("checkout.session", remembered["session"])
        else:
            session = self.local.create_checkout_session(sg.checkout_params(request))
            self.local.store.put({"id": key, "object": "idempotency_key", "session": session["id"]})
        return sg.CheckoutSession(id=session["id"], url=session.get("url") or None)

    def fetch_checkout_session(self, session_id: str) -> sg.SessionSnapshot:
        return sg.parse_session(self._get("checkout.session", session_id))

    def fetch_payment(self, payment_intent_id: str) -> sg.PaymentSnapshot:
        expand = "latest_charge.balance_transaction"
        return sg.parse_payment_intent(self._get("payment_intent", payment_intent_id, expand))

    def fetch_charge(self, charge_id: str) -> sg.PaymentSnapshot:
        expand = ("balance_transaction", "payment_intent")
        return sg.parse_charge(self._get("charge", charge_id, *expand))

    def fetch_invoice(self, invoice_id: str) -> sg.InvoiceSnapshot:
        return sg.parse_invoice(self._get("invoice", invoice_id))

    def fetch_subscription(self, subscription_id: str) -> sg.SubscriptionSnapshot:
        return sg.parse_subscription(self._get("subscription", subscription_id))

    def fetch_dispute(self, dispute_id: str) -> sg.DisputeSnapshot:
        return sg.parse_dispute(self._get("dispute", dispute_id))

    def fetch_refund(self, refund_id: str) -> sg.RefundSnapshot:
        return sg.parse_refund(self._get("refund", refund_id))

    def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        return self.local.create_portal_session(customer_id, return_url)["url"]

    def verify_webhook(self, payload: bytes, signature: str | None) -> Json:
        return sg.verify_signature(payload, signature, self.webhook_secret, self.tolerance)
