"""Nothing queued is lost: Redis stopped and started again, a consumer killed, SMTP down.

Each test runs a real consumer. Redis runs here as a throwaway redis-server with append-only
persistence (as production Redis must have AOF or RDB on); the tests skip without the binary.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from resilience_jobs import add_fund, hold_while
from sqlalchemy import func, select, update

from conftest import RecordingHandler, free_port, wait_for
from donations.extensions import db
from donations.jobs.daily import send_low_stock_digest
from donations.jobs.mail_worker import send_due_mail
from donations.models import Fund, Item, JobRun, JobStatus, MailStatus, OutboxMessage, utcnow
from donations.queue import queue_of
from donations.services import catalog, inventory
from donations.services.mail import queue_mail

ROOT = Path(__file__).resolve().parent.parent
JOBS = 25


@contextmanager
def consumer_running(app: Flask, workers: int = 2) -> Iterator[None]:
    """A Huey consumer's scheduler and worker threads for ``app``, stopped on leaving."""
    queue = queue_of(app)
    queue.register_all()
    consumer = queue.huey.create_consumer(
        workers=workers,
        periodic=False,
        initial_delay=0.05,
        max_delay=0.2,
        check_worker_health=False,
    )
    # Not consumer.start(): that installs signal handlers for the whole test process.
    consumer.scheduler.start()
    for _worker, thread in consumer.worker_threads:
        thread.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)


def runs(status: JobStatus | None = None) -> int:
    query = select(func.count()).select_from(JobRun)
    if status is not None:
        query = query.where(JobRun.status == status)
    return db.session.scalar(query)


def funds() -> list[str]:
    return sorted(db.session.scalars(select(Fund.name)))


# --- Redis stopped and started again ---------------------------------------------


