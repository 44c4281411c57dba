"""The goods ledger: documents of movements, balances kept beside them, and checks.

Every change of stock goes through ``_post``: it locks the balance rows it
touches (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single write lock,
taken before reading, through ``serialize_writes``), refuses the whole document
if any balance would go negative, then appends the entries and moves the
balances in the same transaction. Nothing is ever edited: a mistake is undone
by ``reverse_document``.

Survivor safety: a distribution picks a program or partner agency record
(services/recipients.py) and at most a short case code chosen by staff;
``check_case_code`` refuses anything that looks like a name, a date of birth, a
phone number or an email address, or that does not match the organisation's
pattern. Every free-text note is screened by ``privacy.check_free_text``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, case, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from donations.extensions import db
from donations.models import (
    AdjustmentReason,
    Condition,
    DocumentKind,
    Donor,
    InKindGift,
    IntakeSource,
    Item,
    ItemCategory,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    User,
    utcnow,
)
from donations.services import privacy
from donations.services import recipients as recipient_service
from donations.services.audit import record_audit
from donations.services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from donations.services.locking import serialize_writes
from donations.services.stock_alerts import queue_low_stock_alerts

LOCK_NAME = "inventory"
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


# --- plain data in and out ---------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of a form: an item and a positive quantity (and, for intake, its condition)."""

    item_id: int
    quantity: int
    condition: str = ""


@dataclass(frozen=True)
class Shortage:
    item_id: int
    item: str
    site: str
    asked: int
    on_hand: int

    def describe(self) -> str:
        return f"{self.item} at {self.site}: asked for {self.asked}, there {_are(self.on_hand)}"


def _are(n: int) -> str:
    return f"is {n}" if n == 1 else f"are {n}"


class InsufficientStock(DomainError):
    """The document would take more than a site holds; nothing was written."""

    def __init__(self, shortages: Sequence[Shortage]) -> None:
        self.shortages = list(shortages)
        parts = "; ".join(s.describe() for s in self.shortages)
        super().__init__(f"Not enough stock. {parts}.")


@dataclass(frozen=True)
class Move:
    item_id: int
    site_id: int
    quantity: int  # signed
    condition: str = ""
    counted: int | None = None


@dataclass
class CountDifference:
    item_id: int
    item: str
    expected: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected


@dataclass
class PostResult:
    document: StockDocument
    fell_under_par: list[StockLevel] = field(default_factory=list)


# --- lookups -----------------------------------------------------------------


def get_site(site_id: int | None, *, field_name: str = "site_id") -> Site:
    site = db.session.get(Site, site_id) if site_id else None
    if site is None:
        raise InvalidInput("Choose a site from the list.", field=field_name)
    return site


def _active_site(site_id: int | None, *, field_name: str = "site_id") -> Site:
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


def reversal_of(document: StockDocument) -> StockDocument | None:
    """Return the document that undid this one, if any."""
    return db.session.scalar(select(StockDocument).where(StockDocument.reverses_id == document.id))


# --- validation --------------------------------------------------------------

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


def _check_note(note: str, *, required: bool = False, label: str = "a note") -> str:
    note = note.strip()
    if required and not note:
        raise InvalidInput(f"Write {label}.", field="note")
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"Use at most {NOTE_MAX_LENGTH} characters.", field="note")
    return privacy.check_free_text(note, field="note")


def _check_date(day: date | None) -> date:
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


