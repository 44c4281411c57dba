"""The treasurer's side of cash gifts: listing and totals, offline gifts and
their corrections, monthly plans, and Stripe events that need a second try.

Totals are summed in SQL over the very conditions that select the listed rows,
so they always equal the sum of those rows, across every page. Offline gifts
are never edited: a correction adds a reversing entry (a negative amount) and,
usually, a replacement gift, both pointing at the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import (
    MAX_ROW_ID,
    Donor,
    Frequency,
    Fund,
    Gift,
    GiftMethod,
    GiftSource,
    GiftStatus,
    PlanStatus,
    RecurringPlan,
    StripeEvent,
    StripeEventStatus,
    User,
    utcnow,
)
from donations.money import format_money, is_currency_code
from donations.services import receipt_delivery
from donations.services.audit import describe_changes, record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.funds import AMOUNT_CENTS_MAX
from donations.services.locking import serialize_writes
from donations.services.periods import start_of_day
from donations.services.receipts import correct_gift_receipt
from donations.services.stripe_replay import REPLAYABLE
from donations.services.text import like_pattern

# --- listing and totals ---------------------------------------------------------

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
OFFLINE_METHODS = (
    GiftMethod.CASH,
    GiftMethod.CHEQUE,
    GiftMethod.BANK_TRANSFER,
    GiftMethod.SECURITIES,
)
MEMO_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 500
CHEQUE_NUMBER_MAX_LENGTH = Gift.__table__.c["cheque_number"].type.length
REFERENCE_MAX_LENGTH = Gift.__table__.c["reference"].type.length
BENEFIT_DESCRIPTION_MAX_LENGTH = Gift.__table__.c["benefit_description"].type.length
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
    paid = Gift.status == GiftStatus.PAID.value
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


# --- one gift: its Stripe events and corrections -------------------------------


@dataclass(frozen=True)
class Corrections:
    """How a gift sits in a chain of corrections."""

    corrects: Gift | None  # the gift this entry reverses or replaces
    reversal: Gift | None  # the entry that reverses this gift
    replacement: Gift | None  # the gift that replaced this one


def corrections_of(gift: Gift) -> Corrections:
    """Return what this gift corrects and what corrected it."""
    later = db.session.scalars(
        select(Gift).where(Gift.corrects_gift_id == gift.id).order_by(Gift.id)
    ).all()
    return Corrections(
        corrects=gift.corrects,
        reversal=next((g for g in later if g.is_reversal), None),
        replacement=next((g for g in later if not g.is_reversal), None),
    )


def gift_events(gift: Gift) -> list[StripeEvent]:
    """Return the Stripe events about this gift, oldest first, parked ones included."""
    stripe_ids = [
        value
        for value in (
            gift.stripe_checkout_session_id,
            gift.stripe_payment_intent_id,
            gift.stripe_charge_id,
            gift.stripe_invoice_id,
            gift.stripe_dispute_id,
        )
        if value
    ]
    about = StripeEvent.gift_id == gift.id
    if stripe_ids:
        about = or_(about, StripeEvent.object_id.in_(stripe_ids))
    return list(
        db.session.scalars(
            select(StripeEvent).where(about).order_by(StripeEvent.received_at, StripeEvent.id)
        )
    )


def correction_problem(gift: Gift) -> str | None:
    """Return why this gift cannot be corrected, or None when it can."""
    if gift.is_reversal:
        return "A reversing entry cannot itself be corrected."
    if gift.source != GiftSource.OFFLINE.value:
        return "Online gifts change only through Stripe: refund them in the Stripe dashboard."
    if gift.status != GiftStatus.PAID.value:
        return "Only a paid gift can be corrected."
    already = db.session.scalar(select(Gift.id).where(Gift.corrects_gift_id == gift.id).limit(1))
    if already is not None:
        return f"Gift #{gift.id} has already been corrected; correct its replacement instead."
    return None


# --- offline gifts ------------------------------------------------------------


def _clean_text(value: str | None, *, field: str, limit: int, label: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"Use at most {limit} characters for the {label}.", field=field)
    return text


def _checked_offline_values(
    *,
    donor_id: int,
    fund_id: int,
    method: str,
    amount_cents: int,
    currency: str,
    received_on: date,
    cheque_number: str,
    reference: str,
    memo: str,
    is_anonymous: bool,
    benefit_description: str = "",
    benefit_cents: int = 0,
) -> dict[str, Any]:
    """Check an offline gift's values; return them ready for a Gift row."""
    if method not in {m.value for m in OFFLINE_METHODS}:
        raise InvalidInput(
            "Choose cash, cheque, bank transfer or donated securities.", field="method"
        )
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise InvalidInput("Enter an amount greater than zero.", field="amount")
    currency = (currency or "").strip().upper()
    if not is_currency_code(currency):
        raise InvalidInput("Use a three-letter currency code, such as USD.", field="currency")
    if amount_cents > AMOUNT_CENTS_MAX:  # the most an INTEGER column holds on PostgreSQL
        raise InvalidInput(
            f"Enter an amount of at most {format_money(AMOUNT_CENTS_MAX, currency)}.",
            field="amount",
        )
    if received_on > utcnow().date():
        raise InvalidInput("The date received cannot be in the future.", field="received_on")
    donor = db.session.get(Donor, donor_id) if 0 < donor_id <= MAX_ID else None
    if donor is None:
        raise InvalidInput("Choose the donor from the list.", field="donor_id")
    if donor.is_merged:
        raise InvalidInput(
            f"{donor.name} (#{donor.id}) was merged into donor #{donor.merged_into_id}; "
            "choose that record instead.",
            field="donor_id",
        )
    fund = db.session.get(Fund, fund_id) if 0 < fund_id <= MAX_ID else None
    if fund is None:
        raise InvalidInput("Choose a fund from the list.", field="fund_id")
    cheque_number = _clean_text(
        cheque_number,
        field="cheque_number",
        limit=CHEQUE_NUMBER_MAX_LENGTH,
        label="cheque number",
    )
    reference = _clean_text(
        reference, field="reference", limit=REFERENCE_MAX_LENGTH, label="reference"
    )
    memo = _clean_text(memo, field="memo", limit=MEMO_MAX_LENGTH, label="memo")
    if method == GiftMethod.CHEQUE.value and not cheque_number:
        raise InvalidInput("Enter the cheque number.", field="cheque_number")
    if method != GiftMethod.CHEQUE.value and cheque_number:
        raise InvalidInput(
            "Leave the cheque number blank for a gift that is not a cheque.",
            field="cheque_number",
        )
    if method == GiftMethod.SECURITIES.value and not reference:
        raise InvalidInput(
            "Describe the securities given, such as 10 shares of ACME Corp.", field="reference"
        )
    benefit_description = _clean_text(
        benefit_description,
        field="benefit_description",
        limit=BENEFIT_DESCRIPTION_MAX_LENGTH,
        label="goods or services given in return",
    )
    if not isinstance(benefit_cents, int) or isinstance(benefit_cents, bool) or benefit_cents < 0:
        raise InvalidInput("Enter the value as an amount, such as 60.00.", field="benefit_value")
    if benefit_cents and not benefit_description:
        raise InvalidInput(
            "Describe the goods or services the donor received in return.",
            field="benefit_description",
        )
    if benefit_description and not benefit_cents:
        raise InvalidInput(
            "Enter a good-faith estimate of the value of what the donor received.",
            field="benefit_value",
        )
    if benefit_cents > amount_cents:
        raise InvalidInput(
            f"What the donor received ({format_money(benefit_cents, currency)}) cannot be "
            f"worth more than the gift ({format_money(amount_cents, currency)}).",
            field="benefit_value",
        )
    return {
        "donor_id": donor.id,
        "fund_id": fund.id,
        "method": method,
        "amount_cents": amount_cents,
        "currency": currency,
        "received_at": start_of_day(received_on),
        "cheque_number": cheque_number,
        "reference": reference,
        "memo": memo,
        "is_anonymous": bool(is_anonymous),
        "benefit_description": benefit_description,
        "benefit_cents": benefit_cents,
    }


