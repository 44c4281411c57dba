"""Shared makings of the campaign tests: a campaign, and paid gifts tagged with it."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from donations.extensions import db
from donations.models import Campaign, CampaignStatus, Fund, Gift, GiftStatus, utcnow
from donations.services import campaigns
from donations.services import gifts as gift_service


def make_campaign(
    *, name: str = "Winter coats", slug: str = "winter-coats", live: bool = True, **values: Any
) -> Campaign:
    values.setdefault("starts_on", utcnow().date() - timedelta(days=5))
    campaign = campaigns.create_campaign(
        actor=None, values=campaigns.CampaignValues(name=name, slug=slug, **values)
    )
    if live:
        campaigns.set_campaign_status(actor=None, campaign=campaign, status=CampaignStatus.LIVE)
    db.session.commit()
    return campaign


def offline_gift(
    donor_id: int,
    fund_id: int,
    amount_cents: int,
    *,
    campaign_id: int | None,
    received_on: date | None = None,
) -> Gift:
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor_id,
        fund_id=fund_id,
        method="cash",
        amount_cents=amount_cents,
        currency="USD",
        received_on=received_on or utcnow().date(),
        campaign_id=campaign_id,
    )
    db.session.commit()
    return gift


def online_gift(donor_id: int, fund_id: int, amount_cents: int, **fields: Any) -> Gift:
    """A paid online gift as Stripe's events leave it (refunds set directly)."""
    gift = Gift(
        donor_id=donor_id,
        fund_id=fund_id,
        source="online",
        method="card",
        status=fields.pop("status", GiftStatus.PAID),
        currency="USD",
        amount_cents=amount_cents,
        **fields,
    )
    db.session.add(gift)
    db.session.commit()
    return gift


@pytest.fixture
def fund(app, organization) -> Fund:
    general = Fund(name="General")
    coats = Fund(name="Winter appeal", is_restricted=True, sort_order=1)
    db.session.add_all([general, coats])
    db.session.commit()
    return general


@pytest.fixture
def appeal_fund(fund) -> Fund:
    return db.session.scalar(select(Fund).where(Fund.name == "Winter appeal"))


def picture(size: tuple[int, int] = (8, 8), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


def campaign_objects() -> dict[str, Any]:
    """A live campaign with an image: what tests/test_access.py's paths name."""
    campaign = make_campaign(name="Access appeal", slug="access-appeal")
    campaigns.set_campaign_image(actor=None, campaign=campaign, data=picture())
    db.session.commit()
    return {"campaign_slug": campaign.slug, "campaign_id": campaign.id}
