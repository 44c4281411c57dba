"""Surplus exchange between members: one member offers, another asks, the giver confirms,
and one transaction records a distribution in the giver's ledger and an intake (an in-kind
gift) in the receiver's. Neither side sees the other's sites or stock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    AuditEvent,
    DocumentKind,
    Donor,
    InKindGift,
    Item,
    Recipient,
    RecipientKind,
    Role,
    Site,
    StockDocument,
    StockLevel,
    SurplusClaim,
    SurplusClaimStatus,
    SurplusOffer,
    SurplusOfferStatus,
    utcnow,
)
from donations.services import catalog, inventory, organizations, receipts, surplus
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.inventory import InsufficientStock
from donations.tenancy import HOME_ORGANIZATION_ID, use_organization

HOME = "Harbor Light Shelter, Inc."
NORTH = "North Star Refuge"


@dataclass
class Member:
    id: int
    site_id: int
    items: dict[str, int]  # item ids by code


@pytest.fixture
def coalition(organization, goods, stock_in, create_user):
    """The home organisation (20 soap at its warehouse) and North Star Refuge, each with
    a staff user; North has the same catalog and one confidential site."""
    stock_in(goods.warehouse, SOAP=20)
    north_org = organizations.create_organization(actor=None, slug="north", legal_name=NORTH)
    db.session.commit()
    with use_organization(north_org.id):
        catalog.seed_catalog()
        site = catalog.create_site(
            actor=None,
            name="North safe house",
            kind="shelter",
            is_confidential=True,
            address_line1="9 Secret Way",
        )
        db.session.commit()
        north_items = {i.code: i.id for i in db.session.scalars(select(Item))}
    home = Member(
        HOME_ORGANIZATION_ID, goods.warehouse.id, {c: i.id for c, i in goods.items.items()}
    )
    north = Member(north_org.id, site.id, north_items)
    return home, north, create_user(Role.STAFF), create_user(Role.STAFF)


def _offer(home, user, quantity=12, code="SOAP", note="Extra from the spring drive"):
    offer = surplus.offer_surplus(
        actor=user,
        item_id=home.items[code],
        site_id=home.site_id,
        quantity=quantity,
        condition="new",
        note=note,
    )
    db.session.commit()
    return offer


def _ask(north, user, offer_id, quantity, **extra):
    with use_organization(north.id):
        claim = surplus.request_surplus(
            actor=user, offer_id=offer_id, quantity=quantity, site_id=north.site_id, **extra
        )
        db.session.commit()
    return claim


def _refused(error_type, call, **kwargs):
    """Call a service that must refuse; roll back as the view's unit of work would."""
    with pytest.raises(error_type) as caught:
        call(**kwargs)
    db.session.rollback()
    return caught.value.message


def _on_hand(site_id: int, item_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
            StockLevel.site_id == site_id, StockLevel.item_id == item_id
        )
    )


def _counts() -> tuple[int, ...]:
    """Rows of every kind the exchange writes, across organisations."""
    return tuple(
        db.session.scalar(
            select(func.count()).select_from(model).execution_options(all_organizations=True)
        )
        for model in (SurplusOffer, SurplusClaim, StockDocument, InKindGift, Donor, Recipient)
    )


def _actions(organization_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.organization_id == organization_id)
            .order_by(AuditEvent.id)
        )
    )


# --- the whole exchange --------------------------------------------------------------


