"""Recording cash, cheque, bank transfer and securities gifts received by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

from donations.extensions import db
from donations.models import (
    Donor,
    Frequency,
    Fund,
    Gift,
    GiftMethod,
    GiftSource,
    GiftStatus,
    User,
    utcnow,
)
from donations.money import format_money, is_currency_code
from donations.services.appeals import normalize_appeal_code
from donations.services.audit import record_audit
from donations.services.campaigns.rules import recorded_campaign
from donations.services.errors import InvalidInput
from donations.services.funds import AMOUNT_CENTS_MAX
from donations.services.gifts.listing import MAX_ID
from donations.services.periods import start_of_day

OFFLINE_METHODS = (
    GiftMethod.CASH,
    GiftMethod.CHEQUE,
    GiftMethod.BANK_TRANSFER,
    GiftMethod.SECURITIES,
)
MEMO_MAX_LENGTH = 2000
CHEQUE_NUMBER_MAX_LENGTH = Gift.__table__.c["cheque_number"].type.length
REFERENCE_MAX_LENGTH = Gift.__table__.c["reference"].type.length
BENEFIT_DESCRIPTION_MAX_LENGTH = Gift.__table__.c["benefit_description"].type.length


def clean_text(value: str | None, *, field: str, limit: int, label: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"Use at most {limit} characters for the {label}.", field=field)
    return text


def checked_offline_values(
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
    cheque_number = clean_text(
        cheque_number,
        field="cheque_number",
        limit=CHEQUE_NUMBER_MAX_LENGTH,
        label="cheque number",
    )
    reference = clean_text(
        reference, field="reference", limit=REFERENCE_MAX_LENGTH, label="reference"
    )
    memo = clean_text(memo, field="memo", limit=MEMO_MAX_LENGTH, label="memo")
    if method == GiftMethod.CHEQUE and not cheque_number:
        raise InvalidInput("Enter the cheque number.", field="cheque_number")
    if method != GiftMethod.CHEQUE and cheque_number:
        raise InvalidInput(
            "Leave the cheque number blank for a gift that is not a cheque.",
            field="cheque_number",
        )
    if method == GiftMethod.SECURITIES and not reference:
        raise InvalidInput(
            "Describe the securities given, such as 10 shares of ACME Corp.", field="reference"
        )
    benefit_description = clean_text(
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


def new_offline_gift(*, actor: User | None, values: dict[str, Any], **extra: Any) -> Gift:
    gift = Gift(
        source=GiftSource.OFFLINE,
        status=GiftStatus.PAID,
        frequency=Frequency.ONE_TIME,
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
    campaign_id: int | None = None,
    appeal_code: str = "",
) -> Gift:
    """Record a cash, cheque, bank transfer or securities gift received by hand.

    ``benefit_description``/``benefit_cents``: goods or services the donor got in
    return (a dinner), which the receipt deducts from the deductible amount.
    ``appeal_code``: the mail or print appeal the gift answered (checked, stored upper case).
    """
    values = checked_offline_values(
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
    gift = new_offline_gift(
        actor=actor,
        values=values,
        campaign_id=recorded_campaign(campaign_id),
        appeal_code=normalize_appeal_code(appeal_code),
    )
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


def offline_row_values(gift: Gift) -> dict[str, Any]:
    """Return the columns an offline gift is recorded with, as _checked_offline_values does."""
    return {name: getattr(gift, name) for name in OFFLINE_GIFT_COLUMNS}
