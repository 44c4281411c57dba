"""Applying Stripe's current truth (payment, dispute, subscription, invoice) to gifts and plans.

Applying the current truth twice changes nothing, and an old event arriving
late cannot undo a newer one.
"""

from __future__ import annotations

from donations.extensions import db
from donations.integrations.stripe_gateway import (
    DisputeSnapshot,
    GatewayError,
    InvoiceSnapshot,
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
    utcnow,
)
from donations.services import notifications, receipt_delivery, receipts
from donations.services.campaigns.supporter_gifts import supporter_gift_paid
from donations.services.stripe_events.lookup import (
    gift_by_metadata,
    locked_gift,
    plan_for_subscription,
)
from donations.services.stripe_events.run import Run


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
        newly_paid = gift.status != GiftStatus.PAID
        gift.status = GiftStatus.PAID
        gift.failure_message = ""
        gift.amount_cents = payment.amount_cents  # from Stripe, never from the browser
        gift.currency = payment.currency or gift.currency
        if payment.fee_cents is not None:
            gift.fee_cents = payment.fee_cents
        if adjust(gift, "refunded_cents", min(payment.refunded_cents, payment.amount_cents)):
            sync_receipt(gift)  # a refund voids the receipt; reissued for the rest
        if newly_paid and payment.charge_created is not None:
            gift.received_at = payment.charge_created
        if gift.thanked_at is None:
            notifications.thank_donor(gift, now=run.now, locked=True)  # by the lookup
            supporter_gift_paid(gift)  # once per gift, as the thank-you note
    elif payment.status == "processing":
        if gift.status in (GiftStatus.PENDING, GiftStatus.FAILED):
            gift.status = GiftStatus.PROCESSING
    elif (
        payment.status in ("requires_payment_method", "canceled") and gift.status != GiftStatus.PAID
    ):
        gift.status = GiftStatus.FAILED
        gift.failure_message = payment.failure_message[:500]
    run.gift = gift


ADJUSTMENT_KINDS = {
    "refunded_cents": AdjustmentKind.REFUND,
    "dispute_cents": AdjustmentKind.DISPUTE,
    "dispute_fee_cents": AdjustmentKind.DISPUTE_FEE,
}


def adjust(gift: Gift, attr: str, value: int) -> bool:
    """Set a refunded or disputed amount, recording the change with its date; return
    whether it changed (the receipt follows every change: ``sync_receipt``)."""
    delta = value - (getattr(gift, attr) or 0)
    if not delta:
        return False
    setattr(gift, attr, value)
    if gift.id is None:
        db.session.flush()
    db.session.add(GiftAdjustment(gift_id=gift.id, kind=ADJUSTMENT_KINDS[attr], delta_cents=delta))
    return True


def sync_receipt(gift: Gift) -> None:
    """Void and reissue the gift's receipt for what is left, and send the new one."""
    new = receipts.sync_gift_receipt(gift)
    if new is not None:
        receipt_delivery.send_receipt(new)


def apply_dispute(gift: Gift, dispute: DisputeSnapshot, run: Run) -> None:
    """Make the gift show its dispute as Stripe has it now."""
    gift.stripe_dispute_id = dispute.id
    gift.dispute_status = dispute.status
    withdrawn = adjust(gift, "dispute_cents", max(dispute.withdrawn_cents, 0))
    if adjust(gift, "dispute_fee_cents", max(dispute.fee_cents, 0)) or withdrawn:
        sync_receipt(gift)  # a lost dispute voids the receipt; reissued for the rest
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
    plan.status = status
    if status == PlanStatus.ACTIVE and plan.started_at is None:
        plan.started_at = sub.start_date or utcnow()
    if status == PlanStatus.CANCELLED:
        plan.cancelled_at = plan.cancelled_at or sub.canceled_at or utcnow()
        plan.next_payment_at = None
    else:
        plan.next_payment_at = sub.current_period_end
    run.plan = plan


def sync_invoice(invoice: InvoiceSnapshot, run: Run, *, failed_attempt: bool = False) -> None:
    """Make the instalment gift of an invoice (and its plan) match Stripe."""
    plan = plan_for_subscription(invoice.subscription_id, invoice.subscription_metadata, run)
    gift = locked_gift(Gift.stripe_invoice_id == invoice.id)
    if gift is None and invoice.billing_reason == "subscription_create":
        first = gift_by_metadata(invoice.subscription_metadata)
        if first is not None and first.plan_id == plan.id and first.stripe_invoice_id is None:
            gift = first
    if gift is None:
        gift = Gift(
            donor_id=plan.donor_id,
            fund_id=plan.fund_id,
            campaign_id=plan.campaign_id,
            supporter_page_id=plan.supporter_page_id,
            shares_amount=plan.shares_amount,
            appeal_code=plan.appeal_code,
            source=GiftSource.ONLINE,
            method=GiftMethod.CARD,
            frequency=Frequency.MONTHLY,
            status=GiftStatus.PENDING,
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
        failed_attempt or gift.status == GiftStatus.FAILED
    ):
        if gift.status != GiftStatus.PAID:
            gift.status = GiftStatus.FAILED
            if invoice.payment_intent_id:
                payment = run.gateway.fetch_payment(invoice.payment_intent_id)
                gift.failure_message = payment.failure_message[:500]
                gift.stripe_payment_intent_id = payment.payment_intent_id
        if plan.last_failed_invoice_id != invoice.id:
            plan.last_failed_invoice_id = invoice.id
            db.session.flush()
            notifications.tell_treasurers_instalment_failed(plan, gift)
    elif invoice.status == "void" and gift.status == GiftStatus.PENDING:
        gift.status = GiftStatus.EXPIRED
    if invoice.subscription_id:
        apply_subscription(plan, run.gateway.fetch_subscription(invoice.subscription_id), run)
    run.gift = gift
