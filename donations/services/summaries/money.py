"""Gift summaries: ``gift_period_totals`` (what the reports and the dashboard sum) and
``donor_gift_periods`` (who gave when: retention in SQL), kept by the ORM's flush.

Gifts change in many places (checkout, every Stripe event, offline gifts and their
corrections, the demo), all through the ORM, so the one write path is the flush
itself: before it, the rows of the gifts about to change are read as the database
holds them; after it, again; the difference of their contributions is added to the
summaries in the same transaction (``periods.add_to``), or added up in memory and
written once at the end of a batch (``added_at_end``). A statement that bypasses
the ORM must call ``move_donor``-like code of its own (merging donors does);
``verify_money`` recomputes every row and finds any drift.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date

from sqlalchemy import (
    Date,
    String,
    and_,
    cast,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, SessionTransaction, aliased
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.sql.elements import ClauseElement

from donations.extensions import db, drop_rolled_back
from donations.models import Donor, DonorGiftPeriod, Fund, Gift, GiftPeriodTotal, GiftStatus
from donations.services.org_slugs import several_organizations
from donations.services.summaries.donor_days import (
    days_changed,
    note_day_deltas,
    rebuild_donor_days,
    verify_donor_days,
)
from donations.services.summaries.periods import (
    SUMMARY_GRAINS,
    Piece,
    SummaryProblem,
    add_to,
    covered,
    differences,
    period_start,
    periods_of,
)
from donations.services.summaries.retention import refresh_donors, verify_retention
from donations.tenancy import across_organizations, current_organization_id

MONEY = GiftPeriodTotal.__table__
DONORS = DonorGiftPeriod.__table__
MONEY_KEYS = ("grain", "starts", "fund_id", "method", "currency")
MONEY_VALUES = ("gifts", "gross_cents", "fee_cents", "returned_cents", "net_cents")
DONOR_KEYS = ("grain", "starts", "donor_id")
_BEFORE = "summaries.gifts_before_flush"
_ADDING_AT_END = "summaries.adding_at_end"  # set by ``added_at_end``
_TO_ADD = "summaries.to_add"  # [(transaction, money, donors)] added up, not yet written
_COLUMNS = (
    Gift.id,
    Gift.donor_id,
    Gift.fund_id,
    Gift.method,
    Gift.currency,
    Gift.status,
    Gift.is_reversal,
    Gift.received_at,
    Gift.amount_cents,
    Gift.fee_cents,
    Gift.dispute_fee_cents,
    Gift.refunded_cents,
    Gift.dispute_cents,
)
_NAMES = tuple(column.key for column in _COLUMNS)
_Held = namedtuple("_Held", _NAMES)  # type: ignore[misc]  # a row of _COLUMNS, from memory
# Attributes whose change can move a gift in the summaries (the relationships set the ids).
_TOUCHED = frozenset(_NAMES) | {"donor", "fund"}


# --- keeping them -----------------------------------------------------------------


def _rows(session: Session, ids: Iterable[int]) -> list:
    ids = sorted(set(ids))
    found = []
    for start in range(0, len(ids), 500):
        query = select(*_COLUMNS).where(Gift.id.in_(ids[start : start + 500]))
        found.extend(session.connection().execute(query))
    return found


def _held(obj: Gift, *, as_loaded: bool) -> _Held | None:
    """The gift's summary columns as the session holds them: as last loaded or flushed
    (``as_loaded``: what the database has now) or as they will be written; None when
    one of them is not in memory (expired, never loaded, or a SQL expression), and
    the database must be asked."""
    state = sa_inspect(obj)
    loaded, current = state.committed_state, state.dict
    values = []
    for name in _NAMES:
        value = loaded[name] if as_loaded and name in loaded else current.get(name, NO_VALUE)
        if value is NO_VALUE or value is None or isinstance(value, ClauseElement):
            return None
        values.append(value)
    return _Held(*values)


def _summed(obj: Gift) -> bool:
    """Whether a change to a loaded gift may touch what the summaries add up."""
    return not _TOUCHED.isdisjoint(sa_inspect(obj).committed_state)


def _add_row(row, sign: int, money: dict, donors: dict) -> None:
    """Add (``sign`` 1) or take away (-1) one gift row's share of the summaries."""
    day = row.received_at.astimezone(UTC).date()
    if row.status == GiftStatus.PAID or row.is_reversal:
        fee = row.fee_cents + row.dispute_fee_cents
        returned = row.refunded_cents + row.dispute_cents
        values = (1, row.amount_cents, fee, returned, row.amount_cents - fee - returned)
        for grain, starts in periods_of(day):
            sums = money[(grain, starts, row.fund_id, str(row.method), row.currency)]
            for index, value in enumerate(values):
                sums[index] += sign * value
    if row.status == GiftStatus.PAID and not row.is_reversal and row.amount_cents > 0:
        for grain, starts in periods_of(day):
            donors[(grain, starts, row.donor_id)] += sign


