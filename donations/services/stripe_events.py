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

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from donations.extensions import db
from donations.integrations.stripe_gateway import (
    DisputeSnapshot,
    GatewayError,
    InvoiceSnapshot,
    PaymentGateway,
    PaymentSnapshot,
    SubscriptionSnapshot,
)
from donations.models import (
    AdjustmentKind,
    Frequency,
    Gift,
    GiftAdjustment,
    GiftMethod,
    GiftSource,
    GiftStatus,
    PlanStatus,
    RecurringPlan,
    StripeEvent,
    StripeEventStatus,
    utcnow,
)
from donations.services import notifications, receipt_delivery, receipts
from donations.services.locking import serialize_writes

log = logging.getLogger(__name__)

Json = dict[str, Any]


class Parked(Exception):
    """The event is about a payment not yet linked to any gift; retry it later."""

    def __init__(self, object_id: str, reason: str) -> None:
        super().__init__(reason)
        self.object_id = object_id
        self.reason = reason


class NotOurs(Exception):
    """The event is about something this site did not start (e.g. another app's sale)."""


@dataclass
class Run:
    """One processing run: the gateway, and what the handlers touched."""

    gateway: PaymentGateway
    now: datetime | None = None  # when it happens; the clock's time when None (the demo sets it)
    gift: Gift | None = None
    plan: RecurringPlan | None = None
    linked_ids: set[str] = field(default_factory=set)


# --- receiving ----------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """What became of one delivery: the event's status, and whether it was a repeat."""

    event_id: str
    status: str
    duplicate: bool


def receive_webhook(
    *,
    payload: bytes,
    signature: str | None,
    gateway: PaymentGateway,
    now: datetime | None = None,
) -> Receipt:
    """Verify, store and process one webhook delivery.

    Raises SignatureError (nothing stored) when the signature does not hold.
    A delivery of an event already stored changes nothing. ``now`` is when it
    arrived (the demo replays a year); the clock's time when left out.
    """
    event = gateway.verify_webhook(payload, signature)
    return record_event(event=event, payload=payload.decode("utf-8"), gateway=gateway, now=now)


def _stored_status(event_id: str) -> str | None:
    return db.session.scalar(select(StripeEvent.status).where(StripeEvent.event_id == event_id))


