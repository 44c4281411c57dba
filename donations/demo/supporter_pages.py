"""The demo's supporters' pages: two approved pages under the live year-end appeal, each
with a few gifts paid through the test checkout (as a donor on the page would), so the
pages, the appeal and the campaign report agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from donations.demo.year import Year
from donations.extensions import db
from donations.models import Campaign, User
from donations.services import campaigns

# (supporter, email, title, goal in cents, story)
DEMO_PAGES = (
    (
        "Maya Torres",
        "maya.torres@example.com",
        "Maya runs 10 km for safe beds",
        100_000,
        "I am running my first 10 km race this winter.\n\n"
        "Every kilometre is for someone who needs a safe bed tonight.",
    ),
    (
        "Leo Brandt",
        "leo.brandt@example.net",
        "Leo's birthday fundraiser",
        50_000,
        "Instead of presents this year, I am asking friends to help the shelter.",
    ),
)
# Per page: (donor, dollars, anonymous, shares the amount). The gifts come in within the
# last half hour, after the rest of the demo's year and before this week's corrections, so
# that receipt numbers keep following the order of issue.
DEMO_PAGE_GIFTS = (
    (
        ("Priya Raman", 75, False, True),
        ("Mei Chen", 40, False, False),
        ("Daniel O'Connor", 25, True, False),
    ),
    (
        ("Fatima Haddad", 60, False, True),
        ("Olivia Park", 30, False, False),
    ),
)


def load_demo_supporter_pages(year: Year, actor: User | None) -> None:
    """Add the two pages, approved by ``actor``, and pay their gifts (in test mode)."""
    appeal = db.session.scalar(select(Campaign).where(Campaign.slug.like("year-end-%")))
    if appeal is None:
        return
    now = datetime.now(UTC)
    minutes = 30
    for (name, email, title, goal, story), gifts in zip(DEMO_PAGES, DEMO_PAGE_GIFTS, strict=True):
        page = campaigns.start_page(
            campaign=appeal,
            supporter=campaigns.Supporter(name=name, email=email),
            values=campaigns.PageValues(title=title, goal_cents=goal, story=story),
        )
        campaigns.confirm_page_email(page=page)
        campaigns.decide_page(actor=actor, page=page, action="approve")
        if not year.online:  # gifts online need the test-mode checkout
            continue
        for donor, dollars, anonymous, shares in gifts:
            minutes -= 1
            year.checkout(
                now - timedelta(minutes=minutes),
                donor,
                dollars,
                0,
                cover=False,
                campaign_id=appeal.id,
                supporter_page_id=page.id,
                shares_amount=shares,
                is_anonymous=anonymous,
            )
    year.clock.set(now)
    db.session.flush()
