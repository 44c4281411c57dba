"""Voiding a receipt (it keeps its number and says VOID) and reissuing it with a new one."""

from __future__ import annotations

import logging

from donations.extensions import db
from donations.models import Gift, Receipt, ReceiptKind, ReceiptStatus, User, utcnow
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.locking import serialize_writes
from donations.services.receipts.content import receipted_cents
from donations.services.receipts.issuing import issue_gift_receipt, issue_in_kind_receipt
from donations.services.receipts.lookups import replacement_of, valid_receipt_for_gift
from donations.services.receipts.numbers import LOCK_NAME
from donations.services.receipts.statements import issue_statement

log = logging.getLogger(__name__)

VOID_REASON_MAX_LENGTH = 500


def void_receipt(*, actor: User | None, receipt: Receipt, reason: str) -> Receipt:
    """Void a receipt: it keeps its number, and its PDF says VOID."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("Say why the receipt is void.", field="reason")
    if len(reason) > VOID_REASON_MAX_LENGTH:
        raise InvalidInput(f"Use at most {VOID_REASON_MAX_LENGTH} characters.", field="reason")
    serialize_writes(LOCK_NAME)
    db.session.refresh(receipt, with_for_update=True)
    if receipt.is_void:
        raise NotAllowed(f"Receipt {receipt.number} is already void.")
    receipt.status = ReceiptStatus.VOID
    receipt.voided_at = utcnow()
    receipt.voided_by_id = actor.id if actor is not None else None
    receipt.void_reason = reason
    db.session.flush()
    record_audit(
        actor=actor,
        action="receipt.voided",
        object_type="receipt",
        object_id=receipt.id,
        summary=f"{receipt.number}: {reason}",
    )
    return receipt


def reissue_receipt(*, actor: User | None, receipt: Receipt) -> Receipt:
    """Issue a new receipt, with a new number, in place of a voided one."""
    if not receipt.is_void:
        raise NotAllowed(
            f"Receipt {receipt.number} is valid; void it first, saying why, then reissue."
        )
    replacement = replacement_of(receipt)
    if replacement is not None:
        raise NotAllowed(f"Receipt {receipt.number} was already reissued as {replacement.number}.")
    if receipt.kind == ReceiptKind.CASH:
        return issue_gift_receipt(actor=actor, gift=receipt.gift, replaces=receipt)
    if receipt.kind == ReceiptKind.IN_KIND:
        return issue_in_kind_receipt(actor=actor, in_kind=receipt.in_kind_gift, replaces=receipt)
    return issue_statement(
        actor=actor, donor=receipt.donor, tax_year=receipt.tax_year, replaces=receipt
    )


def sync_gift_receipt(gift: Gift) -> Receipt | None:
    """After a refund or a lost dispute: void the receipt and reissue it for what is left.

    Returns the new receipt, if one was issued: the caller sends it to the donor
    (``receipt_delivery.send_receipt``). Called
    by the Stripe event code whenever a gift's refunded or disputed amounts
    change; safe to call twice. If the reissue cannot be made (the organisation
    profile was emptied), the void stands and the treasurer reissues by hand
    from the receipt's page: the refund itself is never held up.
    """
    receipt = valid_receipt_for_gift(gift.id)
    if receipt is None or receipt.amount_cents == receipted_cents(gift):
        return None
    left = receipted_cents(gift)
    reason = "Refunded in full" if left == 0 else "Part of the gift was refunded"
    void_receipt(actor=None, receipt=receipt, reason=reason)
    if left == 0:
        return None
    try:
        with db.session.begin_nested():
            new = issue_gift_receipt(actor=None, gift=gift, replaces=receipt)
    except NotAllowed as error:
        log.warning("receipt %s voided but not reissued: %s", receipt.number, error.message)
        return None
    return new


def correct_gift_receipt(
    *, actor: User | None, gift: Gift, replacement: Gift | None, reason: str
) -> Receipt | None:
    """An offline gift was corrected: void its receipt; receipt the replacement instead.

    Returns the replacement's receipt, which points at the voided one, if the
    gift had a receipt and a replacement was recorded: the caller sends it.
    """
    receipt = valid_receipt_for_gift(gift.id)
    if receipt is None:
        return None
    void_receipt(actor=actor, receipt=receipt, reason=f"Gift corrected: {reason}"[:500])
    if replacement is None:
        return None
    return issue_gift_receipt(actor=actor, gift=replacement, replaces=receipt)
