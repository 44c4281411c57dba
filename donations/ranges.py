"""Whole numbers from the outside world, kept within what the database can hold.

Ids, page numbers and quantities arrive as text in paths, query strings and forms. A
number beyond a database integer (``2**70``) used to reach the database and give a 500;
here it becomes a 404 (paths, pages) or a form error (fields). One place decides the
range: ``MAX_INT``, the largest value of the ``Integer`` columns (PostgreSQL's int4).
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, request
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField, SelectField
from wtforms.validators import ValidationError

from donations.models import MAX_ROW_ID

MAX_INT = MAX_ROW_ID  # every id and quantity column is an Integer (int4 on PostgreSQL)
MIN_INT = -(2**31)
MAX_PAGE = 1_000_000  # far beyond any list; keeps LIMIT/OFFSET well inside a bigint

# Messages for hidden id fields a browser (or a hand-made request) filled out of range.
NO_SUCH_DONOR = "There is no donor #{value}: choose the donor again."
CHOOSE_AGAIN = "That choice is no longer on the list: choose again."

_WHOLE = re.compile(r"[+-]?\d{1,30}")


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in routes: ids beyond a database integer are a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def parse_int(text: object, *, minimum: int = MIN_INT, maximum: int = MAX_INT) -> int | None:
    """The whole number ``text`` spells, or None when it is not one or out of range."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        value = text
    else:
        raw = str(text or "").strip()
        if not _WHOLE.fullmatch(raw):
            return None
        value = int(raw)
    return value if minimum <= value <= maximum else None


def parse_id(text: object) -> int | None:
    """A row id from text: a positive whole number that fits the id column, else None."""
    return parse_int(text, minimum=1)


def int_arg(name: str, default: int | None = None) -> int | None:
    """An id-like query argument; missing, malformed or out of range gives ``default``."""
    value = parse_int(request.args.get(name))
    return default if value is None else value


def id_arg(name: str) -> int | None:
    """A row id from the query string, or None."""
    return parse_id(request.args.get(name))


def page_arg(name: str = "page") -> int:
    """``?page=``: 1 when missing, malformed or below 1; a 404 beyond ``MAX_PAGE``."""
    raw = (request.args.get(name) or "").strip()
    if not _WHOLE.fullmatch(raw):
        if raw.lstrip("+").isdigit():  # more digits than any page
            abort(404)
        return 1
    page = int(raw)
    if page > MAX_PAGE:
        abort(404)
    return max(page, 1)


class BoundedIntegerField(IntegerField):
    """An IntegerField whose value fits a database integer column (else a form error).

    ``range_message`` may name the number typed as ``{value}``.
    """

    def __init__(
        self,
        *args: Any,
        minimum: int = MIN_INT,
        maximum: int = MAX_INT,
        range_message: str = "Enter a smaller number.",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.range_message = range_message

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not self.minimum <= self.data <= self.maximum:
            value, self.data = self.data, None
            raise ValueError(self.range_message.format(value=value))


class IdSelectField(SelectField):
    """A select of row ids sent as text: blank, or an id that fits the column.

    For selects built with ``validate_choice=False`` (their choices change while the
    form is open): anything else the browser sends is a form error, not a lookup.
    """

    def __init__(self, *args: Any, message: str = "Choose one from the list.", **kwargs: Any):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)
        self.range_message = message

    def pre_validate(self, form: Any) -> None:
        super().pre_validate(form)
        value = self.data
        if value in (None, "") or parse_id(value) is not None:
            return
        raise ValidationError(self.range_message)