def _write(money: dict, donors: dict) -> dict[tuple[int, date], int]:
    """Add the changes; returns the day rows of the donors as they now stand:
    {(donor, day): gifts}."""
    add_to(
        MONEY,
        MONEY_KEYS,
        (
            dict(zip(MONEY_KEYS + MONEY_VALUES, (*key, *sums), strict=True))
            for key, sums in sorted(money.items())
            if any(sums)
        ),
    )
    now = add_to(
        DONORS,
        DONOR_KEYS,
        (
            {"grain": g, "starts": s, "donor_id": d, "gifts": n}
            for (g, s, d), n in sorted(donors.items())
            if n
        ),
        returning=("grain", "starts", "donor_id", "gifts"),
    )
    return {(d, s): int(n) for g, s, d, n in now if g == "d"}


def _identity(obj: Gift) -> int | None:
    identity = sa_inspect(obj).identity
    return identity[0] if identity else None


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context, _instances) -> None:
    changed = [o for o in session.dirty if isinstance(o, Gift) and _summed(o)]
    added = [o for o in session.new if isinstance(o, Gift)]
    deleted = [o for o in session.deleted if isinstance(o, Gift)]
    if not (changed or added or deleted):
        session.info.pop(_BEFORE, None)
        return
    # What the database holds now, from memory where the session has it all.
    before, ask = [], set()
    for obj in changed + deleted:
        row = _held(obj, as_loaded=True)
        if row is not None:
            before.append(row)
        elif (identity := _identity(obj)) is not None:
            ask.add(identity)
    session.info[_BEFORE] = (before + _rows(session, ask), changed, added)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    pending = session.info.pop(_BEFORE, None)
    if pending is None:
        return
    before, changed, added = pending
    after, ask = [], set()
    for obj in changed + added:
        row = _held(obj, as_loaded=False)
        if row is not None:
            after.append(row)
        elif (identity := sa_inspect(obj).dict.get("id")) is not None:
            ask.add(identity)
    money: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    donors: dict = defaultdict(int)
    for row in before:
        _add_row(row, -1, money, donors)
    for row in after + _rows(session, ask):
        _add_row(row, 1, money, donors)
    if session.info.get(_ADDING_AT_END):
        transaction = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_TO_ADD, []).append((transaction, money, donors))
        return
    _apply(money, donors)


def _apply(money: dict, donors: dict) -> None:
    """Write the changes to the summaries, then the counters kept from them."""
    days_now = _write(money, donors)
    known: dict[int, int] = {}  # donors locked and read once for both counters
    refresh_donors((d for (grain, _starts, d), n in donors.items() if grain == "y" and n), known)
    note_day_deltas(
        {(d, starts): n for (grain, starts, d), n in donors.items() if grain == "d"},
        now=days_now,
        known=known,
    )


@contextmanager
def added_at_end() -> Iterator[None]:
    """Within it, what the flushes change in the gift summaries is added up in memory and
    written once when it ends, in the same transaction: a batch of Stripe events then
    writes each total, donor row and counter it moves once, not once per event.

    A savepoint rolled back takes its share with it (as it takes its gifts' changes). If
    the block ends with an error, what it added up is written by the commit (should the
    caller commit all the same) or dropped by the rollback. Nothing in the block may read
    the summaries, which lag until it ends."""
    session = db.session()
    if session.info.get(_ADDING_AT_END):  # inside another: that one writes
        yield
        return
    session.info[_ADDING_AT_END] = True
    try:
        yield
        session.flush()
    finally:
        session.info.pop(_ADDING_AT_END, None)
    _write_added(session)


