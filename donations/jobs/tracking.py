"""Job run tracking: the queue's signals update JobRun rows; consumers send heartbeats."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import traceback
from datetime import timedelta
from typing import Any

from flask import Flask
from huey import crontab, signals
from huey.api import Task

from donations.extensions import db
from donations.models import utcnow
from donations.queue import add_signal_listener, periodic_job, task_name
from donations.services import background_jobs

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
KEEP_DONE_RUNS = timedelta(days=7)

# Signals after which the run waits on the queue again.
QUEUED = {signals.SIGNAL_ENQUEUED, signals.SIGNAL_SCHEDULED, signals.SIGNAL_RETRYING}
# Signals that end an attempt without the job's own error, with what to record.
ENDED = {
    signals.SIGNAL_CANCELED: "Cancelled before it ran.",
    signals.SIGNAL_EXPIRED: "Expired before a consumer reached it.",
    signals.SIGNAL_REVOKED: "Revoked.",
    signals.SIGNAL_INTERRUPTED: "Interrupted: the consumer stopped while it ran.",
    signals.SIGNAL_TIMEOUT: "Timed out.",
    signals.SIGNAL_LOCKED: "Not run: another run held its lock.",
}

TRACKED = {
    *QUEUED,
    *ENDED,
    signals.SIGNAL_EXECUTING,
    signals.SIGNAL_COMPLETE,
    signals.SIGNAL_ERROR,
}


def _describe(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _args_summary(task: Task) -> str:
    try:
        return json.dumps(list(task.args))
    except TypeError:
        return "[]"


def record_signal(app: Flask, signal: str, task: Task, *extra: Any) -> None:
    """Bring the task's JobRun row up to date with one Huey signal (its own transaction)."""
    if signal not in TRACKED:
        return
    fields = {"task_id": task.id, "task_name": task_name(task), "args_summary": _args_summary(task)}
    with app.app_context():
        try:
            if signal in QUEUED:
                background_jobs.record_queued(**fields)
            elif signal == signals.SIGNAL_EXECUTING:
                background_jobs.record_started(**fields, consumer=consumer_name())
            elif signal == signals.SIGNAL_COMPLETE:
                background_jobs.record_finished(**fields)
            elif signal == signals.SIGNAL_ERROR:
                background_jobs.record_finished(**fields, error=_describe(extra[0]))
            else:
                background_jobs.record_finished(**fields, error=ENDED[signal])
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("could not record %s of job %s", signal, task.id)


add_signal_listener(record_signal)


def consumer_name() -> str:
    """This process as a consumer: ``<host>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat(threading.Thread):
    """Records this consumer's ``last_seen`` now and every ``interval`` seconds until stopped."""

    def __init__(self, app: Flask, interval: float = HEARTBEAT_SECONDS) -> None:
        super().__init__(name="jobs-heartbeat", daemon=True)
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()

    def beat(self) -> None:
        with self.app.app_context():
            try:
                background_jobs.consumer_seen(
                    name=consumer_name(), host=socket.gethostname(), pid=os.getpid()
                )
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("could not record the consumer's heartbeat")

    def run(self) -> None:
        while True:
            self.beat()
            if self.stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=self.interval + 5)


@periodic_job(crontab(minute="*/5"))
def fail_interrupted_runs() -> None:
    """Every five minutes: a run left "running" by a consumer that fell silent (killed, or
    its machine lost) is shown as failed, with Retry, instead of running for ever."""
    background_jobs.fail_interrupted_runs()


@periodic_job(crontab(hour="3", minute="15"))
def prune_job_runs() -> None:
    """Every night: forget the runs that went well more than ``KEEP_DONE_RUNS`` ago (the
    periodic jobs alone make a few thousand a day)."""
    background_jobs.prune_finished_runs(before=utcnow() - KEEP_DONE_RUNS)
