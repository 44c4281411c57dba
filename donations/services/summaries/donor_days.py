"""Donors in any period from counters: ``donor_day_counts`` (per period, the donors'
giving days, and how many were a donor's first or last) and ``donor_gap_counts``
(each donor's consecutive giving days, counted by the periods of both ends).

A donor with k giving days in a period [A, B] has k - 1 consecutive pairs inside it,
so the donors in it are its giving days less the pairs with both ends in it. Those
pairs are the pairs starting on or after A, less those ending after B, plus those
that span the whole period (start before A, end after B): two sums over the day
counters and one over the pair counters, whose rows are enumerated from the
period's ends (at most a month of days and a year of months on each side). Donors
in two adjacent periods are those of each less those of both together, so the
retention of any period is a few bounded reads, however many donors gave.

Kept by ``money``'s after-flush hook when a (donor, day) gains its first gift or loses
its last: only the pairs next to that day change.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import Integer, and_, case, delete, func, insert, literal, or_, select, union_all

from donations.extensions import db
from donations.models import Donor, DonorDayCount, DonorGapCount, DonorGiftPeriod
from donations.services.summaries.periods import (
    LAST_DAY,
    SUMMARY_GRAINS,
    SummaryProblem,
    add_to,
    cover,
    covered,
    differences,
    period_start,
    periods_of,
)
from donations.services.summaries.retention import lock_donors
from donations.tenancy import HOME_ORGANIZATION_ID, across_organizations, current_organization_id

DAYS = DonorDayCount.__table__
GAPS = DonorGapCount.__table__
DONORS = DonorGiftPeriod.__table__
EPOCH = date(1900, 1, 1)
DAY_VALUES = ("giving_days", "first_days", "last_days")
GAP_KEYS = ("day_grain", "prev_grain", "day_starts", "prev_starts")


# --- keeping them -----------------------------------------------------------------


def _count(
    days: list[date], *, org: int, first: bool, last: bool, sign: int, ones: dict, pairs: dict
):
    """Add (or take away) a run of a donor's giving days: each day, the first and last
    flags when the run is the donor's start or end, each consecutive pair; all counted
    for the donor's organisation ``org``."""
    for day in days:
        for key in periods_of(day):
            ones[(org, *key)][0] += sign
    if days and first:
        for key in periods_of(days[0]):
            ones[(org, *key)][1] += sign
    if days and last:
        for key in periods_of(days[-1]):
            ones[(org, *key)][2] += sign
    for prev, day in pairwise(days):
        for day_grain, day_starts in periods_of(day):
            for prev_grain, prev_starts in periods_of(prev):
                pairs[(org, day_grain, prev_grain, day_starts, prev_starts)] += sign


def _giving_days(donor_id: int):
    return select(DONORS.c.starts).where(
        DONORS.c.donor_id == donor_id, DONORS.c.grain == "d", DONORS.c.gifts > 0
    )


def _days_around(changes: dict[int, tuple[set[date], set[date]]]) -> dict[int, set[date]]:
    """Each donor's giving days from the last one before the earliest changed day to the
    first after the latest: one statement for up to 50 donors (a batch of gifts)."""
    found: dict[int, set[date]] = defaultdict(set)
    conn = db.session.connection()  # also inside a flush: no ORM statement here
    items = sorted(changes.items())
    for start in range(0, len(items), 50):
        parts = []
        for donor_id, (added, removed) in items[start : start + 50]:
            low, high = min(added | removed), max(added | removed)
            days = _giving_days(donor_id)
            before = days.where(DONORS.c.starts < low).order_by(DONORS.c.starts.desc()).limit(1)
            after = days.where(DONORS.c.starts > high).order_by(DONORS.c.starts).limit(1)
            parts.append(
                days.add_columns(literal(donor_id, Integer).label("donor_id")).where(
                    DONORS.c.starts >= func.coalesce(before.scalar_subquery(), low),
                    DONORS.c.starts <= func.coalesce(after.scalar_subquery(), high),
                )
            )
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        for starts, donor_id in conn.execute(query):
            found[donor_id].add(starts)
    return found