def _write_added(session: Session) -> None:
    added = session.info.pop(_TO_ADD, None)
    if not added:
        return
    money: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    donors: dict = defaultdict(int)
    for _transaction, money_part, donors_part in added:
        for key, sums in money_part.items():
            total = money[key]
            for index, value in enumerate(sums):
                total[index] += value
        for key, n in donors_part.items():
            donors[key] += n
    _apply(money, donors)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    if session.info.get(_TO_ADD) and not session.in_nested_transaction():
        _write_added(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    drop_rolled_back(session, _TO_ADD, previous_transaction)


def _days_given(donor_id: int) -> set[date]:
    return set(
        db.session.scalars(
            select(DONORS.c.starts).where(
                DONORS.c.donor_id == donor_id, DONORS.c.grain == "d", DONORS.c.gifts > 0
            )
        )
    )


def move_donor(*, source_id: int, target_id: int) -> None:
    """Merging donors: the duplicate's periods are added to the survivor's."""
    moved_days, kept_days = _days_given(source_id), _days_given(target_id)
    rows = db.session.execute(
        select(DONORS.c.grain, DONORS.c.starts, DONORS.c.gifts).where(
            DONORS.c.donor_id == source_id
        )
    ).all()
    add_to(
        DONORS,
        DONOR_KEYS,
        ({"grain": g, "starts": s, "donor_id": target_id, "gifts": n} for g, s, n in rows),
    )
    db.session.execute(delete(DONORS).where(DONORS.c.donor_id == source_id))
    known: dict[int, int] = {}
    refresh_donors([source_id, target_id], known)
    days_changed(
        {source_id: (set(), moved_days), target_id: (moved_days - kept_days, set())}, known
    )


# --- reading them -----------------------------------------------------------------


def _own_funds():
    """The current organisation's funds: the summary rows carry no organisation of their
    own (a table read past the ORM: the scope is written out)."""
    return select(Fund.id).where(Fund.organization_id == current_organization_id())


def _own_donors():
    return select(Donor.id).where(Donor.organization_id == current_organization_id())


def money_sums(pieces: list[Piece], *, by: str) -> list[tuple]:
    """(key, currency, gifts, gross, fee, returned, net) over ``pieces``, grouped by
    ``by``: "fund_id", "method", "currency" or "starts" (with the grain: a month's
    or a day's row)."""
    keys = [MONEY.c.grain, MONEY.c.starts] if by == "starts" else [MONEY.c[by]]
    query = (
        select(
            *keys,
            MONEY.c.currency,
            *(func.sum(MONEY.c[name]) for name in MONEY_VALUES),
        )
        .where(covered(MONEY, pieces, within=MONEY.c.fund_id.in_(_own_funds())))
        .group_by(*keys, MONEY.c.currency)
        .having(func.sum(MONEY.c.gifts) != 0)
        .order_by(*keys, MONEY.c.currency)
    )
    found = []
    for row in db.session.execute(query):
        key = (row[0], row[1]) if by == "starts" else row[0]
        found.append((key, *row[len(keys) : len(keys) + 1], *(int(v) for v in row[-5:])))
    return found


@dataclass(frozen=True)
class DonorCounts:
    donors: int
    previous_donors: int
    new: int
    returning: int


def donor_counts(*, now: list[Piece], before: list[Piece], first_day: date) -> DonorCounts:
    """Donors who gave in ``now``, in ``before``, in both, and for the first time ever
    in ``now`` (no gift before ``first_day``): all counted in SQL."""
    gave = DONORS.c.gifts > 0
    if several_organizations():  # the rows name donors of every organisation
        gave = and_(gave, DONORS.c.donor_id.in_(_own_donors()))
    now_q = select(DONORS.c.donor_id).where(covered(DONORS, now), gave).distinct().cte("now")
    before_q = (
        select(DONORS.c.donor_id).where(covered(DONORS, before), gave).distinct().cte("before")
    )
    earlier = aliased(DONORS)
    gave_earlier = exists().where(
        earlier.c.donor_id == now_q.c.donor_id,
        earlier.c.grain == "d",
        earlier.c.starts < first_day,
        earlier.c.gifts > 0,
    )
    query = select(
        select(func.count()).select_from(now_q).scalar_subquery(),
        select(func.count()).select_from(before_q).scalar_subquery(),
        select(func.count()).select_from(now_q).where(~gave_earlier).scalar_subquery(),
        select(func.count())
        .select_from(now_q)
        .where(now_q.c.donor_id.in_(select(before_q.c.donor_id)))
        .scalar_subquery(),
    )
    donors, previous, new, returning = (int(v or 0) for v in db.session.execute(query).one())
    return DonorCounts(donors, previous, new, returning)


# --- checking them ----------------------------------------------------------------


def _gift_day():
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", Gift.received_at), Date)
    return type_coerce(func.substr(Gift.received_at, 1, 10, type_=String), Date)


def expected_money(grain: str):
    """SELECT of every ``gift_period_totals`` row of ``grain``, summed from the gifts."""
    starts = period_start(grain, _gift_day(), dialect=db.session.get_bind().dialect.name)
    fee = Gift.fee_cents + Gift.dispute_fee_cents
    returned = Gift.refunded_cents + Gift.dispute_cents
    return (
        select(
            literal(grain, String).label("grain"),
            starts.label("starts"),
            Gift.fund_id,
            Gift.method,
            Gift.currency,
            func.count(Gift.id),
            func.sum(Gift.amount_cents),
            func.sum(fee),
            func.sum(returned),
            func.sum(Gift.amount_cents - fee - returned),
        )
        .where(or_(Gift.status == GiftStatus.PAID, Gift.is_reversal.is_(True)))
        .group_by(starts, Gift.fund_id, Gift.method, Gift.currency)
    )


def expected_donors(grain: str):
    """SELECT of every ``donor_gift_periods`` row of ``grain``, counted from the gifts."""
    starts = period_start(grain, _gift_day(), dialect=db.session.get_bind().dialect.name)
    return (
        select(literal(grain, String).label("grain"), starts.label("starts"), Gift.donor_id)
        .add_columns(func.count(Gift.id))
        .where(Gift.status == GiftStatus.PAID, Gift.is_reversal.is_(False), Gift.amount_cents > 0)
        .group_by(starts, Gift.donor_id)
    )


@across_organizations()
def verify_money() -> list[SummaryProblem]:
    """Recompute every gift and donor summary row from the gifts; return the differences."""
    problems = []
    for grain in SUMMARY_GRAINS:
        recorded = select(*(MONEY.c[n] for n in MONEY_KEYS + MONEY_VALUES)).where(
            MONEY.c.grain == grain,
            or_(*(MONEY.c[n] != 0 for n in MONEY_VALUES)),
        )
        problems += differences(MONEY.name, recorded, expected_money(grain), len(MONEY_KEYS))
        recorded = select(*(DONORS.c[n] for n in (*DONOR_KEYS, "gifts"))).where(
            DONORS.c.grain == grain, DONORS.c.gifts != 0
        )
        problems += differences(DONORS.name, recorded, expected_donors(grain), len(DONOR_KEYS))
    return problems + verify_retention() + verify_donor_days(expected_donors("d"))


def count_rows() -> int:
    """How many summary rows there are for gifts and donors."""
    return sum(
        int(db.session.scalar(select(func.count()).select_from(t)) or 0) for t in (MONEY, DONORS)
    )


@across_organizations()
def rebuild_money() -> None:
    """Refill the gift and donor summaries from the gifts."""
    db.session.execute(delete(MONEY))
    db.session.execute(delete(DONORS))
    for grain in SUMMARY_GRAINS:
        db.session.execute(
            insert(MONEY).from_select([*MONEY_KEYS, *MONEY_VALUES], expected_money(grain))
        )
        db.session.execute(
            insert(DONORS).from_select([*DONOR_KEYS, "gifts"], expected_donors(grain))
        )
    rebuild_donor_days(expected_donors("d"))