def record_event(
    *, event: Json, payload: str, gateway: PaymentGateway, now: datetime | None = None
) -> Receipt:
    """Store an event by its id and process it; a repeat has no effect."""
    event_id = str(event["id"])
    status = _stored_status(event_id)  # most repeats stop here, before any lock
    if status is None:
        serialize_writes("stripe")
        status = _stored_status(event_id)
    if status is not None:
        return Receipt(event_id, status, duplicate=True)
    obj = (event.get("data") or {}).get("object") or {}
    row = StripeEvent(
        event_id=event_id,
        type=str(event.get("type", ""))[:100],
        api_version=str(event.get("api_version") or "")[:40],
        livemode=bool(event.get("livemode")),
        stripe_created_at=(
            datetime.fromtimestamp(int(event["created"]), UTC) if event.get("created") else None
        ),
        payload=payload,
        status=StripeEventStatus.PROCESSED.value,
        object_id=str(obj.get("id") or "")[:255],
        received_at=now or utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same event, delivered twice at the same moment
        return Receipt(event_id, _stored_status(event_id) or "", duplicate=True)
    process_event(row, gateway=gateway, now=now)
    return Receipt(event_id, row.status, duplicate=False)


def process_event(
    row: StripeEvent, *, gateway: PaymentGateway, now: datetime | None = None
) -> StripeEvent:
    """Run the handler for a stored event and record the outcome on the row."""
    row.attempts += 1
    handler = HANDLERS.get(row.type)
    if handler is None:
        row.status = StripeEventStatus.IGNORED.value
        row.processed_at = utcnow()
        return row
    obj = json.loads(row.payload).get("data", {}).get("object", {})
    expected = OBJECT_TYPES.get(row.type)
    if expected is not None and obj.get("object") != expected:
        # Read as the wrong kind, its id would be looked up at the wrong address on every
        # delivery; keep it as failed, for a replay once the code knows the new shape.
        row.status = StripeEventStatus.FAILED.value
        row.last_error = (
            f"{row.type} should carry a {expected}, "
            f"but this one carries {obj.get('object') or 'nothing we know'}"
        )[:2000]
        log.warning("stripe event %s: %s", row.event_id, row.last_error)
        db.session.flush()
        return row
    run = Run(gateway=gateway, now=now)
    try:
        with db.session.begin_nested():
            handler(obj, run)
    except Parked as parked:
        row.status = StripeEventStatus.PARKED.value
        row.object_id = parked.object_id
        row.last_error = parked.reason
    except NotOurs as reason:
        row.status = StripeEventStatus.IGNORED.value
        row.last_error = str(reason)
        row.processed_at = utcnow()
    except GatewayError as exc:
        row.status = StripeEventStatus.FAILED.value
        row.last_error = f"Stripe: {exc.message}"
        log.warning("stripe event %s failed: %s", row.event_id, exc.message)
    except Exception as exc:  # a bug must not lose the event: keep it for replay
        row.status = StripeEventStatus.FAILED.value
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("stripe event %s failed", row.event_id)
    else:
        row.status = StripeEventStatus.PROCESSED.value
        row.last_error = ""
        row.processed_at = now or utcnow()
        if run.gift is not None:
            row.gift_id = run.gift.id
        if run.plan is not None:
            row.plan_id = run.plan.id
        if run.linked_ids:
            _release_parked(run.linked_ids, gateway=gateway, exclude=row.id)
    db.session.flush()
    return row


def _release_parked(ids: Iterable[str], *, gateway: PaymentGateway, exclude: int) -> None:
    """Process again the parked events about payments that now have a gift."""
    parked = db.session.scalars(
        select(StripeEvent)
        .where(StripeEvent.status == StripeEventStatus.PARKED.value)
        .where(StripeEvent.object_id.in_(list(ids)))
        .where(StripeEvent.id != exclude)
        .order_by(StripeEvent.id)
    ).all()
    for row in parked:
        process_event(row, gateway=gateway)


# --- finding and locking what an event is about ------------------------------------


def _locked_gift(*conditions) -> Gift | None:
    return db.session.scalar(select(Gift).where(*conditions).with_for_update().limit(1))


def _locked_plan(*conditions) -> RecurringPlan | None:
    return db.session.scalar(select(RecurringPlan).where(*conditions).with_for_update().limit(1))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _gift_by_metadata(metadata: dict[str, str], reference: str | None = None) -> Gift | None:
    gift_id = _int(metadata.get("gift_id")) or _int(reference)
    return _locked_gift(Gift.id == gift_id) if gift_id else None


def _gift_for_payment(*, payment_intent_id: str | None, charge_id: str | None) -> Gift | None:
    if payment_intent_id:
        gift = _locked_gift(Gift.stripe_payment_intent_id == payment_intent_id)
        if gift is not None:
            return gift
    if charge_id:
        return _locked_gift(Gift.stripe_charge_id == charge_id)
    return None


# --- applying Stripe's truth -----------------------------------------------------


def apply_payment(gift: Gift, payment: PaymentSnapshot, run: Run) -> None:
    """Make the gift match its PaymentIntent and charge as Stripe has them now."""
    for attr, value in (
        ("stripe_payment_intent_id", payment.payment_intent_id),
        ("stripe_charge_id", payment.charge_id),
        ("stripe_customer_id", payment.customer_id),
    ):
        if value and getattr(gift, attr) != value:
            setattr(gift, attr, value)
            if attr != "stripe_customer_id":
                run.linked_ids.add(value)
    if payment.status == "succeeded":
        newly_paid = gift.status != GiftStatus.PAID.value
        gift.status = GiftStatus.PAID.value
        gift.failure_message = ""
        gift.amount_cents = payment.amount_cents  # from Stripe, never from the browser
        gift.currency = payment.currency or gift.currency
        if payment.fee_cents is not None:
            gift.fee_cents = payment.fee_cents
        _adjust(gift, "refunded_cents", min(payment.refunded_cents, payment.amount_cents))
        _sync_receipt(gift)  # a refund voids the receipt; reissued for the rest
        if newly_paid and payment.charge_created is not None:
            gift.received_at = payment.charge_created
        if gift.thanked_at is None:
            db.session.flush()
            notifications.thank_donor(gift, now=run.now)
    elif payment.status == "processing":
        if gift.status in (GiftStatus.PENDING.value, GiftStatus.FAILED.value):
            gift.status = GiftStatus.PROCESSING.value
    elif (
        payment.status in ("requires_payment_method", "canceled")
        and gift.status != GiftStatus.PAID.value
    ):
        gift.status = GiftStatus.FAILED.value
        gift.failure_message = payment.failure_message[:500]
    run.gift = gift


ADJUSTMENT_KINDS = {
    "refunded_cents": AdjustmentKind.REFUND,
    "dispute_cents": AdjustmentKind.DISPUTE,
    "dispute_fee_cents": AdjustmentKind.DISPUTE_FEE,
}


def _adjust(gift: Gift, attr: str, value: int) -> None:
    """Set a refunded or disputed amount, recording the change with its date."""
    delta = value - (getattr(gift, attr) or 0)
    if not delta:
        return
    setattr(gift, attr, value)
    if gift.id is None:
        db.session.flush()
    db.session.add(
        GiftAdjustment(gift_id=gift.id, kind=ADJUSTMENT_KINDS[attr].value, delta_cents=delta)
    )


def _sync_receipt(gift: Gift) -> None:
    """Void and reissue the gift's receipt for what is left, and send the new one."""
    new = receipts.sync_gift_receipt(gift)
    if new is not None:
        receipt_delivery.send_receipt(new)


def apply_dispute(gift: Gift, dispute: DisputeSnapshot, run: Run) -> None:
    """Make the gift show its dispute as Stripe has it now."""
    gift.stripe_dispute_id = dispute.id
    gift.dispute_status = dispute.status
    _adjust(gift, "dispute_cents", max(dispute.withdrawn_cents, 0))
    _adjust(gift, "dispute_fee_cents", max(dispute.fee_cents, 0))
    _sync_receipt(gift)  # a lost dispute voids the receipt; reissued for the rest
    run.gift = gift


PLAN_STATUS = {
    "active": PlanStatus.ACTIVE,
    "trialing": PlanStatus.ACTIVE,
    "past_due": PlanStatus.PAST_DUE,
    "unpaid": PlanStatus.PAST_DUE,
    "canceled": PlanStatus.CANCELLED,
    "incomplete_expired": PlanStatus.CANCELLED,
    "incomplete": PlanStatus.INCOMPLETE,
    "paused": PlanStatus.PAST_DUE,
}


def apply_subscription(plan: RecurringPlan, sub: SubscriptionSnapshot, run: Run) -> None:
    """Make the plan match its subscription as Stripe has it now."""
    plan.stripe_subscription_id = plan.stripe_subscription_id or sub.id
    plan.stripe_customer_id = sub.customer_id or plan.stripe_customer_id
    status = PLAN_STATUS.get(sub.status, PlanStatus.PAST_DUE)
    plan.status = status.value
    if status == PlanStatus.ACTIVE and plan.started_at is None:
        plan.started_at = sub.start_date or utcnow()
    if status == PlanStatus.CANCELLED:
        plan.cancelled_at = plan.cancelled_at or sub.canceled_at or utcnow()
        plan.next_payment_at = None
    else:
        plan.next_payment_at = sub.current_period_end
    run.plan = plan


def _plan_for_subscription(
    subscription_id: str | None, metadata: dict[str, str], run: Run
) -> RecurringPlan:
    if subscription_id:
        plan = _locked_plan(RecurringPlan.stripe_subscription_id == subscription_id)
        if plan is not None:
            return plan
    plan_id = _int(metadata.get("plan_id"))
    if plan_id is None and subscription_id:
        sub = run.gateway.fetch_subscription(subscription_id)
        plan_id = _int(sub.metadata.get("plan_id"))
    plan = _locked_plan(RecurringPlan.id == plan_id) if plan_id else None
    if plan is None:
        raise NotOurs(f"subscription {subscription_id} was not started on this site")
    if subscription_id and not plan.stripe_subscription_id:
        plan.stripe_subscription_id = subscription_id
    return plan


def sync_invoice(invoice: InvoiceSnapshot, run: Run, *, failed_attempt: bool = False) -> None:
    """Make the instalment gift of an invoice (and its plan) match Stripe."""
    plan = _plan_for_subscription(invoice.subscription_id, invoice.subscription_metadata, run)
    gift = _locked_gift(Gift.stripe_invoice_id == invoice.id)
    if gift is None and invoice.billing_reason == "subscription_create":
        first = _gift_by_metadata(invoice.subscription_metadata)
        if first is not None and first.plan_id == plan.id and first.stripe_invoice_id is None:
            gift = first
    if gift is None:
        gift = Gift(
            donor_id=plan.donor_id,
            fund_id=plan.fund_id,
            source=GiftSource.ONLINE.value,
            method=GiftMethod.CARD.value,
            frequency=Frequency.MONTHLY.value,
            status=GiftStatus.PENDING.value,
            currency=invoice.currency or plan.currency,
            amount_cents=invoice.amount_due or plan.amount_cents,
            covered_fee_cents=plan.covered_fee_cents,
            is_anonymous=plan.is_anonymous,
            plan_id=plan.id,
            received_at=invoice.created or utcnow(),
        )
        db.session.add(gift)
    gift.stripe_invoice_id = invoice.id
    gift.stripe_customer_id = invoice.customer_id or gift.stripe_customer_id
    db.session.flush()
    run.gift = gift
    if invoice.status == "paid" and invoice.payment_intent_id:
        apply_payment(gift, run.gateway.fetch_payment(invoice.payment_intent_id), run)
    elif invoice.status == "paid":
        raise GatewayError(f"invoice {invoice.id} is paid but names no payment", retryable=True)
    elif invoice.status in ("open", "uncollectible") and (
        failed_attempt or gift.status == "failed"
    ):
        if gift.status != GiftStatus.PAID.value:
            gift.status = GiftStatus.FAILED.value
            if invoice.payment_intent_id:
                payment = run.gateway.fetch_payment(invoice.payment_intent_id)
                gift.failure_message = payment.failure_message[:500]
                gift.stripe_payment_intent_id = payment.payment_intent_id
        if plan.last_failed_invoice_id != invoice.id:
            plan.last_failed_invoice_id = invoice.id
            db.session.flush()
            notifications.tell_treasurers_instalment_failed(plan, gift)
    elif invoice.status == "void" and gift.status == GiftStatus.PENDING.value:
        gift.status = GiftStatus.EXPIRED.value
    if invoice.subscription_id:
        apply_subscription(plan, run.gateway.fetch_subscription(invoice.subscription_id), run)
    run.gift = gift


# --- handlers, one per kind of event --------------------------------------------


def on_checkout_session(obj: Json, run: Run) -> None:
    session = run.gateway.fetch_checkout_session(obj["id"])
    gift = _gift_by_metadata(session.metadata, session.client_reference_id)
    if gift is None:
        raise NotOurs(f"checkout session {session.id} was not started on this site")
    run.gift = gift
    if not gift.stripe_checkout_session_id:
        gift.stripe_checkout_session_id = session.id
    if session.mode == "subscription":
        plan = gift.plan
        if plan is None:
            raise NotOurs(f"gift {gift.id} has no monthly plan")
        if session.subscription_id:
            plan = _plan_for_subscription(session.subscription_id, session.metadata, run)
            sub = run.gateway.fetch_subscription(session.subscription_id)
            apply_subscription(plan, sub, run)
            if sub.latest_invoice_id:
                sync_invoice(run.gateway.fetch_invoice(sub.latest_invoice_id), run)
        elif session.status == "expired" and gift.status == GiftStatus.PENDING.value:
            gift.status = GiftStatus.EXPIRED.value
            plan.status = PlanStatus.CANCELLED.value
            plan.cancelled_at = utcnow()
        run.plan = plan
        return
    if session.payment_intent_id:
        apply_payment(gift, run.gateway.fetch_payment(session.payment_intent_id), run)
    if session.status == "expired" and gift.status == GiftStatus.PENDING.value:
        gift.status = GiftStatus.EXPIRED.value
    run.gift = gift


def _sync_charge(charge_id: str, payment_intent_id: str | None, run: Run) -> None:
    """Make the gift of a charge match the charge (and its PaymentIntent) as Stripe has it."""
    gift = _gift_for_payment(payment_intent_id=payment_intent_id, charge_id=charge_id)
    payment = run.gateway.fetch_charge(charge_id)
    if gift is None:
        gift = _gift_for_payment(
            payment_intent_id=payment.payment_intent_id, charge_id=None
        ) or _gift_by_metadata(payment.metadata)
    if gift is None:
        raise Parked(charge_id, f"no gift has charge {charge_id} yet")
    apply_payment(gift, payment, run)


def on_charge(obj: Json, run: Run) -> None:
    pi_id = obj.get("payment_intent") if isinstance(obj.get("payment_intent"), str) else None
    _sync_charge(obj["id"], pi_id, run)


def on_refund(obj: Json, run: Run) -> None:
    """A Refund (``re_...``) changed: read it from /v1/refunds, then sync its charge."""
    refund = run.gateway.fetch_refund(obj["id"])
    if not refund.charge_id:
        raise NotOurs(f"refund {refund.id} returns no card charge")
    _sync_charge(refund.charge_id, refund.payment_intent_id, run)


def on_dispute(obj: Json, run: Run) -> None:
    dispute = run.gateway.fetch_dispute(obj["id"])
    gift = _gift_for_payment(
        payment_intent_id=dispute.payment_intent_id, charge_id=dispute.charge_id
    )
    if gift is None:
        payment = run.gateway.fetch_charge(dispute.charge_id)
        gift = _gift_by_metadata(payment.metadata)
        if gift is not None:
            apply_payment(gift, payment, run)
    if gift is None:
        raise Parked(dispute.charge_id, f"no gift has charge {dispute.charge_id} yet")
    apply_dispute(gift, dispute, run)


def on_invoice(obj: Json, run: Run) -> None:
    invoice = run.gateway.fetch_invoice(obj["id"])
    if not invoice.subscription_id:
        raise NotOurs(f"invoice {invoice.id} belongs to no subscription")
    sync_invoice(invoice, run, failed_attempt=int(obj.get("attempt_count") or 0) > 0)


def on_invoice_failed(obj: Json, run: Run) -> None:
    invoice = run.gateway.fetch_invoice(obj["id"])
    if not invoice.subscription_id:
        raise NotOurs(f"invoice {invoice.id} belongs to no subscription")
    sync_invoice(invoice, run, failed_attempt=True)


def on_subscription(obj: Json, run: Run) -> None:
    sub = run.gateway.fetch_subscription(obj["id"])
    plan = _plan_for_subscription(sub.id, sub.metadata, run)
    apply_subscription(plan, sub, run)


HANDLERS: dict[str, Callable[[Json, Run], None]] = {
    "checkout.session.completed": on_checkout_session,
    "checkout.session.async_payment_succeeded": on_checkout_session,
    "checkout.session.async_payment_failed": on_checkout_session,
    "checkout.session.expired": on_checkout_session,
    "invoice.paid": on_invoice,
    "invoice.payment_succeeded": on_invoice,
    "invoice.payment_failed": on_invoice_failed,
    "customer.subscription.created": on_subscription,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "charge.succeeded": on_charge,
    "charge.updated": on_charge,
    "charge.refunded": on_charge,
    "charge.refund.updated": on_refund,
    "charge.dispute.created": on_dispute,
    "charge.dispute.updated": on_dispute,
    "charge.dispute.closed": on_dispute,
    "charge.dispute.funds_withdrawn": on_dispute,
    "charge.dispute.funds_reinstated": on_dispute,
}

# The type of object (``data.object.object``) Stripe sends with each handled event: each
# handler reads its object by that type, from that type's own endpoint.
OBJECT_TYPES: dict[str, str] = {
    "checkout.session.completed": "checkout.session",
    "checkout.session.async_payment_succeeded": "checkout.session",
    "checkout.session.async_payment_failed": "checkout.session",
    "checkout.session.expired": "checkout.session",
    "invoice.paid": "invoice",
    "invoice.payment_succeeded": "invoice",
    "invoice.payment_failed": "invoice",
    "customer.subscription.created": "subscription",
    "customer.subscription.updated": "subscription",
    "customer.subscription.deleted": "subscription",
    "charge.succeeded": "charge",
    "charge.updated": "charge",
    "charge.refunded": "charge",
    "charge.refund.updated": "refund",
    "charge.dispute.created": "dispute",
    "charge.dispute.updated": "dispute",
    "charge.dispute.closed": "dispute",
    "charge.dispute.funds_withdrawn": "dispute",
    "charge.dispute.funds_reinstated": "dispute",
}
