"""Flask commands for the job queue: ``flask jobs work`` and ``flask jobs status``."""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from donations.jobs import registry  # noqa: F401 -- importing it declares every job
from donations.jobs.tracking import Heartbeat
from donations.queue import queue_of
from donations.services import background_jobs

jobs_cli = AppGroup("jobs", help="The background job queue.")


@jobs_cli.command("work")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time.")
def work_command(workers: int) -> None:
    """Run a queue consumer here until Ctrl+C (or SIGTERM): it runs jobs as they come."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = queue_of(app)
    if queue.huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run inline, a consumer has no work.")
    names = queue.register_all()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"Consumer: {workers} worker(s) for {len(names)} jobs ({', '.join(names)}).")
    heartbeat = Heartbeat(app)
    heartbeat.start()
    try:
        # Idle workers look at the queue at least once a second (Huey's default backs off to
        # 10 s), so a burst after a quiet spell starts at once.
        queue.huey.create_consumer(
            workers=workers, worker_type="thread", initial_delay=0.05, backoff=1.5, max_delay=1.0
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


def register(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