def days_changed(
    changes: dict[int, tuple[set[date], set[date]]], known: dict[int, int] | None = None
) -> None:
    """Donors whose giving days changed: {donor: (days added, days removed)}, as the
    day rows of ``donor_gift_periods`` now stand (after the change); ``known`` as
    ``retention.lock_donors``."""
    changes = {donor_id: change for donor_id, change in changes.items() if change[0] or change[1]}
    if not changes:  # a gift on a day its donor gave already changes no giving day
        return
    organization_of = lock_donors(changes, known)
    around = _days_around(changes)
    ones: dict = defaultdict(lambda: [0, 0, 0])
    pairs: dict = defaultdict(int)
    for donor_id, (added, removed) in sorted(changes.items()):
        org = organization_of.get(donor_id, HOME_ORGANIZATION_ID)
        low, high = min(added | removed), max(added | removed)
        now = around.get(donor_id, set())
        was = (now - added) | removed
        edges = {
            "org": org,
            "first": not any(day < low for day in now),
            "last": not any(day > high for day in now),
        }
        _count(sorted(was), sign=-1, ones=ones, pairs=pairs, **edges)
        _count(sorted(now), sign=1, ones=ones, pairs=pairs, **edges)
    add_to(
        DAYS,
        ("organization_id", "grain", "starts"),
        (
            {
                "organization_id": o,
                "grain": g,
                "starts": s,
                **dict(zip(DAY_VALUES, sums, strict=True)),
            }
            for (o, g, s), sums in sorted(ones.items())
            if any(sums)
        ),
    )
    add_to(
        GAPS,
        ("organization_id", *GAP_KEYS),
        (
            {**dict(zip(("organization_id", *GAP_KEYS), key, strict=True)), "gaps": n}
            for key, n in sorted(pairs.items())
            if n
        ),
    )


def note_day_deltas(
    deltas: dict[tuple[int, date], int],
    *,
    now: dict[tuple[int, date], int],
    known: dict[int, int] | None = None,
) -> None:
    """After ``donor_gift_periods`` took ``deltas`` ((donor, day): gifts added) and its
    rows became ``now`` ((donor, day): gifts, those of the deltas at least): find the
    days that gained their first gift or lost their last, and count them."""
    deltas = {key: n for key, n in deltas.items() if n}
    if not deltas:
        return
    changes: dict[int, tuple[set[date], set[date]]] = defaultdict(lambda: (set(), set()))
    for (donor_id, day), n in deltas.items():
        after = now.get((donor_id, day), 0)
        before = after - n
        if before <= 0 < after:
            changes[donor_id][0].add(day)
        elif after <= 0 < before:
            changes[donor_id][1].add(day)
    days_changed(dict(changes), known)


# --- reading them -----------------------------------------------------------------


def _sum(first: date, last: date, *columns: str) -> list[int]:
    if last < first:
        return [0] * len(columns)
    row = db.session.execute(
        select(*(func.coalesce(func.sum(DAYS.c[c]), 0) for c in columns)).where(
            DAYS.c.organization_id == current_organization_id(),
            covered(DAYS, cover(first, last)),
        )
    ).one()
    return [int(v) for v in row]


def _starts_in(grain: str, lo: date, hi: date) -> list[date]:
    """Each period start of ``grain`` from ``lo`` to ``hi`` (days or months)."""
    found, day = [], lo
    while day <= hi:
        found.append(day)
        if grain == "d":
            day += timedelta(days=1)
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return found


def _spanning(first: date, last: date) -> int:
    """Consecutive giving days of a donor that span [first, last]: before and after it."""
    if first <= EPOCH or last >= LAST_DAY:
        return 0
    terms = []
    for day_grain, day_lo, day_hi in cover(last + timedelta(days=1), LAST_DAY):
        if day_grain == "y":
            day_match = and_(GAPS.c.day_starts >= day_lo, GAPS.c.day_starts <= day_hi)
        else:  # at most a month of days or a year of months: one index seek each
            day_match = GAPS.c.day_starts.in_(_starts_in(day_grain, day_lo, day_hi))
        for prev_grain, prev_lo, prev_hi in cover(EPOCH, first - timedelta(days=1)):
            terms.append(
                and_(
                    GAPS.c.day_grain == day_grain,
                    GAPS.c.prev_grain == prev_grain,
                    day_match,
                    GAPS.c.prev_starts >= prev_lo,
                    GAPS.c.prev_starts <= prev_hi,
                )
            )
    if not terms:
        return 0
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(GAPS.c.gaps), 0)).where(
                GAPS.c.organization_id == current_organization_id(), or_(*terms)
            )
        )
    )