def test_a_confirmed_request_moves_the_goods_through_both_ledgers(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)

    with use_organization(north.id):
        [seen] = surplus.open_offers_for_members()
    assert (seen.giver, seen.item_label, seen.unit, seen.available) == (HOME, "Soap", "bar", 12)
    assert seen.condition == "New" and seen.note == "Extra from the spring drive"

    claim = _ask(north, receiver, offer.id, 5, note="For our winter intake")
    assert claim.receiver_item_id == north.items["SOAP"]  # matched by code
    assert surplus.confirm_claim(actor=giver, claim_id=claim.id).status == "confirmed"
    db.session.commit()

    # The giver's ledger: a distribution to a partner agency named after North.
    distribution = db.session.get(StockDocument, claim.distribution_id)
    assert distribution.kind == DocumentKind.DISTRIBUTION
    assert distribution.organization_id == HOME_ORGANIZATION_ID
    assert distribution.site_id == home.site_id
    assert distribution.recipient_record.name == NORTH
    assert distribution.recipient_record.kind == RecipientKind.PARTNER
    assert [(e.item_id, e.quantity) for e in distribution.entries] == [(home.items["SOAP"], -5)]
    assert _on_hand(home.site_id, home.items["SOAP"]) == 15

    # The receiver's ledger: an intake from a donor organisation named after the giver,
    # which is also an in-kind gift that can be acknowledged in writing.
    with use_organization(north.id):
        db.session.expire_all()
        intake = db.session.get(StockDocument, claim.intake_id)
        assert intake.kind == DocumentKind.INTAKE and intake.organization_id == north.id
        assert intake.site_id == north.site_id
        assert intake.donor.name == HOME and intake.donor.is_organization
        assert [(e.item_id, e.quantity, e.condition) for e in intake.entries] == [
            (north.items["SOAP"], 5, "new")
        ]
        assert _on_hand(north.site_id, north.items["SOAP"]) == 5
        gift = db.session.scalar(select(InKindGift).where(InKindGift.document_id == intake.id))
        assert gift.donor_id == intake.donor_id
        acknowledgement = receipts.issue_in_kind_receipt(actor=receiver, in_kind=gift)
        db.session.commit()
        assert acknowledgement.organization_id == north.id
        assert inventory.verify_balances() == []
        [mine] = surplus.own_requests()
        assert (mine.giver, mine.site_name, mine.in_kind_gift_id) == (
            HOME,
            "North safe house",
            gift.id,
        )
        assert mine.claim.status == SurplusClaimStatus.CONFIRMED
    assert inventory.verify_balances() == []
    # The totals agree: what left one ledger arrived in the other (each read as its owner).
    given = -sum(e.quantity for e in distribution.entries)
    with use_organization(north.id):
        received = sum(e.quantity for e in db.session.get(StockDocument, claim.intake_id).entries)
    assert given == received == 5

    # What is left of the offer stays open to the others.
    db.session.expire_all()
    assert db.session.get(SurplusOffer, offer.id).status == SurplusOfferStatus.OPEN
    with use_organization(north.id):
        assert [o.available for o in surplus.open_offers_for_members()] == [7]
    [own] = surplus.own_offers()
    assert (own.given, own.waiting, own.available) == (5, 0, 7)
    assert own.requests[0].receiver == NORTH

    # Each organisation's log shows its own side.
    home_log, north_log = _actions(HOME_ORGANIZATION_ID), _actions(north.id)
    assert {"surplus.offer", "surplus.requested", "surplus.confirm", "stock.distribution"} <= set(
        home_log
    )
    assert {"surplus.request", "surplus.received", "stock.intake", "donor.create"} <= set(north_log)
    assert "stock.intake" not in home_log[-4:] and "surplus.confirm" not in north_log


def test_giving_all_of_an_offer_closes_it_and_reuses_the_partner_and_donor(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver, quantity=6)
    first = _ask(north, receiver, offer.id, 2)
    second = _ask(north, receiver, offer.id, 4)
    for claim in (first, second):
        surplus.confirm_claim(actor=giver, claim_id=claim.id)
        db.session.commit()
    assert db.session.get(SurplusOffer, offer.id).status == SurplusOfferStatus.CLOSED
    assert db.session.scalar(select(func.count()).where(Recipient.name == NORTH)) == 1
    with use_organization(north.id):
        assert db.session.scalar(select(func.count()).where(Donor.name == HOME)) == 1
        assert surplus.open_offers_for_members() == []
        assert _on_hand(north.site_id, north.items["SOAP"]) == 6
    assert _on_hand(home.site_id, home.items["SOAP"]) == 14


