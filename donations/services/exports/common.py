"""What every CSV export shares: batch sizes, streaming rows as CSV text,
plain decimal amounts, spreadsheet-safe text and the file name."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import func

from donations.extensions import db
from donations.models import GiftMethod, utcnow
from donations.services.inventory_files import safe_cell

EXPORT_BATCH = 5_000  # rows read from the database at a time
CHUNK_ROWS = 2_000  # rows of CSV text per chunk sent to the client
CACHE_MAX = 100_000  # entries in a lookup cache before it is emptied

METHOD_LABELS = {m.value: m.label for m in GiftMethod}


def csv_chunks(rows: Iterable[Sequence[Any]], *, batch: int = CHUNK_ROWS) -> Iterator[str]:
    """Turn rows into CSV text, ``batch`` rows per chunk, with a BOM for spreadsheets.

    Rows must already be safe: text cells passed through ``safe_cell``.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    rows = iter(rows)
    while True:
        # writerows over a slice: one call per chunk instead of one per row.
        start = out.tell()
        writer.writerows(islice(rows, batch))
        if out.tell() == start:  # no rows left
            tail = out.getvalue()
            if tail:
                yield tail
            return
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def plain_amount(cents: int, digits: int = 2) -> str:
    """Format minor units as a plain decimal string: 5000 -> "50.00", -5 -> "-0.05"."""
    if digits == 2:
        if cents >= 0:
            return f"{cents // 100}.{cents % 100:02d}"
        cents = -cents
        return f"-{cents // 100}.{cents % 100:02d}"
    if digits == 0:
        return str(cents)
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def remember_amount(cache: dict[int, str], cents: int, digits: int) -> str:
    text = cache[cents] = plain_amount(cents, digits)
    return text


def safe_text(value: str | None) -> str:
    return safe_cell(value) if value else ""


def export_filename(kind: str, day: date | None = None) -> str:
    """Return "gifts-2026-11-23.csv" and the like."""
    return f"{kind}-{(day or utcnow().date()).isoformat()}.csv"


def day_of(column):
    """SQL for the UTC calendar day of a timestamp as "YYYY-MM-DD" text.

    Formatting in the database spares the export a datetime object per row.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)
