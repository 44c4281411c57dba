"""The rows of an intake list checked: which catalog item each names, its quantity and condition."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Condition, Item
from donations.services import inventory
from donations.services.inventory_files.intake_list import IntakeList, PreviewRow

_CONDITIONS = {
    "new": Condition.NEW.value,
    "good used": Condition.GOOD_USED.value,
    "used good": Condition.GOOD_USED.value,
    "used": Condition.GOOD_USED.value,
}
_LABEL_WITH_SIZE = re.compile(r"^(?P<name>.+?)\s*\((?P<size>[^()]+)\)$")
_WHOLE = re.compile(r"^\d+$")


def _normal(text: str) -> str:
    """Lower case with single spaces, "_" and "-" read as spaces: for conditions."""
    return _squash(text.replace("_", " ").replace("-", " "))


def _squash(text: str) -> str:
    """Lower case with single spaces: for item names."""
    return " ".join(text.split()).lower()


def match_items(rows: list[PreviewRow]) -> None:
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


def check_rows(result: IntakeList) -> None:
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
