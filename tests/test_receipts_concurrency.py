"""Receipts issued at the same moment get distinct, consecutive numbers (no gaps, no repeats)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_inventory_concurrency import race

from donations.extensions import db
from donations.models import Fund, Receipt, utcnow
from donations.services import gifts as gift_service
from donations.services import receipts

pytestmark = pytest.mark.postgres_only
RECEIPTS = 200


def test_200_receipts_at_once_get_200_consecutive_numbers(app, organization, create_donor):
    fund = Fund(name="General")
    db.session.add(fund)
    donor = create_donor("Ada Giver")
    gift_ids = [
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=1000 + n,
            currency="USD",
            received_on=utcnow().date(),
        ).id
        for n in range(RECEIPTS)
    ]
    db.session.commit()

    def issue(gift_id: int):
        def job() -> None:
            receipts.issue_gift_receipt(actor=None, gift=gift_service.get_gift(gift_id))

        return job

    outcomes = race(app, [issue(gift_id) for gift_id in gift_ids], timeout=120)
    assert outcomes == ["ok"] * RECEIPTS
    year = utcnow().year
    numbers = sorted(db.session.scalars(select(Receipt.sequence_number)))
    assert numbers == list(range(1, RECEIPTS + 1))
    assert len(set(db.session.scalars(select(Receipt.number)))) == RECEIPTS
    assert receipts.take_number(year)[0] == RECEIPTS + 1  # the sequence agrees
    db.session.rollback()
    # every gift has exactly one receipt, for its own amount
    rows = db.session.execute(select(Receipt.gift_id, Receipt.amount_cents)).all()
    assert sorted(g for g, _ in rows) == sorted(gift_ids)
