"""What the surplus exchange's modules share: the lock, the checks, and which side the
current organisation is on."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    Organization,
    Recipient,
    SurplusClaim,
    SurplusClaimStatus,
    SurplusOffer,
    SurplusOfferStatus,
    User,
    utcnow,
)
from donations.services import inventory
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.locking import serialize_writes
from donations.services.partner_requests import check_request_text
from donations.tenancy import current_organization_id, use_organization

LOCK_NAME = "surplus"
NOTE_MAX_LENGTH: int = SurplusOffer.__table__.c.note.type.length
REASON_MAX_LENGTH: int = SurplusClaim.__table__.c.reason.type.length
QUANTITY_MAX = inventory.QUANTITY_MAX
LISTED_MAX = 200  # offers or requests listed at once
RECIPIENT_NAME_MAX: int = Recipient.__table__.c.name.type.length
# Requests that hold part of an offer: waiting for the giver, or given.
HOLDING = (SurplusClaimStatus.PENDING, SurplusClaimStatus.CONFIRMED)


def organization_name(organization_id: int) -> str:
    """The name a member is known by to the others: its legal name (its slug if blank)."""
    org = db.session.get(Organization, organization_id)
    if org is None:
        return "A former member"
    return org.legal_name or org.slug


def check_member() -> None:
    """The current organisation must have its profile: the other members know it by name."""
    org = db.session.get(Organization, current_organization_id())
    if org is None or not org.legal_name:
        raise NotAllowed(
            "Fill in the organisation's profile (its legal name) under Admin first: the "
            "other members know us by it."
        )


def organization_names(organization_ids: Iterable[int]) -> dict[int, str]:
    ids = set(organization_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Organization.id, Organization.legal_name, Organization.slug).where(
            Organization.id.in_(ids)
        )
    )
    return {org_id: legal or slug for org_id, legal, slug in rows}


def own_row(model: type, row_id: int | None):
    """A row of ``model`` (Site, Item) of the current organisation, or None.

    ``session.get`` may answer from the identity map without the organisation's criteria,
    so the organisation is checked here too.
    """
    found = db.session.get(model, row_id) if row_id else None
    if found is None or found.organization_id != current_organization_id():
        return None
    return found


def held_quantity(offer_id: int, statuses: Iterable[SurplusClaimStatus] = HOLDING) -> int:
    """How many of an offer are asked for by requests in ``statuses``."""
    return db.session.scalar(
        select(func.coalesce(func.sum(SurplusClaim.quantity), 0)).where(
            SurplusClaim.offer_id == offer_id, SurplusClaim.status.in_(list(statuses))
        )
    )


def check_quantity(quantity: int | None, *, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput("Enter a whole number above zero.", field=field)
    if quantity > QUANTITY_MAX:
        raise InvalidInput(f"At most {QUANTITY_MAX:,} at once.", field=field)
    return quantity


def check_text(text: str, *, field: str, max_length: int, label: str) -> str:
    """Screened like a partner's note: the other member reads it."""
    return check_request_text(text or "", field=field, max_length=max_length, label=label)


def locked_offer(offer_id: int | None) -> SurplusOffer:
    """The offer, read after taking the write lock, so two changes cannot both land."""
    serialize_writes(LOCK_NAME)
    offer = (
        db.session.scalar(
            select(SurplusOffer)
            .where(SurplusOffer.id == offer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if offer_id
        else None
    )
    if offer is None:
        raise NotFound("There is no such offer.")
    return offer


def locked_claim(claim_id: int | None) -> tuple[SurplusClaim, SurplusOffer]:
    """The request and its offer, both locked (the offer first, as everywhere)."""
    found = db.session.get(SurplusClaim, claim_id) if claim_id else None
    if found is None:
        raise NotFound("There is no such request.")
    offer = locked_offer(found.offer_id)
    claim = db.session.scalar(
        select(SurplusClaim)
        .where(SurplusClaim.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return claim, offer


def check_giver(offer: SurplusOffer) -> None:
    if offer.giver_organization_id != current_organization_id():
        raise NotFound("There is no such offer.")


def check_receiver(claim: SurplusClaim) -> None:
    if claim.receiver_organization_id != current_organization_id():
        raise NotFound("There is no such request.")


def check_pending(claim: SurplusClaim, offer: SurplusOffer) -> None:
    if claim.status == SurplusClaimStatus.PENDING:
        return
    if claim.status == SurplusClaimStatus.CONFIRMED:
        raise NotAllowed(f"Request {claim.number} was already confirmed; the goods moved once.")
    if claim.status == SurplusClaimStatus.DECLINED:
        raise NotAllowed(f"Request {claim.number} was declined; nothing was given.")
    if offer.status == SurplusOfferStatus.WITHDRAWN:
        raise NotAllowed(
            f"Offer {offer.number} was withdrawn, so request {claim.number} was cancelled; "
            "nothing was given."
        )
    raise NotAllowed(f"Request {claim.number} was cancelled; nothing was given.")


def decide(claim: SurplusClaim, *, actor: User | None, status: SurplusClaimStatus, **fields):
    claim.status = status
    for name, value in fields.items():
        setattr(claim, name, value)
    claim.decided_at = utcnow()
    claim.decided_by_id = actor.id if actor is not None else None


def audit_as(organization_id: int, *, actor: User | None, action: str, claim, summary: str):
    """Record one side's audit event in that organisation's log."""
    with use_organization(organization_id):
        record_audit(
            actor=actor,
            action=action,
            object_type="surplus_claim",
            object_id=claim.id,
            summary=summary,
        )


def check_requestable(offer: SurplusOffer) -> None:
    if offer.giver_organization_id == current_organization_id():
        raise NotAllowed(f"Offer {offer.number} is your own: other members request it.")
    giver = db.session.get(Organization, offer.giver_organization_id)
    name = organization_name(offer.giver_organization_id)
    if giver is None or giver.archived_at is not None:
        raise NotAllowed(f"{name} has left the coalition; its offers are closed.")
    if offer.status == SurplusOfferStatus.WITHDRAWN:
        raise NotAllowed(f"{name} withdrew offer {offer.number}; it can no longer be requested.")
    if offer.status == SurplusOfferStatus.CLOSED:
        raise NotAllowed(f"Offer {offer.number} was given in full; nothing is left of it.")
