"""An intake list read from a CSV file: its rows as the preview shows them, and its merged lines."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from donations.models import Condition
from donations.services import inventory

UPLOAD_MAX_BYTES = 1_000_000
ROWS_MAX = 2_000  # item rows in one file
CELL_SHOWN_MAX = 120  # characters of a cell kept for the preview
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
