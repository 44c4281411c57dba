"""Supporters' fundraising pages: sign-up with a confirmed email, staff approval, the
public page and its gifts, hiding, reports, the supporter's dashboard and mail, and the
edge cases (escaped text, bad goal or photo, closed campaign, hidden while paying)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from campaign_fixtures import make_campaign, picture
from sqlalchemy import func, select
from supporter_fixtures import mails, make_page
from test_give import funds, give_form, pay, payload_of
from volunteers_support import link_in

from donations.extensions import db
from donations.models import (
    AuditEvent,
    CampaignStatus,
    Donor,
    Fund,
    Gift,
    StripeTestObject,
    SupporterPage,
    SupporterPageReport,
    SupporterPageStatus,
    utcnow,
)
from donations.services import campaigns, organizations
from donations.tenancy import use_organization

__all__ = ["funds"]  # fixtures

TODAY = utcnow().date()


@pytest.fixture
def coats(funds, organization):
    return make_campaign(
        goal_cents=200_000,
        default_fund_id=funds["Survivor services"].id,
        ends_on=TODAY + timedelta(days=30),
    )


def page_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SupporterPage))


def start_form(**overrides):
    data = {
        "name": "Sam Ortiz",
        "email": "Sam@Example.org",
        "title": "Sam runs for safe beds",
        "goal": "500",
        "story": "I am running 10 km.\n\nEvery kilometre helps.",
    }
    data.update(overrides)
    return data


def give_through(client, funds, page: SupporterPage, *, pay_it: bool = True, **overrides):
    """Post the page's donation form, continue to checkout and (unless told) pay."""
    url = f"/give/{page.campaign.slug}/p/{page.slug}"
    html = client.post(url, data=give_form(funds, **overrides)).get_data(as_text=True)
    assert "Continue to secure payment" in html, html
    checkout = client.post("/give/checkout", data={"payload": payload_of(html)})
    assert checkout.status_code == 303
    if pay_it:
        pay(client, checkout.headers["Location"])
    return checkout.headers["Location"]


# --- sign-up, confirmation, approval ------------------------------------------------