def _check_lines(
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


# --- posting -----------------------------------------------------------------


def _upsert_levels(pairs: set[tuple[int, int]]) -> None:
    """Make sure a balance row exists for every (site, item) pair."""
    if not pairs:
        return
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [{"site_id": s, "item_id": i, "on_hand": 0, "par_level": 0} for s, i in sorted(pairs)]
    now = utcnow()
    for row in rows:
        row["updated_at"] = now
    statement = insert(StockLevel).values(rows).on_conflict_do_nothing()
    db.session.execute(statement)


def lock_levels(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], StockLevel]:
    """Return the balance rows for the pairs, locked until the transaction ends.

    Rows are locked in (site, item) order, so two writers never wait on each
    other in a circle.
    """
    serialize_writes(LOCK_NAME)
    _upsert_levels(pairs)
    levels: dict[tuple[int, int], StockLevel] = {}
    ordered = sorted(pairs)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = (
            select(StockLevel)
            .where(tuple_(StockLevel.site_id, StockLevel.item_id).in_(chunk))
            .order_by(StockLevel.site_id, StockLevel.item_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for level in db.session.scalars(query):
            levels[(level.site_id, level.item_id)] = level
    return levels


def _post(document: StockDocument, moves: Sequence[Move]) -> PostResult:
    """Append the document's entries and move the balances, or refuse it all."""
    deltas: dict[tuple[int, int], int] = defaultdict(int)
    for move in moves:
        deltas[(move.site_id, move.item_id)] += move.quantity
    levels = lock_levels(set(deltas))
    shortages = []
    for (site_id, item_id), delta in deltas.items():
        level = levels[(site_id, item_id)]
        if level.on_hand + delta < 0:
            shortages.append(
                Shortage(
                    item_id=item_id,
                    item=db.session.get(Item, item_id).label,
                    site=db.session.get(Site, site_id).name,
                    asked=level.on_hand - (level.on_hand + delta),
                    on_hand=level.on_hand,
                )
            )
    if shortages:
        raise InsufficientStock(shortages)
    db.session.add(document)
    db.session.flush()
    now = utcnow()
    fell: list[StockLevel] = []
    for (site_id, item_id), delta in deltas.items():
        level = levels[(site_id, item_id)]
        before = level.on_hand
        level.on_hand = before + delta
        level.updated_at = now
        if level.par_level and level.on_hand < level.par_level:
            # Only a movement out "takes" an item under par; one email per fall.
            if level.low_alerted_at is None and delta < 0:
                level.low_alerted_at = now
                fell.append(level)
        elif level.low_alerted_at is not None:
            level.low_alerted_at = None
    db.session.add_all(
        StockEntry(
            document_id=document.id,
            item_id=move.item_id,
            site_id=move.site_id,
            quantity=move.quantity,
            effective_date=document.effective_date,
            condition=move.condition,
            counted_quantity=move.counted,
        )
        for move in moves
    )
    db.session.flush()
    if fell:
        queue_low_stock_alerts(fell)
    return PostResult(document=document, fell_under_par=fell)


def _new_document(*, actor: User | None, kind: DocumentKind, **values) -> StockDocument:
    return StockDocument(
        kind=kind.value,
        created_by_id=actor.id if actor is not None else None,
        recorded_at=utcnow(),
        **values,
    )


def _audit(actor: User | None, document: StockDocument, summary: str) -> None:
    record_audit(
        actor=actor,
        action=f"stock.{document.kind}",
        object_type="stock_document",
        object_id=document.id,
        summary=summary,
    )


def _describe_lines(lines: Sequence[Line], items: dict[int, Item]) -> str:
    return ", ".join(f"{line.quantity} x {items[line.item_id].label}" for line in lines)


# --- the documents -----------------------------------------------------------


def record_intake(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    source: str,
    lines: Iterable[Line],
    donor_id: int | None = None,
    drive_name: str = "",
    pledge_id: int | None = None,
    donor_value_cents: int | None = None,
    currency: str = "USD",
    note: str = "",
) -> StockDocument:
    """Receive goods at a site; from a known donor this is also an in-kind gift."""
    site = _active_site(site_id)
    day = _check_date(effective_date)
    note = _check_note(note)
    if source not in {s.value for s in IntakeSource}:
        raise InvalidInput("Say where the goods came from.", field="source")
    donor: Donor | None = None
    drive_name = " ".join(drive_name.split())
    if source == IntakeSource.DONOR:
        donor = db.session.get(Donor, donor_id) if donor_id else None
        if donor is None:
            raise InvalidInput("Choose the donor.", field="donor_id")
        if donor.merged_into_id is not None:
            donor = db.session.get(Donor, donor.merged_into_id)
        drive_name = ""
    elif source == IntakeSource.DRIVE:
        if not drive_name:
            raise InvalidInput(
                "Name the drive, such as Lincoln High coat drive.", field="drive_name"
            )
        if len(drive_name) > DRIVE_NAME_MAX_LENGTH:
            raise InvalidInput(
                f"Use at most {DRIVE_NAME_MAX_LENGTH} characters.", field="drive_name"
            )
    else:
        drive_name = ""
    if donor_value_cents is not None:
        if source != IntakeSource.DONOR:
            donor_value_cents = None
        elif donor_value_cents < 0:
            raise InvalidInput("The donor's estimate cannot be negative.", field="donor_value")
    checked, items = _check_lines(lines, with_condition=True)
    document = _new_document(
        actor=actor,
        kind=DocumentKind.INTAKE,
        effective_date=day,
        site_id=site.id,
        source=source,
        donor_id=donor.id if donor else None,
        drive_name=drive_name,
        pledge_id=pledge_id,
        note=note,
    )
    _post(
        document,
        [Move(line.item_id, site.id, line.quantity, line.condition) for line in checked],
    )
    if donor is not None:
        db.session.add(
            InKindGift(
                donor_id=donor.id,
                document_id=document.id,
                received_on=day,
                donor_value_cents=donor_value_cents,
                currency=currency,
            )
        )
        db.session.flush()
    origin = donor.name if donor else (drive_name or "anonymous drop-off")
    _audit(
        actor, document, f"Intake at {site.name} from {origin}: {_describe_lines(checked, items)}"
    )
    return document


def record_distribution(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    lines: Iterable[Line],
    recipient_id: int | None = None,
    recipient: str = "",
    case_code: str = "",
    note: str = "",
) -> StockDocument:
    """Give goods out to a program or partner agency, never to a named person.

    The recipient is a record, by id (or by its exact name, for scripts and the
    demo); free text that names no open program or partner is refused.
    """
    site = _active_site(site_id)
    day = _check_date(effective_date)
    record = recipient_service.find_active_recipient(recipient_id=recipient_id, name=recipient)
    case_code = check_case_code(case_code, pattern=recipient_service.case_code_pattern())
    note = _check_note(note)
    checked, items = _check_lines(lines, allow_inactive=True)
    document = _new_document(
        actor=actor,
        kind=DocumentKind.DISTRIBUTION,
        effective_date=day,
        site_id=site.id,
        recipient_id=record.id,
        case_code=case_code,
        note=note,
    )
    _post(document, [Move(line.item_id, site.id, -line.quantity) for line in checked])
    _audit(
        actor,
        document,
        f"Distribution from {site.name} to {record.name}: {_describe_lines(checked, items)}",
    )
    return document


def record_transfer(
    *,
    actor: User | None,
    from_site_id: int | None,
    to_site_id: int | None,
    effective_date: date | None,
    lines: Iterable[Line],
    note: str = "",
) -> StockDocument:
    """Move goods from one site to another as one document."""
    source = _active_site(from_site_id, field_name="site_id")
    target = _active_site(to_site_id, field_name="to_site_id")
    if source.id == target.id:
        raise InvalidInput("Choose two different sites.", field="to_site_id")
    day = _check_date(effective_date)
    note = _check_note(note)
    checked, items = _check_lines(lines, allow_inactive=True)
    document = _new_document(
        actor=actor,
        kind=DocumentKind.TRANSFER,
        effective_date=day,
        site_id=source.id,
        to_site_id=target.id,
        note=note,
    )
    moves = []
    for line in checked:
        moves.append(Move(line.item_id, source.id, -line.quantity))
        moves.append(Move(line.item_id, target.id, line.quantity))
    _post(document, moves)
    _audit(
        actor,
        document,
        f"Transfer {source.name} → {target.name}: {_describe_lines(checked, items)}",
    )
    return document


def record_adjustment(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    reason: str,
    lines: Iterable[Line],
    direction: str = "",
    note: str = "",
) -> StockDocument:
    """Add or remove stock for a reason: damaged, expired, lost, found or other.

    Damaged, expired and lost remove; found adds; "other" needs a direction
    ("in" or "out") and a note saying why.
    """
    site = _active_site(site_id)
    day = _check_date(effective_date)
    if reason not in REASON_LABELS:
        raise InvalidInput("Choose a reason.", field="reason")
    if reason in OUTGOING_REASONS:
        direction = "out"
    elif reason == AdjustmentReason.FOUND:
        direction = "in"
    elif direction not in ("in", "out"):
        raise InvalidInput("Say whether stock is added or removed.", field="direction")
    note = _check_note(
        note, required=reason == AdjustmentReason.OTHER, label="why (required for other)"
    )
    checked, items = _check_lines(lines, allow_inactive=direction == "out")
    sign = 1 if direction == "in" else -1
    document = _new_document(
        actor=actor,
        kind=DocumentKind.ADJUSTMENT,
        effective_date=day,
        site_id=site.id,
        reason=reason,
        note=note,
    )
    _post(document, [Move(line.item_id, site.id, sign * line.quantity) for line in checked])
    word = "added" if sign > 0 else "removed"
    _audit(
        actor,
        document,
        f"Adjustment at {site.name} ({reason}, {word}): {_describe_lines(checked, items)}",
    )
    return document


def _check_counts(counts: dict[int, int]) -> dict[int, Item]:
    if not counts:
        raise InvalidInput("Enter at least one counted quantity.", field="lines")
    if len(counts) > 5000:
        raise InvalidInput("Count at most 5,000 items at a time.", field="lines")
    for quantity in counts.values():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidInput("Counted quantities are whole numbers, zero or more.", field="lines")
        if quantity > QUANTITY_MAX:
            raise InvalidInput(f"A count holds at most {QUANTITY_MAX:,} units.", field="lines")
    items = {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_(counts)))}
    for item_id in counts:
        item = items.get(item_id)
        if item is None:
            raise InvalidInput("One of the items is not in the catalog.", field="lines")
        if not item.active:
            raise InvalidInput(f"{item.label} is inactive and cannot be counted.", field="lines")
    return items


