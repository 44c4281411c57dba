"""Confirming a request: one transaction, two ledgers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    Donor,
    IntakeSource,
    Item,
    Organization,
    Recipient,
    RecipientKind,
    Site,
    StockDocument,
    SurplusClaim,
    SurplusClaimStatus,
    SurplusOffer,
    SurplusOfferStatus,
    User,
    utcnow,
)
from donations.services import donors, inventory
from donations.services.audit import record_audit
from donations.services.errors import DomainError, NotAllowed
from donations.services.surplus.common import (
    RECIPIENT_NAME_MAX,
    audit_as,
    check_giver,
    check_pending,
    decide,
    held_quantity,
    locked_claim,
    organization_name,
    own_row,
)
from donations.tenancy import use_organization


def confirm_claim(
    *, actor: User | None, claim_id: int | None, effective_date: date | None = None
) -> SurplusClaim:
    """Give what a member asked for: a distribution in our ledger to a partner agency named
    after the receiver, and an intake in the receiver's from a donor named after us.

    Both or neither: any refusal on either side rolls the whole transaction back.
    """
    claim, offer = locked_claim(claim_id)
    check_giver(offer)
    check_pending(claim, offer)
    receiver = db.session.get(Organization, claim.receiver_organization_id)
    receiver_name = organization_name(claim.receiver_organization_id)
    if receiver is None or receiver.archived_at is not None:
        raise NotAllowed(f"{receiver_name} has left the coalition; decline the request instead.")
    given = held_quantity(offer.id, (SurplusClaimStatus.CONFIRMED,))
    if given + claim.quantity > offer.quantity:  # pending requests never exceed the offer
        raise NotAllowed(f"Offer {offer.number} has only {offer.quantity - given} left to give.")
    day = effective_date or utcnow().date()
    reference = f"Surplus exchange {claim.number} (offer {offer.number})"
    partner = _partner_for(actor=actor, organization=receiver)
    distribution = inventory.record_distribution(
        actor=actor,
        site_id=offer.site_id,
        effective_date=day,
        lines=[inventory.Line(offer.item_id, claim.quantity)],
        recipient_id=partner.id,
        note=reference,
    )
    giver = db.session.get(Organization, offer.giver_organization_id)
    with use_organization(receiver.id):
        intake = _receive(
            actor=actor, claim=claim, offer=offer, giver=giver, day=day, note=reference
        )
    decide(
        claim,
        actor=actor,
        status=SurplusClaimStatus.CONFIRMED,
        distribution_id=distribution.id,
        intake_id=intake.id,
    )
    if given + claim.quantity == offer.quantity:
        offer.status = SurplusOfferStatus.CLOSED
        offer.closed_at = utcnow()
    db.session.flush()
    summary = f"{claim.number}: {claim.quantity} {offer.unit} of {offer.item_label}"
    record_audit(
        actor=actor,
        action="surplus.confirm",
        object_type="surplus_claim",
        object_id=claim.id,
        summary=f"{summary} given to {receiver_name} with {distribution.number}",
    )
    audit_as(
        receiver.id,
        actor=actor,
        action="surplus.received",
        claim=claim,
        summary=f"{summary} received from {organization_name(giver.id)} with {intake.number}",
    )
    return claim


def _partner_for(*, actor: User | None, organization: Organization) -> Recipient:
    """Our partner agency record for a member organisation: found by name, or added."""
    name = " ".join((organization.legal_name or organization.slug).split())[:RECIPIENT_NAME_MAX]
    found = db.session.scalar(
        select(Recipient).where(
            Recipient.kind == RecipientKind.PARTNER, func.lower(Recipient.name) == name.lower()
        )
    )
    if found is not None:
        if not found.active:
            raise NotAllowed(
                f"The partner agency {found.name} is archived: reopen it under Programs and "
                "partners to give to it."
            )
        return found
    # An organisation's legal name, not free text about a person: not screened.
    partner = Recipient(kind=RecipientKind.PARTNER, name=name, active=True)
    db.session.add(partner)
    db.session.flush()
    record_audit(
        actor=actor,
        action="recipient.create",
        object_type="recipient",
        object_id=partner.id,
        summary=f"Partner agency {name} added for the surplus exchange",
    )
    return partner


def _donor_for(*, actor: User | None, organization: Organization) -> Donor:
    """The current organisation's donor record for a member: found by name, or added."""
    name = organization.legal_name or organization.slug
    found = db.session.scalar(
        select(Donor)
        .where(
            Donor.is_organization.is_(True),
            Donor.merged_into_id.is_(None),
            func.lower(Donor.name) == name.lower(),
        )
        .order_by(Donor.id)
        .limit(1)
    )
    if found is not None:
        return found
    return donors.create_donor(
        actor=actor,
        name=name,
        is_organization=True,
        email=organization.email or None,
        address_line1=organization.address_line1,
        address_line2=organization.address_line2,
        city=organization.city,
        region=organization.region,
        postal_code=organization.postal_code,
        country=organization.country,
    )


def _receive(
    *,
    actor: User | None,
    claim: SurplusClaim,
    offer: SurplusOffer,
    giver: Organization,
    day: date,
    note: str,
) -> StockDocument:
    """As the receiver: the intake at its chosen site into its chosen item, from the giver.

    A refusal here names nothing of the receiver's (its site or item) to the giver.
    """
    receiver_name = organization_name(claim.receiver_organization_id)
    refused = NotAllowed(
        f"{receiver_name} can no longer take these goods in as it asked (its site or item "
        "has changed since). Ask it to cancel and request again, or decline the request."
    )
    site, item = own_row(Site, claim.receiver_site_id), own_row(Item, claim.receiver_item_id)
    if site is None or item is None or not site.active or not item.active:
        raise refused
    donor = _donor_for(actor=actor, organization=giver)
    try:
        return inventory.record_intake(
            actor=actor,
            site_id=site.id,
            effective_date=day,
            source=IntakeSource.DONOR.value,
            lines=[inventory.Line(item.id, claim.quantity, offer.condition)],
            donor_id=donor.id,
            currency=_currency(claim.receiver_organization_id),
            note=note,
        )
    except DomainError as error:
        raise refused from error


def _currency(organization_id: int) -> str:
    org = db.session.get(Organization, organization_id)
    return org.default_currency if org is not None else "USD"
