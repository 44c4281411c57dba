"""The job queue: enqueue after commit, real consumers on SQLite and Redis, the admin page."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from conftest import clean_database, free_port, wait_for
from donations.extensions import db
from donations.jobs.backup import nightly_backup
from donations.jobs.mail_worker import send_due_mail
from donations.jobs.tracking import (
    KEEP_DONE_RUNS,
    Heartbeat,
    consumer_name,
    fail_interrupted_runs,
    prune_job_runs,
    record_signal,
)
from donations.models import Fund, JobRun, JobStatus, QueueConsumer, Role, utcnow
from donations.queue import enqueue_after_commit, job, queue_of
from donations.services import background_jobs, backup
from donations.services.mail import queue_mail

ROOT = Path(__file__).resolve().parent.parent


@job()
def add_fund(name: str) -> None:
    """Adds a fund: the job commits it (there is no commit here)."""
    db.session.add(Fund(name=name))


@job()
def needs_file(path: str) -> None:
    if not os.path.exists(path):
        raise RuntimeError(f"no file at {path}")
    db.session.add(Fund(name="File found"))


@pytest.fixture
def app(queued_app: Flask) -> Flask:
    """The app with a real SQLite queue: jobs wait for a consumer."""
    return queued_app


@contextmanager
def consumer_running(app: Flask) -> Iterator[None]:
    """A Huey consumer's scheduler and worker threads for ``app``, stopped on leaving."""
    queue = queue_of(app)
    queue.register_all()
    consumer = queue.huey.create_consumer(
        workers=1, periodic=False, initial_delay=0.05, max_delay=0.2, check_worker_health=False
    )
    # Not consumer.start(): that installs signal handlers for the whole test process.
    consumer.scheduler.start()
    for _worker, thread in consumer.worker_threads:
        thread.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)


def run_of(task_id: str) -> JobRun | None:
    return db.session.scalar(select(JobRun).where(JobRun.task_id == task_id))


def funds_named(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Fund).where(Fund.name == name))


# --- enqueue after commit ---------------------------------------------------


def test_enqueue_after_commit_waits_for_the_commit(app):
    queue = queue_of(app)
    enqueue_after_commit(add_fund, "After commit")
    assert queue.huey.pending_count() == 0
    db.session.commit()
    assert queue.huey.pending_count() == 1
    run = db.session.scalar(select(JobRun))
    assert run.status == JobStatus.QUEUED
    assert run.task_name == "test_queue.add_fund"
    assert run.args_summary == '["After commit"]'


def test_nothing_is_enqueued_when_the_transaction_rolls_back(app):
    queue = queue_of(app)
    db.session.add(Fund(name="Rolled back"))
    enqueue_after_commit(add_fund, "Never")
    db.session.rollback()
    db.session.commit()
    assert queue.huey.pending_count() == 0
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_a_rolled_back_savepoint_drops_only_its_own_jobs(app):
    queue = queue_of(app)
    enqueue_after_commit(add_fund, "Kept")
    savepoint = db.session.begin_nested()
    enqueue_after_commit(add_fund, "Dropped")
    savepoint.rollback()
    with db.session.begin_nested():
        enqueue_after_commit(add_fund, "Released")
    db.session.commit()
    assert queue.huey.pending_count() == 2
    assert sorted(db.session.scalars(select(JobRun.args_summary))) == ['["Kept"]', '["Released"]']


def test_job_arguments_are_ids_and_flags(app):
    with pytest.raises(TypeError, match="ids and flags"):
        enqueue_after_commit(add_fund, {"name": "a donor's name"})
    with pytest.raises(TypeError):
        add_fund.enqueue(object())


def test_immediate_mode_runs_the_job_inline(make_app):
    app = make_app()  # the suite's default: JOBS_IMMEDIATE
    with app.app_context():
        clean_database()
        task_id = add_fund.enqueue("Inline")
        assert funds_named("Inline") == 1
        assert run_of(task_id).status == JobStatus.DONE
        db.session.remove()


# --- a real consumer on SQLite ----------------------------------------------


def test_consumer_runs_a_job_queued_to_done(app):
    enqueue_after_commit(add_fund, "Winter coats")
    db.session.commit()
    run = db.session.scalar(select(JobRun))
    assert run.status == JobStatus.QUEUED
    with consumer_running(app):
        wait_for(lambda: run_of(run.task_id).status == JobStatus.DONE)
    done = run_of(run.task_id)
    assert done.attempts == 1
    assert done.started_at is not None and done.finished_at >= done.started_at
    assert done.error == ""
    assert funds_named("Winter coats") == 1