def test_the_receiver_chooses_the_item_when_no_code_matches(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver, quantity=3)
    with use_organization(north.id):
        item = db.session.get(Item, north.items["SOAP"])
        item.code = "BAR-SOAP"
        db.session.commit()
        message = _refused(
            InvalidInput,
            surplus.request_surplus,
            actor=receiver,
            offer_id=offer.id,
            quantity=1,
            site_id=north.site_id,
        )
    assert "no item with the code SOAP" in message
    claim = _ask(north, receiver, offer.id, 3, item_id=north.items["SOAP"])
    surplus.confirm_claim(actor=giver, claim_id=claim.id)
    db.session.commit()
    with use_organization(north.id):
        assert _on_hand(north.site_id, north.items["SOAP"]) == 3


# --- bad input: a clear message, and the data as it was -------------------------------


def test_a_request_larger_than_what_is_left_is_refused(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver, quantity=12)
    before = _counts()
    with use_organization(north.id):
        message = _refused(
            InvalidInput,
            surplus.request_surplus,
            actor=receiver,
            offer_id=offer.id,
            quantity=13,
            site_id=north.site_id,
        )
    assert message == "Only 12 bar of this offer are still available: ask for 12 or fewer."
    assert _counts() == before
    _ask(north, receiver, offer.id, 10)
    with use_organization(north.id):
        message = _refused(
            InvalidInput,
            surplus.request_surplus,
            actor=receiver,
            offer_id=offer.id,
            quantity=3,
            site_id=north.site_id,
        )
        assert "Only 2 bar" in message
        for quantity in (0, -1, 10**9):
            _refused(
                InvalidInput,
                surplus.request_surplus,
                actor=receiver,
                offer_id=offer.id,
                quantity=quantity,
                site_id=north.site_id,
            )
    assert db.session.scalar(select(func.count()).select_from(SurplusClaim)) == 1


def test_an_offer_withdrawn_while_a_request_waits(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)
    claim = _ask(north, receiver, offer.id, 5)
    withdrawn = surplus.withdraw_offer(actor=giver, offer_id=offer.id)
    db.session.commit()
    assert withdrawn.cancelled == 1
    db.session.expire_all()
    assert db.session.get(SurplusClaim, claim.id).status == SurplusClaimStatus.CANCELLED
    assert "withdrew offer" in db.session.get(SurplusClaim, claim.id).reason
    before = _counts()

    message = _refused(NotAllowed, surplus.confirm_claim, actor=giver, claim_id=claim.id)
    assert message == (
        f"Offer {offer.number} was withdrawn, so request {claim.number} was cancelled; "
        "nothing was given."
    )
    with use_organization(north.id):
        assert surplus.open_offers_for_members() == []
        message = _refused(
            NotAllowed,
            surplus.request_surplus,
            actor=receiver,
            offer_id=offer.id,
            quantity=1,
            site_id=north.site_id,
        )
        assert message == f"{HOME} withdrew offer {offer.number}; it can no longer be requested."
        _refused(NotAllowed, surplus.cancel_claim, actor=receiver, claim_id=claim.id)
        assert "surplus.cancel" in _actions(north.id)
    _refused(NotAllowed, surplus.withdraw_offer, actor=giver, offer_id=offer.id)
    assert _counts() == before
    assert _on_hand(home.site_id, home.items["SOAP"]) == 20


def test_a_member_cannot_request_its_own_offer(coalition):
    home, _north, giver, _receiver = coalition
    offer = _offer(home, giver)
    before = _counts()
    message = _refused(
        NotAllowed,
        surplus.request_surplus,
        actor=giver,
        offer_id=offer.id,
        quantity=1,
        site_id=home.site_id,
    )
    assert message == f"Offer {offer.number} is your own: other members request it."
    assert surplus.open_offers_for_members() == []
    assert _counts() == before


def test_confirming_twice_moves_the_goods_once(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)
    claim = _ask(north, receiver, offer.id, 5)
    surplus.confirm_claim(actor=giver, claim_id=claim.id)
    db.session.commit()
    before = _counts()
    message = _refused(NotAllowed, surplus.confirm_claim, actor=giver, claim_id=claim.id)
    assert message == f"Request {claim.number} was already confirmed; the goods moved once."
    _refused(NotAllowed, surplus.decline_claim, actor=giver, claim_id=claim.id, reason="")
    with use_organization(north.id):
        _refused(NotAllowed, surplus.cancel_claim, actor=receiver, claim_id=claim.id)
        assert _on_hand(north.site_id, north.items["SOAP"]) == 5
    assert _counts() == before
    assert _on_hand(home.site_id, home.items["SOAP"]) == 15


