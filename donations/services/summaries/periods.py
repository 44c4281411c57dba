"""Periods of the summary tables: a day ("d"), a month ("m") or a calendar year ("y"),
each named by its first day; covering a run of days with as few of them as possible;
adding deltas to summary rows with one UPSERT that stays exact under concurrent writers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    Row,
    String,
    Table,
    and_,
    cast,
    except_,
    false,
    func,
    or_,
    type_coerce,
)

from donations.extensions import db
from donations.services.upsert import insert_for
from donations.tenancy import ALL_ORGANIZATIONS

SUMMARY_GRAINS = ("d", "m", "y")
LAST_DAY = date(9999, 12, 31)
Piece = tuple[str, date, date]  # grain, first and last "starts" covered


def periods_of(day: date) -> list[tuple[str, date]]:
    """The day, its month and its year: the three rows a change on ``day`` adds to."""
    return [("d", day), ("m", day.replace(day=1)), ("y", date(day.year, 1, 1))]


def _month_end(day: date) -> date:
    following = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return following - timedelta(days=1)


def cover(first: date, last: date, *, largest: str = "y") -> list[Piece]:
    """The fewest periods that together are exactly the days ``first``..``last``.

    Returns (grain, lo, hi) runs: the rows of ``grain`` whose ``starts`` lies in
    lo..hi. ``largest="m"`` stops at months (a report's months), "d" at days.
    """
    pieces: list[Piece] = []

    def add(grain: str, start: date) -> None:
        if pieces and pieces[-1][0] == grain:
            pieces[-1] = (grain, pieces[-1][1], start)
        else:
            pieces.append((grain, start, start))

    day = first
    while day <= last:
        if largest == "y" and day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= last:
            years = last.year - day.year + (1 if (last.month, last.day) == (12, 31) else 0)
            pieces.append(("y", day, date(day.year + years - 1, 1, 1)))
            if day.year + years > LAST_DAY.year:
                break
            day = date(day.year + years, 1, 1)
        elif largest in "ym" and day.day == 1 and _month_end(day) <= last:
            add("m", day)
            if _month_end(day) == LAST_DAY:
                break
            day = _month_end(day) + timedelta(days=1)
        else:
            add("d", day)
            if day == LAST_DAY:
                break
            day += timedelta(days=1)
    return pieces


def covered(
    table: Table, pieces: Sequence[Piece], *, within: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """WHERE condition: the rows of ``table`` that make up ``pieces``.

    ``within`` (one organisation's funds, sites or categories) is repeated in each
    piece's branch, so that the database looks each branch up by it (an index that
    leads with it) rather than reading every organisation's rows of the period."""
    if not pieces:
        return false()
    extra = () if within is None else (within,)
    return or_(
        *(
            and_(*extra, table.c.grain == grain, table.c.starts >= lo, table.c.starts <= hi)
            for grain, lo, hi in pieces
        )
    )


_UPSERTS: dict[tuple, object] = {}


def add_to(
    table: Table,
    keys: Sequence[str],
    rows: Iterable[Mapping[str, object]],
    *,
    returning: Sequence[str] = (),
) -> list[Row]:
    """Add each row's values to the row with its keys, creating it at zero first.

    ``INSERT ... ON CONFLICT DO UPDATE SET v = v + excluded.v``: the database adds,
    under the row's lock, so concurrent writers never lose a change. One statement per
    table and columns, built once, run for all the rows (executemany). With
    ``returning`` (column names), the rows as they now stand, in no particular order.
    """
    rows = [dict(row) for row in rows]
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    names = tuple(rows[0])
    cache_key = (table.name, tuple(keys), names, dialect, tuple(returning))
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        added = [name for name in names if name not in keys]
        insert = insert_for(dialect)(table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: table.c[name] + insert.excluded[name] for name in added},
        )
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
        _UPSERTS[cache_key] = statement
    result = db.session.connection().execute(statement, rows)
    return list(result) if returning else []


def period_start(grain: str, day_expr, *, dialect: str) -> ColumnElement[date]:
    """SQL for the first day of the ``grain`` period holding the date ``day_expr``."""
    if grain == "d":
        return day_expr
    if dialect == "postgresql":
        unit = "month" if grain == "m" else "year"
        return cast(func.date_trunc(unit, day_expr), Date)
    cut = 7 if grain == "m" else 4
    tail = "-01" if grain == "m" else "-01-01"
    return type_coerce(func.substr(day_expr, 1, cut, type_=String).concat(tail), Date)


@dataclass(frozen=True)
class SummaryProblem:
    """A summary row that differs from what its rows add up to."""

    table: str
    key: tuple
    recorded: tuple | None
    from_rows: tuple | None


def differences(table_name: str, recorded, expected, width: int) -> list[SummaryProblem]:
    found: dict[tuple, list] = {}
    for side, query in ((0, except_(recorded, expected)), (1, except_(expected, recorded))):
        # The summary tables hold every organisation's rows: all are recomputed.
        for row in db.session.execute(query, execution_options={ALL_ORGANIZATIONS: True}):
            key = tuple(row[:width])
            found.setdefault(key, [None, None])[side] = tuple(row[width:])
    return [
        SummaryProblem(table_name, key, sides[0], sides[1])
        for key, sides in sorted(found.items(), key=lambda pair: str(pair[0]))
    ]
