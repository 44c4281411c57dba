"""Read-only look-ups for the gift and donor pages: the gifts list a page at a time with
its totals, funds, histories, a donor's gifts and plans."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import AuditEvent, Fund, Gift, RecurringPlan, StripeEvent
from donations.services.audit import audit_query
from donations.services.gifts import GiftFilters, Totals, gift_conditions, gift_query, plans_query
from donations.services.keyset import KeysetPage, Position, keyset_page

GIFT_HISTORY_LIMIT = 50
# The gifts list shows totals while at most this many gifts match its filters.
TOTALS_LIMIT = 5_000
GIFT_KEYS = (Gift.received_at, Gift.id)


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


def gift_page(filters: GiftFilters, *, position: Position, per_page: int) -> KeysetPage:
    """Return one page of the gifts matching ``filters``, newest first (keyset paged)."""
    query = (
        select(Gift)
        .where(*gift_conditions(filters))
        .options(joinedload(Gift.donor), joinedload(Gift.fund))
    )
    return keyset_page(query, GIFT_KEYS, position=position, per_page=per_page)


def bounded_gift_totals(filters: GiftFilters, *, limit: int | None = None) -> list[Totals] | None:
    """Return the totals of the gifts matching ``filters``, or None when over ``limit`` match.

    Reads at most ``limit + 1`` rows, so a wide filter over a million gifts costs what a
    narrow one does; the whole table's sums are on the reports page.
    """
    limit = TOTALS_LIMIT if limit is None else limit
    matching = (
        select(
            Gift.currency.label("currency"),
            Gift.amount_cents.label("gross"),
            Gift.total_fee_cents.label("fee"),
            Gift.returned_cents.label("returned"),
            Gift.net_cents.label("net"),
        )
        .where(*gift_conditions(filters))
        .limit(limit + 1)
        .subquery()
    )
    rows = db.session.execute(
        select(
            matching.c.currency,
            func.count(),
            func.coalesce(func.sum(matching.c.gross), 0),
            func.coalesce(func.sum(matching.c.fee), 0),
            func.coalesce(func.sum(matching.c.returned), 0),
            func.coalesce(func.sum(matching.c.net), 0),
        )
        .group_by(matching.c.currency)
        .order_by(matching.c.currency)
    ).all()
    if sum(int(row[1]) for row in rows) > limit:
        return None
    return [
        Totals(
            currency=currency,
            count=int(count),
            gross_cents=int(gross),
            fee_cents=int(fee),
            returned_cents=int(returned),
            net_cents=int(net),
        )
        for currency, count, gross, fee, returned, net in rows
    ]
