"""Campaigns: making and changing them, their goods goals, and whether one takes gifts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from donations.extensions import db
from donations.models import (
    Campaign,
    CampaignGoodsGoal,
    CampaignStatus,
    Fund,
    Item,
    User,
    utcnow,
)
from donations.services.audit import describe_changes, record_audit, snapshot
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.org_slugs import SLUG_RE, slugify
from donations.services.organization import get_organization

NAME_MAX_LENGTH: int = Campaign.__table__.c.name.type.length
STORY_MAX_LENGTH = 5000  # a Text column; this is the policy limit
GOAL_CENTS_MAX = 2**31 - 1  # an INTEGER column
GOODS_GOALS_MAX = 30
GOODS_QUANTITY_MAX = 1_000_000
SLUG_RULE = (
    "Use 2 to 60 lower-case letters, digits and hyphens, starting and ending with a "
    "letter or digit, e.g. winter-coats-2026."
)
# Addresses under /give/ that are the donation page's own steps, never a campaign's.
RESERVED_SLUGS = frozenset(
    {"checkout", "thanks", "cancelled", "manage", "test-checkout", "test-portal"}
)
CAMPAIGN_FIELDS = (
    "name",
    "slug",
    "starts_on",
    "ends_on",
    "goal_cents",
    "default_fund_id",
    "story",
)


class CampaignNotOpen(InvalidInput):
    """A gift or pledge names a campaign that is a draft, closed or past its end date."""


@dataclass(frozen=True)
class CampaignValues:
    """What an admin typed for a campaign, already parsed by its form."""

    name: str
    slug: str
    starts_on: date | None
    ends_on: date | None = None
    goal_cents: int | None = None
    default_fund_id: int | None = None
    story: str = ""


def today() -> date:
    return utcnow().date()


def accepts_gifts(campaign: Campaign, *, on: date | None = None) -> bool:
    """Whether the campaign takes gifts today: live, started, and not past its end."""
    day = on or today()
    if campaign.status != CampaignStatus.LIVE or day < campaign.starts_on:
        return False
    return campaign.ends_on is None or day <= campaign.ends_on


def is_over(campaign: Campaign, *, on: date | None = None) -> bool:
    """Whether the campaign is over: closed, or past its end date."""
    day = on or today()
    if campaign.status == CampaignStatus.CLOSED:
        return True
    return campaign.ends_on is not None and day > campaign.ends_on


def open_campaign(campaign_id: int | None) -> Campaign | None:
    """Return the campaign a gift names, or None for none; raise CampaignNotOpen when it
    does not take gifts (a draft, closed, not started or past its end)."""
    if campaign_id is None:
        return None
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not accepts_gifts(campaign):
        raise CampaignNotOpen(
            "This campaign is not taking gifts now. Nothing has been charged: "
            "you can still give to our general fund.",
            field="campaign",
        )
    return campaign


def recorded_campaign(campaign_id: int | None) -> int | None:
    """Check the campaign staff tag a gift or intake with: any but a draft (late cheques
    and goods still count for a closed campaign). Return its id or None."""
    if campaign_id is None:
        return None
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        raise InvalidInput("Choose a campaign from the list.", field="campaign_id")
    return campaign.id


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("There is no such campaign.")
    return campaign


def campaign_by_slug(slug: str) -> Campaign | None:
    """The current organisation's campaign with this slug (another's is not seen)."""
    return db.session.scalar(select(Campaign).where(Campaign.slug == slug.lower()))


def list_campaigns(*, statuses: Iterable[CampaignStatus] | None = None) -> list[Campaign]:
    """Every campaign (or those in ``statuses``), newest start first."""
    query = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    if statuses is not None:
        query = query.where(Campaign.status.in_([s.value for s in statuses]))
    return list(db.session.scalars(query))


def public_campaigns() -> list[Campaign]:
    """The campaigns the public list shows: live and closed ones, never drafts."""
    return list_campaigns(statuses=(CampaignStatus.LIVE, CampaignStatus.CLOSED))


def _check_slug(slug: str, name: str, campaign: Campaign | None) -> str:
    slug = slug.strip().lower() or slugify(name)
    if not SLUG_RE.match(slug):
        raise InvalidInput(SLUG_RULE, field="slug")
    if slug in RESERVED_SLUGS:
        raise InvalidInput(f"The address {slug!r} is kept for the donation page.", field="slug")
    same = select(Campaign.id).where(Campaign.slug == slug)
    if campaign is not None and campaign.id is not None:
        same = same.where(Campaign.id != campaign.id)
    if db.session.scalar(same.limit(1)) is not None:
        raise InvalidInput(f"Another campaign already uses the address {slug!r}.", field="slug")
    return slug


def _checked(values: CampaignValues, campaign: Campaign | None) -> dict:
    name = " ".join(values.name.split())
    if not name:
        raise InvalidInput("Enter the campaign's name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Use at most {NAME_MAX_LENGTH} characters.", field="name")
    slug = _check_slug(values.slug, name, campaign)
    if values.starts_on is None:
        raise InvalidInput("Enter the day the campaign starts.", field="starts_on")
    if values.ends_on is not None and values.ends_on < values.starts_on:
        raise InvalidInput("The end date must be on or after the start date.", field="ends_on")
    goal = values.goal_cents
    if goal is not None and (isinstance(goal, bool) or not 0 < goal <= GOAL_CENTS_MAX):
        raise InvalidInput("Enter a goal greater than zero, or leave it empty.", field="goal")
    fund_id = values.default_fund_id
    if fund_id is not None:
        fund = db.session.get(Fund, fund_id)
        if fund is None or not fund.active:
            raise InvalidInput("Choose one of the active funds.", field="default_fund_id")
    story = values.story.replace("\r\n", "\n").strip()
    if len(story) > STORY_MAX_LENGTH:
        raise InvalidInput(f"Use at most {STORY_MAX_LENGTH:,} characters.", field="story")
    return {
        "name": name,
        "slug": slug,
        "starts_on": values.starts_on,
        "ends_on": values.ends_on,
        "goal_cents": goal,
        "default_fund_id": fund_id,
        "story": story,
    }


def create_campaign(*, actor: User | None, values: CampaignValues) -> Campaign:
    """Add a campaign as a draft: not public, taking no gifts until it is opened."""
    checked = _checked(values, None)
    org = get_organization()
    campaign = Campaign(
        **checked,
        status=CampaignStatus.DRAFT,
        currency=org.default_currency if org else "USD",
    )
    db.session.add(campaign)
    db.session.flush()
    record_audit(
        actor=actor,
        action="campaign.create",
        object_type="campaign",
        object_id=campaign.id,
        summary=f"created campaign {campaign.name} at /give/{campaign.slug}",
    )
    return campaign


def update_campaign(*, actor: User | None, campaign: Campaign, values: CampaignValues) -> Campaign:
    """Change a campaign's name, address, dates, goal, default fund or story."""
    checked = _checked(values, campaign)
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    for name, value in checked.items():
        setattr(campaign, name, value)
    changes = describe_changes(before, snapshot(campaign, CAMPAIGN_FIELDS))
    if changes:
        db.session.flush()
        record_audit(
            actor=actor,
            action="campaign.update",
            object_type="campaign",
            object_id=campaign.id,
            summary=changes,
        )
    return campaign


