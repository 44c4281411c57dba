"""Reading Stripe before the write lock: a batch of events asks Stripe for its objects
first, then applies them holding the lock only for the database's work.

Processing asks Stripe for each object as it is now (a network round trip each in
production). ``ReadAhead`` makes those reads for a batch of waiting events before the
batch takes the database's write lock (SQLite's one lock; row locks on PostgreSQL), and
answers the handlers' reads from them; a read it did not foresee goes to Stripe as before.
The objects are as fresh as before: read moments earlier, in the same run.
"""

from __future__ import annotations

import contextlib
from typing import Any

from donations.integrations.stripe_gateway import GatewayError, InvoiceSnapshot, PaymentGateway
from donations.services.stripe_events.handlers import OBJECT_TYPES
from donations.services.stripe_events.run import Json

FETCHES = (
    "fetch_checkout_session",
    "fetch_payment",
    "fetch_charge",
    "fetch_invoice",
    "fetch_subscription",
    "fetch_dispute",
    "fetch_refund",
)


class ReadAhead:
    """A gateway whose reads of Stripe objects were made ahead; everything else passes on."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway
        self.read: dict[tuple[str, str], Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name in FETCHES:
            return lambda object_id: self._fetch(name, object_id)
        return getattr(self.gateway, name)

    def _fetch(self, kind: str, object_id: str) -> Any:
        key = (kind, object_id)
        if key not in self.read:
            try:
                self.read[key] = getattr(self.gateway, kind)(object_id)
            except GatewayError as error:  # the handler meets it too: the event is kept
                self.read[key] = error
        found = self.read[key]
        if isinstance(found, GatewayError):
            raise found
        return found

    def read_event(self, event_type: str, obj: Json) -> None:
        """Read what the handler of an event of this type will ask Stripe for. Stripe's
        refusal is kept, for the handler to meet (and record) when it asks in this run."""
        object_id = obj.get("id")
        if not isinstance(object_id, str) or obj.get("object") != OBJECT_TYPES.get(event_type):
            return
        with contextlib.suppress(GatewayError):
            self._read(event_type.split("."), object_id)

    def _read(self, kind: list[str], object_id: str) -> None:
        fetch = self._fetch
        if kind[0] == "checkout":
            session = fetch("fetch_checkout_session", object_id)
            if session.mode == "subscription" and session.subscription_id:
                sub = fetch("fetch_subscription", session.subscription_id)
                if sub.latest_invoice_id:
                    self._read_invoice(fetch("fetch_invoice", sub.latest_invoice_id))
            elif session.payment_intent_id:
                fetch("fetch_payment", session.payment_intent_id)
        elif kind[0] == "invoice":
            self._read_invoice(fetch("fetch_invoice", object_id))
        elif kind[0] == "customer" and kind[1] == "subscription":
            fetch("fetch_subscription", object_id)
        elif kind[:2] == ["charge", "refund"]:
            refund = fetch("fetch_refund", object_id)
            if refund.charge_id:
                fetch("fetch_charge", refund.charge_id)
        elif kind[:2] == ["charge", "dispute"]:
            fetch("fetch_dispute", object_id)
        elif kind[0] == "charge":
            fetch("fetch_charge", object_id)

    def _read_invoice(self, invoice: InvoiceSnapshot) -> None:
        if invoice.payment_intent_id:
            self._fetch("fetch_payment", invoice.payment_intent_id)
        if invoice.subscription_id:
            self._fetch("fetch_subscription", invoice.subscription_id)