def preview_count(
    *, site_id: int | None, counts: dict[int, int], note: str = ""
) -> list[CountDifference]:
    """Return what the count would change: expected against counted, per item.

    The note is checked as the count will check it, so the review never shows one
    that would be refused.
    """
    site = _active_site(site_id)
    _check_note(note)
    items = _check_counts(counts)
    on_hand = dict(
        db.session.execute(
            select(StockLevel.item_id, StockLevel.on_hand).where(
                StockLevel.site_id == site.id, StockLevel.item_id.in_(counts)
            )
        ).all()
    )
    return [
        CountDifference(item_id, items[item_id].label, on_hand.get(item_id, 0), counted)
        for item_id, counted in counts.items()
    ]


def record_count(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    counts: dict[int, int],
    expected: dict[int, int] | None = None,
    note: str = "",
) -> StockDocument:
    """Record a shelf count: the differences become adjustments.

    ``expected`` is what the person confirmed on the preview; if stock moved
    since, the count is refused so they can look again.
    """
    site = _active_site(site_id)
    day = _check_date(effective_date)
    note = _check_note(note)
    items = _check_counts(counts)
    levels = lock_levels({(site.id, item_id) for item_id in counts})
    if expected is not None:
        changed = [
            items[item_id].label
            for item_id in counts
            if expected.get(item_id) != levels[(site.id, item_id)].on_hand
        ]
        if changed:
            raise NotAllowed(
                "Stock changed while you were counting ("
                + ", ".join(changed)
                + "). Check the new expected quantities and confirm again."
            )
    document = _new_document(
        actor=actor, kind=DocumentKind.COUNT, effective_date=day, site_id=site.id, note=note
    )
    moves = [
        Move(item_id, site.id, counted - levels[(site.id, item_id)].on_hand, counted=counted)
        for item_id, counted in counts.items()
    ]
    _post(document, moves)
    changed_lines = [m for m in moves if m.quantity]
    summary = ", ".join(f"{items[m.item_id].label} {m.quantity:+d}" for m in changed_lines)
    _audit(actor, document, f"Count at {site.name}: {summary or 'no differences'}")
    return document


