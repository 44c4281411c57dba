"""Checks of what a goods form holds: sites, items, dates, notes, case codes and lines.

Survivor safety: a distribution picks a program or partner agency record
(services/recipients.py) and at most a short case code chosen by staff;
``check_case_code`` refuses anything that looks like a name, a date of birth, a
phone number or an email address, or that does not match the organisation's
pattern. Every free-text note is screened by ``privacy.check_free_text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from donations.extensions import db
from donations.models import AdjustmentReason, Condition, Item, Site, StockDocument, utcnow
from donations.services import privacy
from donations.services import recipients as recipient_service
from donations.services.errors import InvalidInput, NotFound

QUANTITY_MAX = 1_000_000  # per line: more is a typing mistake
LINES_MAX = 200
NOTE_MAX_LENGTH = 1000
DRIVE_NAME_MAX_LENGTH: int = StockDocument.__table__.c.drive_name.type.length
CASE_CODE_MAX_LENGTH: int = StockDocument.__table__.c.case_code.type.length
BACKDATE_MAX_DAYS = 366
OUTGOING_REASONS = (AdjustmentReason.DAMAGED, AdjustmentReason.EXPIRED, AdjustmentReason.LOST)
REASON_LABELS = {
    "damaged": "Damaged",
    "expired": "Expired",
    "lost": "Lost or missing",
    "found": "Found",
    "other": "Other (say why)",
}
SOURCE_LABELS = {
    "donor": "A known donor",
    "drive": "A collection drive",
    "anonymous": "Anonymous drop-off",
}


@dataclass(frozen=True)
class Line:
    """One line of a form: an item and a positive quantity (and, for intake, its condition)."""

    item_id: int
    quantity: int
    condition: str = ""


def get_site(site_id: int | None, *, field_name: str = "site_id") -> Site:
    site = db.session.get(Site, site_id) if site_id else None
    if site is None:
        raise InvalidInput("Choose a site from the list.", field=field_name)
    return site


def active_site(site_id: int | None, *, field_name: str = "site_id") -> Site:
    site = get_site(site_id, field_name=field_name)
    if not site.active:
        raise InvalidInput(f"{site.name} is closed; choose an open site.", field=field_name)
    return site


def get_item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        raise NotFound("There is no such item.")
    return item


def get_document(document_id: int) -> StockDocument:
    document = db.session.get(StockDocument, document_id)
    if document is None:
        raise NotFound("There is no such document.")
    return document


def find_item_by_code(code: str) -> Item | None:
    """Return the item whose label code was scanned or typed, if any."""
    code = code.strip().upper()
    if not code:
        return None
    return db.session.scalar(select(Item).where(Item.code == code))


_CASE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_DATE_LIKE_RE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|(19|20)\d{6}")
CASE_CODE_HINT = (
    "A short code your team chose, such as C-104: letters, digits and dashes, with at least "
    "one digit. Never a name, birth date, phone number or email."
)


def check_case_code(code: str, *, pattern: str | None = None) -> str:
    """Return the cleaned case code, or refuse one that could identify a person.

    ``pattern`` is the organisation's (a regular expression the upper-cased code
    must match in full); None or blank means the default: up to 12 letters,
    digits and hyphens with at least one digit. A code that holds a given name is
    refused whatever the pattern says.
    """
    code = code.strip()
    if not code:
        return ""
    if len(code) > CASE_CODE_MAX_LENGTH:
        raise InvalidInput(
            f"A case code has at most {CASE_CODE_MAX_LENGTH} characters. {CASE_CODE_HINT}",
            field="case_code",
        )
    digits = re.sub(r"\D", "", code)
    if _DATE_LIKE_RE.search(code):
        raise InvalidInput(f"This looks like a date. {CASE_CODE_HINT}", field="case_code")
    if "@" in code or len(digits) >= 7:
        raise InvalidInput(
            f"This looks like a phone number or an email address. {CASE_CODE_HINT}",
            field="case_code",
        )
    if privacy.name_in_code(code) or privacy.personal_details(code):
        raise InvalidInput(f"This looks like a name. {CASE_CODE_HINT}", field="case_code")
    custom = (pattern or "").strip()
    if not custom or custom == recipient_service.DEFAULT_CASE_CODE_PATTERN:
        if not _CASE_CODE_RE.match(code) or not digits:
            raise InvalidInput(
                f"This looks like a name or a sentence. {CASE_CODE_HINT}", field="case_code"
            )
        if not re.fullmatch(recipient_service.DEFAULT_CASE_CODE_PATTERN, code):
            raise InvalidInput(
                f"A case code has at most 12 characters. {CASE_CODE_HINT}", field="case_code"
            )
    elif not re.fullmatch(custom, code.upper()):
        raise InvalidInput(
            f"This does not match the form of case code your organisation chose. {CASE_CODE_HINT}",
            field="case_code",
        )
    return code.upper()


def check_note(note: str, *, required: bool = False, label: str = "a note") -> str:
    note = note.strip()
    if required and not note:
        raise InvalidInput(f"Write {label}.", field="note")
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"Use at most {NOTE_MAX_LENGTH} characters.", field="note")
    return privacy.check_free_text(note, field="note")


def check_date(day: date | None) -> date:
    today = utcnow().date()
    if day is None:
        raise InvalidInput("Enter the date.", field="effective_date")
    if day > today + timedelta(days=1):  # a day of slack for time zones
        raise InvalidInput("The date is in the future.", field="effective_date")
    if day < today - timedelta(days=BACKDATE_MAX_DAYS):
        raise InvalidInput(
            "The date is more than a year ago; record old stock as an adjustment today.",
            field="effective_date",
        )
    return day


def check_lines(
    lines: Iterable[Line],
    *,
    with_condition: bool = False,
    allow_inactive: bool = False,
    allow_kits: bool = True,
) -> tuple[list[Line], dict[int, Item]]:
    """Merge repeated lines, and check each item and quantity."""
    merged: dict[tuple[int, str], int] = {}
    order: list[tuple[int, str]] = []
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise InvalidInput("Quantities are whole numbers.", field="lines")
        if line.quantity <= 0:
            raise InvalidInput("Each quantity must be a whole number above zero.", field="lines")
        if line.quantity > QUANTITY_MAX:
            raise InvalidInput(f"A line holds at most {QUANTITY_MAX:,} units.", field="lines")
        condition = line.condition if with_condition else ""
        if with_condition and condition not in {c.value for c in Condition}:
            raise InvalidInput("Choose the condition: new or good used.", field="lines")
        key = (line.item_id, condition)
        if key not in merged:
            order.append(key)
            merged[key] = 0
        merged[key] += line.quantity
    if not order:
        raise InvalidInput("Add at least one item with a quantity.", field="lines")
    if len(order) > LINES_MAX:
        raise InvalidInput(f"A document holds at most {LINES_MAX} lines.", field="lines")
    ids = {item_id for item_id, _ in order}
    items = {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_(ids)))}
    for item_id in ids:
        item = items.get(item_id)
        if item is None:
            raise InvalidInput("One of the items is not in the catalog.", field="lines")
        if not item.active and not allow_inactive:
            raise InvalidInput(
                f"{item.label} is no longer used (inactive); choose another item.", field="lines"
            )
        if item.is_kit and not allow_kits:
            raise InvalidInput(
                f"{item.label} is a kit: assemble kits on the kit page.", field="lines"
            )
    checked = [Line(item_id, merged[(item_id, cond)], cond) for item_id, cond in order]
    for line in checked:
        if merged[(line.item_id, line.condition)] > QUANTITY_MAX:
            raise InvalidInput(f"A line holds at most {QUANTITY_MAX:,} units.", field="lines")
    return checked, items
