"""The public home page: the organisation's story, live campaigns, the most urgent needs,
and where to bring goods. A handful of small queries, nothing per visitor."""

from __future__ import annotations

from dataclasses import dataclass

from donations.models import Campaign, CampaignStatus
from donations.services import catalog, inventory
from donations.services.campaigns.progress import Progress, campaign_progress
from donations.services.campaigns.rules import accepts_gifts, list_campaigns
from donations.services.organization import DEFAULT_NAME, get_organization

CAMPAIGNS_SHOWN = 3
NEEDS_SHOWN = 3


@dataclass(frozen=True)
class CampaignCard:
    campaign: Campaign
    progress: Progress


@dataclass(frozen=True)
class DropOff:
    """A public drop-off point as a donor may see it (never a confidential site)."""

    name: str
    address: tuple[str, ...]
    hours: str


@dataclass(frozen=True)
class FrontDoor:
    name: str
    story: tuple[str, ...]  # paragraphs
    campaigns: tuple[CampaignCard, ...]
    needs: tuple[inventory.Need, ...]
    dropoffs: tuple[DropOff, ...]


def story_paragraphs(text: str) -> tuple[str, ...]:
    """Split plain text into paragraphs at blank lines."""
    parts = (" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n"))
    return tuple(p for p in parts if p)


def most_urgent_needs(limit: int = NEEDS_SHOWN) -> tuple[inventory.Need, ...]:
    """The needs the home page leads with: urgent first, then pinned, then the rest, each
    in the catalog's order."""
    needs = sorted(inventory.public_needs(), key=lambda n: (not n.urgent, not n.pinned))
    return tuple(needs[:limit])


def public_dropoffs() -> tuple[DropOff, ...]:
    """Open public drop-off points with their address and hours; a confidential site is
    left out (the database refuses a confidential drop-off point; this checks again)."""
    return tuple(
        DropOff(site.name, tuple(site.public_address_lines), site.public_hours)
        for site in catalog.dropoff_points()
        if not site.is_confidential
    )


def front_door() -> FrontDoor:
    """Everything the public home page shows."""
    org = get_organization()
    live = [c for c in list_campaigns(statuses=(CampaignStatus.LIVE,)) if accepts_gifts(c)]
    return FrontDoor(
        name=(org.legal_name if org is not None else "") or DEFAULT_NAME,
        story=story_paragraphs(org.public_story if org is not None else ""),
        campaigns=tuple(CampaignCard(c, campaign_progress(c)) for c in live[:CAMPAIGNS_SHOWN]),
        needs=most_urgent_needs(),
        dropoffs=public_dropoffs(),
    )