def test_sign_up_confirm_approve_and_the_public_page(client, staff_client, coats):
    response = client.post("/give/winter-coats/fundraise", data=start_form())
    assert response.status_code == 303
    page = db.session.scalars(select(SupporterPage)).one()
    assert (page.status, page.email, page.goal_cents) == ("unverified", "sam@example.org", 50_000)
    assert staff_client.get("/admin/supporter-pages").get_data(as_text=True).count(page.title) == 0
    # Not public before approval: a 404, as the dashboard link is not valid yet.
    assert client.get(f"/give/winter-coats/p/{page.slug}").status_code == 404
    (confirm,) = mails("supporter_confirm", "sam@example.org")
    path = link_in(confirm.body_text, "/fundraise/confirm/")
    assert "Confirm my email" in client.get(path).get_data(as_text=True)
    db.session.refresh(page)
    assert page.status == "unverified"  # a GET changes nothing
    done = client.post(path)
    assert done.status_code == 303 and "/fundraise/me/" in done.headers["Location"]
    db.session.refresh(page)
    assert page.status == "pending" and page.email_verified_at is not None
    assert len(mails("supporter_link", "sam@example.org")) == 1
    assert client.get(f"/give/winter-coats/p/{page.slug}").status_code == 404
    queue = staff_client.get("/admin/supporter-pages").get_data(as_text=True)
    assert page.title in queue and "Waiting for review" in queue
    approved = staff_client.post(
        f"/admin/supporter-pages/{page.id}/decision", data={"action": "approve"}
    )
    assert approved.status_code == 303
    db.session.refresh(page)
    assert page.status == "approved" and page.approved_at is not None
    html = client.get(f"/give/winter-coats/p/{page.slug}").get_data(as_text=True)
    assert "Sam runs for safe beds" in html and "Every kilometre helps." in html
    assert "$0.00</strong> raised of $500.00 (0%) from 0 donors" in html
    assert 'action="/give/winter-coats/p/' in html and "Review my gift" in html
    assert "Report this page" in html and 'name="shares_amount"' in html
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"supporter_page.start", "supporter_page.confirm_email"} <= actions
    assert "supporter_page.approve" in actions
    # The campaign page lists it among its top supporters.
    campaign_html = client.get("/give/winter-coats").get_data(as_text=True)
    assert "Top supporters" in campaign_html and "Sam runs for safe beds" in campaign_html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"goal": "0"}, "goal", "greater than zero"),
        ({"goal": "-5"}, "goal", "greater than zero"),
        ({"title": ""}, "title", "Enter a title"),
        ({"story": "Call Maria Lopez at 555-123-4567"}, "story", "names or contact details"),
    ],
)
def test_bad_values_are_refused_next_to_their_field(client, coats, overrides, field, message):
    response = client.post("/give/winter-coats/fundraise", data=start_form(**overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert f'id="{field}-error"' in html
    assert page_count() == 0 and mails() == []


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        (b"not an image at all", "not an image we can read"),
        (b"", "The file is empty"),
    ],
)
def test_a_photo_that_is_not_an_image_is_refused(client, coats, photo, message):
    import io

    data = start_form(photo=(io.BytesIO(photo), "me.jpg"))
    response = client.post(
        "/give/winter-coats/fundraise", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert page_count() == 0


def test_a_photo_too_large_is_refused_and_a_good_one_is_resized(client, coats, monkeypatch):
    import io

    from donations.services.campaigns import images

    monkeypatch.setattr(images, "IMAGE_MAX_BYTES", 100)
    big = picture((300, 300))
    response = client.post(
        "/give/winter-coats/fundraise",
        data=start_form(photo=(io.BytesIO(big), "me.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "use one of at most" in response.get_data(as_text=True)
    assert page_count() == 0
    monkeypatch.undo()
    client.post(
        "/give/winter-coats/fundraise",
        data=start_form(photo=(io.BytesIO(picture((2400, 1200))), "me.png")),
        content_type="multipart/form-data",
    )
    page = db.session.scalars(select(SupporterPage)).one()
    assert (page.photo_width, page.photo_height, page.photo_type) == (1200, 600, "image/jpeg")


def test_a_script_or_link_in_the_story_is_shown_as_escaped_text(client, coats):
    story = '<script>alert("x")</script>\nSee https://evil.example/ and <a href="https://evil.example/">here</a>'
    page = make_page(coats, story=story)
    html = client.get(f"/give/winter-coats/p/{page.slug}").get_data(as_text=True)
    assert "<script>alert" not in html and 'href="https://evil.example/"' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "See https://evil.example/ and &lt;a href=" in html
    assert page.story == story  # kept as typed


def test_no_page_for_a_closed_or_draft_campaign(client, funds, coats):
    make_campaign(name="Later", slug="later", live=False)
    assert client.get("/give/later/fundraise").status_code == 404
    campaigns.set_campaign_status(actor=None, campaign=coats, status=CampaignStatus.CLOSED)
    db.session.commit()
    response = client.post("/give/winter-coats/fundraise", data=start_form())
    assert "not taking new fundraising pages" in response.get_data(as_text=True)
    assert page_count() == 0


# --- gifts through a page ------------------------------------------------------------


def test_a_gift_through_the_page_counts_for_the_page_and_the_campaign(client, funds, coats):
    page = make_page(coats)
    before_campaign = campaigns.campaign_progress(coats).raised_cents
    give_through(client, funds, page, shares_amount="y")
    session = db.session.scalars(
        select(StripeTestObject).where(StripeTestObject.object_type == "checkout.session")
    ).one()
    assert f'"supporter_page_id": "{page.id}"' in session.data
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.status, gift.campaign_id, gift.supporter_page_id) == ("paid", coats.id, page.id)
    assert gift.shares_amount is True
    page_total = campaigns.page_progress(page).raised_cents
    campaign_total = campaigns.campaign_progress(coats).raised_cents
    assert page_total == campaign_total - before_campaign == gift.amount_cents == 5_000
    html = client.get(f"/give/winter-coats/p/{page.slug}").get_data(as_text=True)
    assert "$50.00</strong> raised of $500.00 (10%) from 1 donor" in html
    assert "Ann" in html and "Lee" not in html and "ann.lee@example.com" not in html
    # One mail to the supporter, with the first name and (agreed) amount, never the email.
    (mail,) = mails("supporter_gift", "sam@example.org")
    assert "Ann made a gift of $50.00 through your page" in mail.body_text
    assert "raised $50.00 of your $500.00 goal from 1 donor" in mail.body_text
    assert "ann.lee@example.com" not in mail.body_text.lower() and "Lee" not in mail.body_text
    # The campaign report lists the page.
    rows = campaigns.campaign_page_totals(coats, public_only=False)
    assert [(r.page.id, r.raised_cents, r.donors) for r in rows] == [(page.id, 5_000, 1)]


def test_donors_names_amounts_and_anonymity(client, funds, coats):
    page = make_page(coats)
    give_through(client, funds, page)  # Ann, amount not shared
    give_through(
        client,
        funds,
        page,
        name="Zoe Quiet",
        email="zoe@example.com",
        is_anonymous="y",
        shares_amount="y",
    )
    public = client.get(f"/give/winter-coats/p/{page.slug}").get_data(as_text=True)
    assert "Ann" in public and "Zoe" not in public
    assert "from 2 donors" in public
    mail_to_page = mails("supporter_gift", "sam@example.org")
    assert len(mail_to_page) == 2
    assert "Ann made a gift through your page" in mail_to_page[0].body_text
    assert "$50.00 through" not in mail_to_page[0].body_text
    assert "Someone who asked to stay anonymous made a gift of $50.00" in mail_to_page[1].body_text
    assert "Zoe" not in mail_to_page[1].body_text
    token = campaigns.dashboard_token(page)
    dashboard = client.get(f"/fundraise/me/{token}")
    html = dashboard.get_data(as_text=True)
    assert dashboard.headers["Cache-Control"] == "private, no-store"
    assert "Anonymous" in html and "Zoe" not in html and "Ann" in html
    assert "not shared" in html and "$50.00" in html
    assert "@example.com" not in html


def test_a_supporter_never_sees_another_pages_donors(client, funds, coats):
    ours = make_page(coats)
    theirs = make_page(coats, name="Kim Park", email="kim@example.org", title="Kim bakes")
    give_through(client, funds, theirs, name="Bea Other", email="bea@example.com")
    html = client.get(f"/fundraise/me/{campaigns.dashboard_token(ours)}").get_data(as_text=True)
    assert "Bea" not in html and "No gifts yet." in html
    assert campaigns.page_progress(ours).raised_cents == 0
    assert mails("supporter_gift", "sam@example.org") == []
    # A dashboard link names its page only: a forged one is not found.
    assert client.get("/fundraise/me/not-a-token").status_code == 404


def test_a_page_hidden_while_the_donor_pays(client, funds, coats):
    page = make_page(coats)
    checkout = give_through(client, funds, page, pay_it=False)
    campaigns.decide_page(actor=None, page=page, action="hide")
    db.session.commit()
    pay(client, checkout)
    gift = db.session.scalars(select(Gift)).one()
    assert gift.status == "paid" and gift.campaign_id == coats.id
    assert gift.supporter_page_id is None  # on the campaign, off the hidden page
    assert campaigns.campaign_progress(coats).raised_cents == 5_000
    assert campaigns.page_progress(page).raised_cents == 0
    assert mails("supporter_gift") == []
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "supporter_page.gift_not_counted")
    ).all()
    assert len(audit) == 1
    # Hidden: a 404 to the public, and shown again only by staff.
    assert client.get(f"/give/winter-coats/p/{page.slug}").status_code == 404


def test_a_page_hidden_between_review_and_checkout(client, funds, coats):
    page = make_page(coats)
    url = f"/give/winter-coats/p/{page.slug}"
    html = client.post(url, data=give_form(funds)).get_data(as_text=True)
    campaigns.decide_page(actor=None, page=page, action="hide")
    db.session.commit()
    checkout = client.post("/give/checkout", data={"payload": payload_of(html)})
    pay(client, checkout.headers["Location"])
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.campaign_id, gift.supporter_page_id, gift.status) == (coats.id, None, "paid")


