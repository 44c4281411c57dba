"""Read-only look-ups for the gift and donor pages: funds, histories, a donor's gifts and plans."""

from __future__ import annotations

from collections.abc import Sequence

from donations.extensions import db
from donations.models import AuditEvent, Fund, Gift, RecurringPlan, StripeEvent
from donations.services.audit import audit_query
from donations.services.gifts import GiftFilters, gift_query, plans_query

GIFT_HISTORY_LIMIT = 50


def fund_or_none(fund_id: int | None) -> Fund | None:
    """Return the fund with this id, active or not, or None."""
    return db.session.get(Fund, fund_id) if fund_id is not None else None


def gift_history(gift: Gift, *, limit: int = GIFT_HISTORY_LIMIT) -> Sequence[AuditEvent]:
    """Return the latest audit entries about ``gift``."""
    return db.session.scalars(audit_query(object_type="gift", object_id=gift.id).limit(limit)).all()


def stripe_event_or_none(event_row_id: int) -> StripeEvent | None:
    """Return the stored Stripe event with this row id, or None."""
    return db.session.get(StripeEvent, event_row_id)


def recent_gifts_of_donor(donor_id: int, *, limit: int) -> Sequence[Gift]:
    """Return the donor's latest ``limit`` gifts, as the gifts list orders them."""
    return db.session.scalars(gift_query(GiftFilters(donor_id=donor_id)).limit(limit)).all()


def plans_of_donor(donor_id: int) -> Sequence[RecurringPlan]:
    """Return the donor's monthly plans, as the plans list orders them."""
    return db.session.scalars(plans_query().where(RecurringPlan.donor_id == donor_id)).all()