def _kit_moves(kit: Item, site_id: int, quantity: int, sign: int) -> list[Move]:
    moves = [Move(c.component_id, site_id, -sign * c.quantity * quantity) for c in kit.components]
    moves.append(Move(kit.id, site_id, sign * quantity))
    return moves


def _check_kit(kit_item_id: int | None, quantity: int) -> Item:
    kit = db.session.get(Item, kit_item_id) if kit_item_id else None
    if kit is None or not kit.is_kit:
        raise InvalidInput("Choose a kit.", field="kit_item_id")
    if not kit.components:
        raise InvalidInput(
            f"{kit.label} has no components yet; define them in the catalog.", field="kit_item_id"
        )
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput("Enter how many kits, a whole number above zero.", field="quantity")
    if quantity > QUANTITY_MAX:
        raise InvalidInput(f"At most {QUANTITY_MAX:,} kits at a time.", field="quantity")
    return kit


def assemble_kits(
    *,
    actor: User | None,
    site_id: int | None,
    kit_item_id: int | None,
    quantity: int,
    effective_date: date | None,
    note: str = "",
    disassemble: bool = False,
) -> StockDocument:
    """Make kits from their components at a site (or take kits apart again)."""
    site = _active_site(site_id)
    day = _check_date(effective_date)
    note = _check_note(note)
    kit = _check_kit(kit_item_id, quantity)
    if not disassemble and not kit.active:
        raise InvalidInput(
            f"{kit.label} is inactive; no new kits can be made.", field="kit_item_id"
        )
    kind = DocumentKind.KIT_DISASSEMBLY if disassemble else DocumentKind.KIT_ASSEMBLY
    document = _new_document(
        actor=actor,
        kind=kind,
        effective_date=day,
        site_id=site.id,
        kit_item_id=kit.id,
        kit_quantity=quantity,
        note=note,
    )
    _post(document, _kit_moves(kit, site.id, quantity, -1 if disassemble else 1))
    verb = "Took apart" if disassemble else "Assembled"
    _audit(actor, document, f"{verb} {quantity} x {kit.label} at {site.name}")
    return document


