"""The gifts screen's queries: filters, the matching gifts and their totals per currency.

Totals are summed in SQL over the very conditions that select the listed rows,
so they always equal the sum of those rows, across every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import MAX_ROW_ID, Donor, Fund, Gift, GiftStatus
from donations.services.errors import InvalidInput, NotFound
from donations.services.periods import start_of_day
from donations.services.text import like_pattern

# Status filter values, in the order the gifts screen offers them.
STATUS_FILTERS: dict[str, str] = {
    "received": "Received (paid, refunded, disputed and corrections)",
    "paid": "Paid, with no refund or dispute",
    "pending": "Pending",
    "processing": "Processing",
    "failed": "Failed",
    "expired": "Expired",
    "refunded": "Refunded (fully or partly)",
    "disputed": "Disputed",
    "all": "All",
}
DEFAULT_STATUS = "received"
MAX_ID = MAX_ROW_ID


@dataclass(frozen=True)
class GiftFilters:
    """What the gifts screen is narrowed to; None (or blank) means any."""

    date_from: date | None = None  # inclusive, a UTC calendar day
    date_to: date | None = None  # inclusive, a UTC calendar day
    fund_id: int | None = None
    method: str | None = None
    status: str = DEFAULT_STATUS
    donor_id: int | None = None
    donor_name: str = ""  # part of the donor's name, any case
    frequency: str | None = None
    appeal_code: str = ""  # exactly this appeal's code (upper case)


@dataclass(frozen=True)
class Totals:
    """Sums over every gift matching the filters, in one currency."""

    currency: str
    count: int
    gross_cents: int
    fee_cents: int
    returned_cents: int
    net_cents: int


def _status_condition(status: str) -> ColumnElement[bool] | None:
    paid = Gift.status == GiftStatus.PAID
    match status:
        case "received":
            return or_(paid, Gift.is_reversal.is_(True))
        case "paid":
            return and_(
                paid,
                Gift.is_reversal.is_(False),
                Gift.refunded_cents == 0,
                Gift.dispute_status.in_(["", "won"]),
            )
        case "refunded":
            return and_(paid, Gift.refunded_cents > 0)
        case "disputed":
            return and_(paid, Gift.dispute_status != "")
        case "all":
            return None
        case _ if status in {s.value for s in GiftStatus}:
            return Gift.status == status
    raise InvalidInput("Choose a status from the list.", field="status")


def gift_conditions(filters: GiftFilters) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions selecting the gifts that match ``filters``."""
    conditions: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        conditions.append(Gift.received_at >= start_of_day(filters.date_from))
    if filters.date_to is not None:
        conditions.append(Gift.received_at < start_of_day(filters.date_to + timedelta(days=1)))
    if filters.fund_id is not None:
        conditions.append(Gift.fund_id == filters.fund_id)
    if filters.method:
        conditions.append(Gift.method == filters.method)
    if filters.frequency:
        conditions.append(Gift.frequency == filters.frequency)
    if filters.appeal_code:
        conditions.append(Gift.appeal_code == filters.appeal_code.strip().upper())
    if filters.donor_id is not None:
        conditions.append(Gift.donor_id == filters.donor_id)
    name = filters.donor_name.strip()
    if name:
        named = select(Donor.id).where(Donor.name.ilike(like_pattern(name), escape="\\"))
        conditions.append(Gift.donor_id.in_(named))
    status = _status_condition(filters.status or DEFAULT_STATUS)
    if status is not None:
        conditions.append(status)
    return conditions


def gift_query(filters: GiftFilters) -> Select[tuple[Gift]]:
    """Return the gifts matching ``filters``, newest first."""
    return (
        select(Gift)
        .where(*gift_conditions(filters))
        .options(joinedload(Gift.donor), joinedload(Gift.fund))
        .order_by(Gift.received_at.desc(), Gift.id.desc())
    )


def gift_totals(filters: GiftFilters) -> list[Totals]:
    """Return count, gross, fee, returned and net of all matching gifts, per currency."""
    query = (
        select(
            Gift.currency,
            func.count(Gift.id),
            func.coalesce(func.sum(Gift.amount_cents), 0),
            func.coalesce(func.sum(Gift.total_fee_cents), 0),
            func.coalesce(func.sum(Gift.returned_cents), 0),
            func.coalesce(func.sum(Gift.net_cents), 0),
        )
        .where(*gift_conditions(filters))
        .group_by(Gift.currency)
        .order_by(Gift.currency)
    )
    return [
        Totals(
            currency=currency,
            count=int(count),
            gross_cents=int(gross),
            fee_cents=int(fee),
            returned_cents=int(returned),
            net_cents=int(net),
        )
        for currency, count, gross, fee, returned, net in db.session.execute(query)
    ]


def all_funds() -> list[Fund]:
    """Return every fund, inactive ones too, for filtering old gifts."""
    return list(db.session.scalars(select(Fund).order_by(Fund.sort_order, Fund.name)))


def get_gift(gift_id: int) -> Gift:
    """Return the gift with this id or raise NotFound."""
    gift = db.session.get(Gift, gift_id) if 0 < gift_id <= MAX_ID else None
    if gift is None:
        raise NotFound(f"There is no gift #{gift_id}.")
    return gift
