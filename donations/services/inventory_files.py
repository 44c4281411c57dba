"""CSV files of the goods ledger: an intake list read in, the ledger and stock levels written out.

Reading is in two steps. ``read_intake_csv`` checks every row of an uploaded
list and returns an ``IntakeList`` (the preview: each row with what it
matched or what is wrong with it); nothing is written. Only a list with no
problem can be recorded, through ``record_intake_list``, which hands the
merged lines to ``inventory.record_intake``. Between the two steps the page
carries ``IntakeList.as_text()``, a short CSV of the merged lines, which is
read again in full before anything is saved.

Writing streams: ``ledger_rows`` and ``stock_rows`` read the database a
thousand rows at a time and ``csv_chunks`` turns rows into text as they come,
so an export of a million entries holds a few thousand rows in memory at most.
Every text cell that a spreadsheet would take for a formula is escaped.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from donations.extensions import db
from donations.models import (
    Condition,
    DocumentKind,
    Donor,
    IntakeSource,
    Item,
    ItemCategory,
    Recipient,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    User,
    utcnow,
)
from donations.services import donors as donor_service
from donations.services import inventory, privacy
from donations.services.errors import InvalidInput

UPLOAD_MAX_BYTES = 1_000_000
ROWS_MAX = 2_000  # item rows in one file
CELL_SHOWN_MAX = 120  # characters of a cell kept for the preview
EXPORT_BATCH = 1_000  # rows read from the database at a time
FILE_FIELD = "csv_file"
REMOVED_CELL = "[removed]"  # what the preview shows of a cell that held personal details

SAVE_AS_HINT = (
    "In Excel choose File > Save As > CSV UTF-8 (comma delimited); in LibreOffice or "
    "Google Sheets save or download as CSV with the UTF-8 character set."
)
COLUMNS_HINT = (
    "The first row must name the columns: code (or item, with size where the item has sizes), "
    "quantity, and optionally condition (new or good used)."
)

# Column names people use, normalised (lower case, single spaces).
_HEADER_ALIASES = {
    "code": "code",
    "item code": "code",
    "sku": "code",
    "item": "item",
    "item name": "item",
    "name": "item",
    "size": "size",
    "quantity": "quantity",
    "qty": "quantity",
    "condition": "condition",
}
_CONDITIONS = {
    "new": Condition.NEW.value,
    "good used": Condition.GOOD_USED.value,
    "used good": Condition.GOOD_USED.value,
    "used": Condition.GOOD_USED.value,
}
_LABEL_WITH_SIZE = re.compile(r"^(?P<name>.+?)\s*\((?P<size>[^()]+)\)$")
_WHOLE = re.compile(r"^\d+$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- reading an intake list ------------------------------------------------------


@dataclass
class PreviewRow:
    """One row of the uploaded list as the preview shows it (or a run of blank rows)."""

    row: int  # as a spreadsheet numbers it; the header is usually row 1
    last_row: int
    status: str  # "ok", "merged", "error" or "blank"
    code: str = ""
    item: str = ""
    size: str = ""
    quantity_text: str = ""
    condition_text: str = ""
    item_id: int | None = None
    item_code: str = ""
    item_label: str = ""
    quantity: int | None = None
    condition: str = ""
    message: str = ""

    @property
    def rows_label(self) -> str:
        if self.last_row != self.row:
            return f"{self.row}\u2013{self.last_row}"
        return str(self.row)

    @property
    def written(self) -> str:
        """What the row names, as written in the file."""
        if self.code:
            return self.code
        return f"{self.item} ({self.size})" if self.size else self.item

    @property
    def condition_label(self) -> str:
        return Condition(self.condition).label if self.condition else ""


@dataclass
class IntakeList:
    """An intake list checked row by row; ``ok`` when it may be recorded."""

    rows: list[PreviewRow]
    lines: list[inventory.Line]
    codes: dict[int, str]  # item id -> code, for ``as_text``
    delimiter: str = ","
    ignored_columns: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the file as a whole

    def count(self, status: str) -> int:
        if status == "blank":
            return sum(r.last_row - r.row + 1 for r in self.rows if r.status == "blank")
        return sum(1 for r in self.rows if r.status == status)

    @property
    def item_rows(self) -> int:
        return sum(1 for r in self.rows if r.status != "blank")

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problems and bool(self.lines)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    def as_text(self) -> str:
        """The merged lines as a short CSV (code, quantity, condition) to post back."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "quantity", "condition"])
        for line in self.lines:
            writer.writerow([self.codes[line.item_id], line.quantity, line.condition])
        return out.getvalue()


