"""The item rows of a movement form: reading them into service lines, and their messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList

from donations.blueprints.movements_forms import ITEM_TEXT_MAX_LENGTH, ROWS_MAX, LinesForm
from donations.forms import show_domain_error
from donations.models import Condition, Item
from donations.services import inventory, movement_queries, privacy
from donations.services.errors import DomainError

ROWS_STEP = 8  # rows added by "Add more rows"


_WHOLE_RE = re.compile(r"^[+-]?\d+$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)$")


def parse_quantity(text: str, *, allow_zero: bool = False) -> tuple[int | None, str | None]:
    """Return (quantity, None) for a whole number typed in a row, or (None, message)."""
    text = (text or "").strip()
    if _WHOLE_RE.match(text):
        number = int(text)
    elif _DECIMAL_RE.match(text):
        value = Decimal(text)
        if value != value.to_integral_value():
            return None, "Enter a whole number: goods are counted in whole units."
        number = int(value)
    else:
        return None, "Enter the quantity as a whole number, such as 3."
    if number < 0:
        if allow_zero:
            return None, "A count cannot be negative; enter 0 or more."
        return None, "Enter a quantity above zero; to take stock away use an adjustment."
    if number == 0 and not allow_zero:
        return None, "Enter a quantity above zero, or clear the row."
    if number > inventory.QUANTITY_MAX:
        return None, f"At most {inventory.QUANTITY_MAX:,} on one row."
    return number, None


def add_error(target: Any, message: str) -> None:
    """Put one more message on a field (or a form)."""
    target.errors = [*target.errors, message]


class ItemResolver:
    """Find the item a row names: a label code first (scanned or typed), else its label."""

    SEPARATOR = " — "  # how the <datalist> shows "Socks (M) — SOCKS-M"

    def __init__(self) -> None:
        self._by_label: dict[str, list[Item]] | None = None

    def _labels(self) -> dict[str, list[Item]]:
        if self._by_label is None:
            self._by_label = movement_queries.items_by_label()
        return self._by_label

    def resolve(self, text: str) -> tuple[Item | None, str | None]:
        text = " ".join(text.split())
        label_part, code_part = text, text
        if self.SEPARATOR.strip() in text:
            label_part, _, code_part = text.rpartition(self.SEPARATOR.strip())
            label_part, code_part = label_part.strip(), code_part.strip()
        for code in dict.fromkeys((code_part, text)):
            item = inventory.find_item_by_code(code)
            if item is not None:
                return item, None
        matches = self._labels().get(label_part.casefold(), [])
        active = [item for item in matches if item.active]
        if len(matches) == 1:
            return matches[0], None
        if len(active) == 1:
            return active[0], None
        if matches:
            return None, f"Several items are called “{label_part}”; type its label code instead."
        return None, (
            f"No item has the code or name “{text}”. Choose one from the list, or check the label."
        )


@dataclass
class ReadLines:
    """The rows of a form as service lines, and which row holds which item."""

    lines: list[inventory.Line] = field(default_factory=list)
    row_items: dict[int, int] = field(default_factory=dict)  # row index -> item id
    names: dict[int, str] = field(default_factory=dict)  # row index -> item label
    ok: bool = True


def read_lines(rows: FieldList, *, with_condition: bool = False) -> ReadLines:
    """Turn the filled rows into lines; put an error next to each bad row.

    Blank rows are ignored. A row needs a known item and a whole quantity above zero.
    """
    resolver = ItemResolver()
    result = ReadLines()
    for index, entry in enumerate(rows.entries):
        row = entry.form
        item_text = (row.item.data or "").strip()
        quantity_text = (row.quantity.data or "").strip()
        if row.item.errors or row.quantity.errors:
            result.ok = False
            continue
        if not item_text and not quantity_text:
            continue
        item = None
        if item_text:
            item, problem = resolver.resolve(item_text)
            if problem and privacy.personal_details(item_text):
                problem = f"{privacy.SCREEN_MESSAGE} Choose the item from the catalog."
            if problem:
                add_error(row.item, problem)
                result.ok = False
            else:
                result.names[index] = item.label
        else:
            add_error(row.item, "Choose the item for this quantity, or clear the row.")
            result.ok = False
        if not quantity_text:
            add_error(row.quantity, "Enter how many.")
            result.ok = False
            continue
        quantity, problem = parse_quantity(quantity_text)
        if problem:
            add_error(row.quantity, problem)
            result.ok = False
            continue
        condition = ""
        if with_condition:
            condition = row.condition.data or ""
            if condition not in {c.value for c in Condition}:
                add_error(row.condition, "Choose new or good used.")
                result.ok = False
                continue
        if item is not None:
            result.lines.append(inventory.Line(item.id, quantity, condition))
            result.row_items[index] = item.id
    return result


def recognised(rows: FieldList) -> ReadLines:
    """The items the rows name so far, to show beside them; nothing is checked."""
    resolver = ItemResolver()
    result = ReadLines()
    for index, entry in enumerate(rows.entries):
        text = (entry.form.item.data or "").strip()
        if text and len(text) <= ITEM_TEXT_MAX_LENGTH:
            item, _problem = resolver.resolve(text)
            if item is not None:
                result.names[index] = item.label
    return result


def add_rows(form: LinesForm) -> None:
    """Give the form more blank rows, keeping what was typed."""
    rows = form.lines
    added = 0
    while added < ROWS_STEP and len(rows.entries) < ROWS_MAX:
        rows.append_entry()
        added += 1
    if not added:
        form.form_errors.append(f"A document holds at most {ROWS_MAX} rows; record the rest next.")


def focus_after_add(rows: FieldList) -> str | None:
    """Where the cursor goes after "Add more rows".

    A row with an item but no quantity first (a scanned item), else the first
    blank row after the last filled one.
    """
    forms = [entry.form for entry in rows.entries]
    for row in forms:
        if row.item.data and not row.quantity.data:
            return row.quantity.id
    filled = [i for i, row in enumerate(forms) if row.item.data or row.quantity.data]
    after = filled[-1] + 1 if filled else 0
    return forms[after].item.id if after < len(forms) else None


def show_error(form: FlaskForm, error: DomainError, read: ReadLines | None = None) -> None:
    """Show a service's refusal on the form: shortages also next to their rows."""
    if isinstance(error, inventory.InsufficientStock):
        form.form_errors.append(error.message)
        if read is not None:
            for shortage in error.shortages:
                for index, item_id in read.row_items.items():
                    if item_id == shortage.item_id:
                        row = form.lines.entries[index].form
                        add_error(
                            row.quantity,
                            f"Only {shortage.on_hand} on hand at {shortage.site} "
                            f"(asked for {shortage.asked}).",
                        )
        return
    if error.field == "lines":
        form.form_errors.append(error.message)
        return
    show_domain_error(form, error)
