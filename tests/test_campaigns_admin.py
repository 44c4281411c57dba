"""Campaign admin pages and the campaign report: refused input shown next to its field
with nothing stored, the image upload (checked, resized, served with an ETag), opening
and closing, goods goals, and the report's totals and CSV over HTTP."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from campaign_fixtures import appeal_fund, fund, make_campaign, offline_gift, picture
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Campaign, CampaignStatus, Gift, Role, utcnow
from donations.services import campaigns

__all__ = ["appeal_fund", "fund"]  # fixtures

TODAY = utcnow().date()


def campaign_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


def form(**overrides) -> dict:
    data = {
        "name": "Winter coats",
        "slug": "winter-coats",
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=30)).isoformat(),
        "goal": "25,000",
        "default_fund": "",
        "story": "Every coat keeps someone warm.",
    }
    data.update(overrides)
    return data


def error_of(html: str, field: str) -> str:
    start = html.find(f'id="{field}-error"')
    assert start != -1, f"no error next to {field}"
    return html[start : html.find("</p>", start)]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"goal": "0"}, "goal", "greater than zero"),
        ({"goal": "-50"}, "goal", "greater than zero"),
        ({"goal": "lots"}, "goal", "number"),
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "ends_on", "on or after"),
        ({"slug": "Bad Slug!"}, "slug", "lower-case"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(login, fund, overrides, field, message):
    admin = login(Role.ADMIN)
    response = admin.post("/admin/campaigns/new", data=form(**overrides))
    assert response.status_code == 200
    assert message in error_of(response.get_data(as_text=True), field)
    assert campaign_count() == 0


def test_a_taken_slug_is_refused(login, fund):
    make_campaign()
    admin = login(Role.ADMIN)
    response = admin.post("/admin/campaigns/new", data=form(name="Other"))
    assert "already uses" in error_of(response.get_data(as_text=True), "slug")
    assert campaign_count() == 1


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b"GIF89a but not really an image", "not an image we can read"),
        (b"%PDF-1.4 a document", "not an image we can read"),
        (b"", "empty"),
    ],
)
def test_a_file_that_is_not_an_image_is_refused(login, fund, upload, message):
    admin = login(Role.ADMIN)
    data = form(image=(io.BytesIO(upload), "coat.png"))
    response = admin.post("/admin/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert message in error_of(response.get_data(as_text=True), "image")
    assert campaign_count() == 0


def test_a_too_large_image_is_refused_next_to_the_field(login, fund, monkeypatch):
    from donations.services.campaigns import images

    monkeypatch.setattr(images, "IMAGE_MAX_BYTES", 100)
    admin = login(Role.ADMIN)
    data = form(image=(io.BytesIO(picture((64, 64), "BMP")), "coat.bmp"))
    response = admin.post("/admin/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "use one of at most" in error_of(response.get_data(as_text=True), "image")
    assert campaign_count() == 0


def test_an_image_with_too_many_pixels_is_refused(fund):
    from donations.services.errors import InvalidInput

    with pytest.raises(InvalidInput, match="million pixels"):
        campaigns.prepare_image(picture((8000, 6000), "PNG"))


def test_a_campaign_is_added_with_its_image_resized_and_served_with_an_etag(
    login, fund, appeal_fund, client
):
    admin = login(Role.ADMIN)
    data = form(
        default_fund=str(appeal_fund.id), image=(io.BytesIO(picture((2400, 1600))), "c.png")
    )
    response = admin.post("/admin/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    assert (campaign.status, campaign.goal_cents) == (CampaignStatus.DRAFT, 2_500_000)
    assert campaign.default_fund_id == appeal_fund.id
    assert (campaign.image_width, campaign.image_height) == (1200, 800)
    assert campaign.image_type == "image/jpeg"
    # A draft's image is not public yet.
    assert client.get("/campaigns/winter-coats/image").status_code == 404
    admin.post(f"/admin/campaigns/{campaign.id}/status", data={"action": "open"})
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.LIVE
    image = client.get("/campaigns/winter-coats/image")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.data[:3] == b"\xff\xd8\xff"
    assert image.headers["ETag"] == f'"{campaign.image_etag}"'
    assert "max-age" in image.headers["Cache-Control"]
    again = client.get(
        "/campaigns/winter-coats/image", headers={"If-None-Match": image.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    page = client.get("/give/winter-coats").get_data(as_text=True)
    assert f"/campaigns/winter-coats/image?v={campaign.image_etag[:16]}" in page


def test_open_close_and_edit(login, fund):
    campaign = make_campaign(live=False)
    admin = login(Role.ADMIN)
    admin.post(f"/admin/campaigns/{campaign.id}/status", data={"action": "open"})
    admin.post(f"/admin/campaigns/{campaign.id}/status", data={"action": "close"})
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.CLOSED
    response = admin.post(
        f"/admin/campaigns/{campaign.id}/edit", data=form(name="Warm coats", goal="")
    )
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert (campaign.name, campaign.goal_cents) == ("Warm coats", None)
    response = admin.post(f"/admin/campaigns/{campaign.id}/edit", data=form(goal="0"))
    assert "greater than zero" in error_of(response.get_data(as_text=True), "goal")
    db.session.refresh(campaign)
    assert campaign.goal_cents is None


def test_goods_goals_page(login, fund, goods):
    campaign = make_campaign()
    admin = login(Role.ADMIN)
    soap = goods.items["SOAP"].id
    page = f"/admin/campaigns/{campaign.id}/goods"
    refused = admin.post(page, data={"rows-0-item": str(soap), "rows-0-quantity": "0"})
    assert "from 1 to" in refused.get_data(as_text=True)
    assert campaign.goods_goals == []
    saved = admin.post(page, data={"rows-0-item": str(soap), "rows-0-quantity": "40"})
    assert saved.status_code == 303
    db.session.refresh(campaign)
    assert [(g.item_id, g.quantity) for g in campaign.goods_goals] == [(soap, 40)]


def test_the_treasurer_reads_but_does_not_change(login, fund):
    campaign = make_campaign()
    treasurer = login(Role.TREASURER)
    assert treasurer.get("/admin/campaigns").status_code == 200
    html = treasurer.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Winter coats" in html and "Close the campaign" not in html
    assert treasurer.post(f"/admin/campaigns/{campaign.id}/status").status_code == 403


def test_report_totals_equal_the_gifts_listed_and_the_csv(login, fund, create_donor):
    campaign = make_campaign(goal_cents=10_000)
    donors = [create_donor(f"Donor {n}") for n in range(3)]
    for donor, cents in zip(donors, (1_000, 2_550, 333), strict=True):
        offline_gift(donor.id, fund.id, cents, campaign_id=campaign.id)
    offline_gift(donors[0].id, fund.id, 50_000, campaign_id=None)
    treasurer = login(Role.TREASURER)
    html = treasurer.get(f"/reports/campaigns/{campaign.id}").get_data(as_text=True)
    listed = db.session.scalars(select(Gift).where(Gift.campaign_id == campaign.id)).all()
    total = sum(g.amount_cents for g in listed)
    assert total == 3_883
    assert "$38.83 of $100.00 (38%)" in html
    assert html.count('data-label="Raised"') == 3 and "<svg" in html
    assert "3: 3 new, 0 returning" in html
    response = treasurer.get("/reports/campaigns.csv")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == ",".join(campaigns.CSV_HEADER)
    row = dict(zip(campaigns.CSV_HEADER, lines[1].split(","), strict=True))
    assert (row["campaign"], row["raised"], row["donors"], row["average_gift"]) == (
        "Winter coats",
        "38.83",
        "3",
        "12.94",  # 3,883 / 3 = 1,294.33 cents
    )
