"""A year-end run on a real consumer (`flask jobs work`), killed in the middle and carried on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from conftest import wait_for
from donations.extensions import db
from donations.jobs import year_end_queue
from donations.models import Fund, Receipt, ReceiptKind, YearEndRun, YearEndStatus, utcnow
from donations.services import gifts as gift_service
from donations.services import year_end

ROOT = Path(__file__).resolve().parent.parent
YEAR = utcnow().year - 1
DONORS = 160  # four batches of fifty


@pytest.fixture
def app(queued_app: Flask) -> Flask:
    """The app with a real SQLite queue: jobs wait for a consumer."""
    return queued_app


def start_consumer(app: Flask, database_url: str, tmp_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "FLASK_APP": "donations",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": "http://donations.test",
        "JOBS_SQLITE_PATH": app.config["JOBS_SQLITE_PATH"],
        "MAIL_EML_DIR": str(tmp_path / "mail"),
        "BACKUP_NIGHTLY": "false",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "JOBS_IMMEDIATE", "MAIL_SERVER"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "work", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def statement_donors() -> list[int]:
    return list(
        db.session.scalars(select(Receipt.donor_id).where(Receipt.kind == ReceiptKind.STATEMENT))
    )


def test_a_consumer_killed_mid_run_and_restarted_issues_every_statement_once(
    app, organization, create_donor, database_url, tmp_path
):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.flush()
    donors = []
    for n in range(DONORS):
        donor = create_donor(f"Giver {n}", email=f"giver{n}@example.com")
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=1_000 + n,
            currency="USD",
            received_on=date(YEAR, 6, 1),
        )
        donors.append(donor.id)
    run = year_end.start_run(actor=None, tax_year=YEAR)
    year_end_queue.launch(run.id)
    db.session.commit()
    run_id = run.id

    consumer = start_consumer(app, database_url, tmp_path)
    try:
        wait_for(lambda: db.session.get(YearEndRun, run_id).donors_done >= 50, timeout=120)
        consumer.send_signal(signal.SIGKILL)  # no goodbye: its batch in hand is lost
        consumer.wait(timeout=30)
    finally:
        if consumer.poll() is None:
            consumer.kill()
        consumer.communicate(timeout=30)
    db.session.rollback()
    db.session.expire_all()
    run = db.session.get(YearEndRun, run_id)
    assert run.status == YearEndStatus.RUNNING
    assert 50 <= len(statement_donors()) < DONORS  # killed in the middle

    consumer = start_consumer(app, database_url, tmp_path)
    try:
        # The minute's watchdog, once the dead consumer's heartbeat is old enough.
        run = db.session.get(YearEndRun, run_id)
        run.heartbeat_at = utcnow() - year_end.STALE_AFTER - timedelta(seconds=1)
        db.session.commit()
        year_end_queue.resume_stalled_runs()
        db.session.commit()
        wait_for(
            lambda: db.session.get(YearEndRun, run_id).status == YearEndStatus.DONE, timeout=180
        )
    finally:
        consumer.send_signal(signal.SIGINT)
        output, _ = consumer.communicate(timeout=60)
    assert consumer.returncode == 0, output

    issued = statement_donors()
    assert sorted(issued) == sorted(donors)  # every donor, exactly once
    numbers = db.session.scalars(
        select(Receipt.sequence_number).where(Receipt.kind == ReceiptKind.STATEMENT)
    ).all()
    assert sorted(numbers) == list(range(1, DONORS + 1))  # and no gap from the lost batch
    run = db.session.get(YearEndRun, run_id)
    assert (run.statements_issued, run.emails_queued) == (DONORS, DONORS)
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == DONORS
