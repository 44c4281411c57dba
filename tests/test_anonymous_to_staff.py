"""Anonymous donors stay anonymous to staff; treasurers and admins see the name."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from donations.extensions import db
from donations.models import Fund, utcnow
from donations.services import gifts as gift_service
from donations.services import inventory, pledges

SECRET = "Secretname"


@pytest.fixture
def zed(app, create_donor):
    """Zed Secretname gave a gift anonymously (his record does not say he prefers it)."""
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.flush()
    donor = create_donor(f"Zed {SECRET}", email="zed@example.com")
    gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=2500,
        currency="USD",
        received_on=utcnow().date(),
        is_anonymous=True,
    )
    db.session.commit()
    return donor


@pytest.fixture
def named(create_donor):
    return create_donor("Zelda Open", email="zelda@example.com")


@pytest.fixture
def zeds_goods(zed, goods):
    """An intake from Zed, and a pledge of more."""
    document = inventory.record_intake(
        actor=None,
        site_id=goods.dropoff.id,
        effective_date=date.today(),
        source="donor",
        donor_id=zed.id,
        lines=[goods.line("SOCKS-M", 4, "new")],
    )
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name=zed.name,
            email=zed.email,
            site_id=goods.dropoff.id,
            expected_on=date.today() + timedelta(days=3),
            lines=[goods.line("SOCKS-M", 2)],
        )
    )
    db.session.commit()
    return document, pledge


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_staff_find_an_anonymous_donor_by_id_never_by_name(staff_client, zed, named):
    page = text(staff_client.get("/donors/lookup?q=Z"))
    assert SECRET not in page
    assert "Zelda Open" in page
    # A typed name never finds him: a hit would tell staff that a Zed gave.
    assert f"Anonymous donor #{zed.id}" not in page
    assert staff_client.get("/donors/lookup.json?q=zed").get_json()["results"] == []
    assert staff_client.get(f"/donors/lookup.json?q={SECRET}").get_json()["results"] == []

    by_id = staff_client.get(f"/donors/lookup.json?q=%23{zed.id}").get_json()["results"]
    assert by_id == [{"id": zed.id, "name": f"Anonymous donor #{zed.id}", "is_organization": False}]
    page = text(staff_client.get(f"/donors/lookup?q=%23{zed.id}"))
    assert f"Anonymous donor #{zed.id}" in page
    assert SECRET not in page


@pytest.mark.parametrize("role", ["treasurer", "admin"])
def test_treasurers_and_admins_see_the_name(login, zed, role):
    client = login(role)
    assert f"Zed {SECRET}" in text(client.get("/donors/lookup?q=Zed"))
    found = client.get("/donors/lookup.json?q=zed").get_json()["results"]
    assert [r["name"] for r in found] == [f"Zed {SECRET}"]


def test_a_donor_who_prefers_anonymity_is_hidden_too(staff_client, create_donor):
    shy = create_donor("Quinn Hidden", prefers_anonymous=True)
    assert "Hidden" not in text(staff_client.get("/donors/lookup?q=Quinn"))
    page = text(staff_client.get(f"/donors/lookup?q=%23{shy.id}"))
    assert "Hidden" not in page
    assert f"Anonymous donor #{shy.id}" in page


def test_staff_intake_picker_hides_the_name(staff_client, zed, goods):
    page = text(staff_client.get(f"/inventory/intake/new?q=Zed&site_id={goods.dropoff.id}"))
    assert SECRET not in page
    assert f"Anonymous donor #{zed.id}" not in page
    page = text(staff_client.get(f"/inventory/intake/new?q=%23{zed.id}&site_id={goods.dropoff.id}"))
    assert SECRET not in page
    assert f"Anonymous donor #{zed.id}" in page
    chosen = text(staff_client.get(f"/inventory/intake/new?donor_id={zed.id}"))
    assert SECRET not in chosen
    assert f"Anonymous donor #{zed.id}" in chosen


def test_staff_goods_documents_hide_the_name(staff_client, zeds_goods, zed):
    document, _ = zeds_goods
    for url in ("/inventory/documents", f"/inventory/documents/{document.id}", "/dashboard"):
        page = text(staff_client.get(url))
        assert SECRET not in page, url
    assert f"Anonymous donor #{zed.id}" in text(
        staff_client.get(f"/inventory/documents/{document.id}")
    )
    ledger = text(staff_client.get("/inventory/export/ledger.csv"))
    assert SECRET not in ledger
    assert f"Anonymous donor #{zed.id}" in ledger


def test_staff_pledges_hide_the_name_and_email(staff_client, zeds_goods, zed):
    _, pledge = zeds_goods
    for url in ("/inventory/pledges", f"/inventory/pledges/{pledge.id}"):
        page = text(staff_client.get(url))
        assert SECRET not in page, url
        assert "zed@example.com" not in page, url
        assert f"Anonymous donor #{zed.id}" in page, url


def test_treasurer_goods_pages_show_the_name(treasurer_client, zeds_goods):
    document, pledge = zeds_goods
    for url in (
        f"/inventory/documents/{document.id}",
        "/inventory/documents",
        f"/inventory/pledges/{pledge.id}",
    ):
        assert SECRET in text(treasurer_client.get(url)), url
    assert SECRET in text(treasurer_client.get("/inventory/export/ledger.csv"))
