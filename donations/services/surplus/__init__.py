"""Surplus exchange: a member offers goods it has too many of, another member asks for some,
and once the giver confirms, one transaction moves them through both ledgers.

The giver records a distribution from the offer's site to a partner agency named after the
receiving organisation; then, as the receiver (``use_organization``), an intake at the site
the receiver chose, into the item it chose, from a donor of kind organisation named after
the giver, so the goods are also an in-kind gift in the receiver's books (acknowledged in
writing through the usual in-kind acknowledgement). The request links both documents.

Offers and requests span organisations on purpose (``SurplusOffer`` and ``SurplusClaim``
are not organisation-scoped), so every function here checks which side the current
organisation is on, and what it returns of the other side is only names, item labels,
units and the quantities offered or asked for: never a site, an item record or a quantity
on hand. Services flush only; the view commits once.

Split by concern: ``common`` (lock, checks, sides), ``queries`` (reading), ``exchange``
(offering, withdrawing, requesting, cancelling, declining) and ``transfer`` (confirming).
Callers use ``from donations.services import surplus`` and the names re-exported here.
"""

from __future__ import annotations

from donations.services.surplus.common import (
    NOTE_MAX_LENGTH,
    QUANTITY_MAX,
    REASON_MAX_LENGTH,
    organization_name,
)
from donations.services.surplus.exchange import (
    Withdrawn,
    cancel_claim,
    decline_claim,
    offer_surplus,
    request_surplus,
    withdraw_offer,
)
from donations.services.surplus.queries import (
    IncomingRequest,
    MemberOffer,
    OwnOffer,
    OwnRequest,
    offer_for_members,
    open_offers_for_members,
    own_offers,
    own_requests,
)
from donations.services.surplus.transfer import confirm_claim

__all__ = [
    "NOTE_MAX_LENGTH",
    "QUANTITY_MAX",
    "REASON_MAX_LENGTH",
    "IncomingRequest",
    "MemberOffer",
    "OwnOffer",
    "OwnRequest",
    "Withdrawn",
    "cancel_claim",
    "confirm_claim",
    "decline_claim",
    "offer_for_members",
    "offer_surplus",
    "open_offers_for_members",
    "organization_name",
    "own_offers",
    "own_requests",
    "request_surplus",
    "withdraw_offer",
]
