"""Backups: a consistent copy while others write, restore into an empty database only, pruning."""

from __future__ import annotations

import os
import threading
import time
from datetime import date

import pytest
from sqlalchemy import select

from conftest import empty_database
from donations.extensions import db
from donations.models import Fund, Gift, Receipt, StockDocument, StockEntry
from donations.services import gifts, inventory, receipts
from donations.services.backup import (
    backup_is_overdue,
    last_backup,
    list_backups,
    restore_backup,
    take_backup,
)
from donations.services.errors import NotAllowed


@pytest.fixture
def empty_target_url(database_url, tmp_path):
    """The URL of a new, empty database on the same server as the suite's."""
    with empty_database(database_url, tmp_path, "restore") as url:
        yield url


def _ids(model, column=None) -> set[int]:
    return set(db.session.scalars(select(column if column is not None else model.id)))


def _give(donor_id: int, fund_id: int) -> tuple[int, int]:
    gift = gifts.record_offline_gift(
        actor=None,
        donor_id=donor_id,
        fund_id=fund_id,
        method="cash",
        amount_cents=1500,
        currency="USD",
        received_on=date.today(),
    )
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    return gift.id, receipt.id


def test_backup_and_restore_round_trip(
    app, make_app, organization, create_donor, stock_in, goods, empty_target_url, tmp_path
):
    donor = create_donor("Round Trip")
    fund = Fund(name="Backups fund")
    db.session.add(fund)
    db.session.flush()
    gift_id, receipt_id = _give(donor.id, fund.id)
    db.session.commit()
    stock_in(SOAP=4)
    entries = _ids(StockEntry)

    made = take_backup(str(tmp_path / "backups"), keep=3)
    assert os.path.getsize(made.path) > 0
    assert last_backup(str(tmp_path / "backups")) == made

    target = make_app(SQLALCHEMY_DATABASE_URI=empty_target_url)
    with target.app_context():
        report = restore_backup(made.path)
        assert report.ok, report
        assert report.chain.event_count > 0
        assert gift_id in _ids(Gift)
        assert receipt_id in _ids(Receipt)
        assert _ids(StockEntry) == entries
        db.session.remove()


def test_backup_while_writing_keeps_everything_committed_before_it(
    app, make_app, organization, create_donor, goods, empty_target_url, tmp_path
):
    donor = create_donor("Busy Writer")
    fund = Fund(name="Busy fund")
    db.session.add(fund)
    db.session.commit()
    donor_id, fund_id, site_id = donor.id, fund.id, goods.shelter.id
    soap = goods.line("SOAP", 1, "new")
    committed: list[tuple[int, int, int]] = []
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    gift_id, receipt_id = _give(donor_id, fund_id)
                    document = inventory.record_intake(
                        actor=None,
                        site_id=site_id,
                        effective_date=date.today(),
                        source="anonymous",
                        lines=[soap],
                    )
                    db.session.commit()
                    with lock:
                        committed.append((gift_id, receipt_id, document.id))
            except BaseException as error:  # reported by the test below
                failures.append(error)
            finally:
                db.session.remove()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(committed) < 3 and time.monotonic() < deadline and not failures:
            time.sleep(0.02)
        with lock:
            before = list(committed)
        made = take_backup(str(tmp_path / "backups"))
        time.sleep(0.1)  # the writer carries on past the backup
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures, failures
    assert len(before) >= 3

    target = make_app(SQLALCHEMY_DATABASE_URI=empty_target_url)
    with target.app_context():
        report = restore_backup(made.path)
        assert report.ok, report
        gift_ids, receipt_ids = _ids(Gift), _ids(Receipt)
        document_ids = _ids(StockDocument)
        entry_documents = set(db.session.scalars(select(StockEntry.document_id)))
        for gift_id, receipt_id, document_id in before:
            assert gift_id in gift_ids
            assert receipt_id in receipt_ids
            assert document_id in document_ids
            assert document_id in entry_documents
        db.session.remove()


def test_restore_into_a_database_with_tables_is_refused(app, tmp_path):
    made = take_backup(str(tmp_path / "backups"))
    with pytest.raises(NotAllowed, match="only into an empty database"):
        restore_backup(made.path)


def test_keep_prunes_the_oldest_backups(app, tmp_path):
    folder = str(tmp_path / "backups")
    assert backup_is_overdue(folder)
    made = [take_backup(folder, keep=2) for _ in range(4)]
    kept = list_backups(folder)
    assert [b.path for b in kept] == [made[3].path, made[2].path]
    assert not backup_is_overdue(folder)
    old = time.time() - 3 * 86400
    for backup in kept:
        os.utime(backup.path, (old, old))
    assert backup_is_overdue(folder, days=2)


def test_backup_and_restore_commands(app, tmp_path):
    folder = tmp_path / "cli"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", "--folder", str(folder), "--keep", "1"])
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output
    (path,) = folder.iterdir()
    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code != 0
    assert "only into an empty database" in refused.output


def test_admin_page_shows_the_last_backups_age(app, admin_client):
    made = take_backup(app.config["BACKUP_DIR"])
    html = admin_client.get("/admin/jobs").get_data(as_text=True)
    assert f"Last backup taken just now: {made.name}" in html
    old = time.time() - 3 * 86400
    os.utime(made.path, (old, old))
    html = admin_client.get("/admin/jobs").get_data(as_text=True)
    assert "The last backup is more than 2 days old" in html