OFFLINE_GIFT_COLUMNS = (
    "donor_id",
    "fund_id",
    "method",
    "amount_cents",
    "currency",
    "received_at",
    "cheque_number",
    "reference",
    "memo",
    "is_anonymous",
    "benefit_description",
    "benefit_cents",
)


def _new_offline_gift(*, actor: User | None, values: dict[str, Any], **extra: Any) -> Gift:
    gift = Gift(
        source=GiftSource.OFFLINE.value,
        status=GiftStatus.PAID.value,
        frequency=Frequency.ONE_TIME.value,
        fee_cents=0,
        covered_fee_cents=0,
        created_by_id=actor.id if actor is not None else None,
        **values,
        **extra,
    )
    db.session.add(gift)
    db.session.flush()
    return gift


def describe_gift(gift: Gift) -> str:
    """Return a one-line description for the audit log and messages."""
    method = GiftMethod(gift.method).label.lower()
    if gift.cheque_number:
        method += f" #{gift.cheque_number}"
    donor = gift.donor.name if gift.donor is not None else f"donor #{gift.donor_id}"
    fund = gift.fund.name if gift.fund is not None else f"fund #{gift.fund_id}"
    return (
        f"{format_money(gift.amount_cents, gift.currency)} {method} from {donor} "
        f"to {fund} on {gift.received_at:%Y-%m-%d}"
    )


