"""What the members of a coalition share in public: each one's needs, never a quantity,
a site or anything of its donors.

Each member's needs are read *as that member* (``use_organization``), by the same rules
as its own "What we need now" page, so nothing here reads across organisations.
"""

from __future__ import annotations

from dataclasses import dataclass

from donations.services import catalog, inventory
from donations.services.links import absolute_url
from donations.services.organizations import list_organizations
from donations.tenancy import use_organization


@dataclass(frozen=True)
class MemberNeeds:
    """One member on the coalition's needs board."""

    name: str
    urgent: tuple[str, ...]  # item labels, in the member's catalog order
    needed: tuple[str, ...]
    needs_url: str  # the member's own "What we need now" page
    pledge_url: str | None  # its pledge form; None while it has no open drop-off point


def coalition_needs() -> list[MemberNeeds]:
    """Every open member with something needed now, in the order they joined."""
    board: list[MemberNeeds] = []
    for member in list_organizations(include_archived=False):
        with use_organization(member.id):
            needs = inventory.public_needs()
            if not needs:
                continue
            takes_goods = bool(catalog.dropoff_points())
            board.append(
                MemberNeeds(
                    name=member.legal_name,
                    urgent=tuple(need.label for need in needs if need.urgent),
                    needed=tuple(need.label for need in needs if not need.urgent),
                    needs_url=absolute_url("needs.index"),
                    pledge_url=absolute_url("needs.pledge") if takes_goods else None,
                )
            )
    return board
