"""Finding receipts: by id, by gift, by replacement, by verification code."""

from __future__ import annotations

from sqlalchemy import exists, select

from donations.extensions import db
from donations.models import Gift, Receipt, ReceiptKind, ReceiptStatus, StockDocument
from donations.pdf.content import ReceiptContent, VoidMark
from donations.services.errors import NotFound
from donations.services.receipts.numbers import normalize_code


def get_receipt(receipt_id: int) -> Receipt:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("There is no such receipt.")
    return receipt


def content_of(receipt: Receipt) -> ReceiptContent:
    return ReceiptContent.from_json(receipt.content)


def valid_receipt_for_gift(gift_id: int) -> Receipt | None:
    return db.session.scalar(
        select(Receipt).where(Receipt.gift_id == gift_id, Receipt.status == ReceiptStatus.VALID)
    )


def valid_receipt_for_in_kind(in_kind_gift_id: int) -> Receipt | None:
    return db.session.scalar(
        select(Receipt).where(
            Receipt.in_kind_gift_id == in_kind_gift_id, Receipt.status == ReceiptStatus.VALID
        )
    )


def replacement_of(receipt: Receipt) -> Receipt | None:
    return db.session.scalar(select(Receipt).where(Receipt.replaces_id == receipt.id))


def void_mark(receipt: Receipt) -> VoidMark | None:
    if not receipt.is_void:
        return None
    replacement = replacement_of(receipt)
    return VoidMark(
        voided_on=receipt.voided_at.date().isoformat(),
        reason=receipt.void_reason,
        replaced_by=replacement.number if replacement else "",
    )


def gift_standing(gift_id: int) -> tuple[str | None, bool]:
    """The number of the gift's valid receipt (None without one) and whether a reversing
    entry undoes it (``was_corrected``), read by one statement."""
    number = (
        select(Receipt.number)
        .where(Receipt.gift_id == gift_id, Receipt.status == ReceiptStatus.VALID)
        .limit(1)
        .scalar_subquery()
    )
    corrected = exists().where(Gift.corrects_gift_id == gift_id, Gift.is_reversal)
    found, undone = db.session.execute(select(number, corrected)).one()
    return found, bool(undone)


def was_corrected(gift_id: int) -> bool:
    """Whether a reversing entry undoes this gift (its replacement is receipted instead)."""
    reversal = select(Gift.id).where(Gift.corrects_gift_id == gift_id, Gift.is_reversal)
    return db.session.scalar(reversal.limit(1)) is not None


def intake_reversed(document_id: int) -> bool:
    return (
        db.session.scalar(select(StockDocument.id).where(StockDocument.reverses_id == document_id))
        is not None
    )


def verify_code(code: str) -> dict[str, object] | None:
    """What /verify may show for a code: number, date, amount, status. None if unknown."""
    # The same single lookup for malformed, unknown and known codes.
    normalized = normalize_code(code) or "-"
    receipt = db.session.scalar(select(Receipt).where(Receipt.verification_code == normalized))
    if receipt is None:
        return None
    return {
        "number": receipt.number,
        "issued_on": receipt.issued_at.date(),
        "amount_cents": receipt.amount_cents,
        "currency": receipt.currency,
        "is_goods": receipt.kind == ReceiptKind.IN_KIND,
        "status": receipt.status,
        "is_test": receipt.is_test,
    }