def donors_in(first: date, last: date) -> int:
    """How many donors gave on at least one day from ``first`` to ``last``."""
    (giving,) = _sum(first, last, "giving_days")
    days_on, lasts_on = _sum(first, LAST_DAY, "giving_days", "last_days")
    days_after, firsts_after = _sum(last + timedelta(days=1), LAST_DAY, "giving_days", "first_days")
    pairs_inside = (days_on - lasts_on) - (days_after - firsts_after) + _spanning(first, last)
    return giving - pairs_inside


def first_timers(first: date, last: date) -> int:
    """How many donors gave for the first time ever from ``first`` to ``last``."""
    return _sum(first, last, "first_days")[0]


# --- checking and rebuilding them -------------------------------------------------


def _sequence(donor_days):
    """(donor_id, organization_id, day, prev, next) from a SELECT of (grain, starts,
    donor_id, gifts)."""
    given = donor_days.subquery()
    donors = Donor.__table__
    order = {"partition_by": given.c.donor_id, "order_by": given.c.starts}
    return (
        select(
            given.c.donor_id,
            donors.c.organization_id,
            given.c.starts.label("day"),
            func.lag(given.c.starts).over(**order).label("prev"),
            func.lead(given.c.starts).over(**order).label("next"),
        )
        .select_from(given.join(donors, donors.c.id == given.c.donor_id))
        .subquery()
    )


def expected_days(donor_days, grain: str):
    """SELECT of ``donor_day_counts`` rows of ``grain`` from the (donor, day) rows."""
    seq = _sequence(donor_days)
    starts = period_start(grain, seq.c.day, dialect=db.session.get_bind().dialect.name)
    return select(
        seq.c.organization_id,
        literal(grain).label("grain"),
        starts.label("starts"),
        func.count(),
        func.sum(case((seq.c.prev.is_(None), 1), else_=0)),
        func.sum(case((seq.c.next.is_(None), 1), else_=0)),
    ).group_by(seq.c.organization_id, starts)


def expected_gaps(donor_days, day_grain: str, prev_grain: str):
    """SELECT of ``donor_gap_counts`` rows of two grains from the (donor, day) rows."""
    seq = _sequence(donor_days)
    dialect = db.session.get_bind().dialect.name
    day_starts = period_start(day_grain, seq.c.day, dialect=dialect)
    prev_starts = period_start(prev_grain, seq.c.prev, dialect=dialect)
    return (
        select(
            seq.c.organization_id,
            literal(day_grain).label("day_grain"),
            literal(prev_grain).label("prev_grain"),
            day_starts.label("day_starts"),
            prev_starts.label("prev_starts"),
            func.count(),
        )
        .where(seq.c.prev.is_not(None))
        .group_by(seq.c.organization_id, day_starts, prev_starts)
    )


def _grain_pairs():
    return [(d, p) for d in SUMMARY_GRAINS for p in SUMMARY_GRAINS]


@across_organizations()
def verify_donor_days(donor_days) -> list[SummaryProblem]:
    """Compare the day and pair counters with ``donor_days`` (the gifts' donor days)."""
    problems = []
    for grain in SUMMARY_GRAINS:
        recorded = select(
            DAYS.c.organization_id, DAYS.c.grain, DAYS.c.starts, *(DAYS.c[n] for n in DAY_VALUES)
        ).where(DAYS.c.grain == grain, DAYS.c.giving_days != 0)
        problems += differences(DAYS.name, recorded, expected_days(donor_days, grain), 3)
    for day_grain, prev_grain in _grain_pairs():
        recorded = select(*(GAPS.c[n] for n in ("organization_id", *GAP_KEYS, "gaps"))).where(
            GAPS.c.day_grain == day_grain, GAPS.c.prev_grain == prev_grain, GAPS.c.gaps != 0
        )
        expected = expected_gaps(donor_days, day_grain, prev_grain)
        problems += differences(GAPS.name, recorded, expected, len(GAP_KEYS) + 1)
    return problems


@across_organizations()
def rebuild_donor_days(donor_days) -> None:
    db.session.execute(delete(DAYS))
    db.session.execute(delete(GAPS))
    for grain in SUMMARY_GRAINS:
        db.session.execute(
            insert(DAYS).from_select(
                ["organization_id", "grain", "starts", *DAY_VALUES],
                expected_days(donor_days, grain),
            )
        )
    for day_grain, prev_grain in _grain_pairs():
        db.session.execute(
            insert(GAPS).from_select(
                ["organization_id", *GAP_KEYS, "gaps"],
                expected_gaps(donor_days, day_grain, prev_grain),
            )
        )
