"""The year-end run on the task queue: one job per batch of donors, each batch one transaction.

Starting a run (the year-end page) enqueues ``year_end_batch`` once its transaction commits.
Each job locks the run (so one batch of it runs at a time, whichever consumer holds it),
first queues the emails of statements an earlier batch issued but did not send, otherwise
issues the statements of the next donors after the run's cursor, renders their PDFs and queues
their emails, moves the cursor and commits it all at once; then it enqueues the next batch.
A consumer killed in the middle loses its uncommitted batch only: the numbers it took roll
back with it, and ``resume_stalled_runs`` (every minute) enqueues the run again once its
heartbeat is older than ``STALE_AFTER``. Statements are issued once per donor and period
(``issue_statement`` refuses a second), so a batch run twice issues nothing twice.
"""

from __future__ import annotations

import logging

from huey import crontab

from donations.extensions import db
from donations.jobs.year_end_run import (
    InlineExecutor,
    YearEndResult,
    deliver_rendered,
    issue_donors,
    submit_renders,
)
from donations.models import YearEndRun, YearEndStatus, utcnow
from donations.queue import enqueue_after_commit, job, periodic_job
from donations.services import receipts
from donations.services.audit import record_audit
from donations.services.year_end import (
    BATCH_SIZE,
    lock_run,
    next_donors,
    run_label,
    start_month,
    take_stalled_runs,
    undelivered_statements,
)

log = logging.getLogger(__name__)


def launch(run_id: int) -> None:
    """Have the queue run a started run, once the caller's transaction commits."""
    enqueue_after_commit(year_end_batch, run_id)


def run_batch(run_id: int, *, batch_size: int | None = None) -> bool:
    """Do one batch of a running run in the open transaction; True while work remains."""
    batch_size = batch_size or BATCH_SIZE
    run = lock_run(run_id)
    if run is None or run.status != YearEndStatus.RUNNING:
        return False
    start_month()  # no statements without the organisation profile
    result = YearEndResult(run_id=run.id, tax_year=run.tax_year)
    executor = InlineExecutor(receipts.get_receipt_settings().logo)
    unsent = undelivered_statements(run.id)[:batch_size]
    if not unsent:
        donors = next_donors(run.period_start, run.period_end, run.after_donor_id, batch_size)
        if not donors:
            _finish(run)
            return False
        unsent, _ = issue_donors(run, donors, result, None, None)
    deliver_rendered(submit_renders(executor, unsent), run, result)
    run.heartbeat_at = utcnow()
    return True


def _finish(run: YearEndRun) -> None:
    run.status = YearEndStatus.DONE
    run.finished_at = utcnow()
    run.heartbeat_at = run.finished_at
    record_audit(
        actor=run.started_by,
        action="year_end.done",
        object_type="year_end_run",
        object_id=run.id,
        summary=f"{run_label(run)}: {run.statements_issued:,} statements issued, "
        f"{run.emails_queued:,} emails queued, {run.for_post:,} for post",
    )


@job()
def year_end_batch(run_id: int) -> None:
    """One batch of a year-end run; enqueues the next while donors remain."""
    try:
        more = run_batch(run_id)
    except Exception as error:
        db.session.rollback()
        _fail(run_id, f"{type(error).__name__}: {error}")
        raise
    if more:
        enqueue_after_commit(year_end_batch, run_id)


def _fail(run_id: int, error: str) -> None:
    """Record on the run that a batch failed (nothing of that batch was kept)."""
    run = db.session.get(YearEndRun, run_id, populate_existing=True)
    if run is None:
        return
    run.status = YearEndStatus.FAILED
    run.finished_at = utcnow()
    run.heartbeat_at = run.finished_at
    run.last_error = (error + ("\n" + run.last_error if run.last_error else ""))[:4000]
    db.session.commit()
    log.error("year-end run %s failed: %s", run_id, error)


@periodic_job(crontab(minute="*"))
def resume_stalled_runs() -> None:
    """Enqueue again every run whose batches stopped without finishing (a consumer died)."""
    for run_id in take_stalled_runs():
        log.warning("year-end run %s had stalled: carrying on", run_id)
        enqueue_after_commit(year_end_batch, run_id)