def test_only_the_giver_confirms_and_only_the_receiver_cancels(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)
    claim = _ask(north, receiver, offer.id, 5)
    with use_organization(north.id):
        _refused(NotFound, surplus.confirm_claim, actor=receiver, claim_id=claim.id)
        _refused(NotFound, surplus.withdraw_offer, actor=receiver, offer_id=offer.id)
    _refused(NotFound, surplus.cancel_claim, actor=giver, claim_id=claim.id)
    assert db.session.get(SurplusClaim, claim.id).status == SurplusClaimStatus.PENDING


def test_nothing_is_written_when_the_receiving_side_refuses(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)
    claim = _ask(north, receiver, offer.id, 5)
    with use_organization(north.id):
        db.session.get(Site, north.site_id).active = False
        db.session.commit()
    before = _counts()
    message = _refused(NotAllowed, surplus.confirm_claim, actor=giver, claim_id=claim.id)
    assert message.startswith(f"{NORTH} can no longer take these goods in")
    assert "North safe house" not in message  # never the receiver's site
    assert _counts() == before
    assert _on_hand(home.site_id, home.items["SOAP"]) == 20
    assert db.session.get(SurplusClaim, claim.id).status == SurplusClaimStatus.PENDING


def test_nothing_is_written_when_the_giver_no_longer_holds_the_goods(coalition, goods):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver, quantity=12)
    claim = _ask(north, receiver, offer.id, 12)
    inventory.record_distribution(
        actor=None,
        site_id=home.site_id,
        effective_date=None or offer.created_at.date(),
        lines=[goods.line("SOAP", 15)],
        recipient="Street outreach",
    )
    db.session.commit()
    before = _counts()
    message = _refused(InsufficientStock, surplus.confirm_claim, actor=giver, claim_id=claim.id)
    assert "Soap at Main warehouse: asked for 12, there are 5" in message
    assert _counts() == before
    with use_organization(north.id):
        assert _on_hand(north.site_id, north.items["SOAP"]) == 0


def test_an_offer_is_no_more_than_the_site_holds_less_what_is_offered(coalition):
    home, _north, giver, _receiver = coalition
    message = _refused(
        InvalidInput,
        surplus.offer_surplus,
        actor=giver,
        item_id=home.items["SOAP"],
        site_id=home.site_id,
        quantity=21,
    )
    assert message == "Main warehouse holds 20 of Soap: offer at most 20."
    _offer(home, giver, quantity=15)
    message = _refused(
        InvalidInput,
        surplus.offer_surplus,
        actor=giver,
        item_id=home.items["SOAP"],
        site_id=home.site_id,
        quantity=6,
    )
    assert message == (
        "Main warehouse holds 20 of Soap, and 15 of them are already offered: offer at most 5."
    )
    assert db.session.scalar(select(func.count()).select_from(SurplusOffer)) == 1


def test_declined_requests_say_why_to_the_receiver(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)
    claim = _ask(north, receiver, offer.id, 12)
    surplus.decline_claim(actor=giver, claim_id=claim.id, reason="Promised to a clinic first")
    db.session.commit()
    with use_organization(north.id):
        [mine] = surplus.own_requests()
        assert mine.claim.status == SurplusClaimStatus.DECLINED
        assert mine.claim.reason == "Promised to a clinic first"
        # Declined: the offer is available again.
        assert [o.available for o in surplus.open_offers_for_members()] == [12]
        assert "surplus.declined" in _actions(north.id)


def test_neither_side_reads_the_others_sites_or_stock(coalition):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)
    _ask(north, receiver, offer.id, 5, note="For the family rooms")
    with use_organization(north.id):
        seen = [*surplus.open_offers_for_members(), surplus.offer_for_members(offer.id)]
    for member_offer in seen:
        values = {str(value) for value in vars(member_offer).values()}
        assert "Main warehouse" not in values and str(home.site_id) not in values
        assert member_offer.available == 7  # what is left of the offer, not the 20 on hand
        assert not {"site", "site_id", "item_id", "on_hand"} & set(vars(member_offer))
    [incoming] = surplus.own_offers()[0].requests
    assert incoming.receiver == NORTH and incoming.quantity == 5
    assert not {"site", "site_id", "site_name", "item_id"} & set(vars(incoming))
    assert "North safe house" not in {str(value) for value in vars(incoming).values()}


