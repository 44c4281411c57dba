"""Flask commands for the job queue: ``flask jobs work``, ``status``, ``list`` and ``run``.

``flask jobs run NAME`` runs one job that takes no arguments (every periodic job) here and
now, as a consumer would (one commit, then its mail), and records the run on /admin/jobs;
with ``--queue`` it is put on the queue for a consumer instead.
"""

from __future__ import annotations

import inspect
import logging
import os
import uuid

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from huey.api import PeriodicTask

from donations.extensions import db
from donations.jobs import registry  # noqa: F401 -- importing it declares every job
from donations.jobs.tracking import Heartbeat
from donations.queue import Queue, queue_of
from donations.services import background_jobs

jobs_cli = AppGroup("jobs", help="The background job queue.")


@jobs_cli.command("work")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time.")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also enqueue the periodic jobs on their schedule (one consumer is enough).",
)
@click.option(
    "--nice",
    "niceness",
    type=click.IntRange(0, 19),
    default=0,
    show_default=True,
    help="Lower this consumer's CPU priority by N, so that on a machine it shares with the "
    "web server, pages and webhook acknowledgements go first (make run uses 10).",
)
def work_command(workers: int, periodic: bool, niceness: int) -> None:
    """Run a queue consumer here until Ctrl+C (or SIGTERM): it runs jobs as they come.

    Every periodic job is safe to run twice, but with several consumers only one needs
    to keep the schedule: start the others with --no-periodic.
    """
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = queue_of(app)
    if queue.huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run inline, a consumer has no work.")
    names = queue.register_all()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    schedule = "keeps the periodic schedule" if periodic else "no periodic schedule"
    priority = f", nice {niceness}" if niceness else ""
    click.echo(
        f"Consumer: {workers} worker(s){priority}, {schedule}, "
        f"for {len(names)} jobs ({', '.join(names)})."
    )
    heartbeat = Heartbeat(app)
    heartbeat.start()
    try:
        # Idle workers look at the queue at least once a second (Huey's default backs off to
        # 10 s), so a burst after a quiet spell starts at once.
        queue.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=periodic,
            initial_delay=0.05,
            backoff=1.5,
            max_delay=1.0,
        ).run()
    finally:
        heartbeat.stop()
    click.echo("Consumer stopped.")


@jobs_cli.command("status")
def status_command() -> None:
    """Print how many runs are in each status and when a consumer last reported."""
    counts = background_jobs.status_counts()
    click.echo("  ".join(f"{status.value}: {count}" for status, count in counts.items()))
    consumer = background_jobs.last_consumer()
    if consumer is None:
        click.echo("No consumer has ever reported: start one with `flask jobs work`.")
        return
    silent = " (silent for more than 5 minutes)" if background_jobs.consumer_is_silent() else ""
    click.echo(
        f"Last consumer: {consumer.name}, seen {consumer.last_seen:%Y-%m-%d %H:%M:%S} UTC{silent}"
    )


def _schedules(queue: Queue) -> dict[str, bool]:
    """Every job's full name, with whether it runs on a schedule."""
    return {
        name: issubclass(queue.task(name).task_class, PeriodicTask) for name in queue.register_all()
    }


def _resolve(queue: Queue, given: str) -> str:
    """The full name of the job ``given`` names: in full, or by its last part(s)."""
    names = list(_schedules(queue))
    if given in names:
        return given
    matches = [n for n in names if n.endswith("." + given)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise click.BadParameter(f"{given!r} names several jobs: {', '.join(matches)}.")
    raise click.BadParameter(f"no job is called {given!r}; `flask jobs list` shows them all.")


@jobs_cli.command("list")
def list_command() -> None:
    """Print every job's name; periodic ones are marked."""
    queue = queue_of(current_app._get_current_object())  # type: ignore[attr-defined]
    for name, periodic in _schedules(queue).items():
        click.echo(f"{name}{'  (periodic)' if periodic else ''}")


@jobs_cli.command("run")
@click.argument("name")
@click.option("--queue", "enqueue", is_flag=True, help="Put it on the queue for a consumer.")
def run_command(name: str, enqueue: bool) -> None:
    """Run one job that takes no arguments (any periodic job) once, now.

    NAME is the job's full name or its last part, e.g. `send_low_stock_digest`.
    """
    queue = queue_of(current_app._get_current_object())  # type: ignore[attr-defined]
    full = _resolve(queue, name)
    wrapper = queue.task(full)
    if inspect.signature(wrapper.func).parameters:
        raise click.BadParameter(f"{full} takes arguments; only jobs without any run from here.")
    if enqueue:
        task_id = queue.enqueue(full, ())
        click.echo(f"Queued {full} as {task_id}; a consumer runs it (see /admin/jobs).")
        return
    fields = {"task_id": f"cli-{uuid.uuid4().hex}", "task_name": full, "args_summary": "[]"}
    background_jobs.record_started(**fields)
    db.session.commit()
    try:
        wrapper.call_local()
    except Exception as error:
        db.session.rollback()
        background_jobs.record_finished(**fields, error=f"{type(error).__name__}: {error}")
        db.session.commit()
        raise click.ClickException(f"{full} failed: {error}") from None
    background_jobs.record_finished(**fields)
    db.session.commit()
    click.echo(f"Ran {full}.")


def register(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
