"""The demo's campaigns: a live year-end appeal with a money goal and a few cheques
already in, and a live hygiene-kit drive with goods goals and one drive intake."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from donations.extensions import db
from donations.models import CampaignStatus, Donor, Fund, Item, Site, User, utcnow
from donations.services import campaigns, inventory
from donations.services import gifts as gift_service

YEAR_END = "Year-end appeal"
KIT_DRIVE = "Hygiene kit drive"
YEAR_END_STORY = (
    "Every night this winter, someone leaving exploitation needs a safe bed, a warm meal "
    "and a caseworker who stays.\n\n"
    "Your year-end gift keeps our shelter houses open through the coldest months."
)
KIT_STORY = (
    "A hygiene kit is often the first thing a woman owns again after she arrives with "
    "nothing.\n\nBring toothbrushes, toothpaste and soap to our downtown drop-off point."
)
# (item code, goal) of the kit drive, and what its first drive intake brought.
KIT_GOALS = (("TOOTHBRUSH", 150), ("TOOTHPASTE", 150), ("SOAP", 200))
KIT_FIRST_INTAKE = {"TOOTHBRUSH": 40, "TOOTHPASTE": 24, "SOAP": 60}
# (donor name, amount in cents) of cheques already given to the appeal.
YEAR_END_CHEQUES = (("Eleanor Whitfield", 50_000), ("Grace Community Church", 250_000))


def load_demo_campaigns(actor: User | None) -> None:
    """Add the two live campaigns of the first organisation, with what came in so far."""
    today = utcnow().date()
    general = db.session.scalar(select(Fund).order_by(Fund.sort_order, Fund.id))
    appeal = campaigns.create_campaign(
        actor=actor,
        values=campaigns.CampaignValues(
            name=YEAR_END,
            slug=f"year-end-{today.year}",
            starts_on=today - timedelta(days=20),
            ends_on=today + timedelta(days=40),
            goal_cents=2_500_000,
            default_fund_id=general.id if general else None,
            story=YEAR_END_STORY,
        ),
    )
    campaigns.set_campaign_status(actor=actor, campaign=appeal, status=CampaignStatus.LIVE)
    drive = campaigns.create_campaign(
        actor=actor,
        values=campaigns.CampaignValues(
            name=KIT_DRIVE,
            slug="hygiene-kits",
            starts_on=today - timedelta(days=10),
            ends_on=today + timedelta(days=50),
            story=KIT_STORY,
        ),
    )
    items = {i.code: i for i in db.session.scalars(select(Item))}
    campaigns.set_goods_goals(
        actor=actor,
        campaign=drive,
        goals=[(items[code].id, goal) for code, goal in KIT_GOALS if code in items],
    )
    campaigns.set_campaign_status(actor=actor, campaign=drive, status=CampaignStatus.LIVE)
    db.session.flush()
    for name, cents in YEAR_END_CHEQUES:
        donor = db.session.scalar(select(Donor).where(Donor.name == name))
        if donor is None or general is None:
            continue
        gift_service.record_offline_gift(
            actor=actor,
            donor_id=donor.id,
            fund_id=general.id,
            method="cheque",
            amount_cents=cents,
            currency="USD",
            received_on=today - timedelta(days=5),
            cheque_number="4410" if cents > 100_000 else "1187",
            campaign_id=appeal.id,
        )
    dropoff = db.session.scalar(
        select(Site).where(Site.is_confidential.is_(False), Site.kind == "dropoff")
    )
    if dropoff is not None:
        inventory.record_intake(
            actor=actor,
            site_id=dropoff.id,
            effective_date=today - timedelta(days=3),
            source="drive",
            drive_name=KIT_DRIVE,
            lines=[
                inventory.Line(items[code].id, quantity, "new")
                for code, quantity in KIT_FIRST_INTAKE.items()
                if code in items
            ],
            campaign_id=drive.id,
        )
    db.session.flush()
