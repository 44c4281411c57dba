"""What the donation pages share beside their views: the messages a donor may see when the
payment processor fails, and which campaign and supporter's page a donation belongs to."""

from __future__ import annotations

from flask import url_for

from donations.blueprints.give_controls import blank_values
from donations.extensions import db
from donations.models import Campaign, Gift, SupporterPage
from donations.services import giving

GATEWAY_TROUBLE = (
    "We could not reach our payment processor. Nothing has been charged. "
    "Please try again in a moment."
)
PORTAL_TROUBLE = (
    "We could not reach our payment processor to open your monthly gift. "
    "Please try again in a moment."
)
NO_PAYMENT_PAGE = (
    "Our payment processor did not give us a secure payment page for your gift. "
    "Nothing has been charged, and your gift is kept as not yet paid. "
    "Please try again in a few minutes."
)
ATTEMPT_CLOSED = (
    "Your earlier payment was not completed, so nothing was charged. "
    "Check your gift below and continue when you are ready."
)
DEFAULT_IMPACT = (
    "Your gift gives survivors of human trafficking a safe bed tonight, and the care, "
    "legal help and training that lead to a life of their own."
)


def campaign_of(donation: giving.Donation) -> Campaign | None:
    return db.session.get(Campaign, donation.campaign_id) if donation.campaign_id else None


def page_of(donation: giving.Donation) -> SupporterPage | None:
    """The supporter's page the donation was given on, while the public may see it."""
    if not donation.supporter_page_id:
        return None
    page = db.session.get(SupporterPage, donation.supporter_page_id)
    return page if page is not None and page.is_public else None


def edit_url(campaign: Campaign | None, page: SupporterPage | None) -> str | None:
    if campaign is not None and page is not None:
        return url_for("give.supporter_page", slug=campaign.slug, page_slug=page.slug)
    return url_for("give.campaign", slug=campaign.slug) if campaign else None


def cover_of(gift: Gift) -> giving.FeeCover:
    return giving.FeeCover(
        gift_cents=gift.amount_cents - gift.covered_fee_cents,
        total_cents=gift.amount_cents,
        covered_cents=gift.covered_fee_cents,
    )


def campaign_values(page: giving.DonationPage, campaign: Campaign) -> dict:
    """A campaign's blank form's values: the campaign's default fund chosen."""
    values = blank_values(page)
    if campaign.default_fund_id in {fund.id for fund in page.funds}:
        values["fund"] = str(campaign.default_fund_id)
    return values