# --- the pages (as the home organisation; North acts through the services) -------------


def _north_offer(north, user, quantity=8):
    """North holds 30 blankets at its confidential site and offers some."""
    with use_organization(north.id):
        inventory.record_intake(
            actor=None,
            site_id=north.site_id,
            effective_date=utcnow().date(),
            source="anonymous",
            lines=[inventory.Line(north.items["BLANKET"], 30, "new")],
        )
        offer = surplus.offer_surplus(
            actor=user,
            item_id=north.items["BLANKET"],
            site_id=north.site_id,
            quantity=quantity,
            note="Wool, clean",
        )
        db.session.commit()
    return offer


def _page(client, path="/inventory/surplus/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_shows_each_side_only_what_it_may_see(coalition, staff_client):
    home, north, giver, receiver = coalition
    theirs = _north_offer(north, receiver)
    ours = _offer(home, giver)
    _ask(north, receiver, ours.id, 5, note="For the family rooms")
    page = _page(staff_client)
    assert 'href="/inventory/surplus/"' in page and 'aria-current="page">Surplus' in page
    # Our offer, with North's request to answer, and where ours ships from (ours to see).
    assert ours.number in page and "Main warehouse" in page
    assert "For the family rooms" in page and "Confirm and give 5" in page
    assert "Waiting for our answer" in page
    # North's offer: its name, item, what is left of the offer and its note.
    assert theirs.number in page and "Wool, clean" in page and "8 each" in page
    assert f'href="/inventory/surplus/offers/{theirs.id}/request"' in page
    # Never North's site, its address or its stock on hand.
    for secret in ("North safe house", "9 Secret Way", ">30<", "30 each"):
        assert secret not in page


def test_offering_through_the_page(coalition, staff_client):
    home, _north, _giver, _receiver = coalition
    data = {"item_id": home.items["SOAP"], "site_id": home.site_id, "condition": "new"}
    response = staff_client.post("/inventory/surplus/offers", data={**data, "quantity": "7"})
    assert response.status_code == 302
    offer = db.session.scalar(select(SurplusOffer))
    assert (offer.quantity, offer.item_code, offer.created_by_id) == (
        7,
        "SOAP",
        staff_client.user.id,
    )
    for quantity, message in (
        ("14", "holds 20 of Soap, and 7 of them are already offered: offer at most 13."),
        ("lots", "Not a valid integer value."),
        ("0", "Enter a whole number from 1 to"),
        ("99999999999", "Enter a whole number from 1 to"),
    ):
        response = staff_client.post(
            "/inventory/surplus/offers", data={**data, "quantity": quantity}
        )
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    response = staff_client.post(
        "/inventory/surplus/offers", data={**data, "item_id": "", "quantity": "1"}
    )
    assert response.status_code == 400 and "Choose an item." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SurplusOffer)) == 1


def test_requesting_through_the_page(coalition, staff_client):
    home, north, giver, receiver = coalition
    theirs = _north_offer(north, receiver)
    path = f"/inventory/surplus/offers/{theirs.id}/request"
    form = _page(staff_client, path)
    assert "Request Blanket from North Star Refuge" in form
    assert f'<option selected value="{home.items["BLANKET"]}">' in form  # matched by code
    data = {"site_id": home.site_id, "item_id": home.items["BLANKET"], "note": ""}
    response = staff_client.post(path, data={**data, "quantity": "9"})
    assert response.status_code == 400
    assert "Only 8 each of this offer are still available" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SurplusClaim)) == 0

    response = staff_client.post(path, data={**data, "quantity": "3"}, follow_redirects=True)
    assert "is sent to North Star Refuge" in response.get_data(as_text=True)
    claim = db.session.scalar(select(SurplusClaim))
    assert (claim.receiver_organization_id, claim.quantity) == (HOME_ORGANIZATION_ID, 3)
    assert claim.receiver_site_id == home.site_id

    # Our own offer cannot be requested; an unknown offer is not there.
    ours = _offer(home, giver)
    response = staff_client.get(
        f"/inventory/surplus/offers/{ours.id}/request", follow_redirects=True
    )
    assert "is your own: other members request it." in response.get_data(as_text=True)
    assert staff_client.get("/inventory/surplus/offers/999999/request").status_code == 404

    # Cancelling our request.
    response = staff_client.post(
        f"/inventory/surplus/requests/{claim.id}/cancel", follow_redirects=True
    )
    assert f"Request {claim.number} is cancelled." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SurplusClaim, claim.id).status == SurplusClaimStatus.CANCELLED


