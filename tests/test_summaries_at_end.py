"""Summaries added up over a batch (``summaries.added_at_end``): what the flushes inside
the block change is written once when it ends, in the same transaction, and the rows
come out exactly as if each flush had written its own share: a savepoint rolled back
takes its share with it, and a block that ends in an error leaves its share to the
commit or the rollback."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from conftest import engine_statements
from donations.extensions import db
from donations.models import DonorDayCount, DonorGiftPeriod, Fund, Gift, GiftPeriodTotal
from donations.services import summaries


@pytest.fixture
def gift_for(app, organization, create_donor):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    people = {name: create_donor(name) for name in ("Ada", "Bo", "Cy")}

    def make(name: str, day: str, amount: int, **values) -> Gift:
        values.setdefault("status", "paid")
        gift = Gift(
            donor_id=people[name].id,
            fund_id=fund.id,
            source="online",
            method="card",
            currency="USD",
            amount_cents=amount,
            received_at=datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC),
            **values,
        )
        db.session.add(gift)
        db.session.flush()
        return gift

    return make


def totals() -> dict:
    rows = db.session.scalars(select(GiftPeriodTotal).where(GiftPeriodTotal.grain == "y"))
    return {r.starts.year: (r.gifts, r.gross_cents, r.net_cents) for r in rows if r.gifts}


def upserts(statements: list[str], table: str) -> int:
    return sum(1 for s in statements if s.lstrip().startswith(f"INSERT INTO {table} "))


def test_a_block_writes_each_total_once_at_its_end_and_they_equal_the_gifts(gift_for):
    gift_for("Ada", "2025-03-01", 1000)
    db.session.commit()
    with engine_statements() as seen, summaries.added_at_end():
        gift_for("Ada", "2026-01-05", 2000)  # a second year for Ada: retained
        gift_for("Ada", "2026-01-05", 500)  # the same day again
        gift_for("Bo", "2026-02-10", 3000, fee_cents=90)
        pending = gift_for("Cy", "2026-02-11", 4000, status="pending")
        pending.status = "paid"  # paid later in the same batch
        db.session.flush()
        refunded = gift_for("Bo", "2026-03-01", 700)
        refunded.refunded_cents = 700
        db.session.flush()
        assert totals() == {2025: (1, 1000, 1000)}  # nothing written yet
    assert upserts(seen, "gift_period_totals") == 1
    assert upserts(seen, "donor_gift_periods") == 1
    assert upserts(seen, "donor_day_counts") == 1
    db.session.commit()
    assert totals() == {2025: (1, 1000, 1000), 2026: (5, 10200, 9410)}
    assert summaries.verify_money() == []  # gifts, donors, retention and giving days


def test_a_savepoint_rolled_back_takes_its_share_with_it(gift_for):
    with summaries.added_at_end():
        gift_for("Ada", "2026-01-05", 2000)
        with pytest.raises(RuntimeError), db.session.begin_nested():
            gift_for("Bo", "2026-01-06", 3000)
            gift_for("Ada", "2026-01-07", 100)
            raise RuntimeError("the handler failed")
        with db.session.begin_nested():  # one that held: kept
            gift_for("Cy", "2026-01-08", 400)
    db.session.commit()
    assert totals() == {2026: (2, 2400, 2400)}
    days = db.session.scalar(
        select(func.sum(DonorDayCount.giving_days)).where(DonorDayCount.grain == "y")
    )
    assert days == 2  # Ada on the 5th, Cy on the 8th
    assert summaries.verify_money() == []


def test_a_block_that_fails_leaves_its_share_to_the_commit_or_the_rollback(gift_for):
    with pytest.raises(RuntimeError), summaries.added_at_end():
        gift_for("Ada", "2026-01-05", 2000)
        raise RuntimeError("the batch stopped")
    db.session.commit()  # the caller commits all the same: the share is written
    assert totals() == {2026: (1, 2000, 2000)}

    with pytest.raises(RuntimeError), summaries.added_at_end():
        gift_for("Bo", "2026-01-06", 3000)
        raise RuntimeError("the batch stopped")
    db.session.rollback()  # the usual end: the gift and its share both go
    gift_for("Cy", "2026-01-07", 400)  # and the next flush writes at once again
    db.session.commit()
    assert totals() == {2026: (2, 2400, 2400)}
    assert summaries.verify_money() == []


def test_blocks_nest_and_the_outer_one_writes(gift_for):
    with summaries.added_at_end():
        with summaries.added_at_end():
            gift_for("Ada", "2026-01-05", 2000)
        assert totals() == {}
    db.session.commit()
    assert totals() == {2026: (1, 2000, 2000)}
    rows = db.session.scalar(select(func.count()).select_from(DonorGiftPeriod))
    assert rows == 3  # the day, the month and the year
    assert summaries.verify_money() == []


def test_giving_days_of_many_donors_are_read_in_one_statement(gift_for):
    for name in ("Ada", "Bo", "Cy"):
        gift_for(name, "2026-01-01", 100)
        gift_for(name, "2026-03-01", 100)
    db.session.commit()
    with engine_statements() as seen, summaries.added_at_end():
        for name in ("Ada", "Bo", "Cy"):
            gift_for(name, "2026-02-01", 100)  # a day between two others: pairs change
    reads = [s for s in seen if "FROM donor_gift_periods" in s and "UNION ALL" in s.upper()]
    assert len(reads) == 1
    db.session.commit()
    assert summaries.verify_money() == []
    assert date(2026, 2, 1) in set(
        db.session.scalars(select(DonorGiftPeriod.starts).where(DonorGiftPeriod.grain == "d"))
    )


def test_a_flush_that_fails_in_a_savepoint_takes_the_savepoints_earlier_share_with_it(gift_for):
    """When a flush fails, SQLAlchemy rolls back the savepoint around it itself, and the
    rollback hook hears only of the flush's own subtransaction: the share an earlier
    flush in that savepoint added up goes all the same (``extensions.undone_by``)."""
    with summaries.added_at_end():
        gift_for("Ada", "2026-01-05", 2000)
        with pytest.raises(IntegrityError), db.session.begin_nested():
            gift_for("Bo", "2026-01-06", 3000)  # flushed: a share inside the savepoint
            broken = gift_for("Cy", "2026-01-07", 400)
            broken.currency = None  # NOT NULL: this flush fails
            db.session.flush()
    db.session.commit()
    assert totals() == {2026: (1, 2000, 2000)}
    assert summaries.verify_money() == []


def test_an_audit_event_recorded_before_a_failed_flush_in_a_savepoint_is_dropped(gift_for, app):
    from donations.models import AuditEvent
    from donations.services import audit

    with pytest.raises(IntegrityError), db.session.begin_nested():
        audit.record_audit(actor=None, action="test.undone", object_type="gift", object_id=1)
        broken = gift_for("Cy", "2026-01-07", 400)
        broken.currency = None
        db.session.flush()
    audit.record_audit(actor=None, action="test.kept", object_type="gift", object_id=2)
    db.session.commit()
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert "test.kept" in actions and "test.undone" not in actions
