"""The in-kind gifts export: one row per item line of each gift of goods."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from donations.extensions import db
from donations.models import (
    Condition,
    Donor,
    InKindGift,
    Item,
    Receipt,
    ReceiptStatus,
    Site,
    StockDocument,
    StockEntry,
)
from donations.money import exponent
from donations.services.exports.common import EXPORT_BATCH, plain_amount, safe_text

IN_KIND_HEADER = [
    "Date received",
    "In-kind gift ID",
    "Donor",
    "Email",
    "Document",
    "Item code",
    "Item",
    "Quantity",
    "Unit",
    "Condition",
    "Site",
    "Donor's own estimate (internal)",
    "Currency",
    "Acknowledgement number",
    "Reversed by",
]

CONDITION_LABELS = {c.value: c.label for c in Condition}


def in_kind_rows(
    *, date_from: date | None = None, date_to: date | None = None
) -> Iterator[list[Any]]:
    """Yield the header, then one row per item line of each in-kind gift, oldest first.

    The site is named only when it is not confidential, and its address never
    appears. The donor's own estimate is on the first line of each gift only, so
    a column sum counts it once.
    """
    reversal = aliased(StockDocument)
    receipt_number = (
        select(Receipt.number)
        .where(
            Receipt.in_kind_gift_id == InKindGift.id,
            Receipt.status == ReceiptStatus.VALID,
        )
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            InKindGift.received_on,
            InKindGift.id,
            Donor.name,
            Donor.email,
            InKindGift.document_id,
            Item.code,
            Item.name,
            Item.size,
            StockEntry.quantity,
            Item.unit,
            StockEntry.condition,
            Site.name,
            Site.is_confidential,
            InKindGift.donor_value_cents,
            InKindGift.currency,
            receipt_number,
            reversal.id,
        )
        .join(Donor, Donor.id == InKindGift.donor_id)
        .join(StockEntry, StockEntry.document_id == InKindGift.document_id)
        .join(Item, Item.id == StockEntry.item_id)
        .join(Site, Site.id == StockEntry.site_id)
        .outerjoin(reversal, reversal.reverses_id == InKindGift.document_id)
        .order_by(InKindGift.received_on, InKindGift.id, StockEntry.id)
    )
    if date_from:
        query = query.where(InKindGift.received_on >= date_from)
    if date_to:
        query = query.where(InKindGift.received_on <= date_to)
    yield IN_KIND_HEADER
    last_gift = None
    result = db.session.execute(query.execution_options(yield_per=EXPORT_BATCH))
    for (
        received_on,
        gift_id,
        donor_name,
        donor_email,
        document_id,
        code,
        name,
        size,
        quantity,
        unit,
        condition,
        site_name,
        confidential,
        value_cents,
        currency,
        acknowledgement,
        reversed_by,
    ) in result:
        first_line = gift_id != last_gift
        last_gift = gift_id
        estimate = ""
        if first_line and value_cents is not None:
            estimate = plain_amount(value_cents, exponent(currency))
        yield [
            received_on.isoformat(),
            gift_id,
            safe_text(donor_name),
            safe_text(donor_email),
            f"D-{document_id:06d}",
            safe_text(code),
            safe_text(f"{name} ({size})" if size else name),
            quantity,
            safe_text(unit),
            CONDITION_LABELS.get(condition, condition),
            "" if confidential else safe_text(site_name),
            estimate,
            currency if estimate else "",
            acknowledgement or "",
            f"D-{reversed_by:06d}" if reversed_by else "",
        ]