def reverse_document(*, actor: User | None, document_id: int, note: str) -> StockDocument:
    """Undo a document with a new one that moves every entry back."""
    original = get_document(document_id)
    note = _check_note(note, required=True, label="why it is being reversed")
    if original.kind == DocumentKind.REVERSAL:
        raise NotAllowed("A reversal cannot itself be reversed; record the movement again instead.")
    serialize_writes(LOCK_NAME)
    already = db.session.scalar(
        select(StockDocument.id).where(StockDocument.reverses_id == original.id).with_for_update()
    )
    if already is not None:
        raise NotAllowed(f"{original.number} was already reversed.")
    document = _new_document(
        actor=actor,
        kind=DocumentKind.REVERSAL,
        effective_date=utcnow().date(),
        site_id=original.site_id,
        to_site_id=original.to_site_id,
        reverses_id=original.id,
        note=note,
    )
    moves = [
        Move(e.item_id, e.site_id, -e.quantity, e.condition) for e in original.entries if e.quantity
    ]
    if not moves:
        raise NotAllowed(f"{original.number} changed no stock, so there is nothing to reverse.")
    _post(document, moves)
    _audit(actor, document, f"Reversed {original.number} ({original.kind_label}): {note}")
    return document


# --- balances and reports ----------------------------------------------------


@dataclass(frozen=True)
class BalanceProblem:
    site_id: int
    item_id: int
    recorded: int
    from_ledger: int


def verify_balances() -> list[BalanceProblem]:
    """Recompute every balance from the ledger; return where they differ."""
    sums = {
        (site_id, item_id): total
        for site_id, item_id, total in db.session.execute(
            select(StockEntry.site_id, StockEntry.item_id, func.sum(StockEntry.quantity)).group_by(
                StockEntry.site_id, StockEntry.item_id
            )
        )
    }
    problems = []
    seen = set()
    for site_id, item_id, on_hand in db.session.execute(
        select(StockLevel.site_id, StockLevel.item_id, StockLevel.on_hand)
    ):
        seen.add((site_id, item_id))
        expected = int(sums.get((site_id, item_id), 0))
        if expected != on_hand:
            problems.append(BalanceProblem(site_id, item_id, on_hand, expected))
    for key, total in sums.items():
        if key not in seen and total:
            problems.append(BalanceProblem(key[0], key[1], 0, int(total)))
    return sorted(problems, key=lambda p: (p.site_id, p.item_id))