def decode_upload(data: bytes) -> str:
    """Return the text of an uploaded file, or refuse one that is not CSV text."""
    if len(data) > UPLOAD_MAX_BYTES:
        raise InvalidInput(
            f"The file is larger than {UPLOAD_MAX_BYTES // 1_000_000} MB; split it into "
            f"smaller lists of at most {ROWS_MAX:,} rows.",
            field=FILE_FIELD,
        )
    if not data.strip():
        raise InvalidInput("The file is empty. Choose the saved CSV file.", field=FILE_FIELD)
    if data[:4] == b"PK\x03\x04":
        raise InvalidInput(
            f"This looks like a spreadsheet workbook, not a CSV file. {SAVE_AS_HINT}",
            field=FILE_FIELD,
        )
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"The file is not saved as UTF-8 text, so its letters cannot be read reliably. "
            f"{SAVE_AS_HINT}",
            field=FILE_FIELD,
        ) from None
    if "\x00" in text:
        raise InvalidInput(
            f"This is not a CSV text file. {SAVE_AS_HINT}",
            field=FILE_FIELD,
        )
    return text


def read_intake_csv(*, data: bytes) -> IntakeList:
    """Check an uploaded intake list; raise ``InvalidInput`` if it cannot be read at all."""
    return parse_intake_text(decode_upload(data))


