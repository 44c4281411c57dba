"""The public home page (issue 15 point 7): the organisation's story, live campaigns with
progress, the three most urgent needs with a pledge link, the public drop-off point, and
never a confidential site's address."""

from __future__ import annotations

import re

import pytest
from campaign_fixtures import make_campaign, offline_gift
from sqlalchemy import event

from donations.extensions import db
from donations.models import CampaignStatus, Fund, Organization
from donations.services import campaigns, catalog, front_door, inventory
from donations.services.organization import update_organization


@pytest.fixture
def story(app, organization) -> Organization:
    org = update_organization(
        actor=None,
        legal_name="Harbor Light Shelter, Inc.",
        public_story="We open our doors to survivors.\n\nEvery gift is a safe night.",
    )
    db.session.commit()
    return org


@pytest.fixture
def short(goods, stock_in):
    """Four items short at the confidential shelter: socks, soap and toothbrushes urgent
    (under half of par), shampoo only short."""
    levels = {"SOCKS-M": 30, "SOAP": 40, "TOOTHBRUSH": 20}
    levels = {code: n for code, n in levels.items() if code in goods.items}
    extra = next(code for code in goods.items if code not in levels)
    levels[extra] = 10
    inventory.set_par_levels(
        actor=None,
        site_id=goods.shelter.id,
        levels={goods.items[code].id: n for code, n in levels.items()},
    )
    db.session.commit()
    stock_in(goods.shelter, **{extra.replace("-", "_"): 8})
    return goods, extra


def test_story_name_and_give_link(client, story):
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Harbor Light Shelter, Inc.</h1>" in html
    assert '<p class="lead">We open our doors to survivors.</p>' in html
    assert "<p>Every gift is a safe night.</p>" in html
    assert 'href="/give"' in html and "Sign in" in html


def test_live_campaigns_show_their_progress_never_drafts_or_closed(client, story, create_donor):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    coats = make_campaign(goal_cents=100_000)
    offline_gift(create_donor("Ann").id, fund.id, 25_000, campaign_id=coats.id)
    make_campaign(name="Secret draft", slug="draft", live=False)
    closed = make_campaign(name="Old appeal", slug="old")
    campaigns.set_campaign_status(actor=None, campaign=closed, status=CampaignStatus.CLOSED)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/give/winter-coats"' in html
    assert "$250.00</strong> raised of $1,000.00 (25%) from 1 donor" in html
    assert "Secret draft" not in html and "Old appeal" not in html


def test_the_three_most_urgent_needs_with_pledge_links(client, story, short):
    goods, only_short = short
    html = client.get("/").get_data(as_text=True)
    listed = re.findall(r"<li><strong>([^<]+)</strong>", html)
    assert len(listed) == 3
    assert goods.items[only_short].label not in listed  # urgent ones come first
    assert all(f"item={goods.items[c].id}" in html for c in ("SOCKS-M", "SOAP"))
    assert 'href="/needs"' in html


def test_the_drop_off_point_is_shown_and_a_confidential_site_never(client, story, short):
    html = client.get("/").get_data(as_text=True)
    assert "Downtown drop-off" in html and "5 Market St" in html and "Mon-Fri 9-5" in html
    # The confidential shelter holds every short item, yet nothing of it shows.
    assert "Harbor House" not in html and "12 Hidden Lane" not in html
    assert "Main warehouse" not in html and "400 Dock Rd" not in html  # not a drop-off point
    assert "<script" not in html


def test_a_confidential_drop_off_point_cannot_exist_and_is_filtered_anyway(
    app, story, goods, monkeypatch
):
    secret = catalog.create_site(
        actor=None, name="Safe house", kind="shelter", address_line1="99 Quiet Rd"
    )
    secret.is_confidential = True
    db.session.commit()
    monkeypatch.setattr(catalog, "dropoff_points", lambda: [goods.dropoff, secret])
    shown = front_door.public_dropoffs()
    assert [d.name for d in shown] == ["Downtown drop-off"]
    html = app.test_client().get("/").get_data(as_text=True)
    assert "99 Quiet Rd" not in html and "Safe house" not in html


def test_the_page_is_a_few_small_queries(app, client, story, short):
    client.get("/")  # warm caches
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) <= 12, statements


def test_admin_sets_the_story_on_the_organisation_page(admin_client, organization):
    html = admin_client.get("/admin/organization").get_data(as_text=True)
    assert 'name="public_story"' in html
    response = admin_client.post(
        "/admin/organization",
        data={
            "legal_name": "Harbor Light Shelter, Inc.",
            "default_currency": "USD",
            "fiscal_year_start_month": "1",
            "public_story": "A home for those who need one.",
        },
    )
    assert response.status_code == 302
    assert db.session.get(Organization, 1).public_story == "A home for those who need one."
    assert "A home for those who need one." in admin_client.get("/").get_data(as_text=True)
