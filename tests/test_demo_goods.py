"""The demo's season of goods: right books, something to show, nothing about survivors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from donations.demo import load_demo
from donations.demo_goods import DEMO_SITES, PROGRAMS
from donations.extensions import db
from donations.models import (
    DocumentKind,
    InKindGift,
    OutboxMessage,
    Pledge,
    Site,
    StockDocument,
    StockLevel,
    utcnow,
)
from donations.services import inventory

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


def test_staff_dashboard_has_content_with_the_demo(demo, login):
    html = login("staff").get("/dashboard").get_data(as_text=True)
    assert "Nothing is under par" not in html and "No goods recorded yet" not in html
    assert "urgent" in html and "<svg" in html


# Loading the demo takes half a second, so each test checks several things.


def test_the_demo_ledger_is_right_and_tells_the_whole_season(demo):
    _the_books_balance_and_nothing_is_negative()
    _the_season_uses_every_kind_of_movement()
    _dates_fall_within_the_last_ninety_days()
    _known_donors_gifts_are_in_kind_gifts()
    _sites_as_the_story_says()


def test_the_demo_has_needs_and_pledges_without_flooding_mail(demo):
    _some_items_are_needed_a_few_urgently()
    _two_open_pledges_to_the_drop_off_point()
    _the_demo_does_not_flood_the_outbox()


def test_the_demo_holds_nothing_about_survivors(demo):
    _nothing_recorded_could_identify_a_survivor()
