"""Reading the surplus exchange: other members' offers (names, labels, units and quantities
offered, never a site or stock), our offers with their requests, and our requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    InKindGift,
    Item,
    Organization,
    Site,
    SurplusClaim,
    SurplusClaimStatus,
    SurplusOffer,
    SurplusOfferStatus,
)
from donations.services.errors import NotFound
from donations.services.surplus.common import (
    HOLDING,
    LISTED_MAX,
    check_requestable,
    held_quantity,
    organization_name,
    organization_names,
)
from donations.tenancy import current_organization_id


@dataclass(frozen=True)
class MemberOffer:
    """Another member's open offer, as any member may see it: no site, no stock."""

    offer_id: int
    number: str
    giver: str
    item_label: str
    item_code: str
    unit: str
    condition: str
    available: int
    note: str
    offered_at: datetime


@dataclass(frozen=True)
class IncomingRequest:
    """A request for one of our offers, as the giver sees it: no site or item of theirs."""

    claim_id: int
    number: str
    receiver: str
    quantity: int
    note: str
    status: str
    is_pending: bool
    reason: str
    requested_at: datetime
    distribution_id: int | None


@dataclass(frozen=True)
class OwnOffer:
    """One of our offers, with what is still available and the requests for it."""

    offer: SurplusOffer
    site_name: str
    given: int
    waiting: int
    available: int
    requests: tuple[IncomingRequest, ...]


@dataclass(frozen=True)
class OwnRequest:
    """One of our requests: the other member's offer as members see it, and our side."""

    claim: SurplusClaim
    giver: str
    offer_number: str
    item_label: str
    unit: str
    site_name: str  # ours
    item_name: str  # ours
    in_kind_gift_id: int | None
    donor_id: int | None


def open_offers_for_members() -> list[MemberOffer]:
    """Other open members' open offers with something still available, newest first."""
    own = current_organization_id()
    held = (
        select(SurplusClaim.offer_id, func.sum(SurplusClaim.quantity).label("held"))
        .where(SurplusClaim.status.in_(list(HOLDING)))
        .group_by(SurplusClaim.offer_id)
        .subquery()
    )
    available = SurplusOffer.quantity - func.coalesce(held.c.held, 0)
    rows = db.session.execute(
        select(SurplusOffer, Organization.legal_name, Organization.slug, available)
        .join(Organization, Organization.id == SurplusOffer.giver_organization_id)
        .outerjoin(held, held.c.offer_id == SurplusOffer.id)
        .where(
            SurplusOffer.status == SurplusOfferStatus.OPEN,
            SurplusOffer.giver_organization_id != own,
            Organization.archived_at.is_(None),
            available > 0,
        )
        .order_by(SurplusOffer.id.desc())
        .limit(LISTED_MAX)
    ).all()
    return [_member_offer(offer, legal or slug, left) for offer, legal, slug, left in rows]


def _member_offer(offer: SurplusOffer, giver: str, available: int) -> MemberOffer:
    return MemberOffer(
        offer_id=offer.id,
        number=offer.number,
        giver=giver,
        item_label=offer.item_label,
        item_code=offer.item_code,
        unit=offer.unit,
        condition=offer.condition_label,
        available=available,
        note=offer.note,
        offered_at=offer.created_at,
    )


def offer_for_members(offer_id: int | None) -> MemberOffer:
    """Another member's open offer, for the request form; refuse our own or a closed one."""
    offer = db.session.get(SurplusOffer, offer_id) if offer_id else None
    if offer is None:
        raise NotFound("There is no such offer.")
    check_requestable(offer)
    return _member_offer(
        offer,
        organization_name(offer.giver_organization_id),
        offer.quantity - held_quantity(offer.id),
    )


def own_offers() -> list[OwnOffer]:
    """Our offers, open ones first, then the newest, each with the requests for it."""
    own = current_organization_id()
    offers = list(
        db.session.scalars(
            select(SurplusOffer)
            .where(SurplusOffer.giver_organization_id == own)
            .order_by(
                (SurplusOffer.status == SurplusOfferStatus.OPEN).desc(), SurplusOffer.id.desc()
            )
            .limit(LISTED_MAX)
        )
    )
    sites = dict(
        db.session.execute(
            select(Site.id, Site.name).where(Site.id.in_({o.site_id for o in offers}))
        ).all()
    )
    names = organization_names(c.receiver_organization_id for o in offers for c in o.claims)
    listed = []
    for offer in offers:
        given = sum(c.quantity for c in offer.claims if c.status == SurplusClaimStatus.CONFIRMED)
        waiting = sum(c.quantity for c in offer.claims if c.is_pending)
        requests = tuple(
            IncomingRequest(
                claim_id=c.id,
                number=c.number,
                receiver=names.get(c.receiver_organization_id, "A former member"),
                quantity=c.quantity,
                note=c.note,
                status="Waiting for our answer" if c.is_pending else c.status_label,
                is_pending=c.is_pending,
                reason=c.reason,
                requested_at=c.created_at,
                distribution_id=c.distribution_id,
            )
            for c in sorted(offer.claims, key=lambda c: (not c.is_pending, c.id))
        )
        available = offer.quantity - given - waiting if offer.is_open else 0
        listed.append(
            OwnOffer(offer, sites.get(offer.site_id, ""), given, waiting, available, requests)
        )
    return listed


def own_requests() -> list[OwnRequest]:
    """Our requests for other members' offers, newest first."""
    own = current_organization_id()
    claims = list(
        db.session.scalars(
            select(SurplusClaim)
            .where(SurplusClaim.receiver_organization_id == own)
            .order_by(SurplusClaim.id.desc())
            .limit(LISTED_MAX)
        )
    )
    sites = dict(
        db.session.execute(
            select(Site.id, Site.name).where(Site.id.in_({c.receiver_site_id for c in claims}))
        ).all()
    )
    items = {
        item.id: item.label
        for item in db.session.scalars(
            select(Item).where(Item.id.in_({c.receiver_item_id for c in claims}))
        )
    }
    gifts = {
        document_id: (gift_id, donor_id)
        for gift_id, donor_id, document_id in db.session.execute(
            select(InKindGift.id, InKindGift.donor_id, InKindGift.document_id).where(
                InKindGift.document_id.in_({c.intake_id for c in claims if c.intake_id})
            )
        )
    }
    names = organization_names(c.offer.giver_organization_id for c in claims)
    listed = []
    for claim in claims:
        gift_id, donor_id = gifts.get(claim.intake_id, (None, None))
        listed.append(
            OwnRequest(
                claim=claim,
                giver=names.get(claim.offer.giver_organization_id, "A former member"),
                offer_number=claim.offer.number,
                item_label=claim.offer.item_label,
                unit=claim.offer.unit,
                site_name=sites.get(claim.receiver_site_id, ""),
                item_name=items.get(claim.receiver_item_id, ""),
                in_kind_gift_id=gift_id,
                donor_id=donor_id,
            )
        )
    return listed
