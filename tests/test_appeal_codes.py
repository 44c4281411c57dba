"""Appeal codes: ``?appeal=`` on the donation page carried to the gift (and a monthly plan's
instalments), typed on an offline gift with its campaign, an intake's campaign, the gifts
CSV's campaign and appeal columns, and the gifts list's appeal filter."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from campaign_fixtures import make_campaign
from sqlalchemy import select
from test_give import funds, give_form, payload_of
from test_movements import intake_data
from test_stripe_webhooks import reload, stripe_app, webhook

from donations.extensions import db
from donations.models import (
    CampaignStatus,
    Fund,
    Gift,
    RecurringPlan,
    StockDocument,
    StripeTestObject,
    utcnow,
)
from donations.services import campaigns, giving, payments
from donations.services import gifts as gift_service
from donations.services.appeals import appeal_from_link, normalize_appeal_code
from donations.services.errors import InvalidInput

__all__ = ["funds", "stripe_app", "webhook"]  # fixtures

TODAY = utcnow().date()


def read_csv(text: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --- the rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("YE2026", "YE2026"), (" ye2026 ", "YE2026"), ("spring-mail-2", "SPRING-MAIL-2"), ("", "")],
)
def test_codes_are_stored_upper_case(raw, stored):
    assert normalize_appeal_code(raw) == stored


@pytest.mark.parametrize(
    "raw", ["A", "X" * 21, "YE 2026", "YE_2026", "-YE", "YE-", "=1+1", "ÉTÉ26", "<b>x</b>"]
)
def test_malformed_codes_are_refused_next_to_the_field(raw):
    with pytest.raises(InvalidInput) as raised:
        normalize_appeal_code(raw)
    assert raised.value.field == "appeal_code"
    assert "letters, digits and hyphens" in raised.value.message
    assert appeal_from_link(raw) == ""  # a link's bad code is dropped, silently


# --- online gifts -----------------------------------------------------------------


def test_the_link_code_rides_a_hidden_field_to_the_gift_and_stripe(client, funds):
    html = client.get("/give?appeal=ye2026").get_data(as_text=True)
    assert '<input name="appeal" type="hidden" value="YE2026">' in html
    review = client.post("/give", data=give_form(funds, appeal="ye2026")).get_data(as_text=True)
    assert "Continue to secure payment" in review
    checkout = client.post("/give/checkout", data={"payload": payload_of(review)})
    assert checkout.status_code == 303
    gift = db.session.scalars(select(Gift)).one()
    assert gift.appeal_code == "YE2026"
    session = db.session.scalars(
        select(StripeTestObject).where(StripeTestObject.object_type == "checkout.session")
    ).one()
    assert json.loads(session.data)["metadata"]["appeal_code"] == "YE2026"


def test_a_malformed_link_code_is_ignored_never_an_error(client, funds):
    response = client.get("/give?appeal=%3Cscript%3E")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="appeal"' not in html and "<script>" not in html
    review = client.post("/give", data=give_form(funds, appeal="<script>"))
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Continue to secure payment" in html
    client.post("/give/checkout", data={"payload": payload_of(html)})
    assert db.session.scalars(select(Gift)).one().appeal_code == ""


def test_no_code_leaves_the_gift_without_one(client, funds):
    html = client.get("/give").get_data(as_text=True)
    assert 'name="appeal"' not in html
    review = client.post("/give", data=give_form(funds)).get_data(as_text=True)
    client.post("/give/checkout", data={"payload": payload_of(review)})
    assert db.session.scalars(select(Gift)).one().appeal_code == ""


def test_a_campaign_page_carries_the_code_with_the_campaign(client, funds, organization):
    coats = make_campaign()
    html = client.get("/give/winter-coats?appeal=Coats-Mail").get_data(as_text=True)
    assert '<input name="appeal" type="hidden" value="COATS-MAIL">' in html
    review = client.post("/give/winter-coats", data=give_form(funds, appeal="COATS-MAIL")).get_data(
        as_text=True
    )
    # "Edit" refills the form with the code still there.
    edit = client.post("/give/winter-coats", data={"payload": payload_of(review), "edit": "1"})
    assert '<input name="appeal" type="hidden" value="COATS-MAIL">' in edit.get_data(as_text=True)
    client.post("/give/checkout", data={"payload": payload_of(review)})
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.campaign_id, gift.appeal_code) == (coats.id, "COATS-MAIL")


def test_a_monthly_plans_instalments_keep_its_appeal(stripe_app, stripe_api, webhook):
    fund = db.session.scalar(select(Fund).order_by(Fund.id))
    donation = giving.Donation(
        amount_cents=2000,
        currency="USD",
        frequency=giving.Frequency.MONTHLY,
        fund_id=fund.id,
        cover_fee=False,
        name="Ada Lovelace",
        email="ada@example.com",
        appeal_code="YE2026",
    )
    gift = giving.prepare_checkout(donation=donation, attempt_id=f"attempt-{random.random()}")
    db.session.commit()
    session = giving.open_checkout_session(
        gift=gift,
        gateway=payments.get_gateway(),
        success_url="http://donations.test/thanks",
        cancel_url="http://donations.test/cancelled",
    )
    db.session.commit()
    for event in stripe_api.local.pay_checkout_session(session.id):
        webhook(event)
    plan = db.session.get(RecurringPlan, reload(gift).plan_id)
    assert plan.appeal_code == "YE2026"
    for event in stripe_api.local.renew_subscription(plan.stripe_subscription_id):
        webhook(event)
    db.session.expire_all()
    instalments = db.session.scalars(select(Gift).where(Gift.plan_id == plan.id)).all()
    assert len(instalments) == 2
    assert [g.appeal_code for g in instalments] == ["YE2026", "YE2026"]


# --- offline gifts ----------------------------------------------------------------


@pytest.fixture
def general(app, organization) -> Fund:
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


def offline_form(donor_id: int, fund_id: int, **overrides: str) -> dict[str, str]:
    data = {
        "donor_id": str(donor_id),
        "fund_id": str(fund_id),
        "method": "cheque",
        "amount": "75.00",
        "received_on": TODAY.isoformat(),
        "cheque_number": "1047",
        "reference": "",
        "memo": "",
        "campaign_id": "",
        "appeal_code": "",
    }
    data.update(overrides)
    return data


def test_offline_form_offers_live_and_closed_campaigns_never_drafts(
    treasurer_client, general, create_donor
):
    make_campaign(name="Live drive", slug="live-drive")
    closed = make_campaign(name="Spring appeal", slug="spring")
    campaigns.set_campaign_status(actor=None, campaign=closed, status=CampaignStatus.CLOSED)
    make_campaign(name="Secret draft", slug="draft", live=False)
    db.session.commit()
    donor = create_donor("Ann")
    html = treasurer_client.get(f"/gifts/new?donor_id={donor.id}").get_data(as_text=True)
    assert "Appeal code" in html and 'name="appeal_code"' in html
    assert "Live drive" in html and "Spring appeal" in html
    assert "Secret draft" not in html


def test_an_offline_gift_keeps_its_appeal_and_campaign(treasurer_client, general, create_donor):
    coats = make_campaign()
    donor = create_donor("Ann")
    response = treasurer_client.post(
        "/gifts/new",
        data=offline_form(donor.id, general.id, campaign_id=str(coats.id), appeal_code="ye2026"),
    )
    assert response.status_code == 302
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.campaign_id, gift.appeal_code) == (coats.id, "YE2026")
    detail = treasurer_client.get(f"/gifts/{gift.id}").get_data(as_text=True)
    assert "<dt>Appeal</dt><dd>YE2026</dd>" in detail


def test_a_bad_offline_code_is_shown_next_to_the_field_with_input_kept(
    treasurer_client, general, create_donor
):
    donor = create_donor("Ann")
    response = treasurer_client.post(
        "/gifts/new", data=offline_form(donor.id, general.id, appeal_code="YE 2026!", memo="Kept")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "letters, digits and hyphens" in html
    assert 'value="YE 2026!"' in html and "Kept" in html
    assert db.session.scalars(select(Gift)).all() == []


def test_a_draft_campaign_cannot_be_posted_on_an_offline_gift(
    treasurer_client, general, create_donor
):
    draft = make_campaign(name="Secret draft", slug="draft", live=False)
    donor = create_donor("Ann")
    response = treasurer_client.post(
        "/gifts/new", data=offline_form(donor.id, general.id, campaign_id=str(draft.id))
    )
    assert response.status_code == 200
    assert db.session.scalars(select(Gift)).all() == []


def test_a_correction_keeps_the_appeal(app, general, create_donor):
    donor = create_donor("Ann")
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=general.id,
        method="cash",
        amount_cents=5000,
        currency="USD",
        received_on=TODAY,
        appeal_code="ye2026",
    )
    db.session.commit()
    gift_service.correct_gift(actor=None, gift=gift, reason="Wrong amount", amount_cents=6000)
    db.session.commit()
    codes = db.session.scalars(select(Gift.appeal_code).order_by(Gift.id)).all()
    assert codes == ["YE2026", "YE2026", "YE2026"]


# --- intake -----------------------------------------------------------------------


def test_an_intake_can_be_for_a_goods_drive_campaign(staff_client, goods):
    drive = make_campaign(name="Sock drive", slug="socks")
    make_campaign(name="Secret draft", slug="draft", live=False)
    html = staff_client.get("/inventory/intake/new").get_data(as_text=True)
    assert "Sock drive" in html and "Secret draft" not in html
    data = intake_data(goods, ("SOCKS-M", "12", "new"), campaign_id=str(drive.id))
    response = staff_client.post("/inventory/intake/new", data=data)
    assert response.status_code in (302, 303)
    document = db.session.scalars(select(StockDocument)).one()
    assert document.campaign_id == drive.id


# --- the gifts CSV and list ---------------------------------------------------------


def test_gifts_csv_and_list_show_campaign_and_appeal(treasurer_client, general, create_donor):
    coats = make_campaign()
    donor = create_donor("Ann")
    for appeal, campaign_id, cents in (("YE2026", coats.id, 5000), ("", None, 7000)):
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=general.id,
            method="cash",
            amount_cents=cents,
            currency="USD",
            received_on=TODAY,
            appeal_code=appeal,
            campaign_id=campaign_id,
        )
    db.session.commit()
    rows = read_csv(treasurer_client.get("/reports/gifts.csv").get_data(as_text=True))
    by_gross = {row["Gross"]: row for row in rows}
    assert (by_gross["50.00"]["Campaign"], by_gross["50.00"]["Appeal"]) == (
        "Winter coats",
        "YE2026",
    )
    assert (by_gross["70.00"]["Campaign"], by_gross["70.00"]["Appeal"]) == ("", "")
    listed = treasurer_client.get("/gifts/?appeal=ye2026&status=all").get_data(as_text=True)
    assert "$50.00" in listed and "$70.00" not in listed
    bad = treasurer_client.get("/gifts/?appeal=%3D1%2B1").get_data(as_text=True)
    assert "letters, digits and hyphens" in bad


def test_the_campaign_report_shows_raised_per_appeal(treasurer_client, general, create_donor):
    coats = make_campaign()
    donor = create_donor("Ann")
    for appeal, cents in (("YE2026", 5000), ("YE2026", 2500), ("SPRING", 9000), ("", 1000)):
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=general.id,
            method="cash",
            amount_cents=cents,
            currency="USD",
            received_on=TODAY,
            appeal_code=appeal,
            campaign_id=coats.id,
        )
    db.session.commit()
    figures = campaigns.campaign_figures(coats)
    rows = [(a.code, a.gift_count, a.raised_cents) for a in campaigns.appeal_rows(figures.gifts)]
    assert rows == [("SPRING", 1, 9000), ("YE2026", 2, 7500), ("", 1, 1000)]
    html = treasurer_client.get(f"/reports/campaigns/{coats.id}").get_data(as_text=True)
    assert "By appeal code" in html
    assert 'href="/gifts/?appeal=YE2026&amp;status=all"' in html
    assert '<td data-label="Appeal">SPRING</td>' in html
