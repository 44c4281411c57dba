"""The demo: a season of goods with right books and nothing about survivors, a year of gifts."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from donations.demo import load_demo
from donations.demo.goods import DEMO_SITES, PROGRAMS
from donations.extensions import db
from donations.models import (
    DocumentKind,
    Gift,
    InKindGift,
    OutboxMessage,
    Pledge,
    Receipt,
    RecurringPlan,
    Site,
    StockDocument,
    StockLevel,
    StripeEvent,
    utcnow,
)
from donations.services import inventory, reports

CONTACT_LIKE = re.compile(r"@|\d{3}[\s.-]?\d{3}[\s.-]?\d{4}|\b(19|20)\d\d-\d\d-\d\d\b")


@pytest.fixture
def demo(app):
    load_demo()
    db.session.commit()
    return app


def _documents(kind: str | None = None) -> list[StockDocument]:
    query = select(StockDocument).order_by(StockDocument.id)
    if kind:
        query = query.where(StockDocument.kind == kind)
    return list(db.session.scalars(query))


def _the_books_balance_and_nothing_is_negative() -> None:
    assert inventory.verify_balances() == []
    assert db.session.scalar(select(func.min(StockLevel.on_hand))) >= 0


def _the_season_uses_every_kind_of_movement() -> None:
    kinds = {d.kind for d in _documents()}
    assert kinds >= {
        DocumentKind.INTAKE,
        DocumentKind.DISTRIBUTION,
        DocumentKind.TRANSFER,
        DocumentKind.ADJUSTMENT,
        DocumentKind.COUNT,
        DocumentKind.KIT_ASSEMBLY,
        DocumentKind.REVERSAL,
    }
    intakes = _documents(DocumentKind.INTAKE)
    assert {d.source for d in intakes} == {"donor", "drive", "anonymous"}
    assert any(d.drive_name == "Lincoln High winter coat drive" for d in intakes)
    assert any(d.reason == "damaged" for d in _documents(DocumentKind.ADJUSTMENT))
    transfers = _documents(DocumentKind.TRANSFER)
    assert any(d.site.kind == "warehouse" and d.to_site.kind == "shelter" for d in transfers)


def _dates_fall_within_the_last_ninety_days() -> None:
    today = utcnow().date()
    for document in _documents():
        assert today - timedelta(days=90) <= document.effective_date <= today


def _known_donors_gifts_are_in_kind_gifts() -> None:
    from_donors = [d for d in _documents(DocumentKind.INTAKE) if d.source == "donor"]
    assert len(from_donors) >= 4
    gifts = {g.document_id: g for g in db.session.scalars(select(InKindGift))}
    for document in from_donors:
        assert gifts[document.id].donor_id == document.donor_id


def _sites_as_the_story_says() -> None:
    sites = {s.name: s for s in db.session.scalars(select(Site))}
    assert set(sites) == {fields["name"] for fields in DEMO_SITES.values()}
    assert sites["Harbor House"].is_confidential and sites["Harbor House"].contact_email
    assert sites["Second Step House"].is_confidential
    assert sites["Downtown drop-off"].kind == "dropoff" and sites["Downtown drop-off"].public_hours
    assert not sites["Downtown drop-off"].is_confidential


def _some_items_are_needed_a_few_urgently() -> None:
    needs = inventory.public_needs()
    assert needs
    urgent = [n for n in needs if n.urgent]
    assert 1 <= len(urgent) < len(needs)
    under = list(db.session.scalars(inventory.under_par_query()))
    assert {lv.site.name for lv in under} == {"Harbor House", "Second Step House"}
    assert inventory.top_distributed(days=30, limit=5)


def _two_open_pledges_to_the_drop_off_point() -> None:
    pledges = list(db.session.scalars(select(Pledge)))
    assert len(pledges) == 2
    for pledge in pledges:
        assert pledge.status == "open"
        assert pledge.site.kind == "dropoff" and not pledge.site.is_confidential
        assert pledge.expected_on > utcnow().date()
        assert pledge.lines


def _nothing_recorded_could_identify_a_survivor() -> None:
    for document in _documents(DocumentKind.DISTRIBUTION):
        assert document.recipient in PROGRAMS
        assert document.case_code == "" or re.fullmatch(r"C-\d{3}", document.case_code)
        assert inventory.check_case_code(document.case_code) == document.case_code
    texts = [d.note for d in _documents()] + [d.drive_name for d in _documents()]
    texts += [p.note for p in db.session.scalars(select(Pledge))]
    for text in texts:
        assert not CONTACT_LIKE.search(text), text
    # Goods arrive at public places; donors never learn where the shelters are.
    for document in _documents(DocumentKind.INTAKE):
        assert not document.site.is_confidential
    confidential = [s for s in db.session.scalars(select(Site)) if s.is_confidential]
    donor_mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind.in_(["pledge_confirmation", "gift_thanks"]))
    ).all()
    assert donor_mail
    for message in donor_mail:
        for site in confidential:
            assert site.name not in message.body_text
            assert site.address_line1 not in message.body_text


def _the_demo_does_not_flood_the_outbox() -> None:
    low_stock = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "low_stock")
    )
    assert low_stock <= 8


def _the_staff_dashboard_has_something_to_show(login) -> None:
    html = login("staff").get("/dashboard").get_data(as_text=True)
    assert "Nothing is under par" not in html and "No goods recorded yet" not in html
    assert "urgent" in html and "<svg" in html


# --- the year of gifts --------------------------------------------------------------


def _paid_gifts() -> list[Gift]:
    query = select(Gift).where(Gift.status == "paid", Gift.is_reversal.is_(False))
    return list(db.session.scalars(query.order_by(Gift.received_at)))


def _every_month_of_the_last_year_has_gifts() -> None:
    today = utcnow().date()
    months = {g.received_at.strftime("%Y-%m") for g in _paid_gifts()}
    first_of_month = today.replace(day=1)
    for back in range(1, 13):  # the twelve whole months before this one
        year, month = divmod(first_of_month.year * 12 + first_of_month.month - 1 - back, 12)
        assert f"{year:04d}-{month + 1:02d}" in months
    assert all(g.received_at <= utcnow() for g in _paid_gifts())
    methods = {g.method for g in _paid_gifts()}
    assert methods == {"card", "cheque", "cash", "bank_transfer", "securities"}
    assert len({g.fund_id for g in _paid_gifts()}) == 3


def _monthly_plans_have_an_instalment_each_month() -> None:
    plans = {p.donor.name: p for p in db.session.scalars(select(RecurringPlan))}
    assert {p.status for p in plans.values()} == {"active", "past_due", "cancelled"}
    for plan in plans.values():
        paid = [g for g in _paid_gifts() if g.plan_id == plan.id]
        assert paid and plan.started_at == paid[0].received_at
        for before, after in pairwise(paid):
            # a month apart, or a few days more and less around a declined card retried
            assert 25 <= (after.received_at - before.received_at).days <= 34
    assert len([g for g in _paid_gifts() if g.plan_id == plans["Eleanor Whitfield"].id]) >= 13
    assert plans["José Martínez"].cancelled_at is not None
    declined = db.session.scalars(select(Gift).where(Gift.status == "failed")).all()
    assert [g.plan_id for g in declined] == [plans["Tomás Reyes"].id]


def _refunds_and_a_correction_void_their_receipts() -> None:
    refunded = [g for g in _paid_gifts() if g.refunded_cents]
    assert sorted(g.refunded_cents == g.amount_cents for g in refunded) == [False, True]
    reversal = db.session.scalars(select(Gift).where(Gift.is_reversal.is_(True))).one()
    voided = {
        r.gift_id for r in db.session.scalars(select(Receipt).where(Receipt.status == "void"))
    }
    assert voided == {g.id for g in refunded} | {reversal.corrects_gift_id}
    events = db.session.scalars(select(StripeEvent.status).distinct()).all()
    assert set(events) <= {"processed", "ignored"}


def _donor_retention_has_every_kind_of_donor() -> None:
    today = utcnow().date()
    kept = reports.retention(today - timedelta(days=364), today)
    assert kept.new and kept.returning and kept.reactivated and kept.lapsed


# Loading the demo takes a few seconds, so one test checks the whole story.


def test_the_demo_tells_a_season_of_goods_and_a_year_of_gifts(demo, login):
    _the_books_balance_and_nothing_is_negative()
    _the_season_uses_every_kind_of_movement()
    _dates_fall_within_the_last_ninety_days()
    _known_donors_gifts_are_in_kind_gifts()
    _sites_as_the_story_says()
    _some_items_are_needed_a_few_urgently()
    _two_open_pledges_to_the_drop_off_point()
    _the_demo_does_not_flood_the_outbox()
    _nothing_recorded_could_identify_a_survivor()
    _every_month_of_the_last_year_has_gifts()
    _monthly_plans_have_an_instalment_each_month()
    _refunds_and_a_correction_void_their_receipts()
    _donor_retention_has_every_kind_of_donor()
    _the_staff_dashboard_has_something_to_show(login)
