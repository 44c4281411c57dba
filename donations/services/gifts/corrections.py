"""Correcting an offline gift: a reversing entry and, usually, a replacement gift.

Offline gifts are never edited: a correction adds a reversing entry (a negative
amount) and, usually, a replacement gift, both pointing at the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from donations.extensions import db
from donations.models import Gift, GiftSource, GiftStatus, User
from donations.services import receipt_delivery
from donations.services.audit import describe_changes, record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.gifts.offline import (
    checked_offline_values,
    clean_text,
    describe_gift,
    new_offline_gift,
    offline_row_values,
)
from donations.services.locking import serialize_writes
from donations.services.receipts import correct_gift_receipt

REASON_MAX_LENGTH = 500


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


def correction_problem(gift: Gift) -> str | None:
    """Return why this gift cannot be corrected, or None when it can."""
    if gift.is_reversal:
        return "A reversing entry cannot itself be corrected."
    if gift.source != GiftSource.OFFLINE:
        return "Online gifts change only through Stripe: refund them in the Stripe dashboard."
    if gift.status != GiftStatus.PAID:
        return "Only a paid gift can be corrected."
    already = db.session.scalar(select(Gift.id).where(Gift.corrects_gift_id == gift.id).limit(1))
    if already is not None:
        return f"Gift #{gift.id} has already been corrected; correct its replacement instead."
    return None


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
    reason = clean_text(reason, field="reason", limit=REASON_MAX_LENGTH, label="reason")
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
        replacement_values = checked_offline_values(**{**_current_values(locked), **new_values})
        if replacement_values == offline_row_values(locked):
            raise InvalidInput(
                "Nothing was changed. Change a value, or tick “void only” to cancel the gift."
            )

    reversal = new_offline_gift(
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
        campaign_id=locked.campaign_id,  # takes the gift back out of its campaign
        appeal_code=locked.appeal_code,  # and out of its appeal
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
        replacement = new_offline_gift(
            actor=actor,
            values=replacement_values,
            corrects_gift_id=locked.id,
            campaign_id=locked.campaign_id,
            appeal_code=locked.appeal_code,
        )
        changes = describe_changes(offline_row_values(locked), offline_row_values(replacement))
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