def _guess_delimiter(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            counts = {d: line.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _normal(text: str) -> str:
    """Lower case with single spaces, "_" and "-" read as spaces: for conditions."""
    return _squash(text.replace("_", " ").replace("-", " "))


def _squash(text: str) -> str:
    """Lower case with single spaces: for item names."""
    return " ".join(text.split()).lower()


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (spreadsheet row number, cells) for every record, blank ones included."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InvalidInput(
                f"Row {number + 1} could not be read as CSV ({error}). {SAVE_AS_HINT}",
                field=FILE_FIELD,
            ) from None
        number += 1
        yield number, [cell.strip() for cell in cells]


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored = []
    # A first row holding a person's name or contact details is not shown back either.
    safe = [REMOVED_CELL if privacy.personal_details(name) else name for name in header]
    for index, name in enumerate(header):
        key = _HEADER_ALIASES.get(" ".join(name.replace("_", " ").split()).lower())
        if key and key not in columns:
            columns[key] = index
        elif name:
            ignored.append(safe[index][:CELL_SHOWN_MAX])
    if "quantity" not in columns or not ({"code", "item"} & set(columns)):
        shown = ", ".join(c for c in safe if c)[:200] or "(empty)"
        raise InvalidInput(
            f"{COLUMNS_HINT} This file's first row is: {shown}.",
            field=FILE_FIELD,
        )
    return columns, ignored


def parse_intake_text(text: str) -> IntakeList:
    """Check each row of an intake list's text: item, quantity and condition."""
    text = text.removeprefix("\ufeff")
    delimiter = _guess_delimiter(text)
    records = _records(text, delimiter)
    columns: dict[str, int] | None = None
    ignored: list[str] = []
    rows: list[PreviewRow] = []
    item_rows = 0
    for number, cells in records:
        if columns is None:
            if any(cells):
                columns, ignored = _columns(cells)
            continue
        values = {
            key: cells[index][:CELL_SHOWN_MAX] if index < len(cells) else ""
            for key, index in columns.items()
        }
        if not any(values.values()):
            if rows and rows[-1].status == "blank" and rows[-1].last_row == number - 1:
                rows[-1].last_row = number
            else:
                rows.append(PreviewRow(number, number, "blank", message="Blank row."))
            continue
        item_rows += 1
        if item_rows > ROWS_MAX:
            raise InvalidInput(
                f"The file has more than {ROWS_MAX:,} item rows; split it into lists of at "
                f"most {ROWS_MAX:,} rows and import each one.",
                field=FILE_FIELD,
            )
        # A cell holding a person's name or contact details is neither shown nor kept.
        screened = [key for key, value in values.items() if privacy.personal_details(value)]
        for key in screened:
            values[key] = REMOVED_CELL
        rows.append(
            PreviewRow(
                number,
                number,
                "error" if screened else "ok",
                message=privacy.SCREEN_MESSAGE if screened else "",
                code=values.get("code", ""),
                item=values.get("item", ""),
                size=values.get("size", ""),
                quantity_text=values.get("quantity", ""),
                condition_text=values.get("condition", ""),
            )
        )
    if columns is None:
        raise InvalidInput("The file is empty. Choose the saved CSV file.", field=FILE_FIELD)
    if not item_rows:
        raise InvalidInput(
            "The file has no item rows under its first row (the column names).",
            field=FILE_FIELD,
        )
    # Trailing blank rows are what spreadsheets leave behind: not worth a line.
    while rows and rows[-1].status == "blank":
        rows.pop()
    result = IntakeList(rows=rows, lines=[], codes={}, delimiter=delimiter, ignored_columns=ignored)
    _match_items(result.rows)
    _check_rows(result)
    return result


def _match_items(rows: list[PreviewRow]) -> None:
    """Find the catalog item each row names, by code or by name and size."""
    wanted = [r for r in rows if r.status == "ok"]
    codes = {r.code.upper() for r in wanted if r.code}
    names = set()
    for r in wanted:
        if not r.code and r.item:
            names.add(_squash(r.item))
            labelled = _LABEL_WITH_SIZE.match(r.item)
            if labelled:
                names.add(_squash(labelled["name"]))
    by_code: dict[str, Item] = {}
    by_name: dict[str, list[Item]] = {}
    for chunk in _chunks(sorted(codes), 500):
        for item in db.session.scalars(select(Item).where(Item.code.in_(chunk))):
            by_code[item.code] = item
    for chunk in _chunks(sorted(names), 500):
        query = select(Item).where(func.lower(Item.name).in_(chunk)).order_by(Item.id)
        for item in db.session.scalars(query):
            by_name.setdefault(_squash(item.name), []).append(item)
    for row in wanted:
        item, problem = _match(row, by_code, by_name)
        if item is None:
            row.status, row.message = "error", problem
            continue
        row.item_id, row.item_code, row.item_label = item.id, item.code, item.label
        if not item.active:
            row.status = "error"
            row.message = f"{item.label} is no longer used (inactive); choose another item."


def _match(
    row: PreviewRow, by_code: dict[str, Item], by_name: dict[str, list[Item]]
) -> tuple[Item | None, str]:
    if row.code:
        item = by_code.get(row.code.upper())
        return item, "" if item else f"No item has the code {row.code}."
    if not row.item:
        return None, "Name the item: fill in its code or its name."
    size = row.size
    candidates = by_name.get(_squash(row.item), [])
    if not candidates and not size:
        labelled = _LABEL_WITH_SIZE.match(row.item)
        if labelled:
            candidates = by_name.get(_squash(labelled["name"]), [])
            size = labelled["size"].strip()
    if not candidates:
        return None, f"{row.item} is not in the catalog: check the spelling, or use the item code."
    sized = [i for i in candidates if i.size.lower() == size.lower()]
    if len(sized) == 1:
        return sized[0], ""
    sizes = ", ".join(i.size for i in candidates if i.size)
    if not size:
        return None, f"{candidates[0].name} comes in sizes {sizes}: add the size, or use the code."
    if sizes:
        return None, f"There is no {candidates[0].name} in size {size}; sizes are {sizes}."
    return None, f"{candidates[0].name} has no sizes: leave the size empty."


def _parse_quantity(text: str) -> tuple[int | None, str]:
    if not text:
        return None, "Enter the quantity."
    if text.startswith("-") and _WHOLE.match(text[1:]):
        return None, "The quantity must be above zero."
    if not _WHOLE.match(text):
        return None, f"{text} is not a whole number: write the quantity as digits, such as 12."
    quantity = int(text)
    if quantity <= 0:
        return None, "The quantity must be above zero."
    if quantity > inventory.QUANTITY_MAX:
        return None, f"At most {inventory.QUANTITY_MAX:,} on one row."
    return quantity, ""


def _parse_condition(text: str) -> tuple[str | None, str]:
    if not text:
        return Condition.NEW.value, ""
    condition = _CONDITIONS.get(_normal(text))
    if condition is None:
        return None, f"{text} is not a condition: write new or good used (blank means new)."
    return condition, ""


def _check_rows(result: IntakeList) -> None:
    """Check quantities and conditions, and merge rows naming the same item and condition."""
    first: dict[tuple[int, str], PreviewRow] = {}
    totals: dict[tuple[int, str], int] = {}
    for row in result.rows:
        if row.status == "blank":
            continue
        quantity, quantity_problem = _parse_quantity(row.quantity_text)
        condition, condition_problem = _parse_condition(row.condition_text)
        row.quantity = quantity
        row.condition = condition or ""
        problems = [p for p in (quantity_problem, condition_problem) if p]
        if row.status == "error":
            problems.insert(0, row.message)
        if problems:
            row.status, row.message = "error", " ".join(problems)
            continue
        if row.item_id is None or quantity is None or condition is None:  # for the type checker
            continue
        key = (row.item_id, condition)
        if key in first:
            total = totals[key] + quantity
            if total > inventory.QUANTITY_MAX:
                row.status = "error"
                row.message = (
                    f"With row {first[key].row} this makes more than "
                    f"{inventory.QUANTITY_MAX:,}; one intake holds at most that."
                )
                continue
            totals[key] = total
            row.status = "merged"
            row.message = (
                f"Same item and condition as row {first[key].row}: added to it ({total:,} in all)."
            )
        else:
            first[key] = row
            totals[key] = quantity
        result.codes[row.item_id] = row.item_code
    result.lines = [inventory.Line(item_id, totals[(item_id, c)], c) for item_id, c in first]
    if len(result.lines) > inventory.LINES_MAX:
        result.problems.append(
            f"The list names {len(result.lines):,} different items (item and condition); one "
            f"intake holds at most {inventory.LINES_MAX}. Split it into smaller lists."
        )


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- recording a checked list ------------------------------------------------------


@dataclass(frozen=True)
class IntakeHeader:
    """What the form says about the whole intake."""

    site_id: int | None
    effective_date: date | None
    source: str
    drive_name: str = ""
    donor_id: int | None = None
    note: str = ""


def check_intake_header(header: IntakeHeader) -> None:
    """Refuse a header the intake would refuse, so the preview can say so before saving.

    ``inventory.record_intake`` checks everything again when the list is recorded.
    """
    site = inventory.get_site(header.site_id)
    if not site.active:
        raise InvalidInput(f"{site.name} is closed; choose an open site.", field="site_id")
    today = utcnow().date()
    if header.effective_date is None:
        raise InvalidInput("Enter the date.", field="effective_date")
    if header.effective_date > today + timedelta(days=1):
        raise InvalidInput("The date is in the future.", field="effective_date")
    if header.effective_date < today - timedelta(days=inventory.BACKDATE_MAX_DAYS):
        raise InvalidInput(
            "The date is more than a year ago; record old stock as an adjustment today.",
            field="effective_date",
        )
    if header.source not in {s.value for s in IntakeSource}:
        raise InvalidInput("Say where the goods came from.", field="source")
    if header.source == IntakeSource.DONOR:
        donor = db.session.get(Donor, header.donor_id) if header.donor_id else None
        if donor is None:
            raise InvalidInput("Choose the donor.", field="donor_id")
    if header.source == IntakeSource.DRIVE:
        name = " ".join(header.drive_name.split())
        if not name:
            raise InvalidInput(
                "Name the drive, such as Lincoln High coat drive.", field="drive_name"
            )
        if len(name) > inventory.DRIVE_NAME_MAX_LENGTH:
            raise InvalidInput(
                f"Use at most {inventory.DRIVE_NAME_MAX_LENGTH} characters.", field="drive_name"
            )
    if len(header.note.strip()) > inventory.NOTE_MAX_LENGTH:
        raise InvalidInput(f"Use at most {inventory.NOTE_MAX_LENGTH} characters.", field="note")
    privacy.check_free_text(header.note, field="note")


def record_intake_list(
    *, actor: User | None, header: IntakeHeader, intake: IntakeList
) -> StockDocument:
    """Record a checked intake list as one intake document with its merged lines."""
    if not intake.ok:
        raise InvalidInput(
            "The list has rows that need fixing; nothing was saved.", field=FILE_FIELD
        )
    return inventory.record_intake(
        actor=actor,
        site_id=header.site_id,
        effective_date=header.effective_date,
        source=header.source,
        lines=intake.lines,
        donor_id=header.donor_id if header.source == IntakeSource.DONOR else None,
        drive_name=header.drive_name,
        note=header.note,
    )


# --- exports ---------------------------------------------------------------------

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
_KIND_LABELS = {k.value: k.label for k in DocumentKind}
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
            _KIND_LABELS.get(kind, kind),
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
