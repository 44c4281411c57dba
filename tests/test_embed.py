"""A campaign's compact form for other sites (/give/<slug>/embed): who may frame it, the
admin setting that says so, the closed and draft answers, the way on to the campaign's page
and its checkout, and the snippet built on the site's public address."""

from __future__ import annotations

import json
import re

import pytest
from campaign_fixtures import make_campaign
from sqlalchemy import select
from test_give import funds, give_form, pay, payload_of

from donations.extensions import db
from donations.models import AuditEvent, CampaignStatus, Gift, Organization, StripeTestObject
from donations.services import campaigns
from donations.services.embedding import check_embed_origins, frame_ancestors
from donations.services.errors import InvalidInput

__all__ = ["funds"]  # fixtures

SETTINGS = {
    "legal_name": "Harbor Light Shelter, Inc.",
    "default_currency": "USD",
    "fiscal_year_start_month": "1",
}


@pytest.fixture
def coats(funds, organization):
    return make_campaign(goal_cents=200_000, default_fund_id=funds["Survivor services"].id)


def allow(*origins: str) -> None:
    org = db.session.get(Organization, 1)
    org.embed_origins = "\n".join(origins)
    db.session.commit()


def csp(response) -> dict[str, str]:
    directives = (
        d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";")
    )
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


# --- the headers -----------------------------------------------------------------


def test_by_default_no_site_may_frame_the_embed(client, coats):
    response = client.get("/give/winter-coats/embed")
    assert response.status_code == 200
    policy = csp(response)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["form-action"] == "'self'"
    assert "X-Frame-Options" not in response.headers  # the policy alone decides
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers  # nothing of a session in a framed page


def test_the_listed_sites_may_frame_it(client, coats):
    allow("https://www.partner.example", "https://*.church.example:8443")
    response = client.get("/give/winter-coats/embed")
    assert csp(response)["frame-ancestors"] == (
        "https://www.partner.example https://*.church.example:8443"
    )
    assert "X-Frame-Options" not in response.headers


def test_every_other_page_still_refuses_framing(client, admin_client, coats):
    allow("https://www.partner.example")
    for who, path in (
        (client, "/"),
        (client, "/give"),
        (client, "/give/winter-coats"),
        (client, "/campaigns"),
        (client, "/login"),
        (client, "/give/no-such-campaign/embed"),  # the error page is not the embed
        (admin_client, "/admin/organization"),
        (admin_client, f"/admin/campaigns/{coats.id}"),
    ):
        response = who.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert csp(response)["frame-ancestors"] == "'none'", path


# --- the page --------------------------------------------------------------------


def test_the_embed_is_the_compact_form_sent_on_in_the_top_window(client, coats):
    html = client.get("/give/winter-coats/embed?appeal=spring26").get_data(as_text=True)
    assert "Winter coats" in html and '<progress max="200000"' in html
    form = re.search(r"<form[^>]*>", html).group(0)
    assert 'method="get"' in form and 'action="/give/winter-coats"' in form
    assert 'target="_top"' in form
    for label in ("$25", "$50", "$100", "Other amount", "One time", "Every month"):
        assert label in html
    assert 'name="other_amount"' in html and ">Give</button>" in html
    assert 'name="appeal" type="hidden" value="SPRING26"' in html
    # Only the amount and how often: the donor's details are asked on the campaign's page.
    for absent in ('name="email"', 'name="name"', 'name="fund"', "csrf_token", "site-header"):
        assert absent not in html
    assert "<script" not in html and "style=" not in html


def test_a_closed_campaign_shows_a_compact_note_and_general_giving(client, coats):
    campaigns.set_campaign_status(actor=None, campaign=coats, status=CampaignStatus.CLOSED)
    db.session.commit()
    response = client.get("/give/winter-coats/embed")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "not taking gifts" in html and "<form" not in html
    assert re.search(r'<a class="button" href="/give" target="_top">', html)
    assert csp(response)["frame-ancestors"] == "'none'"


def test_a_draft_shows_nothing_of_itself(client, funds, organization):
    make_campaign(live=False, name="Secret plans")
    response = client.get("/give/winter-coats/embed")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Secret plans" not in html and "This campaign is not open" in html
    assert 'href="/give" target="_top"' in html
    assert client.get("/give/nothing-here/embed").status_code == 404


# --- on to the campaign's page and its checkout ----------------------------------


def test_the_choice_fills_the_campaigns_form_and_reaches_the_same_checkout(client, funds, coats):
    html = client.get("/give/winter-coats?amount=10000&frequency=monthly").get_data(as_text=True)
    assert re.search(r'<input[^>]* checked id="amount-\d"[^>]* value="10000"', html)
    assert re.search(r'<input[^>]* checked id="frequency-1"[^>]* value="monthly"', html)
    assert "form-errors" not in html and 'action="/give/winter-coats"' in html
    survivor = funds["Survivor services"].id
    assert re.search(rf'<input[^>]* checked id="fund-\d"[^>]* value="{survivor}"', html)
    # The donor adds their details on the full form; it posts as any campaign gift does.
    data = give_form(funds, amount="10000", fund=str(survivor))
    review = client.post("/give/winter-coats", data=data).get_data(as_text=True)
    checkout = client.post("/give/checkout", data={"payload": payload_of(review)})
    assert checkout.status_code == 303
    session = db.session.scalars(
        select(StripeTestObject).where(StripeTestObject.object_type == "checkout.session")
    ).one()
    assert json.loads(session.data)["metadata"]["campaign_id"] == str(coats.id)
    pay(client, checkout.headers["Location"])
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.campaign_id, gift.amount_cents, gift.status) == (coats.id, 10_000, "paid")


