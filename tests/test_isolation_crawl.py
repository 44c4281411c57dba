"""Two organisations with look-alike data; every role of the first walks every page it can
reach (links, exports, PDFs) and asks for the second's records by id, and finds nothing
of the second."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import deque
from datetime import date
from urllib.parse import urldefrag, urlsplit

import pytest

from conftest import sign_in
from donations.extensions import db
from donations.models import Fund, Role
from donations.services import (
    accounts,
    catalog,
    donors,
    inventory,
    organizations,
    partner_requests,
    receipts,
    recipients,
)
from donations.services import gifts as gift_service
from donations.tenancy import use_organization

# Strings that exist only in the second organisation's records.
MARKERS = ("north-secret.example", "4,321.09", "432109", "Secret Lane", "NORTHONLY")
PAGES_PER_ROLE = 260
SKIP_PREFIXES = ("/static/", "/o/", "/logout", "/give/test-")


def _seed(*, north: bool) -> dict[str, int]:
    """The same names and codes in each organisation; the second's own details carry
    the markers."""
    tag = "NORTHONLY " if north else ""
    fund = Fund(name="General")
    db.session.add(fund)
    catalog.seed_catalog()
    site = catalog.create_site(
        actor=None,
        name="Main warehouse",
        kind="warehouse",
        address_line1="77 Secret Lane" if north else "1 Harbor Road",
        city="Lakeview",
    )
    program = recipients.create_recipient(actor=None, kind="program", name="Street outreach")
    agency = recipients.create_recipient(actor=None, kind="partner", name="Safe Passage clinic")
    donor = donors.create_donor(
        actor=None,
        name="Maria Lopez",
        email="maria@north-secret.example" if north else "maria@home.example",
        notes=f"{tag}prefers email",
    )
    db.session.flush()
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cheque",
        amount_cents=432109 if north else 2500,
        currency="USD",
        received_on=date.today(),
        memo=f"{tag}cheque",
        cheque_number="NORTHONLY-1" if north else "1001",
    )
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    item_id = inventory.find_item_by_code("SOAP").id
    intake = inventory.record_intake(
        actor=None,
        site_id=site.id,
        effective_date=date.today(),
        source="donor",
        donor_id=donor.id,
        lines=[inventory.Line(item_id, 40, "new")],
        note=f"{tag}intake",
    )
    inventory.record_distribution(
        actor=None,
        site_id=site.id,
        effective_date=date.today(),
        lines=[inventory.Line(item_id, 5)],
        recipient_id=program.id,
        note=f"{tag}given out",
    )
    db.session.commit()
    return {
        "donor": donor.id,
        "gift": gift.id,
        "receipt": receipt.id,
        "site": site.id,
        "document": intake.id,
        "item": item_id,
        "agency": agency.id,
    }


@pytest.fixture
def two_organisations(app, organization):
    home = _seed(north=False)
    north = organizations.create_organization(
        actor=None, slug="north", legal_name="North Star Refuge"
    )
    db.session.commit()
    with use_organization(north.id):
        theirs = _seed(north=True)
        partner = accounts.create_user(
            actor=None,
            email="desk@north-secret.example",
            name="NORTHONLY desk",
            role=Role.PARTNER,
            password="long enough password",
            recipient_id=theirs["agency"],
        )
        partner_requests.create_request(
            actor=partner,
            lines=[partner_requests.AskedLine(theirs["item"], 3)],
            note="NORTHONLY walk-in hours",
        )
        db.session.commit()
    return home, theirs


def _text_of(response) -> str:
    kind = response.content_type or ""
    body = response.get_data()
    if kind.startswith("application/pdf"):
        if shutil.which("pdftotext") is None:
            return ""
        done = subprocess.run(
            ["pdftotext", "-", "-"], input=body, capture_output=True, check=False, timeout=30
        )
        return done.stdout.decode("utf-8", "replace")
    if kind.startswith(("text/", "application/json", "image/svg")):
        return body.decode("utf-8", "replace")
    return ""


def _links(page: str) -> list[str]:
    found = []
    for href in re.findall(r'href="([^"]+)"', page):
        href = urldefrag(href.replace("&amp;", "&"))[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue
        if href.startswith(SKIP_PREFIXES):
            continue
        found.append(href)
    return found


def _crawl(client, start: list[str]) -> int:
    seen: set[str] = set()
    queue = deque(start)
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url = queue.popleft()
        # Pages that differ only in their query string: a few of each are enough.
        key = url if url.count("?") == 0 else url.split("?")[0] + "?" + str(len(url) // 40)
        if key in seen:
            continue
        seen.add(key)
        response = client.get(url)
        visited += 1
        assert response.status_code < 500, url
        text = _text_of(response)
        for marker in MARKERS:
            assert marker not in text, f"{marker!r} of the other organisation on {url}"
        if response.content_type.startswith("text/html"):
            queue.extend(_links(text))
    return visited


def _id_urls(app, ids: dict[str, int]) -> list[str]:
    """Every page that takes a record's id, with the other organisation's ids."""
    by_arg = {
        "donor_id": ids["donor"],
        "gift_id": ids["gift"],
        "receipt_id": ids["receipt"],
        "site_id": ids["site"],
        "document_id": ids["document"],
        "item_id": ids["item"],
        "kit_id": ids["item"],
        "recipient_id": ids["agency"],
        "request_id": 1,
        "pledge_id": 1,
        "run_id": 1,
    }
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or not rule.arguments:
                continue
            if not rule.arguments <= set(by_arg):
                continue
            urls.append(
                app.url_map.bind("localhost").build(
                    rule.endpoint, {name: by_arg[name] for name in rule.arguments}
                )
            )
    return urls


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TREASURER, Role.STAFF, Role.PARTNER])
def test_no_role_of_one_organisation_finds_anything_of_another(
    app, two_organisations, create_user, role
):
    home, theirs = two_organisations
    kwargs = {"recipient_id": home["agency"]} if role == Role.PARTNER else {}
    user = create_user(role, **kwargs)
    client = sign_in(app.test_client(), user)
    everything = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments
    ]
    start = ["/dashboard", "/partner/requests", *everything]
    visited = _crawl(client, [u for u in start if not u.startswith(SKIP_PREFIXES)])
    assert visited > 20
    for url in _id_urls(app, theirs):
        response = client.get(url)
        text = _text_of(response)
        for marker in MARKERS:
            assert marker not in text, f"{marker!r} of the other organisation at {url}"
        if response.status_code == 200 and url.split("/")[1] in {"donors", "gifts", "receipts"}:
            # Ids are global: ours may share one, but then it is ours that shows.
            assert "Maria Lopez" in text or "Harbor" in text, url


def test_the_other_organisations_records_by_id_are_not_found(app, two_organisations, login):
    _home, theirs = two_organisations
    client = login(Role.ADMIN)
    for url in (
        f"/donors/{theirs['donor']}",
        f"/gifts/{theirs['gift']}",
        f"/receipts/{theirs['receipt']}",
        f"/receipts/{theirs['receipt']}.pdf",
        f"/inventory/documents/{theirs['document']}",
        f"/inventory/sites/{theirs['site']}/edit",
    ):
        assert client.get(url).status_code == 404, url


def test_the_markers_are_there_for_the_organisation_they_belong_to(app, two_organisations):
    """The control: the same walk finds them as the other organisation's own admin."""
    _home, theirs = two_organisations
    with use_organization(2):
        admin = accounts.create_user(
            actor=None,
            email="dana@example.org",
            name="Dana",
            role=Role.ADMIN,
            password="long enough password",
        )
        db.session.commit()
    client = sign_in(app.test_client(), admin)
    donor = client.get(f"/o/north/donors/{theirs['donor']}").get_data(as_text=True)
    assert "maria@north-secret.example" in donor and "NORTHONLY" in donor
    assert "4,321.09" in client.get(f"/o/north/gifts/{theirs['gift']}").get_data(as_text=True)
    assert "Secret Lane" in client.get(f"/o/north/inventory/sites/{theirs['site']}/edit").get_data(
        as_text=True
    )
