"""Donor retention by calendar year from counters: ``donor_gift_gaps`` (each year a
donor gave in, with the latest earlier year) and ``donor_retention_years`` (per year:
donors, first-time donors, donors who gave the year before too).

Kept from the yearly ``donor_gift_periods`` rows: whenever a flush changes how many
gifts a donor gave in a year (``money``'s after-flush hook) or donors merge, the
donor's few yearly rows are read again and the counters take the difference. A
year's retention is then two rows, however many donors gave.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    select,
    update,
)

from donations.extensions import db
from donations.models import (
    Donor,
    DonorGiftGap,
    DonorGiftPeriod,
    DonorRetentionYear,
    Gift,
    GiftStatus,
)
from donations.services.summaries.periods import SummaryProblem, add_to, differences
from donations.tenancy import HOME_ORGANIZATION_ID, across_organizations, current_organization_id

GAPS = DonorGiftGap.__table__
YEARS = DonorRetentionYear.__table__
DONORS = DonorGiftPeriod.__table__
YEAR_VALUES = ("donors", "first_time", "retained")

Gaps = dict[int, tuple[int, int | None]]  # year -> (gifts, previous year given in)

_ONE_GAP = (GAPS.c.donor_id == bindparam("d", type_=Integer)) & (
    GAPS.c.year == bindparam("y", type_=Integer)
)
_DELETE_GAP = delete(GAPS).where(_ONE_GAP)
_UPDATE_GAP = (
    update(GAPS)
    .where(_ONE_GAP)
    .values(gifts=bindparam("g", type_=Integer), previous_year=bindparam("p", type_=Integer))
)


# --- keeping them -----------------------------------------------------------------


def _gaps(years: dict[int, int]) -> Gaps:
    """A donor's gap rows from the years given in and the gifts of each."""
    found: Gaps = {}
    previous = None
    for year in sorted(years):
        found[year] = (years[year], previous)
        previous = year
    return found


def _count(gaps: Gaps, sign: int, counts: dict[tuple[int, int], list[int]], org: int) -> None:
    for year, (_gifts, previous) in gaps.items():
        sums = counts[(org, year)]
        sums[0] += sign
        sums[1] += sign * (previous is None)
        sums[2] += sign * (previous == year - 1)


def lock_donors(donor_ids: Iterable[int], known: dict[int, int] | None = None) -> dict[int, int]:
    """Writers of one donor's counters take turns (PostgreSQL locks the donors' rows;
    SQLite has one writer). Returns each donor's organisation, read with the lock;
    ``known`` holds donors already locked and read in this transaction (one flush
    keeps several counters of the same donors): they are not read again, and the
    donors read now are added to it."""
    known = {} if known is None else known
    wanted = sorted(set(donor_ids) - known.keys())
    donors = Donor.__table__
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    conn = db.session.connection()  # also inside a flush: no ORM statement here
    for start in range(0, len(wanted), 500):
        query = select(donors.c.id, donors.c.organization_id).where(
            donors.c.id.in_(wanted[start : start + 500])
        )
        if postgresql:
            query = query.order_by(donors.c.id).with_for_update()
        known.update(conn.execute(query).all())
    return known


def refresh_donors(donor_ids: Iterable[int], known: dict[int, int] | None = None) -> None:
    """Bring the donors' gap rows and the yearly counters in line with their yearly
    ``donor_gift_periods`` rows (``known``: as ``lock_donors``)."""
    ids = sorted(set(donor_ids))
    if not ids:
        return
    organization_of = lock_donors(ids, known)
    conn = db.session.connection()  # also inside a flush: no ORM statement here
    given: dict[int, dict[int, int]] = defaultdict(dict)
    held: dict[int, Gaps] = defaultdict(dict)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for donor_id, starts, gifts in conn.execute(
            select(DONORS.c.donor_id, DONORS.c.starts, DONORS.c.gifts).where(
                DONORS.c.grain == "y", DONORS.c.donor_id.in_(chunk), DONORS.c.gifts > 0
            )
        ):
            given[donor_id][starts.year] = int(gifts)
        for donor_id, year, gifts, previous in conn.execute(
            select(GAPS.c.donor_id, GAPS.c.year, GAPS.c.gifts, GAPS.c.previous_year).where(
                GAPS.c.donor_id.in_(chunk)
            )
        ):
            held[donor_id][year] = (gifts, previous)
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    # Only the gap rows that differ are written: a gift in a year the donor already gave
    # in changes that year's row alone (one UPDATE), a first gift adds one (one INSERT).
    gone: list[dict[str, int]] = []
    added: list[dict[str, int | None]] = []
    changed: list[dict[str, int | None]] = []
    for donor_id in ids:
        wanted = _gaps(given.get(donor_id, {}))
        had = held.get(donor_id, {})
        if wanted == had:
            continue
        org = organization_of.get(donor_id, HOME_ORGANIZATION_ID)
        _count(had, -1, counts, org)
        _count(wanted, 1, counts, org)
        gone += [{"d": donor_id, "y": year} for year in sorted(had.keys() - wanted.keys())]
        for year, (gifts, previous) in sorted(wanted.items()):
            if year not in had:
                added.append(
                    {"donor_id": donor_id, "year": year, "gifts": gifts, "previous_year": previous}
                )
            elif had[year] != (gifts, previous):
                changed.append({"d": donor_id, "y": year, "g": gifts, "p": previous})
    if gone:
        conn.execute(_DELETE_GAP, gone)
    if changed:
        conn.execute(_UPDATE_GAP, changed)
    if added:
        conn.execute(insert(GAPS), added)
    add_to(
        YEARS,
        ("organization_id", "year"),
        (
            dict(zip(("organization_id", "year", *YEAR_VALUES), (*key, *sums), strict=True))
            for key, sums in sorted(counts.items())
            if any(sums)
        ),
    )


