"""The monthly plans screen: plans by status, their paid instalments, the next charge."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import Gift, GiftStatus, PlanStatus, RecurringPlan
from donations.services.errors import InvalidInput

PLAN_STATUSES = [s.value for s in PlanStatus]


def plans_query(status: str | None = None) -> Select[tuple[RecurringPlan]]:
    """Return monthly plans, newest first, optionally only those with ``status``."""
    query = (
        select(RecurringPlan)
        .options(joinedload(RecurringPlan.donor), joinedload(RecurringPlan.fund))
        .order_by(RecurringPlan.created_at.desc(), RecurringPlan.id.desc())
    )
    if status is not None:
        if status not in PLAN_STATUSES:
            raise InvalidInput("Choose a plan status from the list.", field="status")
        query = query.where(RecurringPlan.status == status)
    return query


def instalment_counts(plan_ids: Iterable[int]) -> dict[int, int]:
    """Return how many paid instalments each plan has had, by plan id."""
    ids = list(plan_ids)
    if not ids:
        return {}
    query = (
        select(Gift.plan_id, func.count(Gift.id))
        .where(
            Gift.plan_id.in_(ids),
            Gift.status == GiftStatus.PAID,
            Gift.is_reversal.is_(False),
        )
        .group_by(Gift.plan_id)
    )
    counts = {plan_id: int(count) for plan_id, count in db.session.execute(query)}
    return {plan_id: counts.get(plan_id, 0) for plan_id in ids}


def next_payment_at(plan: RecurringPlan) -> datetime | None:
    """Return when Stripe will next charge the plan; None once it has stopped."""
    if plan.status in (PlanStatus.ACTIVE, PlanStatus.PAST_DUE):
        return plan.next_payment_at
    return None