def test_failing_job_ends_failed_and_is_retried_from_the_admin_page(app, tmp_path, login):
    marker = tmp_path / "marker"
    with consumer_running(app):
        task_id = needs_file.enqueue(str(marker))
        wait_for(lambda: run_of(task_id).status == JobStatus.FAILED)
        failed = run_of(task_id)
        assert "RuntimeError: no file at" in failed.error
        assert failed.attempts == 1
        assert funds_named("File found") == 0

        admin = login(Role.ADMIN)
        page = admin.get("/admin/jobs")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "RuntimeError: no file at" in html
        assert f"/admin/jobs/{failed.id}/retry" in html

        marker.write_text("here")
        response = admin.post(f"/admin/jobs/{failed.id}/retry", follow_redirects=True)
        assert response.status_code == 200
        assert "queued again" in response.get_data(as_text=True)
        wait_for(lambda: run_of(task_id).status == JobStatus.DONE)
    retried = run_of(task_id)
    assert retried.attempts == 2
    assert retried.error == ""
    assert funds_named("File found") == 1
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_only_a_failed_run_is_retried(app, login):
    run = JobRun(task_id="done-run", task_name="test_queue.add_fund", status=JobStatus.DONE)
    db.session.add(run)
    db.session.commit()
    response = login(Role.ADMIN).post(f"/admin/jobs/{run.id}/retry", follow_redirects=True)
    assert "only a failed run can be retried" in response.get_data(as_text=True)
    assert queue_of(app).huey.pending_count() == 0