# --- reading them -----------------------------------------------------------------


@dataclass(frozen=True)
class YearCounts:
    donors: int
    new: int
    returning: int


def year_counts(year: int) -> tuple[YearCounts, YearCounts]:
    """The counters of ``year`` and of the year before: two rows."""
    rows = {
        row.year: YearCounts(int(row.donors), int(row.first_time), int(row.retained))
        for row in db.session.execute(
            select(YEARS).where(
                YEARS.c.organization_id == current_organization_id(),
                YEARS.c.year.in_([year - 1, year]),
            )
        )
    }
    empty = YearCounts(0, 0, 0)
    return rows.get(year, empty), rows.get(year - 1, empty)


# --- checking and rebuilding them -------------------------------------------------


def _gift_year():
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(extract("year", func.timezone("UTC", Gift.received_at)), Integer)
    return cast(func.substr(Gift.received_at, 1, 4), Integer)


def expected_gaps():
    """SELECT of every ``donor_gift_gaps`` row, from the gifts."""
    year = _gift_year()
    given = (
        select(Gift.donor_id, year.label("year"), func.count(Gift.id).label("gifts"))
        .where(Gift.status == GiftStatus.PAID, Gift.is_reversal.is_(False), Gift.amount_cents > 0)
        .group_by(Gift.donor_id, year)
        .subquery()
    )
    previous = func.lag(given.c.year).over(partition_by=given.c.donor_id, order_by=given.c.year)
    return select(given.c.donor_id, given.c.year, given.c.gifts, previous)


def expected_years():
    """SELECT of every ``donor_retention_years`` row, counted from the gifts."""
    gaps = expected_gaps().subquery()
    donors = Donor.__table__
    year, previous, org = gaps.c.year, gaps.c[3], donors.c.organization_id
    return (
        select(
            org,
            year,
            func.count(),
            func.sum(case((previous.is_(None), 1), else_=0)),
            func.sum(case((previous == year - 1, 1), else_=0)),
        )
        .select_from(gaps.join(donors, donors.c.id == gaps.c.donor_id))
        .group_by(org, year)
    )


@across_organizations()
def verify_retention() -> list[SummaryProblem]:
    """Recompute the gap rows and the yearly counters from the gifts; return differences."""
    recorded = select(GAPS.c.donor_id, GAPS.c.year, GAPS.c.gifts, GAPS.c.previous_year)
    problems = differences(GAPS.name, recorded, expected_gaps(), 2)
    recorded = select(
        YEARS.c.organization_id, YEARS.c.year, *(YEARS.c[n] for n in YEAR_VALUES)
    ).where(YEARS.c.donors != 0)
    return problems + differences(YEARS.name, recorded, expected_years(), 2)


@across_organizations()
def rebuild_retention() -> None:
    """Refill the gap rows and the yearly counters from the gifts."""
    db.session.execute(delete(GAPS))
    db.session.execute(delete(YEARS))
    db.session.execute(
        insert(GAPS).from_select(["donor_id", "year", "gifts", "previous_year"], expected_gaps())
    )
    db.session.execute(
        insert(YEARS).from_select(["organization_id", "year", *YEAR_VALUES], expected_years())
    )
