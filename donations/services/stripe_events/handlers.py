"""The handler of each kind of Stripe event: read the object from Stripe, then apply it."""

from __future__ import annotations

from collections.abc import Callable

from donations.models import GiftStatus, PlanStatus, utcnow
from donations.services.stripe_events.apply import (
    apply_dispute,
    apply_payment,
    apply_subscription,
    sync_invoice,
)
from donations.services.stripe_events.lookup import (
    gift_by_metadata,
    gift_for_payment,
    plan_for_subscription,
)
from donations.services.stripe_events.run import Json, NotOurs, Parked, Run


def on_checkout_session(obj: Json, run: Run) -> None:
    session = run.gateway.fetch_checkout_session(obj["id"])
    gift = gift_by_metadata(session.metadata, session.client_reference_id)
    if gift is None:
        raise NotOurs(f"checkout session {session.id} was not started on this site")
    plan = gift.plan if session.mode == "subscription" else None
    if session.mode == "subscription" and plan is None:
        raise NotOurs(f"gift {gift.id} has no monthly plan")  # before any change
    run.gift = gift
    if not gift.stripe_checkout_session_id:
        gift.stripe_checkout_session_id = session.id
    if plan is not None:
        if session.subscription_id:
            plan = plan_for_subscription(session.subscription_id, session.metadata, run)
            sub = run.gateway.fetch_subscription(session.subscription_id)
            apply_subscription(plan, sub, run)
            if sub.latest_invoice_id:
                sync_invoice(run.gateway.fetch_invoice(sub.latest_invoice_id), run)
        elif session.status == "expired" and gift.status == GiftStatus.PENDING:
            gift.status = GiftStatus.EXPIRED
            plan.status = PlanStatus.CANCELLED
            plan.cancelled_at = utcnow()
        run.plan = plan
        return
    if session.payment_intent_id:
        apply_payment(gift, run.gateway.fetch_payment(session.payment_intent_id), run)
    if session.status == "expired" and gift.status == GiftStatus.PENDING:
        gift.status = GiftStatus.EXPIRED
    run.gift = gift


def _sync_charge(charge_id: str, payment_intent_id: str | None, run: Run) -> None:
    """Make the gift of a charge match the charge (and its PaymentIntent) as Stripe has it."""
    gift = gift_for_payment(payment_intent_id=payment_intent_id, charge_id=charge_id)
    payment = run.gateway.fetch_charge(charge_id)
    if gift is None:
        gift = gift_for_payment(
            payment_intent_id=payment.payment_intent_id, charge_id=None
        ) or gift_by_metadata(payment.metadata)
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
    gift = gift_for_payment(
        payment_intent_id=dispute.payment_intent_id, charge_id=dispute.charge_id
    )
    if gift is None:
        payment = run.gateway.fetch_charge(dispute.charge_id)
        gift = gift_by_metadata(payment.metadata)
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
    plan = plan_for_subscription(sub.id, sub.metadata, run)
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
