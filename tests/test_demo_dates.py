"""A demo that reads true: receipts at their gift's moment, donors added over the year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from donations.demo import load_demo
from donations.extensions import db
from donations.models import Donor, Fund, Gift, Receipt, StripeEvent, utcnow
from donations.services import gifts as gift_service
from donations.services import notifications, receipts

DAY = timedelta(days=1)


def test_the_demo_issues_receipts_when_gifts_came_and_adds_donors_over_the_year(app):
    load_demo()
    db.session.commit()
    today = utcnow().date()

    gift_receipts = db.session.execute(
        select(Receipt, Gift).join(Gift, Gift.id == Receipt.gift_id).order_by(Receipt.id)
    ).all()
    assert len(gift_receipts) > 20
    # A reissue (after a refund or a correction made this week) is issued today; every
    # first receipt is issued at its gift's moment, and prints that date.
    first_receipts = [(r, g) for r, g in gift_receipts if r.replaces_id is None]
    for receipt, gift in first_receipts:
        assert abs(receipt.issued_at - gift.received_at) <= DAY, receipt.number
        assert receipts.content_of(receipt).issued_on == receipt.issued_at.date().isoformat()
    assert len({r.issued_at.date() for r, _ in first_receipts}) > 10
    for receipt, _ in gift_receipts:
        if receipt.replaces_id is not None:
            assert receipt.issued_at.date() == today

    # Numbers follow issue order within each year's series.
    by_year: dict[int, list[Receipt]] = {}
    for receipt, _ in gift_receipts:
        by_year.setdefault(receipt.fiscal_year, []).append(receipt)
    for rows in by_year.values():
        rows.sort(key=lambda r: r.sequence_number)
        assert [r.issued_at for r in rows] == sorted(r.issued_at for r in rows)

    # Thank-you notes went out when the gifts came, not on the day of loading.
    thanked = db.session.execute(
        select(Gift.received_at, Gift.thanked_at).where(
            Gift.thanked_at.is_not(None), Gift.is_reversal.is_(False)
        )
    ).all()
    assert thanked and all(abs(t - r) <= DAY for r, t in thanked if r.date() < today - DAY)

    # Donors were added over the year, each by their first gift.
    donors = list(db.session.scalars(select(Donor)))
    days_added = {d.created_at.date() for d in donors}
    assert len(days_added) > len(donors) // 2
    assert min(days_added) < today - timedelta(days=200)
    first_gift = dict(
        db.session.execute(
            select(Gift.donor_id, func.min(Gift.received_at)).group_by(Gift.donor_id)
        ).all()
    )
    for donor in donors:
        if donor.id in first_gift:
            assert donor.created_at <= first_gift[donor.id], donor.name
            assert first_gift[donor.id] - donor.created_at <= DAY, donor.name

    # Stripe's events were received over the year too.
    received = set(db.session.scalars(select(func.date(StripeEvent.received_at))))
    assert len(received) > 10


def test_a_receipt_can_be_issued_at_a_given_moment(app, organization, create_donor):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.flush()
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=create_donor().id,
        fund_id=fund.id,
        method="cash",
        amount_cents=1000,
        currency="USD",
        received_on=datetime(2024, 3, 5, tzinfo=UTC).date(),
    )
    moment = datetime(2024, 3, 5, 15, 30, tzinfo=UTC)
    notifications.thank_donor(gift, now=moment)
    db.session.commit()
    receipt = receipts.valid_receipt_for_gift(gift.id)
    assert receipt.issued_at == moment
    assert receipt.number == "2024-000001"  # the year of its moment, not of today
    assert receipts.content_of(receipt).issued_on == "2024-03-05"
    assert gift.thanked_at == moment