def set_campaign_status(
    *, actor: User | None, campaign: Campaign, status: CampaignStatus
) -> Campaign:
    """Open a draft or closed campaign (live), or close a live one."""
    status = CampaignStatus(status)
    current = CampaignStatus(campaign.status)
    if status == current:
        raise NotAllowed(f"The campaign is already {status.value}.")
    if status == CampaignStatus.DRAFT:
        raise NotAllowed("A campaign that was opened cannot go back to being a draft.")
    if status == CampaignStatus.CLOSED and current != CampaignStatus.LIVE:
        raise NotAllowed("Only a live campaign can be closed.")
    ended = campaign.ends_on is not None and campaign.ends_on < today()
    if status == CampaignStatus.LIVE and ended:
        raise NotAllowed(
            "The campaign's end date has passed: move it later before opening the campaign."
        )
    campaign.status = status
    db.session.flush()
    record_audit(
        actor=actor,
        action=f"campaign.{'open' if status == CampaignStatus.LIVE else 'close'}",
        object_type="campaign",
        object_id=campaign.id,
        summary=f"{current.value} -> {status.value}",
    )
    return campaign


def set_goods_goals(
    *, actor: User | None, campaign: Campaign, goals: Iterable[tuple[int, int]]
) -> Campaign:
    """Replace the campaign's goods goals with ``goals`` (item id, quantity) pairs."""
    wanted: dict[int, int] = {}
    for item_id, quantity in goals:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInput("Quantities are whole numbers.", field="goals")
        if not 0 < quantity <= GOODS_QUANTITY_MAX:
            raise InvalidInput(
                f"Each quantity must be from 1 to {GOODS_QUANTITY_MAX:,}.", field="goals"
            )
        if item_id in wanted:
            raise InvalidInput("Name each item once.", field="goals")
        wanted[item_id] = quantity
    if len(wanted) > GOODS_GOALS_MAX:
        raise InvalidInput(f"Set at most {GOODS_GOALS_MAX} goods goals.", field="goals")
    items = {
        item.id: item
        for item in db.session.scalars(
            select(Item).where(Item.id.in_(list(wanted)), Item.active.is_(True))
        )
    }
    if set(items) != set(wanted):
        raise InvalidInput("Choose items from the catalogue.", field="goals")
    existing = {goal.item_id: goal for goal in campaign.goods_goals}
    for item_id, goal in existing.items():
        if item_id not in wanted:
            campaign.goods_goals.remove(goal)
    for item_id, quantity in wanted.items():
        if item_id in existing:
            existing[item_id].quantity = quantity
        else:
            campaign.goods_goals.append(CampaignGoodsGoal(item_id=item_id, quantity=quantity))
    db.session.flush()
    record_audit(
        actor=actor,
        action="campaign.goods_goals",
        object_type="campaign",
        object_id=campaign.id,
        summary=", ".join(f"{q} x {items[i].label}" for i, q in wanted.items()) or "none",
    )
    return campaign
