"""Offers and requests: offering, withdrawing and declining (the giver), requesting and
cancelling (the receiver)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from donations.extensions import db
from donations.models import (
    Condition,
    Item,
    Site,
    SurplusClaim,
    SurplusClaimStatus,
    SurplusOffer,
    SurplusOfferStatus,
    User,
    utcnow,
)
from donations.services import inventory
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.locking import serialize_writes
from donations.services.surplus.common import (
    LOCK_NAME,
    NOTE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    audit_as,
    check_giver,
    check_member,
    check_pending,
    check_quantity,
    check_receiver,
    check_requestable,
    check_text,
    decide,
    held_quantity,
    locked_claim,
    locked_offer,
    organization_name,
    own_row,
)
from donations.tenancy import current_organization_id


@dataclass(frozen=True)
class Withdrawn:
    offer: SurplusOffer
    cancelled: int  # requests that were waiting and are now cancelled


def offer_surplus(
    *,
    actor: User | None,
    item_id: int | None,
    site_id: int | None,
    quantity: int | None,
    condition: str = Condition.NEW.value,
    note: str = "",
) -> SurplusOffer:
    """Offer the other members some of an item held at one of our sites.

    No more than the site holds, less what our other open offers of it still promise.
    """
    check_member()
    item = own_row(Item, item_id)
    if item is None:
        raise InvalidInput("Choose an item from the list.", field="item_id")
    if not item.active:
        raise InvalidInput(f"{item.label} is no longer used (inactive).", field="item_id")
    site = own_row(Site, site_id)
    if site is None:
        raise InvalidInput("Choose a site from the list.", field="site_id")
    if not site.active:
        raise InvalidInput(f"{site.name} is closed; choose an open site.", field="site_id")
    quantity = check_quantity(quantity)
    if condition not in {c.value for c in Condition}:
        raise InvalidInput("Choose the condition: new or good used.", field="condition")
    note = check_text(note, field="note", max_length=NOTE_MAX_LENGTH, label="the note")
    serialize_writes(LOCK_NAME)
    on_hand = inventory.lock_levels({(site.id, item.id)})[(site.id, item.id)].on_hand
    promised = sum(
        offer.quantity - held_quantity(offer.id, (SurplusClaimStatus.CONFIRMED,))
        for offer in db.session.scalars(
            select(SurplusOffer).where(
                SurplusOffer.giver_organization_id == current_organization_id(),
                SurplusOffer.item_id == item.id,
                SurplusOffer.site_id == site.id,
                SurplusOffer.status == SurplusOfferStatus.OPEN,
            )
        )
    )
    if quantity > on_hand - promised:
        most = max(on_hand - promised, 0)
        already = f", and {promised} of them are already offered" if promised else ""
        raise InvalidInput(
            f"{site.name} holds {on_hand} of {item.label}{already}: offer at most {most}.",
            field="quantity",
        )
    offer = SurplusOffer(
        giver_organization_id=current_organization_id(),
        item_id=item.id,
        site_id=site.id,
        item_label=item.label,
        item_code=item.code,
        unit=item.unit,
        condition=condition,
        quantity=quantity,
        note=note,
        status=SurplusOfferStatus.OPEN,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(offer)
    db.session.flush()
    record_audit(
        actor=actor,
        action="surplus.offer",
        object_type="surplus_offer",
        object_id=offer.id,
        summary=(
            f"Offered {quantity} {item.unit} of {item.label} from {site.name} as {offer.number}"
        ),
    )
    return offer


def withdraw_offer(*, actor: User | None, offer_id: int | None) -> Withdrawn:
    """Take back an open offer; requests still waiting for us are cancelled."""
    offer = locked_offer(offer_id)
    check_giver(offer)
    if offer.status == SurplusOfferStatus.WITHDRAWN:
        raise NotAllowed(f"Offer {offer.number} was already withdrawn.")
    if offer.status == SurplusOfferStatus.CLOSED:
        raise NotAllowed(f"Offer {offer.number} was given in full; there is nothing to withdraw.")
    waiting = [c for c in offer.claims if c.is_pending]
    giver = organization_name(offer.giver_organization_id)
    for claim in waiting:
        decide(
            claim,
            actor=actor,
            status=SurplusClaimStatus.CANCELLED,
            reason=f"{giver} withdrew offer {offer.number}.",
        )
    offer.status = SurplusOfferStatus.WITHDRAWN
    offer.closed_at = utcnow()
    db.session.flush()
    record_audit(
        actor=actor,
        action="surplus.withdraw",
        object_type="surplus_offer",
        object_id=offer.id,
        summary=f"Withdrew {offer.number}; {len(waiting)} waiting request(s) cancelled",
    )
    for claim in waiting:
        audit_as(
            claim.receiver_organization_id,
            actor=actor,
            action="surplus.cancel",
            claim=claim,
            summary=f"{giver} withdrew offer {offer.number}: request {claim.number} cancelled",
        )
    return Withdrawn(offer, len(waiting))


def decline_claim(*, actor: User | None, claim_id: int | None, reason: str = "") -> SurplusClaim:
    """Say no to a request for one of our offers (the reason is optional; they see it)."""
    reason = check_text(reason, field="reason", max_length=REASON_MAX_LENGTH, label="the reason")
    claim, offer = locked_claim(claim_id)
    check_giver(offer)
    check_pending(claim, offer)
    decide(claim, actor=actor, status=SurplusClaimStatus.DECLINED, reason=reason)
    db.session.flush()
    receiver = organization_name(claim.receiver_organization_id)
    giver = organization_name(offer.giver_organization_id)
    record_audit(
        actor=actor,
        action="surplus.decline",
        object_type="surplus_claim",
        object_id=claim.id,
        summary=f"Declined {claim.number} of {receiver} for {offer.number}",
    )
    audit_as(
        claim.receiver_organization_id,
        actor=actor,
        action="surplus.declined",
        claim=claim,
        summary=f"{giver} declined request {claim.number} for {offer.number}",
    )
    return claim


def request_surplus(
    *,
    actor: User | None,
    offer_id: int | None,
    quantity: int | None,
    site_id: int | None,
    item_id: int | None = None,
    note: str = "",
) -> SurplusClaim:
    """Ask for some of another member's offer, to arrive at our site as our item.

    Without an item, the item of our catalog with the offer's code is used.
    """
    check_member()
    quantity = check_quantity(quantity)
    note = check_text(note, field="note", max_length=NOTE_MAX_LENGTH, label="the note")
    site = own_row(Site, site_id)
    if site is None:
        raise InvalidInput("Choose the site the goods should go to.", field="site_id")
    if not site.active:
        raise InvalidInput(f"{site.name} is closed; choose an open site.", field="site_id")
    offer = locked_offer(offer_id)
    check_requestable(offer)
    item = _receiving_item(offer, item_id)
    available = offer.quantity - held_quantity(offer.id)
    if quantity > available:
        if available <= 0:
            raise NotAllowed(f"All of offer {offer.number} is already asked for.")
        raise InvalidInput(
            f"Only {available} {offer.unit} of this offer are still available: "
            f"ask for {available} or fewer.",
            field="quantity",
        )
    claim = SurplusClaim(
        offer_id=offer.id,
        receiver_organization_id=current_organization_id(),
        quantity=quantity,
        receiver_site_id=site.id,
        receiver_item_id=item.id,
        note=note,
        status=SurplusClaimStatus.PENDING,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(claim)
    db.session.flush()
    giver = organization_name(offer.giver_organization_id)
    receiver = organization_name(claim.receiver_organization_id)
    what = f"{quantity} {offer.unit} of {offer.item_label} ({offer.number})"
    record_audit(
        actor=actor,
        action="surplus.request",
        object_type="surplus_claim",
        object_id=claim.id,
        summary=f"Asked {giver} for {what} as {claim.number}, into {site.name}",
    )
    audit_as(
        offer.giver_organization_id,
        actor=actor,
        action="surplus.requested",
        claim=claim,
        summary=f"{receiver} asked for {what} as {claim.number}",
    )
    return claim


def _receiving_item(offer: SurplusOffer, item_id: int | None) -> Item:
    if item_id:
        item = own_row(Item, item_id)
        if item is None:
            raise InvalidInput("Choose an item from the list.", field="item_id")
    else:
        item = inventory.find_item_by_code(offer.item_code)
        if item is None or item.organization_id != current_organization_id():
            raise InvalidInput(
                f"Your catalog has no item with the code {offer.item_code}: choose the item "
                "these goods go in as.",
                field="item_id",
            )
    if not item.active:
        raise InvalidInput(
            f"{item.label} is no longer used (inactive); choose another item.", field="item_id"
        )
    return item


def cancel_claim(*, actor: User | None, claim_id: int | None) -> SurplusClaim:
    """Take back one of our requests while the giver has not answered it."""
    claim, offer = locked_claim(claim_id)
    check_receiver(claim)
    check_pending(claim, offer)
    receiver = organization_name(claim.receiver_organization_id)
    decide(
        claim,
        actor=actor,
        status=SurplusClaimStatus.CANCELLED,
        reason=f"{receiver} cancelled the request.",
    )
    db.session.flush()
    record_audit(
        actor=actor,
        action="surplus.cancel",
        object_type="surplus_claim",
        object_id=claim.id,
        summary=f"Cancelled request {claim.number} for {offer.number}",
    )
    audit_as(
        offer.giver_organization_id,
        actor=actor,
        action="surplus.cancelled",
        claim=claim,
        summary=f"{receiver} cancelled request {claim.number} for {offer.number}",
    )
    return claim
