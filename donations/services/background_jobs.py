"""Background job records: each run's status and the queue consumers' heartbeats."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from donations.extensions import db
from donations.models import JobRun, JobStatus, QueueConsumer, utcnow
from donations.queue import enqueue_after_commit
from donations.services.errors import NotAllowed, NotFound
from donations.services.locking import serialize_writes

# A consumer beats every 30 s: this long without a beat and it is taken to be gone.
SILENT_MINUTES = 5
ERROR_LIMIT = 4000  # characters of a failed run's error kept on its record


def _run_for(task_id: str, task_name: str, args_summary: str) -> JobRun:
    # Read then write: on SQLite take the write lock first, or a writer that commits in
    # between makes this transaction's write fail at once ("database is locked").
    serialize_writes("job_runs")
    run = db.session.scalar(select(JobRun).where(JobRun.task_id == task_id))
    if run is None:
        run = JobRun(task_id=task_id, task_name=task_name, args_summary=args_summary)
        db.session.add(run)
    return run


def record_queued(*, task_id: str, task_name: str, args_summary: str) -> JobRun:
    """A run was put on the queue (first time, or again for its next attempt)."""
    run = _run_for(task_id, task_name, args_summary)
    run.status = JobStatus.QUEUED
    return run


def record_started(
    *, task_id: str, task_name: str, args_summary: str, consumer: str = ""
) -> JobRun:
    """A consumer (``<host>:<pid>``) began an attempt at the run."""
    run = _run_for(task_id, task_name, args_summary)
    run.status = JobStatus.RUNNING
    run.consumer = consumer
    run.attempts = (run.attempts or 0) + 1
    run.started_at = utcnow()
    run.finished_at = None
    return run


def record_finished(
    *, task_id: str, task_name: str, args_summary: str, error: str | None = None
) -> JobRun:
    """An attempt ended: done when ``error`` is None, else failed with the error."""
    run = _run_for(task_id, task_name, args_summary)
    run.status = JobStatus.DONE if error is None else JobStatus.FAILED
    run.error = "" if error is None else error[:ERROR_LIMIT]
    run.finished_at = utcnow()
    return run


def list_runs(
    *, limit: int = 50, before_id: int | None = None, status: JobStatus | None = None
) -> list[JobRun]:
    """The newest runs first; ``before_id`` continues a list after its last row."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(JobRun.id < before_id)
    if status is not None:
        query = query.where(JobRun.status == status)
    return list(db.session.scalars(query))


def status_counts() -> dict[JobStatus, int]:
    """How many runs are in each status (every status, zero included)."""
    counts = dict.fromkeys(JobStatus, 0)
    for status, count in db.session.execute(
        select(JobRun.status, func.count()).group_by(JobRun.status)
    ):
        counts[JobStatus(status)] = count
    return counts


def get_run(run_id: int) -> JobRun:
    """The run with this id, or NotFound."""
    run = db.session.get(JobRun, run_id)
    if run is None:
        raise NotFound("There is no such job run.")
    return run


def retry_run(run_id: int) -> JobRun:
    """Queue a failed run again, under its own id, once the caller's transaction commits."""
    run = get_run(run_id)
    if run.status != JobStatus.FAILED:
        raise NotAllowed(f"This run is {run.status}: only a failed run can be retried.")
    try:
        args = json.loads(run.args_summary or "[]")
    except ValueError:
        raise NotAllowed("This run's arguments were not kept, so it cannot be retried.") from None
    run.status = JobStatus.QUEUED
    enqueue_after_commit(run.task_name, *args, task_id=run.task_id)
    return run


def prune_finished_runs(*, before: datetime) -> int:
    """Forget runs that finished well (done) before a moment; failed runs stay until retried
    or dealt with. Return how many went."""
    result = db.session.execute(
        delete(JobRun).where(JobRun.status == JobStatus.DONE, JobRun.finished_at < before)
    )
    return result.rowcount or 0


INTERRUPTED = (
    "Interrupted: its consumer stopped (killed or lost) while it ran. "
    "Retry it once the work it does is known to be unfinished."
)


def fail_interrupted_runs(*, minutes: int = SILENT_MINUTES) -> int:
    """Mark as failed the runs still "running" on a consumer silent for ``minutes`` (it
    was killed, or its machine lost): the queue will not finish them; an admin may retry.
    Return how many."""
    serialize_writes("job_runs")
    since = utcnow() - timedelta(minutes=minutes)
    alive = select(QueueConsumer.name).where(QueueConsumer.last_seen >= since)
    lost = db.session.scalars(
        select(JobRun)
        .where(JobRun.status == JobStatus.RUNNING)
        .where(JobRun.consumer != "", JobRun.consumer.not_in(alive))
        .where(JobRun.started_at < since)
    ).all()
    for run in lost:
        run.status = JobStatus.FAILED
        run.error = INTERRUPTED
        run.finished_at = utcnow()
    return len(lost)


def consumer_seen(*, name: str, host: str, pid: int) -> QueueConsumer:
    """Record a consumer's heartbeat."""
    consumer = db.session.scalar(select(QueueConsumer).where(QueueConsumer.name == name))
    now = utcnow()
    if consumer is None:
        consumer = QueueConsumer(name=name, host=host, pid=pid, started_at=now)
        db.session.add(consumer)
    consumer.last_seen = now
    return consumer


def consumer_last_seen() -> datetime | None:
    """When any queue consumer last reported, or None if none ever did."""
    consumer = last_consumer()
    return consumer.last_seen if consumer is not None else None


def last_consumer() -> QueueConsumer | None:
    """The consumer heard from most recently."""
    return db.session.scalar(
        select(QueueConsumer).order_by(QueueConsumer.last_seen.desc(), QueueConsumer.id.desc())
    )


def consumer_is_silent(minutes: int = SILENT_MINUTES) -> bool:
    """True when no consumer has reported within ``minutes`` (or none ever did)."""
    last = consumer_last_seen()
    return last is None or utcnow() - last > timedelta(minutes=minutes)
