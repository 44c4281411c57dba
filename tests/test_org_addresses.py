"""Each organisation's addresses: /o/<slug>/… for another organisation's public pages and
its own webhook; the root paths stay the first organisation's."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from donations.extensions import db
from donations.models import Fund, Role, StripeEvent, utcnow
from donations.services import organizations, payment_keys
from donations.services.links import absolute_url
from donations.tenancy import ALL_ORGANIZATIONS, HOME_ORGANIZATION_ID, use_organization
from fakes.stripe.objects import sign_payload

TEST_SECRET = "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxT8m4"
NORTH_WEBHOOK = "whsec_north_4fJ2kL9mN3pQ7rS1tV5wX8y"


@pytest.fixture
def north(app, organization):
    """A second organisation, "north", with a fund of its own; the first has another."""
    db.session.add(Fund(name="Home shelter fund"))
    other = organizations.create_organization(
        actor=None, slug="north", legal_name="North Star Refuge"
    )
    db.session.flush()
    with use_organization(other.id):
        db.session.add(Fund(name="North winter fund"))
    db.session.commit()
    return other


def test_the_donation_page_is_each_organisations_own(north, client):
    home = client.get("/give").get_data(as_text=True)
    assert "Home shelter fund" in home and "North winter fund" not in home
    theirs = client.get("/o/north/give")
    assert theirs.status_code == 200
    page = theirs.get_data(as_text=True)
    assert "North winter fund" in page and "Home shelter fund" not in page
    assert "North Star Refuge" in page and "Harbor Light" not in page
    # Links on the page stay at the organisation's address.
    assert 'action="/o/north/give' in page


def test_an_unknown_or_archived_slug_is_not_found(north, client):
    assert client.get("/o/nowhere/give").status_code == 404
    north.archived_at = utcnow()
    db.session.commit()
    assert client.get("/o/north/give").status_code == 404


def test_signed_in_pages_are_not_served_at_another_organisations_address(north, login):
    admin = login(Role.ADMIN)
    assert admin.get("/donors/").status_code == 200
    assert admin.get("/o/north/donors/").status_code == 404
    assert admin.get("/o/north/").status_code in (200, 302)  # the public home page
    anonymous = login(Role.STAFF)
    assert anonymous.get("/o/north/inventory/").status_code == 404


def test_absolute_links_carry_the_organisations_address(north):
    assert absolute_url("give.index") == "http://donations.test/give"
    with use_organization(north.id):
        assert absolute_url("give.index") == "http://donations.test/o/north/give"


def test_each_organisation_has_its_own_webhook_endpoint(north, make_app, stripe_api):
    organization_id = HOME_ORGANIZATION_ID
    app = make_app(
        STRIPE_SECRET_KEY="sk_test_of_the_environment",
        STRIPE_WEBHOOK_SECRET="whsec_of_the_first_organisation",
        STRIPE_API_BASE=stripe_api.url,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_TIMEOUT=5,
    )

    def _event(name: str) -> str:
        made = stripe_api.local.event("customer.tax_id.created", {"id": name, "object": "tax_id"})
        return json.dumps(made)

    with app.app_context():
        with use_organization(north.id):
            payment_keys.save_stripe_settings(
                actor=None,
                secret_key=TEST_SECRET,
                publishable_key="",
                webhook_secret=NORTH_WEBHOOK,
                test_mode=True,
            )
        db.session.commit()
        client = app.test_client()

        def post(path: str, payload: str, secret: str):
            header = sign_payload(payload, secret)
            return client.post(
                path,
                data=payload,
                headers={"Stripe-Signature": header},
                content_type="application/json",
            )

        # Posted to the wrong organisation's endpoint: 400 and nothing stored.
        assert post("/stripe/webhook", _event("evt_b"), NORTH_WEBHOOK).status_code == 400
        wrong = post("/stripe/webhook/north", _event("evt_c"), "whsec_of_the_first_organisation")
        assert wrong.status_code == 400
        assert post("/stripe/webhook/nowhere", _event("evt_d"), NORTH_WEBHOOK).status_code == 404
        # Each organisation's own endpoint stores the event as that organisation's.
        assert post("/stripe/webhook/north", _event("evt_n"), NORTH_WEBHOOK).status_code == 200
        home = post("/stripe/webhook", _event("evt_h"), "whsec_of_the_first_organisation")
        assert home.status_code == 200, home.get_data(as_text=True)
        db.session.expire_all()
        stored = db.session.execute(
            select(StripeEvent.payload, StripeEvent.organization_id).execution_options(
                **{ALL_ORGANIZATIONS: True}
            )
        ).all()
        by_object = {
            json.loads(payload)["data"]["object"]["id"]: org_id for payload, org_id in stored
        }
        assert by_object == {"evt_n": north.id, "evt_h": organization_id}


@pytest.mark.parametrize("path", ["/", "/needs", "/verify", "/campaigns-not-a-page"])
def test_other_public_pages_answer_at_the_organisations_address(north, client, path):
    response = client.get(f"/o/north{path}")
    if path == "/campaigns-not-a-page":
        assert response.status_code == 404
        return
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    assert "North Star Refuge" in page and "Harbor Light" not in page


def test_the_staff_sign_in_link_at_another_organisations_address_stays_there(north, client):
    assert 'href="/login"' in client.get("/give").get_data(as_text=True)
    page = client.get("/o/north/give").get_data(as_text=True)
    assert 'href="/o/north/login"' in page
    assert client.get("/o/north/login").status_code == 200


def test_an_admin_maps_a_host_name_the_server_allows(north, make_app):
    app = make_app(ORGANIZATION_HOSTS="give.north.example, spare.example")
    with app.app_context():
        from donations.services.organization import update_organization

        with use_organization(north.id):
            with pytest.raises(organizations.InvalidInput, match="host names this server"):
                update_organization(actor=None, legal_name="North Star Refuge", host="evil.example")
            db.session.rollback()
            update_organization(
                actor=None, legal_name="North Star Refuge", host="Give.North.Example"
            )
        db.session.commit()
        # The first organisation keeps the site's own address.
        with pytest.raises(organizations.InvalidInput, match="site's own address"):
            update_organization(actor=None, legal_name="Harbor Light", host="spare.example")
        db.session.rollback()
        client = app.test_client()
        page = client.get("/give", headers={"Host": "give.north.example"})
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "North winter fund" in text and "Home shelter fund" not in text
        # A host no organisation has taken yet, and one the server does not allow.
        assert client.get("/give", headers={"Host": "spare.example"}).status_code == 404
        assert client.get("/give", headers={"Host": "evil.example"}).status_code == 400
        with use_organization(north.id):
            assert absolute_url("give.index") == "http://give.north.example/give"


def test_a_visitors_header_is_each_organisations_own_and_follows_a_new_name(north, client):
    """The header a visitor who is not signed in sees is kept per organisation: its name
    and its paths, never another's, and a new name shows at once."""
    for _ in range(2):  # the second time from what was kept
        home = client.get("/give").get_data(as_text=True)
        theirs = client.get("/o/north/give").get_data(as_text=True)
        assert '<a class="brand" href="/">Harbor Light' in home
        assert '<a class="brand" href="/o/north/">North Star Refuge</a>' in theirs
        assert 'href="/o/north/needs"' in theirs and 'href="/needs"' not in theirs
        assert 'href="/o/north/login"' in theirs
    north.legal_name = "North Star Shelter"
    db.session.commit()
    theirs = client.get("/o/north/give").get_data(as_text=True)
    assert '<a class="brand" href="/o/north/">North Star Shelter</a>' in theirs
    assert "North Star Refuge" not in theirs
