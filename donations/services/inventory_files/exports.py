"""CSV exports of the goods ledger and stock levels, streamed and safe to open in a spreadsheet.

``ledger_rows`` and ``stock_rows`` read the database a thousand rows at a time
and ``csv_chunks`` turns rows into text as they come, so an export of a million
entries holds a few thousand rows in memory at most. Every text cell that a
spreadsheet would take for a formula is escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from donations.extensions import db
from donations.models import (
    Condition,
    Donor,
    Item,
    ItemCategory,
    Recipient,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    utcnow,
)
from donations.services import donors as donor_service
from donations.services import inventory

EXPORT_BATCH = 1_000  # rows read from the database at a time
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


LEDGER_HEADER = [
    "document",
    "kind",
    "effective date",
    "recorded at (UTC)",
    "site",
    "item code",
    "item",
    "quantity",
    "condition",
    "source",
    "donor",
    "drive",
    "recipient",
    "case code",
    "reason",
    "reverses",
]
STOCK_HEADER = [
    "site",
    "item code",
    "item",
    "category",
    "unit",
    "on hand",
    "par",
    "under par",
]
_CONDITION_LABELS = {c.value: c.label for c in Condition}


def safe_cell(value: Any) -> Any:
    """Return a cell a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[Sequence[Any]], *, batch: int = 500) -> Iterator[str]:
    """Turn rows into CSV text, a batch of rows per chunk, with a BOM for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    pending = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        pending += 1
        if pending >= batch:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            pending = 0
    yield out.getvalue()


def _number(document_id: int | None) -> str:
    # The same form as StockDocument.number, without loading the document.
    return f"D-{document_id:06d}" if document_id else ""


def ledger_rows(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    site_id: int | None = None,
    item_id: int | None = None,
    show_names: bool = True,
) -> Iterator[list[Any]]:
    """Yield the header, then one row per ledger entry in the order recorded.

    Without ``show_names`` (staff), an anonymous donor is "Anonymous donor #id".
    """
    query = (
        select(
            StockEntry.document_id,
            StockDocument.kind,
            StockEntry.effective_date,
            StockDocument.recorded_at,
            Site.name,
            Item.code,
            Item.name,
            Item.size,
            StockEntry.quantity,
            StockEntry.condition,
            StockDocument.source,
            Donor.name,
            Donor.id,
            StockDocument.drive_name,
            Recipient.name,
            StockDocument.case_code,
            StockDocument.reason,
            StockDocument.reverses_id,
        )
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .join(Site, Site.id == StockEntry.site_id)
        .join(Item, Item.id == StockEntry.item_id)
        .outerjoin(Donor, Donor.id == StockDocument.donor_id)
        .outerjoin(Recipient, Recipient.id == StockDocument.recipient_id)
        .order_by(StockEntry.id)
    )
    if date_from:
        query = query.where(StockEntry.effective_date >= date_from)
    if date_to:
        query = query.where(StockEntry.effective_date <= date_to)
    if site_id:
        query = query.where(StockEntry.site_id == site_id)
    if item_id:
        query = query.where(StockEntry.item_id == item_id)
    hidden = set() if show_names else donor_service.anonymous_donor_ids()
    yield LEDGER_HEADER
    result = db.session.execute(query.execution_options(yield_per=EXPORT_BATCH))
    for (
        document_id,
        kind,
        effective_date,
        recorded_at,
        site,
        code,
        name,
        size,
        quantity,
        condition,
        source,
        donor,
        donor_id,
        drive,
        recipient,
        case_code,
        reason,
        reverses_id,
    ) in result:
        if donor_id in hidden:
            donor = donor_service.anonymous_label(donor_id)
        yield [
            _number(document_id),
            kind.label,
            effective_date.isoformat(),
            recorded_at.strftime("%Y-%m-%d %H:%M:%S") if recorded_at else "",
            site,
            code,
            f"{name} ({size})" if size else name,
            quantity,
            _CONDITION_LABELS.get(condition, condition),
            inventory.SOURCE_LABELS.get(source, source),
            donor or "",
            drive,
            recipient or "",
            case_code,
            inventory.REASON_LABELS.get(reason, reason),
            _number(reverses_id),
        ]


def stock_rows(*, site_id: int | None = None) -> Iterator[list[Any]]:
    """Yield the header, then one row per site and item held or with a par level."""
    query = (
        select(
            Site.name,
            Item.code,
            Item.name,
            Item.size,
            ItemCategory.name,
            Item.unit,
            StockLevel.on_hand,
            StockLevel.par_level,
        )
        .join(Site, Site.id == StockLevel.site_id)
        .join(Item, Item.id == StockLevel.item_id)
        .join(ItemCategory, ItemCategory.id == Item.category_id)
        .where(or_(StockLevel.on_hand != 0, StockLevel.par_level > 0))
        .order_by(Site.name, func.lower(Item.name), Item.size, Item.id)
    )
    if site_id:
        query = query.where(StockLevel.site_id == site_id)
    yield STOCK_HEADER
    result = db.session.execute(query.execution_options(yield_per=EXPORT_BATCH))
    for site, code, name, size, category, unit, on_hand, par in result:
        yield [
            site,
            code,
            f"{name} ({size})" if size else name,
            category,
            unit,
            on_hand,
            par,
            "yes" if par and on_hand < par else "no",
        ]


def export_filename(kind: str, day: date | None = None) -> str:
    """Return "goods-ledger-2026-11-23.csv" and the like."""
    return f"goods-{kind}-{(day or utcnow().date()).isoformat()}.csv"
