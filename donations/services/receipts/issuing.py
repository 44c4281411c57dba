"""Issuing the receipt of one gift of money or one in-kind gift of goods."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    Gift,
    GiftStatus,
    InKindGift,
    Receipt,
    ReceiptKind,
    User,
)
from donations.pdf.content import ReceiptContent
from donations.services.errors import NotAllowed
from donations.services.locking import serialize_writes
from donations.services.periods import tax_year_period
from donations.services.receipts.content import (
    gift_line,
    goods_lines,
    new_receipt,
    receipted_cents,
)
from donations.services.receipts.lookups import (
    gift_standing,
    intake_reversed,
    valid_receipt_for_in_kind,
)
from donations.services.receipts.numbers import LOCK_NAME

# IRS Form 8283: non-cash contributions over $500 in a year.
FORM_8283_THRESHOLD_CENTS = 50_000


def lock_gift(gift: Gift, *, held: bool = False) -> Gift:
    """Take the receipts' turn and the gift's row lock, with the gift as it now stands;
    ``held``: the caller read it with its lock in this transaction already."""
    serialize_writes(LOCK_NAME)
    if not held:
        db.session.refresh(gift, with_for_update=True)
    return gift


def issue_gift_receipt(
    *,
    actor: User | None,
    gift: Gift,
    replaces: Receipt | None = None,
    issued_at: datetime | None = None,
) -> Receipt:
    """Issue the receipt of one paid gift of money (an instalment is one gift).

    ``issued_at`` is now unless given (the demo issues at the gift's moment).
    """
    receipt = _issue_gift_receipt(actor, gift, replaces, issued_at, none_if_receipted=False)
    assert receipt is not None  # refused with NotAllowed instead
    return receipt


def issue_first_gift_receipt(
    *, gift: Gift, issued_at: datetime | None = None, locked: bool = False
) -> Receipt | None:
    """Issue a gift's receipt for its thank-you note; None when it has a valid one
    already (refused, like ``issue_gift_receipt``, when it cannot have one). ``locked``:
    the caller read the gift with its row lock in this transaction (``lock_gift``)."""
    return _issue_gift_receipt(None, gift, None, issued_at, none_if_receipted=True, held=locked)


def _issue_gift_receipt(
    actor: User | None,
    gift: Gift,
    replaces: Receipt | None,
    issued_at: datetime | None,
    *,
    none_if_receipted: bool,
    held: bool = False,
) -> Receipt | None:
    gift = lock_gift(gift, held=held)
    if gift.is_reversal or gift.status != GiftStatus.PAID:
        state = "a correction entry" if gift.is_reversal else f"{gift.status}, not paid"
        raise NotAllowed(f"Gift #{gift.id} is {state}; only a paid gift gets a receipt.")
    existing, corrected = gift_standing(gift.id)
    if existing is not None and none_if_receipted:
        return None
    if existing is not None:
        raise NotAllowed(f"Gift #{gift.id} already has receipt {existing}.")
    if corrected:
        raise NotAllowed(
            f"Gift #{gift.id} was corrected; its replacement gets the receipt, not the original."
        )
    amount = receipted_cents(gift)
    if amount <= 0:
        raise NotAllowed(f"Gift #{gift.id} was refunded in full; there is nothing to receipt.")
    benefit = gift.benefit_cents or 0

    def fill(content: ReceiptContent) -> ReceiptContent:
        return replace(
            content,
            gift=gift_line(gift),
            benefit_description=gift.benefit_description,
            benefit_cents=benefit,
            deductible_cents=max(amount - benefit, 0),
        )

    return new_receipt(
        actor=actor,
        kind=ReceiptKind.CASH,
        donor=gift.donor,
        currency=gift.currency,
        amount_cents=amount,
        fill=fill,
        replaces=replaces,
        issued_at=issued_at,
        gift_id=gift.id,
    )


def non_cash_total(donor_id: int, year_start: date, year_end: date) -> int:
    """The donor's own estimates of their goods in a period, for the Form 8283 reminder."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(InKindGift.donor_value_cents), 0)).where(
                InKindGift.donor_id == donor_id,
                InKindGift.received_on >= year_start,
                InKindGift.received_on <= year_end,
            )
        )
        or 0
    )


def issue_in_kind_receipt(
    *,
    actor: User | None,
    in_kind: InKindGift,
    replaces: Receipt | None = None,
    issued_at: datetime | None = None,
) -> Receipt:
    """Acknowledge goods from a donor: items, quantities, condition, date; no value."""
    serialize_writes(LOCK_NAME)
    if intake_reversed(in_kind.document_id):
        raise NotAllowed("That intake was reversed; there is nothing to acknowledge.")
    existing = valid_receipt_for_in_kind(in_kind.id)
    if existing is not None:
        raise NotAllowed(f"These goods already have acknowledgement {existing.number}.")
    # Form 8283 goes by the donor's own (calendar) tax year.
    start, end = tax_year_period(in_kind.received_on.year, 1)
    over = non_cash_total(in_kind.donor_id, start, end) > FORM_8283_THRESHOLD_CENTS

    def fill(content: ReceiptContent) -> ReceiptContent:
        return replace(
            content,
            received_on=in_kind.received_on.isoformat(),
            goods=goods_lines(in_kind.document),
            form_8283_reminder=over,
        )

    return new_receipt(
        actor=actor,
        kind=ReceiptKind.IN_KIND,
        donor=in_kind.donor,
        currency=in_kind.currency,
        amount_cents=0,
        fill=fill,
        replaces=replaces,
        issued_at=issued_at,
        in_kind_gift_id=in_kind.id,
    )
