"""Every route with every role: each role reaches exactly its pages.

The table below must name every route the app has; a new route fails
``test_table_covers_every_route`` until it is added here with its roles.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from campaign_fixtures import campaign_objects
from sqlalchemy import select
from supporter_fixtures import supporter_objects
from volunteers_support import volunteer_objects

from conftest import sign_in
from donations.extensions import db
from donations.models import (
    Frequency,
    Item,
    JobRun,
    JobStatus,
    Recipient,
    Role,
    StripeEvent,
    utcnow,
)
from donations.services import accounts, giving, inventory, partner_requests, payments, pledges
from donations.services.mail import queue_mail
from donations.services.organization import update_organization

PUBLIC = "public"
# Every role of the organisation's own people; a partner agency's login is not one of them.
ANY = frozenset({Role.ADMIN, Role.TREASURER, Role.STAFF})
EVERYONE = frozenset(Role)  # the account pages: partner logins too
PARTNER = frozenset({Role.PARTNER})
ADMIN = frozenset({Role.ADMIN})
BOOKS = frozenset({Role.ADMIN, Role.TREASURER})
STOCK = frozenset({Role.ADMIN, Role.STAFF})
# The coalition admin's pages: no organisation role reaches them (tests/test_memberships.py
# signs in a coalition admin).
COALITION = frozenset()

# Routes that end the session, so they send a signed-in user to the sign-in page.
SIGNS_OUT = {"auth.logout", "auth.sign_out_everywhere"}

# (endpoint, method, path, who may reach it)
ROUTES = [
    ("main.home", "GET", "/", PUBLIC),
    ("main.healthz", "GET", "/healthz", PUBLIC),
    ("main.favicon", "GET", "/favicon.ico", PUBLIC),
    ("main.dashboard", "GET", "/dashboard", ANY),
    ("auth.login", "GET", "/login", PUBLIC),
    ("auth.login", "POST", "/login", PUBLIC),
    ("auth.logout", "POST", "/logout", EVERYONE),
    ("auth.second_step", "GET", "/login/code", PUBLIC),
    ("auth.second_step", "POST", "/login/code", PUBLIC),
    ("auth.account", "GET", "/account", EVERYONE),
    ("auth.two_factor_setup", "GET", "/account/two-step", EVERYONE),
    ("auth.two_factor_setup", "POST", "/account/two-step", EVERYONE),
    ("auth.disable_two_factor", "POST", "/account/two-step/off", EVERYONE),
    ("auth.recovery_codes", "GET", "/account/recovery-codes", EVERYONE),
    ("auth.regenerate_recovery_codes", "POST", "/account/recovery-codes", EVERYONE),
    ("auth.sign_out_everywhere", "POST", "/account/sign-out-everywhere", EVERYONE),
    ("auth.change_password", "GET", "/account/password", EVERYONE),
    ("auth.change_password", "POST", "/account/password", EVERYONE),
    ("auth.reset_request", "GET", "/reset-password", PUBLIC),
    ("auth.reset_request", "POST", "/reset-password", PUBLIC),
    ("auth.reset_password", "GET", "/reset-password/{token}", PUBLIC),
    ("auth.reset_password", "POST", "/reset-password/{token}", PUBLIC),
    ("admin.users", "GET", "/admin/users", ADMIN),
    ("admin.new_user", "GET", "/admin/users/new", ADMIN),
    ("admin.new_user", "POST", "/admin/users/new", ADMIN),
    ("admin.edit_user", "GET", "/admin/users/{user_id}/edit", ADMIN),
    ("admin.edit_user", "POST", "/admin/users/{user_id}/edit", ADMIN),
    ("admin.set_user_active", "POST", "/admin/users/{user_id}/active", ADMIN),
    ("admin.sign_user_out_everywhere", "POST", "/admin/users/{user_id}/sign-out-everywhere", ADMIN),
    ("admin.reset_two_factor", "POST", "/admin/users/{user_id}/reset-two-step", ADMIN),
    ("admin.organization", "GET", "/admin/organization", ADMIN),
    ("admin.organization", "POST", "/admin/organization", ADMIN),
    ("admin.payments", "GET", "/admin/payments", ADMIN),
    ("admin.payments", "POST", "/admin/payments", ADMIN),
    ("admin.forget_payments", "POST", "/admin/payments/forget", ADMIN),
    ("admin.outgoing_mail", "GET", "/admin/mail", BOOKS),
    ("admin.mail_message", "GET", "/admin/mail/{message_id}", BOOKS),
    ("admin.requeue_mail", "POST", "/admin/mail/{message_id}/requeue", BOOKS),
    ("admin.audit_log", "GET", "/admin/audit", ADMIN),
    ("admin.verify_audit", "POST", "/admin/audit/verify", ADMIN),
    ("background_jobs.index", "GET", "/admin/jobs", ADMIN),
    ("background_jobs.retry", "POST", "/admin/jobs/{job_run_id}/retry", ADMIN),
    ("recipients.index", "GET", "/admin/recipients", ADMIN),
    ("recipients.index", "POST", "/admin/recipients", ADMIN),
    ("recipients.edit", "GET", "/admin/recipients/{recipient_id}", ADMIN),
    ("recipients.edit", "POST", "/admin/recipients/{recipient_id}", ADMIN),
    ("recipients.set_active", "POST", "/admin/recipients/{recipient_id}/active", ADMIN),
    ("recipients.new_partner_login", "GET", "/admin/recipients/{partner_id}/logins/new", ADMIN),
    ("recipients.new_partner_login", "POST", "/admin/recipients/{partner_id}/logins/new", ADMIN),
    ("recipients.privacy_scan", "GET", "/admin/privacy", ADMIN),
    ("recipients.redact", "POST", "/admin/privacy/document/{document_id}/redact", ADMIN),
    ("donors.index", "GET", "/donors/", BOOKS),
    ("donors.new", "GET", "/donors/new", BOOKS),
    ("donors.new", "POST", "/donors/new", BOOKS),
    ("donors.detail", "GET", "/donors/{donor_id}", BOOKS),
    ("donors.edit", "GET", "/donors/{donor_id}/edit", BOOKS),
    ("donors.edit", "POST", "/donors/{donor_id}/edit", BOOKS),
    ("donors.merge", "GET", "/donors/{donor_id}/merge", BOOKS),
    ("donors.merge", "POST", "/donors/{donor_id}/merge", BOOKS),
    ("donors.lookup", "GET", "/donors/lookup?q=a", ANY),
    ("donors.lookup_json", "GET", "/donors/lookup.json?q=a", ANY),
    ("webhooks.stripe_webhook", "POST", "/stripe/webhook", PUBLIC),
    ("webhooks.organization_stripe_webhook", "POST", "/stripe/webhook/{org_slug}", PUBLIC),
    ("coalition.needs", "GET", "/coalition/needs", PUBLIC),
    ("coalition_admin.members", "GET", "/coalition/members", COALITION),
    ("coalition_admin.new_member", "GET", "/coalition/members/new", COALITION),
    ("coalition_admin.new_member", "POST", "/coalition/members/new", COALITION),
    ("coalition_admin.invite_admin", "POST", "/coalition/members/{org_slug}/admins", COALITION),
    ("coalition_admin.report", "GET", "/coalition/report", COALITION),
    ("give.index", "GET", "/give", PUBLIC),
    ("give.index", "POST", "/give", PUBLIC),
    ("give.checkout", "POST", "/give/checkout", PUBLIC),
    ("give.thanks", "GET", "/give/thanks/{gift_token}", PUBLIC),
    ("give.cancelled", "GET", "/give/cancelled/{gift_token}", PUBLIC),
    ("give.manage_plan", "GET", "/give/manage/{plan_token}", PUBLIC),
    ("give.test_checkout", "GET", "/give/test-checkout/{session_id}", PUBLIC),
    ("give.test_checkout", "POST", "/give/test-checkout/{session_id}", PUBLIC),
    ("give.test_portal", "GET", "/give/test-portal/{customer}", PUBLIC),
    ("give.test_portal", "POST", "/give/test-portal/{customer}", PUBLIC),
    ("give.campaign", "GET", "/give/{campaign_slug}", PUBLIC),
    ("give.campaign", "POST", "/give/{campaign_slug}", PUBLIC),
    ("give.campaign_embed", "GET", "/give/{campaign_slug}/embed", PUBLIC),
    ("campaigns.index", "GET", "/campaigns", PUBLIC),
    ("campaigns.image", "GET", "/campaigns/{campaign_slug}/image", PUBLIC),
    ("campaigns_admin.index", "GET", "/admin/campaigns", BOOKS),
    ("campaigns_admin.new", "GET", "/admin/campaigns/new", ADMIN),
    ("campaigns_admin.new", "POST", "/admin/campaigns/new", ADMIN),
    ("campaigns_admin.detail", "GET", "/admin/campaigns/{campaign_id}", BOOKS),
    ("campaigns_admin.edit", "GET", "/admin/campaigns/{campaign_id}/edit", ADMIN),
    ("campaigns_admin.edit", "POST", "/admin/campaigns/{campaign_id}/edit", ADMIN),
    ("campaigns_admin.status", "POST", "/admin/campaigns/{campaign_id}/status", ADMIN),
    ("campaigns_admin.goods", "GET", "/admin/campaigns/{campaign_id}/goods", ADMIN),
    ("campaigns_admin.goods", "POST", "/admin/campaigns/{campaign_id}/goods", ADMIN),
    ("campaign_reports.index", "GET", "/reports/campaigns", BOOKS),
    ("campaign_reports.csv", "GET", "/reports/campaigns.csv", BOOKS),
    ("campaign_reports.detail", "GET", "/reports/campaigns/{campaign_id}", BOOKS),
    ("campaign_reports.pages_csv", "GET", "/reports/campaigns/{campaign_id}/pages.csv", BOOKS),
    ("give.supporter_page", "GET", "/give/{page_campaign_slug}/p/{page_slug}", PUBLIC),
    ("give.supporter_page", "POST", "/give/{page_campaign_slug}/p/{page_slug}", PUBLIC),
    ("supporter_public.start", "GET", "/give/{page_campaign_slug}/fundraise", PUBLIC),
    ("supporter_public.start", "POST", "/give/{page_campaign_slug}/fundraise", PUBLIC),
    ("supporter_public.confirm", "GET", "/fundraise/confirm/{page_confirm_link}", PUBLIC),
    ("supporter_public.confirm", "POST", "/fundraise/confirm/{page_confirm_link}", PUBLIC),
    ("supporter_public.dashboard", "GET", "/fundraise/me/{page_link}", PUBLIC),
    ("supporter_public.dashboard", "POST", "/fundraise/me/{page_link}", PUBLIC),
    (
        "supporter_public.report",
        "POST",
        "/give/{page_campaign_slug}/p/{page_slug}/report",
        PUBLIC,
    ),
    ("supporter_public.photo", "GET", "/give/{page_campaign_slug}/p/{page_slug}/photo", PUBLIC),
    ("supporter_pages_admin.index", "GET", "/admin/supporter-pages", STOCK),
    ("supporter_pages_admin.detail", "GET", "/admin/supporter-pages/{page_id}", STOCK),
    ("supporter_pages_admin.decide", "POST", "/admin/supporter-pages/{page_id}/decision", STOCK),
    ("funds_admin.funds", "GET", "/admin/funds", ADMIN),
    ("funds_admin.new_fund", "GET", "/admin/funds/new", ADMIN),
    ("funds_admin.new_fund", "POST", "/admin/funds/new", ADMIN),
    ("funds_admin.edit_fund", "GET", "/admin/funds/{fund_id}/edit", ADMIN),
    ("funds_admin.edit_fund", "POST", "/admin/funds/{fund_id}/edit", ADMIN),
    ("funds_admin.giving", "GET", "/admin/giving", ADMIN),
    ("funds_admin.giving", "POST", "/admin/giving", ADMIN),
    ("gifts.index", "GET", "/gifts/", BOOKS),
    ("gifts.detail", "GET", "/gifts/{gift_id}", BOOKS),
    ("gifts.new_offline", "GET", "/gifts/new", BOOKS),
    ("gifts.new_offline", "POST", "/gifts/new", BOOKS),
    ("gifts.correct", "GET", "/gifts/{gift_id}/correct", BOOKS),
    ("gifts.correct", "POST", "/gifts/{gift_id}/correct", BOOKS),
    ("gifts.plans", "GET", "/gifts/plans", BOOKS),
    ("gifts.events", "GET", "/gifts/events", BOOKS),
    ("gifts.replay_event", "POST", "/gifts/events/{event_row_id}/replay", BOOKS),
    # --- goods: stock and ledger
    ("inventory.stock", "GET", "/inventory/", ANY),
    ("inventory.item", "GET", "/inventory/items/{item_id}", ANY),
    ("inventory.as_of", "GET", "/inventory/as-of", ANY),
    ("inventory.documents", "GET", "/inventory/documents", ANY),
    ("inventory.document", "GET", "/inventory/documents/{document_id}", ANY),
    ("inventory.reverse", "POST", "/inventory/documents/{document_id}/reverse", STOCK),
    # --- goods: recording movements (movements blueprint)
    ("movements.record", "GET", "/inventory/record", STOCK),
    ("movements.intake", "GET", "/inventory/intake/new", STOCK),
    ("movements.intake", "POST", "/inventory/intake/new", STOCK),
    ("movements.distribution", "GET", "/inventory/distribution/new", STOCK),
    ("movements.distribution", "POST", "/inventory/distribution/new", STOCK),
    ("movements.transfer", "GET", "/inventory/transfer/new", STOCK),
    ("movements.transfer", "POST", "/inventory/transfer/new", STOCK),
    ("movements.adjustment", "GET", "/inventory/adjustment/new", STOCK),
    ("movements.adjustment", "POST", "/inventory/adjustment/new", STOCK),
    ("movements.count", "GET", "/inventory/count/new", STOCK),
    ("movements.count", "POST", "/inventory/count/new", STOCK),
    ("movements.kits", "GET", "/inventory/kits", STOCK),
    ("movements.kits", "POST", "/inventory/kits", STOCK),
    # --- goods: catalog and sites (catalog blueprint)
    ("catalog.items", "GET", "/inventory/catalog", ANY),
    ("catalog.new_item", "GET", "/inventory/catalog/new", STOCK),
    ("catalog.new_item", "POST", "/inventory/catalog/new", STOCK),
    ("catalog.edit_item", "GET", "/inventory/catalog/{item_id}/edit", STOCK),
    ("catalog.edit_item", "POST", "/inventory/catalog/{item_id}/edit", STOCK),
    ("catalog.new_category", "GET", "/inventory/catalog/categories/new", STOCK),
    ("catalog.new_category", "POST", "/inventory/catalog/categories/new", STOCK),
    ("catalog.kit_components", "GET", "/inventory/catalog/{kit_id}/components", STOCK),
    ("catalog.kit_components", "POST", "/inventory/catalog/{kit_id}/components", STOCK),
    ("catalog.label_svg", "GET", "/inventory/catalog/{item_id}/label.svg", ANY),
    ("catalog.labels", "GET", "/inventory/catalog/labels", ANY),
    ("catalog.sites", "GET", "/inventory/sites", ANY),
    ("catalog.new_site", "GET", "/inventory/sites/new", ADMIN),
    ("catalog.new_site", "POST", "/inventory/sites/new", ADMIN),
    ("catalog.edit_site", "GET", "/inventory/sites/{site_id}/edit", ADMIN),
    ("catalog.edit_site", "POST", "/inventory/sites/{site_id}/edit", ADMIN),
    ("catalog.par_levels", "GET", "/inventory/sites/{site_id}/par", STOCK),
    ("catalog.par_levels", "POST", "/inventory/sites/{site_id}/par", STOCK),
    # --- goods: needs and pledges (needs blueprint)
    ("needs.index", "GET", "/needs", PUBLIC),
    ("needs.pledge", "GET", "/needs/pledge", PUBLIC),
    ("needs.pledge", "POST", "/needs/pledge", PUBLIC),
    ("needs.pledge_thanks", "GET", "/needs/pledge/thanks", PUBLIC),
    ("needs.pledges", "GET", "/inventory/pledges", ANY),
    ("needs.pledge_detail", "GET", "/inventory/pledges/{pledge_id}", ANY),
    ("needs.receive", "POST", "/inventory/pledges/{pledge_id}/receive", STOCK),
    ("needs.cancel", "POST", "/inventory/pledges/{pledge_id}/cancel", STOCK),
    ("needs.settings", "GET", "/admin/needs", ADMIN),
    ("needs.settings", "POST", "/admin/needs", ADMIN),
    # --- receipts: public verification
    ("receipts_public.verify", "GET", "/verify", PUBLIC),
    ("receipts_public.verify", "GET", "/verify/{verification_code}", PUBLIC),
    # --- goods: files (inventory_files blueprint)
    ("inventory_files.import_intake", "GET", "/inventory/import", STOCK),
    ("inventory_files.import_intake", "POST", "/inventory/import", STOCK),
    ("inventory_files.export", "GET", "/inventory/export", ANY),
    ("inventory_files.export_ledger", "GET", "/inventory/export/ledger.csv", ANY),
    ("inventory_files.export_stock", "GET", "/inventory/export/stock.csv", ANY),
    # --- receipts: treasurer pages and settings (receipts blueprint)
    ("receipts.index", "GET", "/receipts/", BOOKS),
    ("receipts.detail", "GET", "/receipts/{receipt_id}", BOOKS),
    ("receipts.pdf", "GET", "/receipts/{receipt_id}.pdf", BOOKS),
    ("receipts.void", "POST", "/receipts/{receipt_id}/void", BOOKS),
    ("receipts.reissue", "POST", "/receipts/{receipt_id}/reissue", BOOKS),
    ("receipts.issue_for_gift", "POST", "/receipts/issue/gift/{gift_id}", BOOKS),
    ("receipts.issue_for_in_kind", "POST", "/receipts/issue/in-kind/{in_kind_id}", BOOKS),
    ("receipts.settings", "GET", "/admin/receipts", ADMIN),
    ("receipts.settings", "POST", "/admin/receipts", ADMIN),
    ("receipts.sample_pdf", "GET", "/admin/receipts/sample.pdf", ADMIN),
    # --- receipts: reports and exports (reports blueprint)
    ("reports.index", "GET", "/reports/", BOOKS),
    ("reports.report_pdf", "GET", "/reports/report.pdf", BOOKS),
    ("reports.exports", "GET", "/reports/exports", BOOKS),
    ("reports.grant", "GET", "/reports/grant", BOOKS),
    ("reports.grant_csv", "GET", "/reports/grant.csv", BOOKS),
    ("reports.grant_pdf", "GET", "/reports/grant.pdf", BOOKS),
    ("reports.gifts_csv", "GET", "/reports/gifts.csv", BOOKS),
    ("reports.in_kind_csv", "GET", "/reports/in-kind.csv", BOOKS),
    ("reports.journal_csv", "GET", "/reports/journal.csv", BOOKS),
    # --- receipts: donor delivery and self-service (receipts_public blueprint)
    ("receipts_public.request_link", "GET", "/my-gifts", PUBLIC),
    ("receipts_public.request_link", "POST", "/my-gifts", PUBLIC),
    ("receipts_public.download", "GET", "/r/{receipt_link}", PUBLIC),
    ("receipts_public.my_gifts", "GET", "/my-gifts/{donor_link}", PUBLIC),
    # --- receipts: year-end statements (year_end blueprint)
    ("year_end.index", "GET", "/receipts/year-end/", BOOKS),
    ("year_end.start", "POST", "/receipts/year-end/start", BOOKS),
    ("year_end.run", "GET", "/receipts/year-end/{run_id}", BOOKS),
    ("year_end.receipts_zip", "GET", "/receipts/year-end/zip?from=2001-01-01&to=2001-12-31", BOOKS),
    ("year_end.preview", "POST", "/receipts/year-end/preview", BOOKS),
    ("year_end.sample_pdf", "GET", "/receipts/year-end/preview/sample.pdf?tax_year=2001", BOOKS),
    ("year_end.donor_statement", "GET", "/receipts/year-end/donor/{donor_id}", BOOKS),
    (
        "year_end.donor_statement_preview",
        "POST",
        "/receipts/year-end/donor/{donor_id}/preview",
        BOOKS,
    ),
    (
        "year_end.donor_statement_pdf",
        "GET",
        "/receipts/year-end/donor/{donor_id}/preview.pdf",
        BOOKS,
    ),
    ("year_end.donor_statement_issue", "POST", "/receipts/year-end/donor/{donor_id}/issue", BOOKS),
    # --- partner agencies ask for goods (partner_requests and goods_requests blueprints)
    ("partner_requests.index", "GET", "/partner/requests", PARTNER),
    ("partner_requests.new", "GET", "/partner/requests/new", PARTNER),
    ("partner_requests.new", "POST", "/partner/requests/new", PARTNER),
    ("partner_requests.detail", "GET", "/partner/requests/{request_id}", PARTNER),
    ("partner_requests.withdraw", "POST", "/partner/requests/{request_id}/withdraw", PARTNER),
    ("goods_requests.index", "GET", "/inventory/requests/", STOCK),
    ("goods_requests.detail", "GET", "/inventory/requests/{request_id}", STOCK),
    ("goods_requests.fulfil", "POST", "/inventory/requests/{request_id}/fulfil", STOCK),
    ("goods_requests.decline", "POST", "/inventory/requests/{request_id}/decline", STOCK),
    # --- the surplus exchange between members (surplus blueprint)
    ("surplus.index", "GET", "/inventory/surplus/", STOCK),
    ("surplus.offer", "POST", "/inventory/surplus/offers", STOCK),
    ("surplus.withdraw", "POST", "/inventory/surplus/offers/{offer_id}/withdraw", STOCK),
    ("surplus.ask", "GET", "/inventory/surplus/offers/{member_offer_id}/request", STOCK),
    ("surplus.ask", "POST", "/inventory/surplus/offers/{member_offer_id}/request", STOCK),
    ("surplus.confirm", "POST", "/inventory/surplus/requests/{claim_id}/confirm", STOCK),
    ("surplus.decline", "POST", "/inventory/surplus/requests/{claim_id}/decline", STOCK),
    ("surplus.cancel", "POST", "/inventory/surplus/requests/{claim_id}/cancel", STOCK),
    # --- volunteers: the public sign-up and own page, staff's pages (issue 16)
    ("volunteer_public.sign_up", "GET", "/volunteer", PUBLIC),
    ("volunteer_public.sign_up", "POST", "/volunteer", PUBLIC),
    ("volunteer_public.confirm", "GET", "/volunteer/confirm/{confirm_link}", PUBLIC),
    ("volunteer_public.confirm", "POST", "/volunteer/confirm/{confirm_link}", PUBLIC),
    ("volunteer_public.request_link", "GET", "/volunteer/link", PUBLIC),
    ("volunteer_public.request_link", "POST", "/volunteer/link", PUBLIC),
    ("volunteer_public.my_page", "GET", "/volunteer/me/{volunteer_link}", PUBLIC),
    ("volunteer_public.letter", "GET", "/volunteer/me/{volunteer_link}/letter.pdf", PUBLIC),
    (
        "volunteer_public.sign_up_for_shift",
        "POST",
        "/volunteer/me/{volunteer_link}/shifts/{shift_id}/sign-up",
        PUBLIC,
    ),
    (
        "volunteer_public.cancel_shift",
        "POST",
        "/volunteer/me/{volunteer_link}/shifts/{shift_id}/cancel",
        PUBLIC,
    ),
    ("volunteers.index", "GET", "/volunteers/", STOCK),
    ("volunteers.detail", "GET", "/volunteers/{volunteer_id}", STOCK),
    ("volunteers.decide", "POST", "/volunteers/{volunteer_id}/decision", STOCK),
    ("volunteers.update_record", "POST", "/volunteers/{volunteer_id}/record", STOCK),
    ("volunteers.log_hours", "POST", "/volunteers/{volunteer_id}/hours", STOCK),
    ("volunteers.log_service", "POST", "/volunteers/{volunteer_id}/services", STOCK),
    (
        "volunteers.service_letter",
        "GET",
        "/volunteers/{volunteer_id}/services/{service_id}/letter.pdf",
        STOCK,
    ),
    (
        "volunteers.mail_service_letter",
        "POST",
        "/volunteers/{volunteer_id}/services/{service_id}/mail",
        STOCK,
    ),
    (
        "volunteers.void_service",
        "POST",
        "/volunteers/{volunteer_id}/services/{service_id}/void",
        STOCK,
    ),
    ("volunteers.skills", "GET", "/volunteers/skills", ADMIN),
    ("volunteers.skills", "POST", "/volunteers/skills", ADMIN),
    ("volunteers.set_skill_active", "POST", "/volunteers/skills/{skill_id}/active", ADMIN),
    ("volunteer_shifts.opportunities", "GET", "/volunteers/opportunities", STOCK),
    ("volunteer_shifts.opportunities", "POST", "/volunteers/opportunities", STOCK),
    ("volunteer_shifts.opportunity", "GET", "/volunteers/opportunities/{opportunity_id}", STOCK),
    ("volunteer_shifts.opportunity", "POST", "/volunteers/opportunities/{opportunity_id}", STOCK),
    ("volunteer_shifts.shift", "GET", "/volunteers/shifts/{shift_id}", STOCK),
    (
        "volunteer_shifts.attendance",
        "POST",
        "/volunteers/shifts/{shift_id}/attendance/{signup_id}",
        STOCK,
    ),
]


def test_table_covers_every_route(app):
    in_app = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    in_table = {(endpoint, method) for endpoint, method, _path, _who in ROUTES}
    assert in_app - in_table == set(), "routes missing from the access table"
    assert in_table - in_app == set(), "routes in the table the app does not have"


def _give_objects() -> dict[str, object]:
    """A fund, a paid monthly gift with its Stripe customer, and an open test checkout."""
    fund = giving.ensure_default_funds()[0]
    monthly = giving.Donation(
        amount_cents=2000,
        currency="USD",
        frequency=Frequency.MONTHLY,
        fund_id=fund.id,
        cover_fee=False,
        name="Access Giver",
        email="giver@example.com",
    )
    urls = {"success_url": "http://donations.test/ok", "cancel_url": "http://donations.test/no"}
    gift = giving.prepare_checkout(donation=monthly, attempt_id="a" * 32)
    session = giving.open_checkout_session(gift=gift, gateway=payments.get_gateway(), **urls)
    payments.complete_test_checkout(session_id=session.id, outcome="paid")
    once = dataclasses.replace(monthly, frequency=Frequency.ONE_TIME)
    pending = giving.prepare_checkout(donation=once, attempt_id="b" * 32)
    open_session = giving.open_checkout_session(
        gift=pending, gateway=payments.get_gateway(), **urls
    )
    db.session.commit()
    event = db.session.scalar(select(StripeEvent).order_by(StripeEvent.id))  # processed
    return {
        "gift_id": gift.id,
        "event_row_id": event.id,
        "fund_id": fund.id,
        "gift_token": giving.gift_token(pending),
        "plan_token": giving.plan_token(gift.plan),
        "session_id": open_session.id,
        "customer": gift.plan.stripe_customer_id,
    }


def _goods_objects(goods, donor) -> dict[str, object]:
    """A category, an item, a kit, a site, an intake document and an open pledge."""
    document = inventory.record_intake(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=utcnow().date(),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("SOCKS-M", 5, "new")],
    )
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name="Access Pledger",
            email="pledger@example.com",
            site_id=goods.dropoff.id,
            expected_on=utcnow().date(),
            lines=[goods.line("SOAP", 3)],
        )
    )
    partner = db.session.scalar(select(Recipient).where(Recipient.name == "Safe Passage clinic"))
    asker = accounts.create_user(
        actor=None,
        email="asker@example.org",
        name="Clinic desk",
        role=Role.PARTNER,
        password="access-partner-pass",
        recipient_id=partner.id,
    )
    goods_request = partner_requests.create_request(
        actor=asker, lines=[partner_requests.AskedLine(goods.items["SOAP"].id, 2)]
    )
    db.session.commit()
    return {
        "partner_id": partner.id,
        "request_id": goods_request.id,
        "item_id": goods.items["SOCKS-M"].id,
        "kit_id": goods.items["KIT-HYG"].id,
        "category_id": goods.items["SOCKS-M"].category_id,
        "site_id": goods.shelter.id,
        "document_id": document.id,
        "pledge_id": pledge.id,
        "recipient_id": db.session.scalar(select(Recipient.id).order_by(Recipient.id).limit(1)),
    }


def _surplus_objects(goods) -> dict[str, object]:
    """Our open offer with another member's request waiting, and that member's offer."""
    from donations.services import catalog, organizations, surplus
    from donations.tenancy import use_organization

    update_organization(actor=None, legal_name="Access Shelter")
    ours = surplus.offer_surplus(
        actor=None, item_id=goods.items["SOCKS-M"].id, site_id=goods.shelter.id, quantity=2
    )
    other = organizations.create_organization(actor=None, slug="access-north", legal_name="North")
    db.session.flush()
    with use_organization(other.id):
        catalog.seed_catalog()
        site = catalog.create_site(actor=None, name="North house", kind="shelter")
        claim = surplus.request_surplus(actor=None, offer_id=ours.id, quantity=1, site_id=site.id)
        item_id = db.session.scalar(select(Item.id).where(Item.code == "SOAP"))
        inventory.record_intake(
            actor=None,
            site_id=site.id,
            effective_date=utcnow().date(),
            source="anonymous",
            lines=[inventory.Line(item_id, 4, "new")],
        )
        theirs = surplus.offer_surplus(actor=None, item_id=item_id, site_id=site.id, quantity=3)
    db.session.commit()
    return {"offer_id": ours.id, "claim_id": claim.id, "member_offer_id": theirs.id}


def _receipt_objects(goods, donor) -> dict[str, object]:
    """The organisation profile, a paid cheque with its receipt, an in-kind gift, a run."""
    from donations.models import Fund, InKindGift, YearEndRun
    from donations.services import gifts as gift_service
    from donations.services import receipt_delivery, receipts
    from donations.services.organization import update_organization

    update_organization(actor=None, legal_name="Access Shelter", tax_id="12-3456789")
    fund = Fund(name="Access fund")
    db.session.add(fund)
    db.session.flush()
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=2500,
        currency="USD",
        received_on=utcnow().date(),
    )
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    in_kind = db.session.scalar(select(InKindGift).where(InKindGift.donor_id == donor.id))
    year = utcnow().year
    start, end = receipts.tax_year_period(year, 1)
    run = YearEndRun(tax_year=year, period_start=start, period_end=end, status="done")
    db.session.add(run)
    db.session.commit()
    return {
        "receipt_id": receipt.id,
        "receipt_gift_id": gift.id,
        "in_kind_id": in_kind.id,
        "run_id": run.id,
        "verification_code": receipt.verification_code,
        "receipt_link": receipt_delivery.receipt_token(receipt),
        "donor_link": receipt_delivery.donor_token([donor.id]),
    }


RECEIPT_KEYS = {
    "receipt_id",
    "receipt_gift_id",
    "in_kind_id",
    "run_id",
    "verification_code",
    "receipt_link",
    "donor_link",
}
GIVE_KEYS = {"gift_id", "event_row_id", "fund_id", "gift_token", "plan_token", "session_id"}


@pytest.fixture
def objects(request, app, create_user, create_donor, goods):
    """The rows a route's path names. Paid test-mode gifts take a while to make, so they
    are made only for the money pages and for paths that name one of them."""
    _endpoint, _method, path, _who = request.node.callspec.params.values()
    target = create_user(Role.STAFF, email="target@example.org")
    donor = create_donor("Access Donor")
    message = queue_mail(kind="test", to="x@example.org", subject="Hi", body_text="Hello")
    run = JobRun(
        task_id="access-run",
        task_name="donations.jobs.stripe_retry.retry_failed_stripe_events",
        status=JobStatus.FAILED,
        error="RuntimeError: boom",
    )
    db.session.add(run)
    db.session.commit()
    built = {
        "user_id": target.id,
        "donor_id": donor.id,
        "message_id": message.id,
        "job_run_id": run.id,
        "token": accounts.make_password_reset_token(target),
        **_goods_objects(goods, donor),
    }
    names = set(re.findall(r"{(\w+)}", path))
    if "org_slug" in names:
        built["org_slug"] = update_organization(actor=None, legal_name="Access Shelter").slug
        db.session.commit()
    if names & {"campaign_slug", "campaign_id"}:
        built.update(campaign_objects())
    if names & {"page_campaign_slug", "page_slug", "page_id", "page_link", "page_confirm_link"}:
        built.update(supporter_objects())
    if names & (GIVE_KEYS | {"customer"}) or path.startswith(("/gifts", "/donors", "/give")):
        built.update(_give_objects())
    if names & {"offer_id", "claim_id", "member_offer_id"}:
        built.update(_surplus_objects(goods))
    if names & RECEIPT_KEYS or path.startswith(("/receipts", "/reports", "/verify", "/admin/rec")):
        built.update(_receipt_objects(goods, donor))
    if path.startswith("/volunteer"):
        built.update(volunteer_objects())
    return built


def _request(client, method, path, objects):
    url = path.format(**objects)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={})


def _went_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("endpoint", "method", "path", "who"), ROUTES, ids=[f"{m} {p}" for _e, m, p, _w in ROUTES]
)
def test_route_by_role(app, create_user, objects, endpoint, method, path, who):
    anonymous = app.test_client()
    response = _request(anonymous, method, path, objects)
    if who == PUBLIC:
        assert response.status_code < 400 or (response.status_code == 400 and method == "POST")
        assert not _went_to_login(response) or endpoint.startswith("auth.")
    else:
        assert _went_to_login(response), f"anonymous reached {method} {path}"

    for role in Role:
        # A partner login is the agency's whose request the path names.
        agency = objects["partner_id"] if role == Role.PARTNER else None
        client = sign_in(app.test_client(), create_user(role, recipient_id=agency))
        response = _request(client, method, path, objects)
        if who == PUBLIC or role in who:
            assert response.status_code not in (401, 403), f"{role} refused {method} {path}"
            assert not _went_to_login(response) or endpoint in SIGNS_OUT
            assert response.status_code < 500
        else:
            assert response.status_code == 403, f"{role} reached {method} {path}"
            assert b"Not allowed" in response.data


def test_every_view_declares_access(app):
    from donations.authz import ACCESS_ATTR

    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and getattr(view, ACCESS_ATTR, None) is None
    ]
    assert undeclared == []


def test_app_refuses_to_start_with_an_undeclared_view():
    from flask import Flask

    from donations.authz import check_every_view_declares_access

    app = Flask(__name__)
    app.add_url_rule("/open", "open", lambda: "open")
    with pytest.raises(RuntimeError, match="open"):
        check_every_view_declares_access(app)