def test_a_gift_to_a_page_of_a_closed_campaign_charges_nothing(client, funds, coats):
    page = make_page(coats)
    url = f"/give/winter-coats/p/{page.slug}"
    html = client.post(url, data=give_form(funds)).get_data(as_text=True)
    campaigns.set_campaign_status(actor=None, campaign=coats, status=CampaignStatus.CLOSED)
    db.session.commit()
    for response in (
        client.get(url),
        client.post(url, data=give_form(funds)),
        client.post("/give/checkout", data={"payload": payload_of(html)}),
    ):
        text = response.get_data(as_text=True)
        assert "This campaign is closed" in text and "Nothing has been charged" in text
        assert 'href="/give"' in text
    assert db.session.scalar(select(func.count()).select_from(Gift)) == 0
    assert db.session.scalar(select(func.count()).select_from(StripeTestObject)) == 0


# --- staff, reports, edits -------------------------------------------------------------


def test_staff_hide_and_unhide_and_a_treasurer_may_not(app, staff_client, client, coats, login):
    page = make_page(coats)
    staff_client.post(f"/admin/supporter-pages/{page.id}/decision", data={"action": "hide"})
    db.session.refresh(page)
    assert page.status == SupporterPageStatus.HIDDEN
    assert client.get(f"/give/winter-coats/p/{page.slug}").status_code == 404
    assert "Sam runs" not in client.get("/give/winter-coats").get_data(as_text=True)
    refused = staff_client.post(
        f"/admin/supporter-pages/{page.id}/decision", data={"action": "decline"}
    )
    assert refused.status_code == 303
    db.session.refresh(page)
    assert page.status == SupporterPageStatus.HIDDEN  # nothing changed
    staff_client.post(f"/admin/supporter-pages/{page.id}/decision", data={"action": "unhide"})
    db.session.refresh(page)
    assert page.status == SupporterPageStatus.APPROVED
    assert client.get(f"/give/winter-coats/p/{page.slug}").status_code == 200


