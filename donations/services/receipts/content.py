"""What a receipt prints, frozen at issue as JSON, and the one place a receipt row is made.

What a receipt prints is a ``donations.pdf.content.ReceiptContent``, stored on
``Receipt.content``. In payments test mode (see ``making_test_receipts``) a
receipt is a test receipt: ``is_test`` is set, its number comes from a series
of its own, and its PDF and mail say "TEST — not a tax receipt".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from donations.extensions import db, hold
from donations.models import (
    Condition,
    Donor,
    Gift,
    GiftMethod,
    Organization,
    Receipt,
    ReceiptKind,
    ReceiptSettings,
    ReceiptStatus,
    StockDocument,
    User,
    utcnow,
)
from donations.pdf.content import DonorBlock, GiftLine, GoodsLine, OrgBlock, ReceiptContent
from donations.services.audit import record_audit
from donations.services.errors import NotAllowed
from donations.services.links import absolute_url
from donations.services.periods import fiscal_year_of
from donations.services.receipts.numbers import (
    making_test_receipts,
    new_verification_code,
    take_number,
)
from donations.tenancy import current_organization_id

# IRS: a quid pro quo contribution over $75 needs a written disclosure.
QUID_PRO_QUO_THRESHOLD_CENTS = 7_500


def get_receipt_settings() -> ReceiptSettings:
    """Return the receipt settings, creating the row with defaults on first use."""
    settings = db.session.get(ReceiptSettings, current_organization_id())
    if settings is None:
        settings = ReceiptSettings(id=current_organization_id())
        db.session.add(settings)
        db.session.flush()
    return hold(settings)


def organization() -> Organization:
    org = hold(db.session.get(Organization, current_organization_id()))
    if org is None or not org.legal_name:
        raise NotAllowed(
            "Fill in the organisation's legal name, EIN and address (Admin, Organisation) "
            "before issuing receipts."
        )
    return org


def org_block(org: Organization) -> OrgBlock:
    return OrgBlock(
        legal_name=org.legal_name,
        tax_id=org.tax_id,
        address_lines=org.address_lines,
        phone=org.phone,
        email=org.email,
        website=org.website,
        signatory_name=org.signatory_name,
        signatory_title=org.signatory_title,
        footer=org.receipt_footer,
    )


def donor_block(donor: Donor) -> DonorBlock:
    return DonorBlock(name=donor.name, address_lines=donor.address_lines, email=donor.email or "")


def receipted_cents(gift: Gift) -> int:
    """What a gift's receipt acknowledges: the gift less refunds and lost disputes."""
    return receipted_amount(
        gift.amount_cents, gift.refunded_cents, gift.dispute_cents, gift.dispute_status
    )


def receipted_amount(amount: int, refunded: int, dispute: int, dispute_status: str) -> int:
    """``receipted_cents`` from a gift's columns (for queries that load no Gift objects)."""
    lost = dispute if dispute_status == "lost" else 0
    return max(amount - refunded - lost, 0)


def method_label(gift: Gift) -> str:
    label = GiftMethod(gift.method).label
    if gift.cheque_number:
        label += f" #{gift.cheque_number}"
    return label


def gift_line(gift: Gift, *, receipt_number: str = "") -> GiftLine:
    parts = []
    if gift.frequency == "monthly":
        parts.append("Monthly gift")
    if gift.tribute_name:
        word = "In memory of" if gift.tribute_type == "memory" else "In honour of"
        parts.append(f"{word} {gift.tribute_name}")
    if gift.method == GiftMethod.SECURITIES and gift.reference:
        parts.append(gift.reference)
    return GiftLine(
        date=gift.received_at.date().isoformat(),
        amount_cents=receipted_cents(gift),
        currency=gift.currency,
        fund=gift.fund.name,
        method=method_label(gift),
        description="; ".join(parts),
        receipt_number=receipt_number,
    )


def goods_lines(document: StockDocument) -> list[GoodsLine]:
    merged: dict[tuple[int, str], int] = defaultdict(int)
    items = {}
    for entry in document.entries:
        if entry.quantity > 0:
            merged[(entry.item_id, entry.condition)] += entry.quantity
            items[entry.item_id] = entry.item
    return [
        GoodsLine(
            description=items[item_id].label,
            quantity=quantity,
            unit=items[item_id].unit,
            condition=Condition(condition).label if condition else "",
        )
        for (item_id, condition), quantity in merged.items()
    ]


def base_content(
    *,
    kind: ReceiptKind,
    number: str,
    code: str,
    donor: Donor,
    currency: str,
    issued_at: datetime,
    is_test: bool = False,
) -> ReceiptContent:
    org = organization()
    settings = get_receipt_settings()
    return ReceiptContent(
        kind=kind.value,
        number=number,
        issued_on=issued_at.date().isoformat(),
        verification_code=code,
        verify_url=absolute_url("receipts_public.verify", code=code),
        org=org_block(org),
        donor=donor_block(donor),
        currency=currency,
        page_size=settings.page_size,
        for_post=not donor.email,
        is_test=is_test,
    )


def new_receipt(
    *,
    actor: User | None,
    kind: ReceiptKind,
    donor: Donor,
    currency: str,
    amount_cents: int,
    fill: Callable[[ReceiptContent], ReceiptContent],
    replaces: Receipt | None = None,
    issued_at: datetime | None = None,
    **columns: Any,
) -> Receipt:
    org = organization()
    issued_at = issued_at or utcnow()
    is_test = making_test_receipts() or (replaces is not None and replaces.is_test)
    fiscal_year = fiscal_year_of(issued_at.date(), org.fiscal_year_start_month)
    sequence, number = take_number(fiscal_year, is_test=is_test)
    code = new_verification_code()
    content = base_content(
        kind=kind,
        number=number,
        code=code,
        donor=donor,
        currency=currency,
        issued_at=issued_at,
        is_test=is_test,
    )
    content = fill(content)
    if replaces is not None:
        content = replace(content, replaces_number=replaces.number)
    receipt = Receipt(
        number=number,
        fiscal_year=fiscal_year,
        sequence_number=sequence,
        kind=kind,
        status=ReceiptStatus.VALID,
        donor_id=donor.id,
        amount_cents=amount_cents,
        currency=currency,
        verification_code=code,
        content=content.to_json(),
        is_test=is_test,
        issued_at=issued_at,
        issued_by_id=actor.id if actor is not None else None,
        delivery="" if donor.email else "post",
        replaces_id=replaces.id if replaces is not None else None,
        **columns,
    )
    db.session.add(receipt)
    db.session.flush()
    record_audit(
        actor=actor,
        action="receipt.issued",
        object_type="receipt",
        object_id=receipt.id,
        summary=f"{receipt.number} ({kind.label}{', test mode' if is_test else ''}) "
        f"for {donor.name}" + (f", replacing {replaces.number}" if replaces else ""),
    )
    return receipt