# --- a real consumer on Redis -----------------------------------------------


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory) -> Iterator[str]:
    """TEST_REDIS_URL (one database per xdist worker), or a redis-server started here."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = 1 + int("".join(c for c in worker if c.isdigit()) or 0) % 15
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given.rsplit("/", 1)[0] + f"/{index}" if given.count("/") > 2 else given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs Redis: set TEST_REDIS_URL or install redis-server")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/{index}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_consumer_on_redis(app, make_app, redis_server_url):
    redis_app = make_app(
        JOBS_IMMEDIATE=False, REDIS_URL=redis_server_url, RATELIMIT_STORAGE_URI=None
    )
    assert type(queue_of(redis_app).huey).__name__ == "RedisHuey"
    assert redis_app.config["RATELIMIT_STORAGE_URI"] == redis_server_url
    queue_of(redis_app).huey.flush()
    with redis_app.app_context():
        ok_id = add_fund.enqueue("Redis fund")
        bad_id = needs_file.enqueue("/nonexistent/marker")
        assert run_of(ok_id).status == JobStatus.QUEUED
        with consumer_running(redis_app):
            wait_for(lambda: run_of(ok_id).status == JobStatus.DONE)
            wait_for(lambda: run_of(bad_id).status == JobStatus.FAILED)
        assert funds_named("Redis fund") == 1
        assert "no file at" in run_of(bad_id).error
        db.session.remove()


# --- flask jobs work --------------------------------------------------------


def test_flask_jobs_work_runs_a_queued_job_at_a_lower_priority_and_stops_cleanly(
    app, database_url, tmp_path
):
    backups = tmp_path / "nightly"
    app.config["BACKUP_DIR"] = str(backups)
    task_id = nightly_backup.enqueue()
    assert run_of(task_id).status == JobStatus.QUEUED
    env = {
        **os.environ,
        "FLASK_APP": "donations",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": "http://donations.test",
        "JOBS_SQLITE_PATH": app.config["JOBS_SQLITE_PATH"],
        "BACKUP_DIR": str(backups),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "JOBS_IMMEDIATE"):
        env.pop(name, None)
    consumer = subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "work", "--workers", "1", "--nice", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: run_of(task_id).status == JobStatus.DONE, timeout=60)
        wait_for(lambda: db.session.scalar(select(QueueConsumer)))
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, consumer.pid) == min(ours + 1, 19)
    finally:
        consumer.send_signal(signal.SIGINT)
        output, _ = consumer.communicate(timeout=30)
    assert consumer.returncode == 0, output
    assert "Consumer stopped." in output and "1 worker(s), nice 1," in output
    assert len(list(backups.iterdir())) == 1
    assert not background_jobs.consumer_is_silent()


# --- the admin page ---------------------------------------------------------


def test_admin_page_warns_when_no_consumer_was_ever_seen(admin_client):
    html = admin_client.get("/admin/jobs").get_data(as_text=True)
    assert "Background jobs" in html
    assert "No queue consumer has ever reported" in html
    assert "No backup has been taken yet" in html
    assert "No job has run yet." in html


def test_admin_page_shows_a_recent_consumer_and_counts(app, admin_client):
    Heartbeat(app).beat()
    db.session.add(JobRun(task_id="a", task_name="x.add_fund", status=JobStatus.DONE))
    db.session.add(JobRun(task_id="b", task_name="x.add_fund", status=JobStatus.FAILED))
    db.session.commit()
    assert background_jobs.status_counts() == {
        JobStatus.QUEUED: 0,
        JobStatus.RUNNING: 0,
        JobStatus.DONE: 1,
        JobStatus.FAILED: 1,
    }
    html = admin_client.get("/admin/jobs").get_data(as_text=True)
    assert "A queue consumer was last seen just now" in html
    assert "Retry" in html


def test_admin_page_warns_when_the_consumer_is_silent(app, admin_client):
    db.session.add(
        QueueConsumer(name="old:1", host="old", pid=1, last_seen=utcnow() - timedelta(minutes=6))
    )
    db.session.commit()
    assert background_jobs.consumer_is_silent(minutes=5)
    html = admin_client.get("/admin/jobs").get_data(as_text=True)
    assert "No queue consumer has reported for more than 5 minutes" in html


@pytest.mark.parametrize("role", [Role.TREASURER, Role.STAFF])
def test_admin_page_is_refused_to_other_roles(login, role):
    assert login(role).get("/admin/jobs").status_code == 403


def test_list_runs_pages_by_id(app):
    for n in range(5):
        db.session.add(JobRun(task_id=f"t{n}", task_name="x.add_fund"))
    db.session.commit()
    first = background_jobs.list_runs(limit=3)
    rest = background_jobs.list_runs(limit=3, before_id=first[-1].id)
    assert [r.task_id for r in first + rest] == ["t4", "t3", "t2", "t1", "t0"]


def test_flask_jobs_status(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    assert "queued: 0  running: 0  done: 0  failed: 0" in result.output
    assert "No consumer has ever reported" in result.output
    Heartbeat(app).beat()
    result = runner.invoke(args=["jobs", "status"])
    assert "Last consumer: " in result.output
    assert "silent" not in result.output


# --- periodic jobs of the queue itself ----------------------------------------


def test_the_minute_mail_job_sends_what_is_due_and_keeps_back_off(app, smtp):
    due = queue_mail(kind="test", to="a@example.com", subject="Due", body_text="now")
    later = queue_mail(kind="test", to="b@example.com", subject="Later", body_text="later")
    later.next_attempt_at = utcnow() + timedelta(minutes=4)  # backing off after a failure
    db.session.commit()
    send_due_mail()
    db.session.commit()
    db.session.expire_all()
    assert [m["Subject"] for m in smtp.messages] == ["Due"]
    assert db.session.get(type(due), due.id).status == "sent"
    assert db.session.get(type(later), later.id).status == "pending"


def test_done_runs_are_forgotten_after_a_week_and_failed_ones_kept(app):
    old = utcnow() - KEEP_DONE_RUNS - timedelta(hours=1)
    for n, (status, finished) in enumerate(
        [(JobStatus.DONE, old), (JobStatus.FAILED, old), (JobStatus.DONE, utcnow())]
    ):
        db.session.add(
            JobRun(
                task_id=f"t{n}",
                task_name="donations.jobs.x",
                args_summary="[]",
                status=status,
                attempts=1,
                error="boom" if status == JobStatus.FAILED else "",
                created_at=old,
                finished_at=finished,
            )
        )
    db.session.commit()
    prune_job_runs()
    db.session.commit()
    left = db.session.scalars(select(JobRun.task_id).order_by(JobRun.task_id)).all()
    assert left == ["t1", "t2"]


# --- the dashboard's warnings -------------------------------------------------


def test_the_admin_dashboard_warns_of_a_missing_consumer_and_backup(app, admin_client):
    html = admin_client.get("/dashboard").get_data(as_text=True)
    assert 'id="consumer-warning"' in html and "No background-job consumer has ever" in html
    assert 'id="backup-warning"' in html and "No backup has been taken yet" in html


def test_the_admin_dashboard_warns_of_a_silent_consumer_and_an_old_backup(
    app, admin_client, tmp_path
):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    taken = backup.take_backup(app.config["BACKUP_DIR"], keep=3)
    three_days_ago = time.time() - 3 * 86400
    os.utime(taken.path, (three_days_ago, three_days_ago))
    db.session.add(
        QueueConsumer(name="old:1", host="old", pid=1, last_seen=utcnow() - timedelta(minutes=7))
    )
    db.session.commit()
    html = admin_client.get("/dashboard").get_data(as_text=True)
    assert "silent for more than 5 minutes" in html and "last seen 7 minutes ago" in html
    assert "The last backup is more than 2 days old" in html and "3 days ago" in html


def test_the_admin_dashboard_shows_the_backup_age_and_no_warning_when_all_is_well(
    app, admin_client, tmp_path
):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    backup.take_backup(app.config["BACKUP_DIR"], keep=3)
    db.session.add(QueueConsumer(name="here:1", host="here", pid=1, last_seen=utcnow()))
    db.session.commit()
    html = admin_client.get("/dashboard").get_data(as_text=True)
    assert 'id="consumer-warning"' not in html and 'id="backup-warning"' not in html
    assert "Last backup: just now" in html


def test_other_roles_see_no_machinery_on_the_dashboard(login):
    for role in (Role.TREASURER, Role.STAFF):
        html = login(role).get("/dashboard").get_data(as_text=True)
        assert "consumer-warning" not in html and "backup" not in html.lower()


def test_a_run_left_running_by_a_silent_consumer_is_failed_and_can_be_retried(app, login):
    long_ago = utcnow() - timedelta(minutes=30)
    db.session.add_all(
        [
            QueueConsumer(
                name="gone:1", host="gone", pid=1, started_at=long_ago, last_seen=long_ago
            ),
            QueueConsumer(
                name="here:2", host="here", pid=2, started_at=long_ago, last_seen=utcnow()
            ),
        ]
    )
    for task_id, consumer in (("lost", "gone:1"), ("alive", "here:2"), ("unknown", "")):
        db.session.add(
            JobRun(
                task_id=task_id,
                task_name="donations.jobs.tracking.prune_job_runs",
                args_summary="[]",
                status=JobStatus.RUNNING,
                attempts=1,
                started_at=long_ago,
                consumer=consumer,
            )
        )
    db.session.commit()
    fail_interrupted_runs()
    db.session.commit()
    runs = {run.task_id: run for run in db.session.scalars(select(JobRun))}
    assert runs["lost"].status == JobStatus.FAILED
    assert runs["lost"].error.startswith("Interrupted: its consumer stopped")
    assert runs["lost"].finished_at is not None
    assert runs["alive"].status == JobStatus.RUNNING  # its consumer still beats
    assert runs["unknown"].status == JobStatus.RUNNING  # no consumer recorded: not ours to judge

    page = login("admin").get("/admin/jobs")
    assert "Interrupted: its consumer stopped" in page.get_data(as_text=True)


def test_a_started_run_records_its_consumer(app):
    class Task:
        id, name, args = "t-9", "x", ()

    record_signal(app, "executing", Task())
    run = db.session.scalar(select(JobRun).where(JobRun.task_id == "t-9"))
    assert run.status == JobStatus.RUNNING and run.consumer == consumer_name()


def test_a_run_belongs_to_the_organisation_that_enqueued_it(app, organization):
    """The organisation travels with the task: the consumer runs the job as that one."""
    from donations.services import organizations
    from donations.tenancy import ALL_ORGANIZATIONS, use_organization

    other = organizations.create_organization(actor=None, slug="north", legal_name="North")
    db.session.commit()
    with use_organization(other.id):
        enqueue_after_commit(add_fund, "North coats")
        db.session.commit()
    enqueue_after_commit(add_fund, "Home coats")
    db.session.commit()
    with consumer_running(app):
        wait_for(
            lambda: (
                db.session.scalar(
                    select(func.count()).select_from(JobRun).where(JobRun.status == JobStatus.DONE)
                )
                == 2
            )
        )
    db.session.expire_all()
    everywhere = select(Fund.name, Fund.organization_id).execution_options(
        **{ALL_ORGANIZATIONS: True}
    )
    assert sorted(db.session.execute(everywhere).all()) == [
        ("Home coats", organization.id),
        ("North coats", other.id),
    ]
