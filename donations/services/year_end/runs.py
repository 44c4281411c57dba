"""Year-end runs: start (or continue) one, find one, list them and the statements they made."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select

from donations.extensions import db
from donations.models import (
    MAX_ROW_ID,
    Receipt,
    ReceiptStatus,
    StatementBasis,
    User,
    YearEndRun,
    YearEndStatus,
    utcnow,
)
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.locking import serialize_writes
from donations.services.year_end.donors import count_done, count_donors
from donations.services.year_end.years import period_of

LOCK_NAME = "year_end"
# A run whose heartbeat is older than this is taken to have died: it may be continued.
STALE_AFTER = timedelta(minutes=2)


def is_alive(run: YearEndRun, *, now=None) -> bool:
    """True while a running run has shown signs of life lately."""
    if run.status != YearEndStatus.RUNNING:
        return False
    last = run.heartbeat_at or run.started_at
    return last is not None and (now or utcnow()) - last <= STALE_AFTER


def runs_query(*, period: tuple[date, date] | None = None) -> Select[tuple[YearEndRun]]:
    """Year-end runs, newest first; of one period (first and last day) if given."""
    query = select(YearEndRun).order_by(YearEndRun.started_at.desc(), YearEndRun.id.desc())
    if period is not None:
        query = query.where(
            YearEndRun.period_start == period[0], YearEndRun.period_end == period[1]
        )
    return query


def get_run(run_id: int) -> YearEndRun:
    run = db.session.get(YearEndRun, run_id) if 0 < run_id <= MAX_ROW_ID else None
    if run is None:
        raise NotFound("There is no such year-end run.")
    return run


def start_run(
    *,
    actor: User | None,
    tax_year: int,
    basis: StatementBasis | str = StatementBasis.FISCAL,
    open_confirmed: bool = False,
) -> YearEndRun:
    """Start the year-end statements of a tax year, or continue an interrupted run of it.

    ``basis`` is "fiscal" (the organisation's fiscal year, named by the calendar
    year it ends in) or "calendar" (January to December). Refuses an unknown
    basis, a period without gifts, a period whose run is still going, and a
    period not over yet unless ``open_confirmed``. The caller commits, then calls
    ``donations.jobs.year_end_run.run_year_end`` (here or in a process of its own),
    which issues and audits every statement and email in the name of ``actor``.
    """
    basis, label, start, end = period_of(tax_year, basis, open_confirmed=open_confirmed)
    total = count_donors(start, end)
    if total == 0:
        raise InvalidInput(
            f"No gifts of money or goods were recorded in {label}, so there are no "
            "statements to send. Choose another year.",
            field="tax_year",
        )
    serialize_writes(LOCK_NAME)
    latest = db.session.scalar(runs_query(period=(start, end)).limit(1).with_for_update())
    now = utcnow()
    if latest is not None and is_alive(latest, now=now):
        raise NotAllowed(
            f"The statements for {label} are being prepared right now (run #{latest.id}). "
            "Follow its progress on its page; it can be started again once it stops."
        )
    if latest is not None and latest.status != YearEndStatus.DONE:
        run = latest  # stopped, failed, or died without saying so: carry on with it
        previous = run.status
        action, summary = "year_end.continued", f"{label}: run #{run.id} continued ({previous})"
    else:
        run = YearEndRun(
            tax_year=tax_year,
            basis=basis,
            period_start=start,
            period_end=end,
            started_by_id=actor.id if actor is not None else None,
            started_at=now,
        )
        db.session.add(run)
        action, summary = "year_end.started", f"{label}: {total:,} donors"
    run.status = YearEndStatus.RUNNING
    run.heartbeat_at = now
    run.finished_at = None
    run.last_error = ""
    run.donors_total = total
    run.donors_done = count_done(run.period_start, run.period_end)
    run.after_donor_id = 0  # donors with a statement are skipped; the others are tried again
    db.session.flush()
    record_audit(
        actor=actor, action=action, object_type="year_end_run", object_id=run.id, summary=summary
    )
    return run


def run_statements(run_id: int, *, limit: int) -> list[Receipt]:
    """The statements a run issued, in number order (void ones too), at most ``limit``."""
    return list(
        db.session.scalars(
            select(Receipt)
            .where(Receipt.year_end_run_id == run_id)
            .order_by(Receipt.fiscal_year, Receipt.sequence_number)
            .limit(limit)
        )
    )


def recent_runs(limit: int) -> list[YearEndRun]:
    """The newest runs, at most ``limit``."""
    return list(db.session.scalars(runs_query().limit(limit)))


def lock_run(run_id: int) -> YearEndRun | None:
    """A run, locked for this transaction so one batch of it runs at a time (None if unknown)."""
    serialize_writes(LOCK_NAME)
    return db.session.scalar(select(YearEndRun).where(YearEndRun.id == run_id).with_for_update())


def take_stalled_runs(*, now: datetime | None = None) -> list[int]:
    """Runs that say they are running but have shown no sign of life for a while.

    Each gets a fresh heartbeat, so it is taken once per ``STALE_AFTER`` at most: whoever
    takes it carries it on.
    """
    now = now or utcnow()
    runs = db.session.scalars(
        select(YearEndRun)
        .where(YearEndRun.status == YearEndStatus.RUNNING)
        .where(func.coalesce(YearEndRun.heartbeat_at, YearEndRun.started_at) < now - STALE_AFTER)
        .order_by(YearEndRun.id)
        .with_for_update(skip_locked=True)
    ).all()
    for run in runs:
        run.heartbeat_at = now
    db.session.flush()
    return [run.id for run in runs]


def undelivered_statements(run_id: int) -> list[int]:
    """Statements a run issued whose email was never queued (it was interrupted)."""
    return list(
        db.session.scalars(
            select(Receipt.id)
            .where(
                Receipt.year_end_run_id == run_id,
                Receipt.status == ReceiptStatus.VALID,
                Receipt.delivery == "",
                Receipt.mail_message_id.is_(None),
            )
            .order_by(Receipt.id)
        )
    )


def statement_contents(receipt_ids: list[int]) -> dict[int, str]:
    """The frozen JSON content of each of these receipts, by id."""
    return dict(
        db.session.execute(
            select(Receipt.id, Receipt.content).where(Receipt.id.in_(receipt_ids))
        ).all()
    )


def mark_not_started(run_id: int, error: str) -> None:
    """Record that a run's process could not be started: the run failed, nothing issued."""
    run = get_run(run_id)
    run.status = YearEndStatus.FAILED
    run.last_error = error
