"""Keyset pagination: long lists a page at a time, as fast at the end as at the start.

A page is found by the sort key of the row next to it (a *cursor*), never by counting
rows to skip, so the 20,000th page costs what the first does. The order is a tuple of
columns ending in the primary key (``(received_at, id)``), so equal timestamps never make
a row appear twice or not at all. Four moves, as query arguments:

- none: the first page (newest first, or A first);
- ``before=<cursor>``: the page after the row the cursor names (older);
- ``after=<cursor>``: the page before it (newer), read in reverse order;
- ``at=oldest``: the last page, read in reverse order so it is as quick as the first.

A cursor is the key values as URL-safe base64 JSON; one that cannot be read gives the
first page with ``invalid`` set (the page says so), never an error. No total is counted.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Integer, Select, String, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from donations.extensions import db
from donations.models import MAX_ROW_ID

# The longest cursor read: a key of a 200-character name in a script of three UTF-8 bytes a
# character (600 bytes) and a timestamp or id, base64-encoded, with room to spare.
MAX_CURSOR_CHARS = 1200
OLDEST = "oldest"


@dataclass(frozen=True)
class Position:
    """Where in a list the visitor asked to be, as read from the query string."""

    before: str | None = None
    after: str | None = None
    oldest: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Position:
        """Read ``before``, ``after`` and ``at`` (an old ``page`` number is ignored)."""
        return cls(
            before=args.get("before") or None,
            after=args.get("after") or None,
            oldest=args.get("at") == OLDEST,
        )


@dataclass
class KeysetPage:
    """One page of rows and the cursors of its neighbours."""

    items: list[Any]
    per_page: int
    newer: str | None = None  # cursor for ?after=, when a page before this one exists
    older: str | None = None  # cursor for ?before=, when a page after this one exists
    is_first: bool = True
    is_last: bool = True
    invalid: bool = False  # the cursor asked for could not be read: this is the first page
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def single(self) -> bool:
        """True when every row fits on this one page."""
        return self.is_first and self.is_last


def encode_cursor(values: Sequence[Any]) -> str:
    """Return the cursor text for a row's key values."""
    plain = [v.isoformat() if isinstance(v, date | datetime) else v for v in values]
    # Text as UTF-8, not \u escapes: a name in Arabic or Chinese stays within the bound.
    raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_value(value: Any, column: InstrumentedAttribute) -> Any:
    kind = column.type
    impl = getattr(kind, "impl", kind)
    if isinstance(impl, DateTime):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(impl, Date):
        return date.fromisoformat(value)
    if isinstance(impl, Integer):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ROW_ID:
            raise ValueError("not an id")
        return value
    if isinstance(impl, String):
        if not isinstance(value, str):
            raise ValueError("not text")
        return value
    raise ValueError("unsupported key type")  # pragma: no cover - a programming error


def decode_cursor(text: str, keys: Sequence[InstrumentedAttribute]) -> tuple[Any, ...] | None:
    """Return the key values a cursor names, or None when it is not one of ``keys``'s."""
    if len(text) > MAX_CURSOR_CHARS:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        return tuple(_decode_value(v, k) for v, k in zip(values, keys, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _row_tuple(keys: Sequence[InstrumentedAttribute], values: Sequence[Any]):
    return tuple_(*(literal(v, type_=k.type) for k, v in zip(keys, values, strict=True)))


def _key_of(keys: Sequence[InstrumentedAttribute]) -> Callable[[Any], tuple[Any, ...]]:
    names = [key.key for key in keys]
    return lambda item: tuple(getattr(item, name) for name in names)


# Which way a page is read: the first page; the page after a cursor's row (``before``:
# further down the list); the page before it (``after``); the last page.
FIRST, BEFORE, AFTER, LAST = "first", "before", "after", "last"


def move_of(position: Position, cursor: tuple[Any, ...] | None) -> str:
    """The move ``position`` asks for, given its cursor as read (None: none, or unreadable)."""
    if cursor is not None:
        return BEFORE if position.before else AFTER
    return LAST if position.oldest else FIRST


def reads_backward(move: str) -> bool:
    """Whether the move reads the list in reverse (the page before a row, the last page)."""
    return move in (AFTER, LAST)


def arrange(rows: list[Any], per_page: int, move: str) -> tuple[list[Any], bool, bool]:
    """A page's rows in list order, and whether it is the first and the last page, from up
    to ``per_page + 1`` rows read in the move's direction (the extra row says there is more)."""
    more = len(rows) > per_page
    items = rows[:per_page]
    if reads_backward(move):
        items.reverse()
    is_first = move == FIRST or (reads_backward(move) and not more)
    is_last = move == LAST or (not reads_backward(move) and not more)
    return items, is_first, is_last


def keyset_page(
    query: Select,
    keys: Sequence[InstrumentedAttribute],
    *,
    position: Position,
    per_page: int,
    descending: bool = True,
) -> KeysetPage:
    """Return the page of ``query``'s ORM rows at ``position``, ordered by ``keys``.

    ``keys`` are mapped attributes of the selected entity, the last one unique (the id);
    ``descending`` orders them newest (largest) first. ``query`` must not be ordered.
    """
    key_of = _key_of(keys)
    row = tuple_(*keys)
    forward = [k.desc() if descending else k.asc() for k in keys]
    backward = [k.asc() if descending else k.desc() for k in keys]
    cursor_text = position.before or position.after
    cursor = decode_cursor(cursor_text, keys) if cursor_text else None
    invalid = bool(cursor_text) and cursor is None
    move = move_of(position, cursor)
    reading = query
    if move == BEFORE:
        reading = query.where(
            row < _row_tuple(keys, cursor) if descending else row > _row_tuple(keys, cursor)
        )
    elif move == AFTER:
        reading = query.where(
            row > _row_tuple(keys, cursor) if descending else row < _row_tuple(keys, cursor)
        )
    order = backward if reads_backward(move) else forward
    rows = list(db.session.scalars(reading.order_by(*order).limit(per_page + 1)))
    items, is_first, is_last = arrange(rows, per_page, move)
    if not items and cursor is not None:  # nothing that way (rows gone, or a made-up cursor)
        return keyset_page(
            query, keys, position=Position(), per_page=per_page, descending=descending
        )
    return KeysetPage(
        items=items,
        per_page=per_page,
        newer=encode_cursor(key_of(items[0])) if items and not is_first else None,
        older=encode_cursor(key_of(items[-1])) if items and not is_last else None,
        is_first=is_first,
        is_last=is_last,
        invalid=invalid,
    )
