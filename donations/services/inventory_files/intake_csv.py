"""Reading an uploaded intake list: decoding the file, finding its columns, and checking every row.

Reading is in two steps. ``read_intake_csv`` checks every row of an uploaded
list and returns an ``IntakeList`` (the preview: each row with what it
matched or what is wrong with it); nothing is written. Only a list with no
problem can be recorded (see ``intake_recording``). Between the two steps the page
carries ``IntakeList.as_text()``, a short CSV of the merged lines, which is
read again in full before anything is saved.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from donations.services import privacy
from donations.services.errors import InvalidInput
from donations.services.inventory_files.intake_list import (
    CELL_SHOWN_MAX,
    COLUMNS_HINT,
    FILE_FIELD,
    REMOVED_CELL,
    ROWS_MAX,
    SAVE_AS_HINT,
    UPLOAD_MAX_BYTES,
    IntakeList,
    PreviewRow,
)
from donations.services.inventory_files.intake_rows import check_rows, match_items

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
    match_items(result.rows)
    check_rows(result)
    return result
