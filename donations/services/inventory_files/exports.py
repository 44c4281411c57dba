"""CSV exports of the goods ledger and stock levels, streamed and safe to open in a spreadsheet.

``ledger_csv`` reads the ledger a few thousand entries at a time (a server-side
cursor on PostgreSQL) and yields each batch as CSV text joined by hand, so an
export of a million entries holds one batch in memory at most; ``stock_rows``
yields rows that ``csv_chunks`` turns into text. Every text cell that a
spreadsheet would take for a formula is escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, String, case, func, or_, select, type_coerce

from donations.extensions import db
from donations.models import (
    Condition,
    DocumentKind,
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
from donations.services import inventory, streaming
from donations.services.csv_text import (
    FORMULA_FIRST,
    csv_head,
    csv_line,
    date_text,
    needs_quotes,
    second_of,
)
from donations.tenancy import current_organization_id

EXPORT_BATCH = 2_000  # rows read from the database at a time
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


def _ledger_query(
    *,
    date_from: date | None,
    date_to: date | None,
    site_id: int | None,
    item_id: int | None,
) -> Select:
    """The ledger's columns as plain values, dates as text, in the order recorded."""
    item_label = case(
        (Item.size != "", Item.name + " (" + Item.size + ")"),
        else_=Item.name,
    )
    query = (
        select(
            StockEntry.document_id,
            type_coerce(StockDocument.kind, String),
            date_text(StockEntry.effective_date),
            second_of(StockDocument.recorded_at),
            Site.name,
            Item.code,
            item_label,
            StockEntry.quantity,
            type_coerce(StockEntry.condition, String),
            type_coerce(StockDocument.source, String),
            Donor.name,
            Donor.id,
            StockDocument.drive_name,
            Recipient.name,
            StockDocument.case_code,
            type_coerce(StockDocument.reason, String),
            StockDocument.reverses_id,
        )
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .join(Site, Site.id == StockEntry.site_id)
        .join(Item, Item.id == StockEntry.item_id)
        .outerjoin(Donor, Donor.id == StockDocument.donor_id)
        .outerjoin(Recipient, Recipient.id == StockDocument.recipient_id)
        # Run on the connection, past the ORM's scoping hook: the scope is written out.
        .where(StockEntry.organization_id == current_organization_id())
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
    return query


def ledger_csv(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    site_id: int | None = None,
    item_id: int | None = None,
    show_names: bool = True,
    batch: int | None = None,
) -> Iterator[str]:
    """Yield the ledger CSV as text: the BOM and header, then a chunk per ``batch`` entries
    (``EXPORT_BATCH``).

    One line per entry in the order recorded, joined by hand exactly as
    ``csv_chunks`` would write it (every text cell through ``safe_cell``); a
    line with a cell that needs quotes goes through ``csv.writer``. Without
    ``show_names`` (staff), an anonymous donor is "Anonymous donor #id".
    """
    query = _ledger_query(date_from=date_from, date_to=date_to, site_id=site_id, item_id=item_id)
    hidden = set() if show_names else donor_service.anonymous_donor_ids()
    kinds = {k.value: k.label for k in DocumentKind}
    conditions = _CONDITION_LABELS
    sources = inventory.SOURCE_LABELS
    reasons = inventory.REASON_LABELS
    formula_first = FORMULA_FIRST
    quotes = needs_quotes
    last_document, number = None, ""
    last_reverses, reverses = None, ""
    yield csv_head(LEDGER_HEADER)
    statement = query.execution_options(yield_per=batch or EXPORT_BATCH)
    for rows in streaming.partitions(db.session.connection(), statement):
        lines = []
        append = lines.append
        for (
            document_id,
            kind,
            effective_date,
            recorded_at,
            site,
            code,
            item,
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
        ) in rows:
            if document_id != last_document:  # a document's entries come together
                last_document, number = document_id, _number(document_id)
            if reverses_id != last_reverses:
                last_reverses, reverses = reverses_id, _number(reverses_id)
            if donor_id in hidden:
                donor = donor_service.anonymous_label(donor_id)
            kind = kinds.get(kind, kind)
            recorded_at = recorded_at or ""
            condition = conditions.get(condition, condition)
            source = sources.get(source, source)
            reason = reasons.get(reason, reason)
            donor = donor or ""
            recipient = recipient or ""
            # safe_cell, inline: the cells that hold text from people or settings.
            if site and site[0] in formula_first:
                site = "'" + site
            if code and code[0] in formula_first:
                code = "'" + code
            if item and item[0] in formula_first:
                item = "'" + item
            if condition and condition[0] in formula_first:
                condition = "'" + condition
            if source and source[0] in formula_first:
                source = "'" + source
            if donor and donor[0] in formula_first:
                donor = "'" + donor
            if drive and drive[0] in formula_first:
                drive = "'" + drive
            if recipient and recipient[0] in formula_first:
                recipient = "'" + recipient
            if case_code and case_code[0] in formula_first:
                case_code = "'" + case_code
            if reason and reason[0] in formula_first:
                reason = "'" + reason
            if quotes(
                f"{site}{code}{item}{condition}{source}{donor}{drive}{recipient}{case_code}{reason}{kind}"
            ):
                append(
                    csv_line(
                        (number, kind, effective_date, recorded_at, site, code, item, quantity,
                         condition, source, donor, drive, recipient, case_code, reason, reverses)
                    )
                )  # fmt: skip
            else:
                append(
                    f"{number},{kind},{effective_date},{recorded_at},{site},{code},{item},"
                    f"{quantity},{condition},{source},{donor},{drive},{recipient},{case_code},"
                    f"{reason},{reverses}\r\n"
                )
        if lines:
            yield "".join(lines)


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