def record_offline_gift(
    *,
    actor: User | None,
    donor_id: int,
    fund_id: int,
    method: str,
    amount_cents: int,
    currency: str,
    received_on: date,
    cheque_number: str = "",
    reference: str = "",
    memo: str = "",
    is_anonymous: bool = False,
    benefit_description: str = "",
    benefit_cents: int = 0,
) -> Gift:
    """Record a cash, cheque, bank transfer or securities gift received by hand.

    ``benefit_description``/``benefit_cents``: goods or services the donor got in
    return (a dinner), which the receipt deducts from the deductible amount.
    """
    values = _checked_offline_values(
        donor_id=donor_id,
        fund_id=fund_id,
        method=method,
        amount_cents=amount_cents,
        currency=currency,
        received_on=received_on,
        cheque_number=cheque_number,
        reference=reference,
        memo=memo,
        is_anonymous=is_anonymous,
        benefit_description=benefit_description,
        benefit_cents=benefit_cents,
    )
    gift = _new_offline_gift(actor=actor, values=values)
    summary = f"recorded {describe_gift(gift)}"
    if gift.benefit_cents:
        summary += (
            f"; given in return: {gift.benefit_description} "
            f"({format_money(gift.benefit_cents, gift.currency)})"
        )
    record_audit(
        actor=actor,
        action="gift.record_offline",
        object_type="gift",
        object_id=gift.id,
        summary=summary,
    )
    return gift


CORRECTABLE_FIELDS = (
    "donor_id",
    "fund_id",
    "method",
    "amount_cents",
    "received_on",
    "cheque_number",
    "reference",
    "memo",
    "is_anonymous",
    "benefit_description",
    "benefit_cents",
)


def _current_values(gift: Gift) -> dict[str, Any]:
    return {
        "donor_id": gift.donor_id,
        "fund_id": gift.fund_id,
        "method": gift.method,
        "amount_cents": gift.amount_cents,
        "currency": gift.currency,
        "received_on": gift.received_at.date(),
        "cheque_number": gift.cheque_number,
        "reference": gift.reference,
        "memo": gift.memo,
        "is_anonymous": gift.is_anonymous,
        "benefit_description": gift.benefit_description or "",
        "benefit_cents": gift.benefit_cents or 0,
    }


def _row_values(gift: Gift) -> dict[str, Any]:
    """Return the columns an offline gift is recorded with, as _checked_offline_values does."""
    return {name: getattr(gift, name) for name in OFFLINE_GIFT_COLUMNS}