def test_visitors_report_a_page(client, staff_client, coats):
    page = make_page(coats)
    url = f"/give/winter-coats/p/{page.slug}/report"
    assert client.post(url, data={"reason": "bogus"}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(SupporterPageReport)) == 0
    client.post(url, data={"reason": "misleading", "details": "Not a real runner"})
    report = db.session.scalars(select(SupporterPageReport)).one()
    assert (report.reason, report.details) == ("misleading", "Not a real runner")
    queue = staff_client.get("/admin/supporter-pages").get_data(as_text=True)
    assert "It is misleading or a scam" in queue
    detail = staff_client.get(f"/admin/supporter-pages/{page.id}").get_data(as_text=True)
    assert "Not a real runner" in detail
    campaigns.decide_page(actor=None, page=page, action="hide")
    db.session.commit()
    assert client.post(url, data={"reason": "spam"}).status_code == 404


def test_the_supporter_edits_their_page(client, coats):
    import io

    page = make_page(coats)
    token = campaigns.dashboard_token(page)
    bad = client.post(f"/fundraise/me/{token}", data={"title": "T", "goal": "0", "story": ""})
    assert bad.status_code == 400 and "greater than zero" in bad.get_data(as_text=True)
    db.session.refresh(page)
    assert page.goal_cents == 50_000
    ok = client.post(f"/fundraise/me/{token}", data={"title": "New title", "goal": "750"})
    assert ok.status_code == 303
    db.session.refresh(page)
    assert (page.title, page.goal_cents, page.status) == ("New title", 75_000, "approved")
    client.post(
        f"/fundraise/me/{token}",
        data={"title": "New title", "goal": "750", "photo": (io.BytesIO(picture()), "p.png")},
        content_type="multipart/form-data",
    )
    db.session.refresh(page)
    assert page.status == "pending" and page.photo_etag  # a new photo goes back to staff


def test_another_organisation_never_sees_the_pages(client, funds, coats, organization):
    page = make_page(coats)
    token = campaigns.dashboard_token(page)
    north = organizations.create_organization(actor=None, slug="north", legal_name="North")
    db.session.commit()
    assert client.get(f"/o/north/give/winter-coats/p/{page.slug}").status_code == 404
    assert client.get(f"/o/north/fundraise/me/{token}").status_code == 404
    with use_organization(north.id):
        assert db.session.scalars(select(SupporterPage)).all() == []
        db.session.add(Fund(name="North fund"))
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Donor)) == 0


def test_the_campaign_report_lists_the_pages(client, funds, coats, login):
    from donations.models import Role

    page = make_page(coats)
    make_page(coats, name="Kim Park", email="kim@example.org", title="Kim bakes", approve=False)
    give_through(client, funds, page)
    treasurer = login(Role.TREASURER)
    html = treasurer.get(f"/reports/campaigns/{coats.id}").get_data(as_text=True)
    assert "Top supporters' pages" in html and "Sam runs for safe beds" in html
    assert "Kim bakes" in html and "Waiting for review" in html
    text = treasurer.get(f"/reports/campaigns/{coats.id}/pages.csv").get_data(as_text=True)
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == "Page,Supporter,Status,Address,Currency,Goal,Raised,Donors"
    assert lines[1].startswith("Sam runs for safe beds,Sam Ortiz,approved,")
    assert lines[1].endswith(",USD,500.00,50.00,1")
    assert lines[2].endswith(",USD,500.00,0.00,0")