def stock_as_of(*, site_id: int, day: date) -> list[tuple[Item, int]]:
    """Return (item, quantity) held at a site at the end of a day, items held only."""
    total = func.sum(StockEntry.quantity).label("total")
    rows = db.session.execute(
        select(StockEntry.item_id, total)
        .where(StockEntry.site_id == site_id, StockEntry.effective_date <= day)
        .group_by(StockEntry.item_id)
        .having(func.sum(StockEntry.quantity) != 0)
    ).all()
    items = {
        i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_([r[0] for r in rows])))
    }
    result = [(items[item_id], int(qty)) for item_id, qty in rows]
    return sorted(result, key=lambda pair: (pair[0].name.lower(), pair[0].size))


def item_history_query(*, item_id: int, site_id: int | None = None) -> Select:
    """Entries for an item, newest first, each with the running balance at its site."""
    running = (
        func.sum(StockEntry.quantity)
        .over(
            partition_by=StockEntry.site_id,
            order_by=(StockEntry.effective_date, StockEntry.id),
        )
        .label("balance")
    )
    inner = select(StockEntry.id.label("entry_id"), running).where(StockEntry.item_id == item_id)
    if site_id:
        inner = inner.where(StockEntry.site_id == site_id)
    inner = inner.subquery()
    return (
        select(StockEntry, inner.c.balance)
        .join(inner, inner.c.entry_id == StockEntry.id)
        .order_by(StockEntry.effective_date.desc(), StockEntry.id.desc())
    )


def under_par_query(site_id: int | None = None) -> Select[tuple[StockLevel]]:
    """Balance rows under their par level at open sites, most short first."""
    query = (
        select(StockLevel)
        .join(Site, Site.id == StockLevel.site_id)
        .join(Item, Item.id == StockLevel.item_id)
        .where(
            StockLevel.par_level > 0,
            StockLevel.on_hand < StockLevel.par_level,
            Site.active.is_(True),
            Item.active.is_(True),
        )
        .order_by((StockLevel.on_hand * 1.0 / StockLevel.par_level).asc(), Site.name, Item.name)
    )
    if site_id:
        query = query.where(StockLevel.site_id == site_id)
    return query


@dataclass(frozen=True)
class Need:
    item_id: int
    label: str
    category: str
    urgent: bool
    pinned: bool


def public_needs() -> list[Need]:
    """What the public "What we need now" page lists: no site, no quantity.

    An item is needed when it is under par at any open site and urgently
    needed when under half of par somewhere; pinned items always show,
    hidden ones never do.
    """
    urgent = func.max(case((StockLevel.on_hand * 2 < StockLevel.par_level, 1), else_=0))
    short = func.max(case((StockLevel.on_hand < StockLevel.par_level, 1), else_=0))
    levels = (
        select(StockLevel.item_id, urgent.label("urgent"), short.label("short"))
        .join(Site, Site.id == StockLevel.site_id)
        .where(Site.active.is_(True), StockLevel.par_level > 0)
        .group_by(StockLevel.item_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Item, ItemCategory.name, levels.c.urgent, levels.c.short)
        .join(ItemCategory, ItemCategory.id == Item.category_id)
        .outerjoin(levels, levels.c.item_id == Item.id)
        .where(
            Item.active.is_(True),
            Item.needs_hidden.is_(False),
            or_(Item.needs_pinned.is_(True), levels.c.short == 1),
        )
        .order_by(ItemCategory.sort_order, ItemCategory.name, Item.name, Item.size)
    ).all()
    return [
        Need(item.id, item.label, category, bool(is_urgent), item.needs_pinned)
        for item, category, is_urgent, _short in rows
    ]


def documents_query(
    *,
    kind: str | None = None,
    site_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    item_id: int | None = None,
) -> Select[tuple[StockDocument]]:
    """Documents, newest first, filtered."""
    query = select(StockDocument).order_by(StockDocument.id.desc())
    if kind:
        query = query.where(StockDocument.kind == kind)
    if site_id:
        query = query.where(
            or_(StockDocument.site_id == site_id, StockDocument.to_site_id == site_id)
        )
    if date_from:
        query = query.where(StockDocument.effective_date >= date_from)
    if date_to:
        query = query.where(StockDocument.effective_date <= date_to)
    if item_id:
        query = query.where(
            select(StockEntry.id)
            .where(StockEntry.document_id == StockDocument.id, StockEntry.item_id == item_id)
            .exists()
        )
    return query