@dataclass
class RedisServer:
    """A redis-server on a loopback port, keeping its data (append-only file) in ``folder``."""

    binary: str
    port: int
    folder: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.folder),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = self.client()
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()

    def shutdown(self) -> None:
        """SHUTDOWN: Redis writes what it holds, then exits."""
        client = self.client()
        with contextlib.suppress(Exception):  # the connection closes as the server goes
            client.shutdown(save=True)
        self.process.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL: no chance to save; only what the append-only file holds survives."""
        self.process.kill()
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server to stop and start one")
    pytest.importorskip("redis")
    server = RedisServer(binary, free_port(), tmp_path / "redis-data")
    server.folder.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("stop", ["shutdown", "kill"])
def test_redis_stopped_and_started_again_loses_no_queued_job(
    queued_app, make_app, redis_server, stop
):
    app = make_app(JOBS_IMMEDIATE=False, REDIS_URL=redis_server.url, RATELIMIT_STORAGE_URI=None)
    huey = queue_of(app).huey
    with app.app_context():
        ids = [add_fund.enqueue(f"Fund {n}") for n in range(JOBS)]
        assert huey.pending_count() == JOBS
        assert runs(JobStatus.QUEUED) == JOBS
        getattr(redis_server, stop)()
        with pytest.raises(Exception):  # noqa: B017 -- any connection error will do
            huey.pending_count()
        redis_server.start()
        assert huey.pending_count() == JOBS  # the same connection pool reconnects
        with consumer_running(app):
            wait_for(lambda: runs(JobStatus.DONE) == JOBS, timeout=60)
        assert funds() == sorted(f"Fund {n}" for n in range(JOBS))  # each once
        assert runs(JobStatus.FAILED) == 0 and huey.pending_count() == 0
        assert {r.task_id for r in db.session.scalars(select(JobRun))} == set(ids)
        db.session.remove()


# --- a consumer killed (SQLite queue) ----------------------------------------------


def start_consumer(app: Flask, database_url: str) -> subprocess.Popen:
    """`flask jobs work` with one worker and no schedule, as its own process, on the app's
    queue file."""
    env = {
        **os.environ,
        "FLASK_APP": "resilience_jobs",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": "http://donations.test",
        "JOBS_SQLITE_PATH": app.config["JOBS_SQLITE_PATH"],
        "MAIL_EML_DIR": app.config["MAIL_EML_DIR"],
        "BACKUP_NIGHTLY": "false",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "JOBS_IMMEDIATE"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "work", "--workers", "1", "--no-periodic"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_consumer_loses_no_queued_job(queued_app, database_url, tmp_path):
    app = queued_app
    huey = queue_of(app).huey
    marker = tmp_path / "hold"
    marker.write_text("busy")
    held = hold_while.enqueue(str(marker))
    ids = [add_fund.enqueue(f"Fund {n}") for n in range(JOBS)]
    first = start_consumer(app, database_url)
    try:
        # Its one worker is busy with the first job while the others wait in the queue file.
        wait_for(lambda: db.session.get(JobRun, run_id(held)).status == JobStatus.RUNNING, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=15)
    finally:
        if first.poll() is None:
            first.kill()
    marker.unlink()
    assert {task.id for task in huey.pending()} == set(ids)  # --no-periodic: nothing else
    assert all(db.session.get(JobRun, run_id(i)).status == JobStatus.QUEUED for i in ids)
    second = start_consumer(app, database_url)
    try:
        wait_for(lambda: done_of(ids) == JOBS, timeout=90)
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=30)
    assert funds() == sorted(f"Fund {n}" for n in range(JOBS))
    assert not set(ids) & {task.id for task in huey.pending()}
    # The run that was in hand when its consumer was killed is not run again by itself: it
    # shows as "running" on /admin/jobs (see the README on runs lost in flight).
    assert db.session.get(JobRun, run_id(held)).status == JobStatus.RUNNING


def done_of(task_ids: list[str]) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(JobRun)
        .where(JobRun.task_id.in_(task_ids), JobRun.status == JobStatus.DONE)
    )


def run_id(task_id: str) -> int:
    return db.session.scalar(select(JobRun.id).where(JobRun.task_id == task_id))


# --- SMTP down -------------------------------------------------------------------------


def run_on_consumer(app: Flask, job) -> None:
    task_id = queue_of(app).enqueue(job.name, ())
    with consumer_running(app, workers=1):
        wait_for(lambda: db.session.scalar(
            select(JobRun.status).where(JobRun.task_id == task_id)
        ) == JobStatus.DONE)  # fmt: skip


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_smtp_down_delays_mail_and_loses_none(queued_app):
    from aiosmtpd.controller import Controller

    app = queued_app
    port = free_port()  # nobody listens: connections are refused
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    for n in range(5):
        queue_mail(kind="test", to=f"donor{n}@example.com", subject=f"Note {n}", body_text="Hi")
    db.session.commit()
    catalog.seed_catalog()
    site = catalog.create_site(
        actor=None, name="Harbor House", kind="shelter", contact_email="house@example.org"
    )
    soap = db.session.scalar(select(Item.id).where(Item.code == "SOAP"))
    inventory.set_par_levels(actor=None, site_id=site.id, levels={soap: 10})
    db.session.commit()

    # A job that queues mail still succeeds; its mail waits.
    run_on_consumer(app, send_low_stock_digest)
    run_on_consumer(app, send_due_mail)
    messages = outbox()
    assert len(messages) == 6
    for message in messages:
        assert message.status == MailStatus.PENDING
        assert message.attempts == 1
        assert message.last_error
        assert message.next_attempt_at > message.created_at  # backing off
    # The next minute's run: nothing is due yet, nothing is tried.
    run_on_consumer(app, send_due_mail)
    assert {m.attempts for m in outbox()} == {1}

    handler = RecordingHandler()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        # The back-off has passed.
        db.session.execute(
            update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        run_on_consumer(app, send_due_mail)
        run_on_consumer(app, send_due_mail)  # and once more: nothing goes twice
    finally:
        server.stop()
    messages = outbox()
    assert {m.status for m in messages} == {MailStatus.SENT}
    assert {m.attempts for m in messages} == {2}
    received = sorted(m["Message-ID"] for m in handler.messages)
    assert received == sorted(m.message_id for m in messages)  # each exactly once
