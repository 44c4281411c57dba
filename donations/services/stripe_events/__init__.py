"""Stripe webhook events: stored once by id, processed idempotently, in any order.

Every event is stored with its raw payload in the same transaction as its
effects. Processing never trusts the event's snapshot of an object: it asks
Stripe for the object as it is now (the checkout session, charge, refund,
invoice, subscription or dispute), at the endpoint of the object type the event
carries (``OBJECT_TYPES``: ``charge.refund.updated`` carries a Refund, read from
/v1/refunds), and sets the gift or plan to match. Applying the
current truth twice changes nothing, and an old event arriving late cannot
undo a newer one. An event about a payment we cannot place yet (a refund of an
instalment whose invoice has not arrived) is *parked* and processed again as
soon as that payment is linked to a gift.
"""

from donations.services.stripe_events.apply import (
    ADJUSTMENT_KINDS,
    PLAN_STATUS,
    apply_dispute,
    apply_payment,
    apply_subscription,
    sync_invoice,
)
from donations.services.stripe_events.handlers import (
    HANDLERS,
    OBJECT_TYPES,
    on_charge,
    on_checkout_session,
    on_dispute,
    on_invoice,
    on_invoice_failed,
    on_refund,
    on_subscription,
)
from donations.services.stripe_events.receiving import (
    Receipt,
    count_waiting,
    process_event,
    process_received,
    receive_webhook,
    record_event,
    waiting_everywhere,
)
from donations.services.stripe_events.run import (
    Json,
    NotOurs,
    Parked,
    Run,
)

__all__ = [
    "ADJUSTMENT_KINDS",
    "HANDLERS",
    "OBJECT_TYPES",
    "PLAN_STATUS",
    "Json",
    "NotOurs",
    "Parked",
    "Receipt",
    "Run",
    "apply_dispute",
    "apply_payment",
    "apply_subscription",
    "count_waiting",
    "on_charge",
    "on_checkout_session",
    "on_dispute",
    "on_invoice",
    "on_invoice_failed",
    "on_refund",
    "on_subscription",
    "process_event",
    "process_received",
    "receive_webhook",
    "record_event",
    "sync_invoice",
    "waiting_everywhere",
]
