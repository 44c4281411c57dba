"""Campaigns: their rules, refused input, progress from the gifts and intakes tagged with
them, and the campaign report's figures (migration 0031, services/campaigns/)."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from campaign_fixtures import appeal_fund, fund, make_campaign, offline_gift, online_gift
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Campaign, CampaignStatus, Frequency, Gift, OrgScoped, utcnow
from donations.services import campaigns, inventory, organizations
from donations.services import gifts as gift_service
from donations.services.errors import DomainError, InvalidInput, NotAllowed
from donations.tenancy import use_organization

__all__ = ["appeal_fund", "fund"]  # fixtures

TODAY = utcnow().date()


def _values(**overrides) -> campaigns.CampaignValues:
    values = {"name": "Winter coats", "slug": "winter-coats", "starts_on": TODAY}
    values.update(overrides)
    return campaigns.CampaignValues(**values)


def _campaign_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"goal_cents": 0}, "goal"),
        ({"goal_cents": -500}, "goal"),
        ({"ends_on": TODAY - timedelta(days=1)}, "ends_on"),
        ({"slug": "Not A Slug!"}, "slug"),
        ({"slug": "checkout"}, "slug"),
        ({"name": "   "}, "name"),
        ({"starts_on": None}, "starts_on"),
        ({"default_fund_id": 999_999}, "default_fund_id"),
        ({"story": "x" * (campaigns.STORY_MAX_LENGTH + 1)}, "story"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(fund, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        campaigns.create_campaign(actor=None, values=_values(**overrides))
    db.session.rollback()
    assert refused.value.field == field
    assert _campaign_count() == 0


def test_a_slug_is_unique_per_organisation_only(fund):
    make_campaign()
    with pytest.raises(InvalidInput, match="already uses") as refused:
        campaigns.create_campaign(actor=None, values=_values(name="Other"))
    assert refused.value.field == "slug"
    db.session.rollback()
    other = organizations.create_organization(actor=None, slug="north", legal_name="North")
    db.session.commit()
    with use_organization(other.id):
        theirs = campaigns.create_campaign(actor=None, values=_values())
    db.session.commit()
    assert theirs.slug == "winter-coats" and theirs.organization_id == other.id
    # Each organisation sees only its own under that slug.
    assert campaigns.campaign_by_slug("winter-coats").organization_id != other.id
    with use_organization(other.id):
        assert campaigns.campaign_by_slug("winter-coats").id == theirs.id


def test_an_empty_slug_is_made_from_the_name(fund):
    made = campaigns.create_campaign(actor=None, values=_values(name="Coats & Boots", slug=""))
    assert made.slug == "coats-boots"
    assert made.status == CampaignStatus.DRAFT


def test_status_changes(fund):
    campaign = make_campaign(live=False)
    assert not campaigns.accepts_gifts(campaign)
    with pytest.raises(NotAllowed):
        campaigns.set_campaign_status(actor=None, campaign=campaign, status=CampaignStatus.CLOSED)
    campaigns.set_campaign_status(actor=None, campaign=campaign, status=CampaignStatus.LIVE)
    assert campaigns.accepts_gifts(campaign)
    assert not campaigns.accepts_gifts(campaign, on=campaign.starts_on - timedelta(days=1))
    campaigns.set_campaign_status(actor=None, campaign=campaign, status=CampaignStatus.CLOSED)
    assert not campaigns.accepts_gifts(campaign) and campaigns.is_over(campaign)
    with pytest.raises(NotAllowed):
        campaigns.set_campaign_status(actor=None, campaign=campaign, status=CampaignStatus.DRAFT)


def test_a_campaign_past_its_end_date_takes_no_gifts(fund):
    campaign = make_campaign(starts_on=TODAY - timedelta(days=30), ends_on=TODAY)
    campaign.ends_on = TODAY - timedelta(days=1)  # the days went by
    db.session.commit()
    assert campaign.status == CampaignStatus.LIVE
    assert not campaigns.accepts_gifts(campaign) and campaigns.is_over(campaign)
    with pytest.raises(campaigns.CampaignNotOpen):
        campaigns.open_campaign(campaign.id)


def test_goods_goals_must_be_positive_and_known(fund, goods):
    campaign = make_campaign()
    soap = goods.items["SOAP"].id
    for goals in ([(soap, 0)], [(soap, -3)], [(999_999, 5)], [(soap, 2), (soap, 3)]):
        with pytest.raises(InvalidInput):
            campaigns.set_goods_goals(actor=None, campaign=campaign, goals=goals)
        db.session.rollback()
    assert campaign.goods_goals == []
    campaigns.set_goods_goals(actor=None, campaign=campaign, goals=[(soap, 40)])
    db.session.commit()
    assert [(g.item_id, g.quantity) for g in campaign.goods_goals] == [(soap, 40)]


def test_money_progress_is_net_of_refunds_and_counts_donors(fund, create_donor):
    campaign = make_campaign(goal_cents=100_000)
    ann, bob, cy = create_donor("Ann"), create_donor("Bob"), create_donor("Cy")
    offline_gift(ann.id, fund.id, 5_000, campaign_id=campaign.id)
    offline_gift(ann.id, fund.id, 2_501, campaign_id=campaign.id)
    online_gift(bob.id, fund.id, 10_000, campaign_id=campaign.id, refunded_cents=2_500)
    online_gift(cy.id, fund.id, 3_000, campaign_id=campaign.id, refunded_cents=3_000)  # all back
    online_gift(cy.id, fund.id, 9_999, campaign_id=campaign.id, status="pending")  # not paid
    offline_gift(cy.id, fund.id, 7_000, campaign_id=None)  # general giving
    progress = campaigns.campaign_progress(campaign)
    gifts = db.session.scalars(
        select(Gift).where(Gift.campaign_id == campaign.id, Gift.status == "paid")
    ).all()
    assert progress.raised_cents == sum(g.amount_cents - g.refunded_cents for g in gifts)
    assert progress.raised_cents == 5_000 + 2_501 + 7_500
    assert progress.donors == 2  # Cy's only paid gift was refunded in full
    assert progress.percent == 15


def test_a_corrected_offline_gift_moves_with_its_campaign(fund, create_donor):
    campaign = make_campaign()
    ann = create_donor("Ann")
    gift = offline_gift(ann.id, fund.id, 5_000, campaign_id=campaign.id)
    gift_service.correct_gift(actor=None, gift=gift, reason="typo", amount_cents=4_000)
    db.session.commit()
    assert campaigns.campaign_progress(campaign).raised_cents == 4_000
    gift_service.correct_gift(
        actor=None,
        gift=db.session.scalar(
            select(Gift).where(Gift.corrects_gift_id == gift.id).where(Gift.is_reversal.is_(False))
        ),
        reason="returned",
        void_only=True,
    )
    db.session.commit()
    progress = campaigns.campaign_progress(campaign)
    assert (progress.raised_cents, progress.donors) == (0, 0)


def test_an_offline_gift_may_not_name_a_draft(fund, create_donor):
    draft = make_campaign(live=False)
    with pytest.raises(InvalidInput) as refused:
        offline_gift(create_donor().id, fund.id, 1_000, campaign_id=draft.id)
    assert refused.value.field == "campaign_id"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Gift)) == 0


def test_intakes_tagged_with_the_campaign_move_goods_progress(fund, goods):
    campaign = make_campaign()
    soap, socks = goods.items["SOAP"].id, goods.items["SOCKS-M"].id
    campaigns.set_goods_goals(actor=None, campaign=campaign, goals=[(soap, 40), (socks, 10)])
    db.session.commit()

    def intake(quantity: int, campaign_id: int | None):
        document = inventory.record_intake(
            actor=None,
            site_id=goods.warehouse.id,
            effective_date=TODAY,
            source="anonymous",
            lines=[inventory.Line(soap, quantity, "new")],
            campaign_id=campaign_id,
        )
        db.session.commit()
        return document

    intake(15, campaign.id)
    wrong = intake(5, campaign.id)
    intake(100, None)  # not for the campaign
    inventory.reverse_document(actor=None, document_id=wrong.id, note="counted twice")
    db.session.commit()
    lines = {line.item_id: line for line in campaigns.campaign_progress(campaign).goods}
    assert (lines[soap].collected, lines[soap].still_needed) == (15, 25)
    assert (lines[socks].collected, lines[socks].still_needed) == (0, 10)


def test_report_totals_equal_the_sum_of_the_gifts(fund, create_donor):
    campaign = make_campaign(
        goal_cents=50_000, starts_on=TODAY - timedelta(days=20), ends_on=TODAY + timedelta(days=5)
    )
    old, new = create_donor("Old friend"), create_donor("Newcomer")
    offline_gift(old.id, fund.id, 1_000, campaign_id=None, received_on=TODAY - timedelta(days=60))
    offline_gift(old.id, fund.id, 2_000, campaign_id=campaign.id, received_on=TODAY - timedelta(3))
    offline_gift(new.id, fund.id, 3_001, campaign_id=campaign.id, received_on=TODAY - timedelta(2))
    online_gift(
        new.id,
        fund.id,
        2_500,
        campaign_id=campaign.id,
        frequency=Frequency.MONTHLY,
        refunded_cents=500,
    )
    figures = campaigns.campaign_figures(campaign)
    assert figures.raised_cents == sum(line.raised_cents for line in figures.gifts)
    assert figures.raised_cents == 2_000 + 3_001 + 2_000
    assert figures.raised_cents == campaigns.campaign_progress(campaign).raised_cents
    assert (figures.donors, figures.new_donors, figures.returning_donors) == (2, 1, 1)
    assert figures.gift_count == 3
    assert figures.average_cents == 2_334  # 7,001 / 3 = 2,333.67, rounded half up
    assert (figures.monthly_count, figures.monthly_cents) == (1, 2_000)
    assert (figures.once_count, figures.once_cents) == (2, 5_001)
    assert sum(day.raised_cents for day in figures.days) == figures.raised_cents
    assert figures.days[0].day == campaign.starts_on
    assert all(isinstance(day.raised_cents, int) for day in figures.days)


def test_report_csv_has_the_campaigns_columns(fund, create_donor):
    campaign = make_campaign(goal_cents=10_000, name="=Coats")
    offline_gift(create_donor().id, fund.id, 1_050, campaign_id=campaign.id)
    lines = "".join(campaigns.figures_csv(campaigns.all_campaign_figures())).splitlines()
    assert lines[0].lstrip("\ufeff").split(",") == list(campaigns.CSV_HEADER)
    row = dict(zip(campaigns.CSV_HEADER, lines[1].split(","), strict=True))
    assert row["campaign"] == "'=Coats"  # never a formula in a spreadsheet
    assert (row["goal"], row["raised"], row["gifts"], row["donors"]) == (
        "100.00",
        "10.50",
        "1",
        "1",
    )


def test_every_org_scoped_table_is_behind_the_wall():
    """The migrations between them name every OrgScoped table for PostgreSQL's row security
    (0029 the first ones; each later migration its new ones, in a *ORG_SCOPED_TABLES list)."""
    versions = Path(__file__).parents[1] / "migrations" / "versions"
    names: set[str] = set()
    for path in sorted(versions.glob("0*.py")):
        text = path.read_text()
        if "ORG_SCOPED_TABLES" not in text:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for attribute in dir(module):
            if attribute.endswith("ORG_SCOPED_TABLES"):
                names |= set(getattr(module, attribute))
    scoped = {
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, OrgScoped)
    }
    assert {"campaigns", "campaign_goods_goals"} <= scoped
    assert scoped - names == set()


def test_a_domain_error_never_leaves_a_half_campaign(fund):
    with pytest.raises(DomainError):
        campaigns.create_campaign(actor=None, values=_values(goal_cents=0, name="Half"))
    db.session.rollback()
    assert _campaign_count() == 0
