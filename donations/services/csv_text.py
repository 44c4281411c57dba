"""CSV lines written by hand, byte for byte as ``csv.writer`` writes them, and the
dates the exports print, formatted by the database.

The big exports (gifts, the goods ledger) join each line themselves, several
times faster than ``csv.writer``: that is exact as long as no cell holds a
comma, a quote or a line break (``needs_quotes``), and a line that does goes
through ``csv_line`` instead. Text cells are escaped for spreadsheets
(``FORMULA_FIRST``, as ``inventory_files.safe_cell`` does) before either.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

from donations.extensions import db

# What makes csv.writer put a cell in quotes (QUOTE_MINIMAL, "," and "\r\n").
needs_quotes = re.compile(r'[",\r\n]').search
FORMULA_FIRST = "=+-@\t\r"  # a text cell starting with one of these gets a "'" in front


def csv_line(row: Sequence[Any]) -> str:
    """One row as csv.writer writes it, line end included."""
    out = io.StringIO()
    csv.writer(out).writerow(row)
    return out.getvalue()


def csv_head(header: Sequence[str]) -> str:
    """The first chunk of a file: the BOM spreadsheets look for, then the header line."""
    return "\ufeff" + csv_line(header)


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def day_of(column) -> ColumnElement[str]:
    """SQL for the UTC calendar day of a timestamp as "YYYY-MM-DD" text.

    Formatting in the database spares the export a datetime object per row.
    """
    if _postgresql():
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)


def second_of(column) -> ColumnElement[str]:
    """SQL for a timestamp in UTC as "YYYY-MM-DD HH:MM:SS" text."""
    if _postgresql():
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS")
    return func.substr(column, 1, 19)


def date_text(column) -> ColumnElement[str]:
    """SQL for a date as "YYYY-MM-DD" text (SQLite stores it so already)."""
    if _postgresql():
        return func.to_char(column, "YYYY-MM-DD")
    return func.substr(column, 1, 10)