def test_a_typed_amount_is_checked_as_a_posted_one(client, coats):
    html = client.get("/give/winter-coats?other_amount=12.50").get_data(as_text=True)
    assert 'value="12.50"' in html and "form-errors" not in html
    html = client.get("/give/winter-coats?other_amount=lots&frequency=weekly").get_data(
        as_text=True
    )
    assert "form-errors" in html and 'id="other_amount-error"' in html
    assert re.search(r'<input[^>]* checked id="frequency-0"', html)  # unknown: one time
    html = client.get("/give/winter-coats?amount=").get_data(as_text=True)
    assert "Choose an amount or type your own." in html
    html = client.get("/give/winter-coats?amount=777").get_data(as_text=True)
    assert "Choose one of the amounts shown." in html


# --- the admin setting ---------------------------------------------------------


def test_origins_are_checked_and_normalized():
    assert check_embed_origins("") == ""
    assert (
        check_embed_origins(
            " https://WWW.Partner.example/\r\n\r\nhttps://*.church.example:8443\nhttps://www.partner.example:443"
        )
        == "https://www.partner.example\nhttps://*.church.example:8443"
    )
    for bad, words in (
        ("http://www.partner.example", "start the address with https://"),
        ("www.partner.example", "start the address with https://"),
        ("https://www.partner.example/donate", "without a path"),
        ("https://www.partner.example?x=1", "without a path"),
        ("https://*", "a star may only"),
        ("https://*.example", "a star may only"),  # not every site under a top-level domain
        ("https://www.*.example.org", "a star may only"),
        ("https://localhost", "host name"),
        ("https://user@www.partner.example", "host name"),
        ("https://www.partner.example:99999", "port"),
        ("https://a.example; script-src *", "a star may only"),
        ("https://a.example; base-uri x", "host name"),
        ("*", "start the address with https://"),
        ("'self'", "start the address with https://"),
    ):
        with pytest.raises(InvalidInput) as raised:
            check_embed_origins(f"https://ok.example\n{bad}")
        assert raised.value.field == "embed_origins"
        assert raised.value.message.startswith(f"Line 2 ({bad})"), raised.value.message
        assert words in raised.value.message, raised.value.message
    with pytest.raises(InvalidInput, match="at most 20"):
        check_embed_origins("\n".join(f"https://s{i}.example" for i in range(21)))
    assert frame_ancestors("") == "'none'"


def test_admin_sets_the_sites_and_the_change_is_audited(admin_client, organization):
    html = admin_client.get("/admin/organization").get_data(as_text=True)
    assert "Sites allowed to embed the donation form" in html and 'name="embed_origins"' in html
    response = admin_client.post(
        "/admin/organization",
        data={**SETTINGS, "embed_origins": "https://www.partner.example/\nhttps://b.example"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    org = db.session.get(Organization, 1)
    assert org.embed_origins == "https://www.partner.example\nhttps://b.example"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "organization.update")
    ).all()[-1]
    assert "embed_origins" in event.summary and "https://b.example" in event.summary


def test_bad_sites_are_refused_next_to_the_field_and_nothing_changes(admin_client, organization):
    allow("https://www.partner.example")
    response = admin_client.post(
        "/admin/organization",
        data={**SETTINGS, "legal_name": "Renamed", "embed_origins": "http://evil.example/x"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Line 1 (http://evil.example/x): start the address with https://" in html
    assert "http://evil.example/x</textarea>" in html  # the input is kept
    db.session.expire_all()
    org = db.session.get(Organization, 1)
    assert (org.legal_name, org.embed_origins) == (
        "Harbor Light Shelter, Inc.",
        "https://www.partner.example",
    )


# --- the snippet -----------------------------------------------------------------


def test_the_snippet_is_on_the_public_address_whatever_the_host(app, admin_client, coats):
    # The page is asked for at donations.test (the client's signed-in host); the site's
    # public address is another one, under a path.
    app.config["PUBLIC_BASE_URL"] = "https://give.example.org/harbor"
    response = admin_client.get(f"/admin/campaigns/{coats.id}", headers={"Host": "donations.test"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '&lt;iframe src="https://give.example.org/harbor/give/winter-coats/embed"' in html
    assert "donations.test/give" not in html
    assert "No site may show it yet" in html
    allow("https://www.partner.example")
    html = admin_client.get(f"/admin/campaigns/{coats.id}").get_data(as_text=True)
    assert "Sites allowed to show it: https://www.partner.example." in html
