"""Finding and locking the gift or monthly plan a Stripe event is about."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from donations.extensions import db
from donations.models import Gift, RecurringPlan
from donations.services.stripe_events.run import NotOurs, Run


def locked_gift(*conditions: ColumnElement[bool]) -> Gift | None:
    """The gift, locked, as it stands now (read again if the session holds it)."""
    return db.session.scalar(
        select(Gift)
        .where(*conditions)
        .with_for_update()
        .limit(1)
        .execution_options(populate_existing=True)
    )


def locked_plan(*conditions: ColumnElement[bool]) -> RecurringPlan | None:
    return db.session.scalar(select(RecurringPlan).where(*conditions).with_for_update().limit(1))


def int_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def gift_by_metadata(metadata: dict[str, str], reference: str | None = None) -> Gift | None:
    gift_id = int_id(metadata.get("gift_id")) or int_id(reference)
    return locked_gift(Gift.id == gift_id) if gift_id else None


def gift_for_payment(*, payment_intent_id: str | None, charge_id: str | None) -> Gift | None:
    if payment_intent_id:
        gift = locked_gift(Gift.stripe_payment_intent_id == payment_intent_id)
        if gift is not None:
            return gift
    if charge_id:
        return locked_gift(Gift.stripe_charge_id == charge_id)
    return None


def plan_for_subscription(
    subscription_id: str | None, metadata: dict[str, str], run: Run
) -> RecurringPlan:
    if subscription_id:
        plan = locked_plan(RecurringPlan.stripe_subscription_id == subscription_id)
        if plan is not None:
            return plan
    plan_id = int_id(metadata.get("plan_id"))
    if plan_id is None and subscription_id:
        sub = run.gateway.fetch_subscription(subscription_id)
        plan_id = int_id(sub.metadata.get("plan_id"))
    plan = locked_plan(RecurringPlan.id == plan_id) if plan_id else None
    if plan is None:
        raise NotOurs(f"subscription {subscription_id} was not started on this site")
    if subscription_id and not plan.stripe_subscription_id:
        plan.stripe_subscription_id = subscription_id
    return plan
