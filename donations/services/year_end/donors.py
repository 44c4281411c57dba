"""The donors of a period: who gave money or goods in it, and who has a statement of it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select, union

from donations.extensions import db
from donations.models import Gift, GiftStatus, InKindGift, Receipt, ReceiptKind, ReceiptStatus
from donations.services.periods import day_after, start_of_day

# Donors taken at a time, by the run and by the sample statement.
BATCH_SIZE = 50


def donor_ids_with_gifts(start: date, end: date) -> Select:
    """Donors with a paid gift of money or an in-kind gift in a period (a subquery)."""
    money = select(Gift.donor_id.label("donor_id")).where(
        Gift.donor_id.is_not(None),
        Gift.status == GiftStatus.PAID,
        Gift.is_reversal.is_(False),
        Gift.received_at >= start_of_day(start),
        Gift.received_at < start_of_day(day_after(end)),
    )
    goods = select(InKindGift.donor_id.label("donor_id")).where(
        InKindGift.donor_id.is_not(None),
        InKindGift.received_on >= start,
        InKindGift.received_on <= end,
    )
    return union(money, goods).subquery()


def with_statement(start: date, end: date) -> Select:
    """Donors who have a valid statement of exactly this period (a subquery)."""
    return select(Receipt.donor_id).where(
        Receipt.period_start == start,
        Receipt.period_end == end,
        Receipt.kind == ReceiptKind.STATEMENT,
        Receipt.status == ReceiptStatus.VALID,
    )


def count_donors(start: date, end: date) -> int:
    """How many donors gave money or goods in a period."""
    ids = donor_ids_with_gifts(start, end)
    return db.session.scalar(select(func.count()).select_from(ids)) or 0


def count_done(start: date, end: date) -> int:
    ids = donor_ids_with_gifts(start, end)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(ids)
            .where(ids.c.donor_id.in_(with_statement(start, end)))
        )
        or 0
    )


def next_donors(start: date, end: date, after_id: int, limit: int) -> list[int]:
    """The next donors, by id, who gave in the period and have no statement of it yet."""
    ids = donor_ids_with_gifts(start, end)
    return list(
        db.session.scalars(
            select(ids.c.donor_id)
            .where(ids.c.donor_id > after_id, ids.c.donor_id.not_in(with_statement(start, end)))
            .order_by(ids.c.donor_id)
            .limit(limit)
        )
    )