def top_distributed(*, days: int = 30, limit: int = 10) -> list[tuple[Item, int]]:
    """Items given out most in the last ``days`` days (reversals netted out)."""
    since = utcnow().date() - timedelta(days=days)
    out = func.sum(-StockEntry.quantity).label("given")
    distributed = select(StockDocument.id).where(StockDocument.kind == DocumentKind.DISTRIBUTION)
    reversed_distributions = (
        select(StockDocument.id)
        .where(StockDocument.kind == DocumentKind.REVERSAL)
        .where(StockDocument.reverses_id.in_(distributed))
    )
    rows = db.session.execute(
        select(StockEntry.item_id, out)
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .where(
            StockEntry.effective_date >= since,
            or_(
                StockDocument.kind == DocumentKind.DISTRIBUTION,
                StockDocument.id.in_(reversed_distributions),
            ),
        )
        .group_by(StockEntry.item_id)
        .having(func.sum(-StockEntry.quantity) > 0)
        .order_by(out.desc())
        .limit(limit)
    ).all()
    items = {
        i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_([r[0] for r in rows])))
    }
    return [(items[item_id], int(given)) for item_id, given in rows]


def stock_series(*, item_id: int, site_id: int | None, days: int = 90) -> list[tuple[date, int]]:
    """Stock of an item at the end of each day of the last ``days`` days."""
    today = utcnow().date()
    start = today - timedelta(days=days - 1)
    base = select(func.coalesce(func.sum(StockEntry.quantity), 0)).where(
        StockEntry.item_id == item_id, StockEntry.effective_date < start
    )
    daily = select(StockEntry.effective_date, func.sum(StockEntry.quantity)).where(
        StockEntry.item_id == item_id, StockEntry.effective_date >= start
    )
    if site_id:
        base = base.where(StockEntry.site_id == site_id)
        daily = daily.where(StockEntry.site_id == site_id)
    level = int(db.session.scalar(base) or 0)
    changes = dict(db.session.execute(daily.group_by(StockEntry.effective_date)).all())
    series = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        level += int(changes.get(day, 0))
        series.append((day, level))
    return series


def set_par_levels(*, actor: User | None, site_id: int, levels: dict[int, int]) -> int:
    """Set the target stock of items at a site; return how many changed."""
    site = get_site(site_id)
    for par in levels.values():
        if isinstance(par, bool) or not isinstance(par, int) or par < 0 or par > QUANTITY_MAX:
            raise InvalidInput("Par levels are whole numbers, zero or more.", field="levels")
    if not levels:
        return 0
    known = set(db.session.scalars(select(Item.id).where(Item.id.in_(levels))))
    if known != set(levels):
        raise InvalidInput("One of the items is not in the catalog.", field="levels")
    rows = lock_levels({(site.id, item_id) for item_id in levels})
    changed = []
    for item_id, par in levels.items():
        level = rows[(site.id, item_id)]
        if level.par_level != par:
            changed.append(f"{item_id}: {level.par_level} -> {par}")
            level.par_level = par
            if level.on_hand >= par:
                level.low_alerted_at = None
    if changed:
        record_audit(
            actor=actor,
            action="stock.par_levels",
            object_type="site",
            object_id=site.id,
            summary=f"Par levels at {site.name} (item: old -> new): " + "; ".join(changed),
        )
    return len(changed)


def on_hand_by_site(item_id: int) -> list[StockLevel]:
    return list(
        db.session.scalars(
            select(StockLevel)
            .join(Site, Site.id == StockLevel.site_id)
            .where(StockLevel.item_id == item_id)
            .order_by(Site.name)
        )
    )


def in_kind_gifts_of(donor_id: int, *, limit: int = 100) -> list[tuple[InKindGift, bool]]:
    """A donor's in-kind gifts, newest first, each with whether its intake was reversed."""
    reversed_ids = select(StockDocument.reverses_id).where(StockDocument.reverses_id.is_not(None))
    rows = db.session.execute(
        select(InKindGift, InKindGift.document_id.in_(reversed_ids))
        .where(InKindGift.donor_id == donor_id)
        .order_by(InKindGift.received_on.desc(), InKindGift.id.desc())
        .limit(limit)
    ).all()
    return [(gift, bool(is_reversed)) for gift, is_reversed in rows]