def test_confirming_declining_and_withdrawing_through_the_page(coalition, staff_client):
    home, north, giver, receiver = coalition
    offer = _offer(home, giver)
    first = _ask(north, receiver, offer.id, 5)
    second = _ask(north, receiver, offer.id, 2)
    third = _ask(north, receiver, offer.id, 1)

    confirm = f"/inventory/surplus/requests/{first.id}/confirm"
    page = staff_client.post(confirm, follow_redirects=True).get_data(as_text=True)
    assert f"Request {first.number} is confirmed" in page
    before = _counts()
    page = staff_client.post(confirm, follow_redirects=True).get_data(as_text=True)
    assert f"Request {first.number} was already confirmed; the goods moved once." in page
    assert _counts() == before
    assert _on_hand(home.site_id, home.items["SOAP"]) == 15

    page = staff_client.post(
        f"/inventory/surplus/requests/{second.id}/decline",
        data={"reason": "Kept for our own residents"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Request {second.number} is declined" in page
    assert db.session.get(SurplusClaim, second.id).reason == "Kept for our own residents"

    page = staff_client.post(
        f"/inventory/surplus/offers/{offer.id}/withdraw", follow_redirects=True
    ).get_data(as_text=True)
    assert f"Offer {offer.number} is withdrawn; 1 waiting request(s) were cancelled" in page
    db.session.expire_all()
    assert db.session.get(SurplusClaim, third.id).status == SurplusClaimStatus.CANCELLED
    page = staff_client.post(
        f"/inventory/surplus/requests/{third.id}/confirm", follow_redirects=True
    ).get_data(as_text=True)
    assert f"Offer {offer.number} was withdrawn, so request {third.number} was cancelled" in page
    assert _on_hand(home.site_id, home.items["SOAP"]) == 15


def test_another_members_request_cannot_be_answered_from_here(coalition, staff_client):
    _home, north, _giver, receiver = coalition
    theirs = _north_offer(north, receiver)
    with use_organization(north.id):
        # A third member's request for North's offer is North's to answer, not ours.
        other = organizations.create_organization(actor=None, slug="third", legal_name="Third")
        db.session.commit()
    with use_organization(other.id):
        catalog.seed_catalog()
        site = catalog.create_site(actor=None, name="Third house", kind="shelter")
        claim = surplus.request_surplus(
            actor=receiver, offer_id=theirs.id, quantity=2, site_id=site.id
        )
        db.session.commit()
    for action in ("confirm", "decline", "cancel"):
        page = staff_client.post(
            f"/inventory/surplus/requests/{claim.id}/{action}", follow_redirects=True
        ).get_data(as_text=True)
        assert "There is no such" in page
    db.session.expire_all()
    assert db.session.get(SurplusClaim, claim.id).status == SurplusClaimStatus.PENDING


def test_an_organisation_without_its_profile_is_asked_to_fill_it_in(goods, stock_in):
    stock_in(goods.warehouse, SOAP=5)
    message = _refused(
        NotAllowed,
        surplus.offer_surplus,
        actor=None,
        item_id=goods.items["SOAP"].id,
        site_id=goods.warehouse.id,
        quantity=1,
    )
    assert message.startswith("Fill in the organisation's profile")
    assert db.session.scalar(select(func.count()).select_from(SurplusOffer)) == 0