def correct_gift(
    *,
    actor: User | None,
    gift: Gift,
    reason: str,
    void_only: bool = False,
    **new_values: Any,
) -> tuple[Gift, Gift | None]:
    """Reverse an offline gift and, unless ``void_only``, record its corrected replacement.

    ``new_values`` are the fields of CORRECTABLE_FIELDS that change; the others
    keep the original's values. They are checked as a new offline gift's are,
    what the donor received in return (``benefit_description``/``benefit_cents``)
    included, and the replacement's receipt states what the replacement carries.
    The original row is never modified. Returns (reversal, replacement or None).
    """
    unknown = set(new_values) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise TypeError(f"not correctable: {sorted(unknown)}")
    reason = _clean_text(reason, field="reason", limit=REASON_MAX_LENGTH, label="reason")
    if not reason:
        raise InvalidInput("Say why the gift is being corrected.", field="reason")
    serialize_writes("gifts")
    locked = db.session.scalar(
        select(Gift)
        .where(Gift.id == gift.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound(f"There is no gift #{gift.id}.")
    problem = correction_problem(locked)
    if problem:
        raise NotAllowed(problem)

    replacement_values = None
    if not void_only:
        replacement_values = _checked_offline_values(**{**_current_values(locked), **new_values})
        if replacement_values == _row_values(locked):
            raise InvalidInput(
                "Nothing was changed. Change a value, or tick “void only” to cancel the gift."
            )

    reversal = _new_offline_gift(
        actor=actor,
        values={
            "donor_id": locked.donor_id,
            "fund_id": locked.fund_id,
            "method": locked.method,
            "amount_cents": -locked.amount_cents,
            "currency": locked.currency,
            "received_at": locked.received_at,
            "cheque_number": locked.cheque_number,
            "reference": locked.reference,
            "memo": f"Reverses gift #{locked.id}: {reason}",
            "is_anonymous": locked.is_anonymous,
        },
        is_reversal=True,
        corrects_gift_id=locked.id,
    )
    record_audit(
        actor=actor,
        action="gift.reverse",
        object_type="gift",
        object_id=reversal.id,
        summary=f"reverses gift #{locked.id} ({describe_gift(locked)}): {reason}",
    )
    replacement = None
    if replacement_values is not None:
        replacement = _new_offline_gift(
            actor=actor, values=replacement_values, corrects_gift_id=locked.id
        )
        changes = describe_changes(_row_values(locked), _row_values(replacement))
        record_audit(
            actor=actor,
            action="gift.replace",
            object_type="gift",
            object_id=replacement.id,
            summary=f"replaces gift #{locked.id}: {changes}; reason: {reason}",
        )
    outcome = f"reversed by #{reversal.id}"
    if replacement is not None:
        outcome += f", replaced by #{replacement.id}"
    record_audit(
        actor=actor,
        action="gift.correct",
        object_type="gift",
        object_id=locked.id,
        summary=f"{outcome}: {reason}",
    )
    new_receipt = correct_gift_receipt(
        actor=actor, gift=locked, replacement=replacement, reason=reason
    )
    if new_receipt is not None:
        receipt_delivery.send_receipt(new_receipt)
    return reversal, replacement


# --- monthly plans ---------------------------------------------------------------

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
            Gift.status == GiftStatus.PAID.value,
            Gift.is_reversal.is_(False),
        )
        .group_by(Gift.plan_id)
    )
    counts = {plan_id: int(count) for plan_id, count in db.session.execute(query)}
    return {plan_id: counts.get(plan_id, 0) for plan_id in ids}


def next_payment_at(plan: RecurringPlan) -> datetime | None:
    """Return when Stripe will next charge the plan; None once it has stopped."""
    if plan.status in (PlanStatus.ACTIVE.value, PlanStatus.PAST_DUE.value):
        return plan.next_payment_at
    return None


# --- Stripe events ---------------------------------------------------------------

NEEDS_ATTENTION = "attention"
EVENT_FILTERS: dict[str, str] = {
    NEEDS_ATTENTION: "Failed or parked",
    **{s.value: s.value.capitalize() for s in StripeEventStatus},
    "all": "All",
}


def events_query(status: str | None = None) -> Select[tuple[StripeEvent]]:
    """Return stored Stripe events, failed and parked first, then newest first.

    ``status`` is one of EVENT_FILTERS ("attention": failed or parked) or None for all.
    """
    query = select(StripeEvent).order_by(
        case((StripeEvent.status.in_(REPLAYABLE), 0), else_=1),
        StripeEvent.received_at.desc(),
        StripeEvent.id.desc(),
    )
    if status in (None, "all"):
        return query
    if status == NEEDS_ATTENTION:
        return query.where(StripeEvent.status.in_(REPLAYABLE))
    if status not in {s.value for s in StripeEventStatus}:
        raise InvalidInput("Choose an event status from the list.", field="status")
    return query.where(StripeEvent.status == status)


def count_events_needing_attention() -> int:
    """Return how many Stripe events failed or are parked."""
    return int(
        db.session.scalar(
            select(func.count(StripeEvent.id)).where(StripeEvent.status.in_(REPLAYABLE))
        )
        or 0
    )
