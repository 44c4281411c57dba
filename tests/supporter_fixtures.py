"""Shared makings of the supporter page tests (tests/test_supporter_pages*.py, test_access)."""

from __future__ import annotations

from typing import Any

from campaign_fixtures import make_campaign, picture
from sqlalchemy import select

from donations.extensions import db
from donations.models import Campaign, OutboxMessage, SupporterPage
from donations.services import campaigns


def mails(kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if to:
        query = query.where(OutboxMessage.to_addr == to)
    return list(db.session.scalars(query))


def make_page(
    campaign: Campaign,
    *,
    name: str = "Sam Ortiz",
    email: str = "sam@example.org",
    title: str = "Sam runs for safe beds",
    goal_cents: int = 50_000,
    story: str = "I am running 10 km.",
    approve: bool = True,
    photo: bytes | None = None,
) -> SupporterPage:
    """A page, its email confirmed and (unless ``approve`` is False) approved; committed."""
    page = campaigns.start_page(
        campaign=campaign,
        supporter=campaigns.Supporter(name=name, email=email),
        values=campaigns.PageValues(title=title, goal_cents=goal_cents, story=story),
        photo=photo,
    )
    campaigns.confirm_page_email(page=page)
    if approve:
        campaigns.decide_page(actor=None, page=page, action="approve")
    db.session.commit()
    return page


def supporter_objects() -> dict[str, Any]:
    """A live campaign with an approved page with a photo: what tests/test_access.py names."""
    campaign = make_campaign(name="Page appeal", slug="page-appeal")
    page = make_page(campaign, photo=picture())
    return {
        "page_campaign_slug": campaign.slug,
        "page_slug": page.slug,
        "page_id": page.id,
        "page_link": campaigns.dashboard_token(page),
        "page_confirm_link": campaigns.supporter_links.confirm_token(page),
    }
