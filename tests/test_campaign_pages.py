"""Campaign pages: /give/<slug> with its progress and the /give form, a test-mode gift
through it, closed and draft campaigns refusing gifts, pledges from it, and another
organisation's campaign staying at its own address."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from campaign_fixtures import make_campaign, offline_gift, online_gift
from sqlalchemy import func, select
from test_give import funds, give_form, pay, payload_of

from donations.extensions import db
from donations.models import (
    CampaignStatus,
    Fund,
    Gift,
    Pledge,
    StripeTestObject,
    utcnow,
)
from donations.services import campaigns, inventory, organizations, pledges
from donations.tenancy import use_organization

__all__ = ["funds"]  # fixtures

TODAY = utcnow().date()


def gift_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Gift))


@pytest.fixture
def coats(funds, organization):
    """A live campaign with a goal, a story, a default fund and a goods goal."""
    return make_campaign(
        goal_cents=200_000,
        story="Winter is coming.\n\nEvery coat keeps someone warm.",
        default_fund_id=funds["Survivor services"].id,
        ends_on=TODAY + timedelta(days=30),
    )


def test_the_page_shows_story_progress_and_the_give_form(client, funds, coats, create_donor):
    ann, bob = create_donor("Ann"), create_donor("Bob")
    offline_gift(ann.id, funds["General"].id, 12_345, campaign_id=coats.id)
    online_gift(bob.id, funds["General"].id, 10_000, campaign_id=coats.id, refunded_cents=4_000)
    offline_gift(bob.id, funds["General"].id, 99_999, campaign_id=None)  # general giving
    html = client.get("/give/winter-coats").get_data(as_text=True)
    assert "<h1>Winter coats</h1>" in html and "Every coat keeps someone warm." in html
    gifts = db.session.scalars(select(Gift).where(Gift.campaign_id == coats.id)).all()
    raised = sum(g.amount_cents - g.refunded_cents for g in gifts)
    assert raised == 18_345
    assert "$183.45</strong> raised of $2,000.00 (9%) from 2 donors" in html
    assert '<progress max="200000" value="18345">' in html
    # The same form as /give, posting here, with the campaign's fund chosen.
    assert 'action="/give/winter-coats"' in html and "Review my gift" in html
    survivor = funds["Survivor services"].id
    assert re.search(rf'<input[^>]* checked id="fund-\d"[^>]* value="{survivor}"', html)
    # The general page is as it was.
    general = client.get("/give").get_data(as_text=True)
    assert "Winter coats" not in general and 'action="/give"' in general


def test_a_test_mode_gift_through_the_campaign_page_carries_the_campaign(client, funds, coats):
    response = client.post(
        "/give/winter-coats", data=give_form(funds, fund=str(coats.default_fund_id))
    )
    html = response.get_data(as_text=True)
    assert "<dt>Campaign</dt>" in html and "Winter coats" in html
    assert 'action="/give/winter-coats"' in html  # "Edit" comes back here
    checkout = client.post("/give/checkout", data={"payload": payload_of(html)})
    assert checkout.status_code == 303
    session = db.session.scalars(
        select(StripeTestObject).where(StripeTestObject.object_type == "checkout.session")
    ).one()
    assert json.loads(session.data)["metadata"]["campaign_id"] == str(coats.id)
    pay(client, checkout.headers["Location"])
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.status, gift.campaign_id) == ("paid", coats.id)
    assert gift.fund_id == coats.default_fund_id
    raised = campaigns.campaign_progress(coats).raised_cents
    assert raised == gift.amount_cents - gift.refunded_cents == 5_000
    page = client.get("/give/winter-coats").get_data(as_text=True)
    assert "$50.00</strong> raised" in page


def test_the_donors_own_fund_choice_wins(client, funds, coats):
    chosen = funds["Shelter operations"].id
    html = client.post("/give/winter-coats", data=give_form(funds, fund=str(chosen)))
    client.post("/give/checkout", data={"payload": payload_of(html.get_data(as_text=True))})
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.campaign_id, gift.fund_id) == (coats.id, chosen)


def test_a_closed_campaign_takes_no_gift_and_offers_general_giving(client, funds, coats):
    payload = payload_of(
        client.post("/give/winter-coats", data=give_form(funds)).get_data(as_text=True)
    )
    campaigns.set_campaign_status(actor=None, campaign=coats, status=CampaignStatus.CLOSED)
    db.session.commit()
    for response in (
        client.get("/give/winter-coats"),
        client.post("/give/winter-coats", data=give_form(funds)),
        client.post("/give/checkout", data={"payload": payload}),  # reviewed while it was live
    ):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "This campaign is closed" in html and "Nothing has been charged" in html
        assert 'href="/give"' in html
        assert "Review my gift" not in html
    assert gift_count() == 0
    assert db.session.scalar(select(func.count()).select_from(StripeTestObject)) == 0


def test_a_campaign_past_its_end_date_is_over(client, funds, coats):
    coats.ends_on = TODAY - timedelta(days=1)
    db.session.commit()
    html = client.get("/give/winter-coats").get_data(as_text=True)
    assert "This campaign is closed" in html and "Review my gift" not in html


def test_a_draft_is_not_public_and_takes_no_gift(client, funds, organization):
    make_campaign(live=False)
    for response in (
        client.get("/give/winter-coats"),
        client.post("/give/winter-coats", data=give_form(funds)),
    ):
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "not taking gifts" in html and 'href="/give"' in html
    assert "Winter coats" not in client.get("/campaigns").get_data(as_text=True)
    assert gift_count() == 0


def test_unknown_slugs_and_the_donation_pages_own_steps(client, funds):
    assert client.get("/give/no-such-thing").status_code == 404
    assert client.get("/give/checkout").status_code in (404, 405)


def test_the_public_list_shows_live_campaigns(client, coats):
    html = client.get("/campaigns").get_data(as_text=True)
    assert 'href="/give/winter-coats"' in html and "$0.00</strong> raised of $2,000.00" in html


def test_goods_still_needed_lead_to_a_pledge_for_the_campaign(client, coats, goods):
    soap = goods.items["SOAP"]
    campaigns.set_goods_goals(actor=None, campaign=coats, goals=[(soap.id, 40)])
    db.session.commit()
    html = client.get("/give/winter-coats").get_data(as_text=True)
    link = f"/needs/pledge?item={soap.id}&amp;campaign=winter-coats"
    assert "Goods we still need" in html and link in html
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="campaign" type="hidden" value="winter-coats"' in form
    assert "Your pledge counts towards" in form
    response = client.post(
        "/needs/pledge",
        data={
            "name": "Cy Doe",
            "email": "cy@example.com",
            "site_id": str(goods.dropoff.id),
            "expected_on": TODAY.isoformat(),
            "lines-0-item": str(soap.id),
            "lines-0-quantity": "12",
            "campaign": "winter-coats",
        },
    )
    assert response.status_code == 302
    pledge = db.session.scalars(select(Pledge)).one()
    assert pledge.campaign_id == coats.id
    pledges.receive_pledge(
        actor=None,
        pledge=pledge,
        effective_date=TODAY,
        lines=[inventory.Line(soap.id, 12, "new")],
    )
    db.session.commit()
    page = client.get("/give/winter-coats").get_data(as_text=True)
    assert "12 of 40 collected" in page and "28 more" in page


def test_another_organisations_campaign_is_not_found_here(client, funds, organization):
    north = organizations.create_organization(actor=None, slug="north", legal_name="North")
    db.session.commit()
    with use_organization(north.id):
        db.session.add(Fund(name="North fund"))
        make_campaign(name="North coats", slug="north-coats")
    assert client.get("/give/north-coats").status_code == 404
    assert client.get("/campaigns/north-coats/image").status_code == 404
    assert "North coats" not in client.get("/campaigns").get_data(as_text=True)
    theirs = client.get("/o/north/give/north-coats")
    assert theirs.status_code == 200 and "North coats" in theirs.get_data(as_text=True)
