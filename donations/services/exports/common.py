"""What every CSV export shares: batch sizes, streaming rows as CSV text,
plain decimal amounts, spreadsheet-safe text and the file name (lines joined by
hand and dates formatted in SQL come from ``services/csv_text.py``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import islice
from typing import Any

from donations.models import GiftMethod, utcnow
from donations.services.csv_text import FORMULA_FIRST, csv_head, csv_line, day_of, needs_quotes
from donations.services.inventory_files import safe_cell

EXPORT_BATCH = 5_000  # rows read from the database at a time
CHUNK_ROWS = 2_000  # rows of CSV text per chunk sent to the client
CACHE_MAX = 10_000  # entries in a lookup cache before it is emptied

METHOD_LABELS = {m.value: m.label for m in GiftMethod}

__all__ = [
    "CACHE_MAX",
    "CHUNK_ROWS",
    "EXPORT_BATCH",
    "FORMULA_FIRST",
    "METHOD_LABELS",
    "csv_chunks",
    "csv_head",
    "csv_line",
    "day_of",
    "export_filename",
    "needs_quotes",
    "plain_amount",
    "remember_amount",
    "safe_text",
]


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
