"""The journal export: one balanced entry per received gift and per refund or dispute change."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, literal, select

from donations.extensions import db
from donations.models import AdjustmentKind, Donor, Fund, Gift, GiftAdjustment, GiftSource
from donations.money import exponent
from donations.services.exports.common import EXPORT_BATCH, METHOD_LABELS, plain_amount, safe_text
from donations.services.gifts import GiftFilters, gift_conditions
from donations.services.periods import start_of_day
from donations.services.receipts import get_receipt_settings

JOURNAL_HEADER = ["JournalNo", "Date", "Account", "Debit", "Credit", "Fund", "Memo", "Currency"]


@dataclass(frozen=True)
class JournalLine:
    """One line of a journal entry; amounts in minor units, one side only."""

    account: str
    debit_cents: int
    credit_cents: int


@dataclass(frozen=True)
class Accounts:
    bank: str
    clearing: str
    fees: str
    income: str
    refunds: str


def journal_accounts() -> Accounts:
    """Return the account names set in the receipt settings."""
    settings = get_receipt_settings()
    return Accounts(
        bank=settings.account_bank,
        clearing=settings.account_clearing,
        fees=settings.account_fees,
        income=settings.account_income,
        refunds=settings.account_refunds,
    )


def journal_lines(
    *,
    accounts: Accounts,
    online: bool,
    gross_cents: int,
    fee_cents: int,
    returned_cents: int,
) -> list[JournalLine]:
    """Return the balanced lines for one gift.

    Online: Dr clearing / Cr income (gross); Dr fees / Cr clearing (fee);
    Dr refunds / Cr clearing (refunded or disputed). Offline: Dr bank / Cr income.
    A reversal (negative amounts) gives the mirror entry: each side swapped.
    """
    into = accounts.clearing if online else accounts.bank
    signed: list[tuple[str, int]] = [(into, gross_cents), (accounts.income, -gross_cents)]
    if fee_cents:
        signed += [(accounts.fees, fee_cents), (accounts.clearing, -fee_cents)]
    if returned_cents:
        signed += [(accounts.refunds, returned_cents), (into, -returned_cents)]
    lines = []
    for account, amount in signed:
        if amount > 0:
            lines.append(JournalLine(account, amount, 0))
        elif amount < 0:
            lines.append(JournalLine(account, 0, -amount))
    return lines


def journal_rows(filters: GiftFilters) -> Iterator[list[Any]]:
    """Yield the header, then the lines of one balanced journal entry per received gift.

    Only gifts received (paid) and correcting entries are journalled, whatever
    status ``filters`` names. Goods are left out: no value is stated for them.
    """
    accounts = journal_accounts()
    names = Accounts(**{k: safe_text(v) for k, v in accounts.__dict__.items()})
    funds = {
        fund_id: safe_text(name) for fund_id, name in db.session.execute(select(Fund.id, Fund.name))
    }
    received = GiftFilters(
        date_from=filters.date_from,
        date_to=filters.date_to,
        fund_id=filters.fund_id,
        method=filters.method,
        status="received",
    )
    query = (
        select(
            Gift.id,
            Gift.received_at,
            Gift.source,
            Gift.method,
            Gift.amount_cents,
            Gift.fee_cents,
            literal(0),  # refunds and disputes: their own dated entries below
            Gift.currency,
            Gift.fund_id,
            Gift.is_reversal,
            Gift.corrects_gift_id,
            Donor.name,
        )
        .join(Donor, Donor.id == Gift.donor_id)
        .where(and_(*gift_conditions(received)))
        .order_by(Gift.received_at, Gift.id)
    )
    yield JOURNAL_HEADER
    result = db.session.execute(query.execution_options(yield_per=EXPORT_BATCH))
    for (
        gift_id,
        received_at,
        source,
        method,
        gross,
        fee,
        returned,
        currency,
        fund_id,
        is_reversal,
        corrects_id,
        donor_name,
    ) in result:
        digits = exponent(currency)
        what = f"Reversal of gift #{corrects_id}" if is_reversal else f"Gift #{gift_id}"
        memo = safe_text(f"{what} from {donor_name}, {METHOD_LABELS.get(method, method)}")
        day = received_at.date().isoformat()
        fund = funds.get(fund_id, "")
        for line in journal_lines(
            accounts=names,
            online=source == GiftSource.ONLINE,
            gross_cents=gross,
            fee_cents=fee,
            returned_cents=returned,
        ):
            yield [
                f"gift-{gift_id}",
                day,
                line.account,
                plain_amount(line.debit_cents, digits) if line.debit_cents else "",
                plain_amount(line.credit_cents, digits) if line.credit_cents else "",
                fund,
                memo,
                currency,
            ]
    yield from _adjustment_rows(filters, names, funds)


def _adjustment_rows(
    filters: GiftFilters, names: Accounts, funds: dict[int, str]
) -> Iterator[list[Any]]:
    """One balanced entry per refund or dispute change, on the day Stripe reported it.

    Refunds and disputes: Dr refunds / Cr clearing; dispute fees: Dr fees /
    Cr clearing; a reinstatement (negative change) gives the mirror entry.
    """
    query = (
        select(
            GiftAdjustment.id,
            GiftAdjustment.occurred_at,
            GiftAdjustment.kind,
            GiftAdjustment.delta_cents,
            Gift.id,
            Gift.currency,
            Gift.fund_id,
            Gift.method,
            Donor.name,
        )
        .join(Gift, Gift.id == GiftAdjustment.gift_id)
        .join(Donor, Donor.id == Gift.donor_id)
        .order_by(GiftAdjustment.occurred_at, GiftAdjustment.id)
    )
    if filters.date_from:
        query = query.where(GiftAdjustment.occurred_at >= start_of_day(filters.date_from))
    if filters.date_to:
        after = date.fromordinal(filters.date_to.toordinal() + 1)
        query = query.where(GiftAdjustment.occurred_at < start_of_day(after))
    if filters.fund_id:
        query = query.where(Gift.fund_id == filters.fund_id)
    if filters.method:
        query = query.where(Gift.method == filters.method)
    labels = {
        AdjustmentKind.REFUND: "Refund",
        AdjustmentKind.DISPUTE: "Dispute",
        AdjustmentKind.DISPUTE_FEE: "Dispute fee",
    }
    for (
        adjustment_id,
        occurred_at,
        kind,
        delta,
        gift_id,
        currency,
        fund_id,
        method,
        donor,
    ) in db.session.execute(query.execution_options(yield_per=EXPORT_BATCH)):
        digits = exponent(currency)
        debit_account = names.fees if kind == AdjustmentKind.DISPUTE_FEE else names.refunds
        signed = [(debit_account, delta), (names.clearing, -delta)]
        word = labels.get(kind, kind) + (" reversed" if delta < 0 else "")
        memo = safe_text(
            f"{word}, gift #{gift_id} from {donor}, {METHOD_LABELS.get(method, method)}"
        )
        for account, amount in signed:
            yield [
                f"adj-{adjustment_id}",
                occurred_at.date().isoformat(),
                account,
                plain_amount(amount, digits) if amount > 0 else "",
                plain_amount(-amount, digits) if amount < 0 else "",
                funds.get(fund_id, ""),
                memo,
                currency,
            ]
