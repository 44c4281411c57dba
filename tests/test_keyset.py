"""Keyset pagination (services/keyset.py) on every long list: gifts, donors, the audit log,
outgoing mail and an item's history.

Each list is walked page by page through the links a user follows ("Older"/"Next" from
the first page, "Newer"/"Previous" from the oldest), with several rows on the same
timestamp, and must show every row exactly once, in order, filters kept in every link.
A tampered cursor or an old ``?page=N`` link shows the first page, never an error.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from donations.blueprints import admin as admin_views
from donations.blueprints import inventory as inventory_views
from donations.extensions import db
from donations.models import Fund, Gift, MailStatus, OutboxMessage, StockEntry
from donations.services import audit, inventory
from donations.services.keyset import Position, decode_cursor, encode_cursor, keyset_page

MOMENT = datetime(2025, 6, 1, 12, tzinfo=UTC)


def link(html: str, rel: str) -> str | None:
    """The pager's rel="next" or rel="prev" link, or None."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', html)
    return unescape(found.group(1)) if found else None


def labelled(html: str, label: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*>[^<]*{label}\s*</a>', html)
    return unescape(found.group(1)) if found else None


def walk(client: FlaskClient, url: str, rel: str, ids_of) -> list[list[int]]:
    """Follow ``rel`` links from ``url``; return the ids listed on each page."""
    pages = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(ids_of(html))
        assert len(pages) < 50, "the pager goes round in a circle"
        url = link(html, rel)
    return pages


def cursor_of(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# --- gifts -------------------------------------------------------------------------


@pytest.fixture
def fund(app) -> Fund:
    made = Fund(name="General", sort_order=0)
    other = Fund(name="Shelter", sort_order=1)
    db.session.add_all([made, other])
    db.session.commit()
    return made


@pytest.fixture
def gifts(app, fund, create_donor) -> list[Gift]:
    """Eleven paid gifts, seven of them at the very same moment; newest first."""
    donor = create_donor("Eleanor Whitfield")
    other_fund = db.session.scalar(select(Fund).where(Fund.name == "Shelter"))
    made = []
    for n in range(11):
        received = MOMENT if n < 7 else MOMENT + timedelta(days=n)
        made.append(
            Gift(
                donor_id=donor.id,
                fund_id=fund.id if n % 2 == 0 else other_fund.id,
                source="online",
                method="card",
                frequency="one_time",
                status="paid",
                currency="USD",
                amount_cents=1000 + n,
                received_at=received,
            )
        )
    db.session.add_all(made)
    db.session.commit()
    return sorted(made, key=lambda g: (g.received_at, g.id), reverse=True)


def gift_ids(html: str) -> list[int]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return [int(i) for i in re.findall(r'href="/gifts/(\d+)"', body.group(1))] if body else []


def test_gift_pages_show_each_gift_once_in_order_both_ways(app, treasurer_client, gifts):
    app.config["GIFTS_PER_PAGE"] = 3
    expected = [g.id for g in gifts]

    older = walk(treasurer_client, "/gifts/", "next", gift_ids)
    assert [len(p) for p in older] == [3, 3, 3, 2]
    assert [i for page in older for i in page] == expected

    first = treasurer_client.get("/gifts/").get_data(as_text=True)
    assert 'aria-label="Pages"' in first and link(first, "prev") is None
    assert labelled(first, "Newest") is None
    oldest_url = labelled(first, "Oldest &raquo;")
    assert oldest_url == "/gifts/?at=oldest"
    newer = walk(treasurer_client, oldest_url, "prev", gift_ids)
    assert newer[0] == expected[-3:]  # the oldest page is full, read from the other end
    assert [i for page in reversed(newer) for i in page] == expected

    last = treasurer_client.get(oldest_url).get_data(as_text=True)
    assert link(last, "next") is None and labelled(last, "Oldest") is None
    assert labelled(last, "Newest") == "/gifts/"


def test_gift_pages_keep_the_filters_and_the_totals(app, treasurer_client, gifts, fund):
    app.config["GIFTS_PER_PAGE"] = 2
    expected = [g.id for g in gifts if g.fund_id == fund.id]
    start = f"/gifts/?fund={fund.id}&status=paid"
    pages = walk(treasurer_client, start, "next", gift_ids)
    assert [i for page in pages for i in page] == expected
    html = treasurer_client.get(start).get_data(as_text=True)
    for url in (link(html, "next"), labelled(html, "Oldest &raquo;")):
        assert f"fund={fund.id}" in url and "status=paid" in url
    assert f"Totals cover all {len(expected)} gifts matching the filters" in html
    total = sum(g.amount_cents for g in gifts if g.fund_id == fund.id)
    assert f"${total / 100:,.2f}" in html


def test_gift_totals_give_way_to_a_note_over_the_limit(app, treasurer_client, gifts, monkeypatch):
    monkeypatch.setattr("donations.services.gift_queries.TOTALS_LIMIT", 5)
    html = treasurer_client.get("/gifts/").get_data(as_text=True)
    assert "More than 5 gifts match the filters" in html
    assert "<tfoot>" not in html
    narrow = treasurer_client.get("/gifts/?date_from=2025-06-08").get_data(as_text=True)
    assert "Totals cover all 4 gifts" in narrow


@pytest.mark.parametrize(
    "query",
    [
        "before=not-a-cursor",
        "after=%%%",
        "before=" + cursor_of(["yesterday", 1]),
        "before=" + cursor_of(["2025-06-01T12:00:00+00:00"]),
        "after=" + cursor_of(["2025-06-01T12:00:00+00:00", 2**70]),
        "before=" + cursor_of(["2025-06-01T12:00:00+00:00", True]),
        "before=" + "A" * 5000,
        "after=" + cursor_of({"a": 1}),
    ],
)
def test_a_tampered_gift_cursor_shows_the_first_page(app, treasurer_client, gifts, query):
    app.config["GIFTS_PER_PAGE"] = 3
    response = treasurer_client.get(f"/gifts/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert gift_ids(html) == [g.id for g in gifts[:3]]
    assert "That page link could not be read" in html


def test_a_cursor_past_the_end_shows_the_first_page(app, treasurer_client, gifts):
    app.config["GIFTS_PER_PAGE"] = 3
    beyond = cursor_of(["1999-01-01T00:00:00+00:00", 1])
    html = treasurer_client.get(f"/gifts/?before={beyond}").get_data(as_text=True)
    assert gift_ids(html) == [g.id for g in gifts[:3]]


@pytest.mark.parametrize("number", ["2", "0", "-3", "99999999999999999999999", "x"])
def test_an_old_page_number_link_shows_the_first_page(app, treasurer_client, gifts, number):
    app.config["GIFTS_PER_PAGE"] = 3
    response = treasurer_client.get(f"/gifts/?page={number}")
    assert response.status_code == 200
    assert gift_ids(response.get_data(as_text=True)) == [g.id for g in gifts[:3]]


def test_cursor_round_trip_and_the_helper_on_ties(app, gifts):
    keys = (Gift.received_at, Gift.id)
    values = (MOMENT, 42)
    assert decode_cursor(encode_cursor(values), keys) == values
    assert decode_cursor(encode_cursor(["2025-06-01T12:00:00", 1]), keys) == (MOMENT, 1)
    seen: list[int] = []
    position = Position()
    while True:
        page = keyset_page(select(Gift), keys, position=position, per_page=2)
        seen += [g.id for g in page.items]
        if page.is_last:
            break
        position = Position(before=page.older)
    assert seen == [g.id for g in gifts]


# --- donors ------------------------------------------------------------------------


def donor_names(html: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return re.findall(r'href="/donors/\d+">([^<]+)</a>', body.group(1)) if body else []


def test_donor_pages_with_equal_names_and_the_search_kept(app, treasurer_client, create_donor):
    app.config["DONORS_PER_PAGE"] = 2
    made = [create_donor("Same Name", email=f"same{n}@example.org") for n in range(4)]
    made += [create_donor(f"Donor {c}") for c in "CAB"]
    create_donor("Someone Else", email="else@example.com")

    pages = walk(treasurer_client, "/donors/?q=name", "next", donor_names)
    assert [n for page in pages for n in page] == ["Same Name"] * 4
    ids = [
        [
            int(i)
            for i in re.findall(r'href="/donors/(\d+)"', treasurer_client.get(url).data.decode())
        ]
        for url in ["/donors/?q=name"]
    ]
    assert ids[0] == sorted(d.id for d in made[:4])[:2]

    everyone = walk(treasurer_client, "/donors/", "next", donor_names)
    names = [n for page in everyone for n in page]
    assert names == sorted(names) and len(names) == 8
    first = treasurer_client.get("/donors/?q=donor").get_data(as_text=True)
    assert "q=donor" in link(first, "next") and "q=donor" in labelled(first, "Last &raquo;")
    last = treasurer_client.get(labelled(first, "Last &raquo;")).get_data(as_text=True)
    assert donor_names(last) == ["Donor B", "Donor C"]
    assert "q=donor" in labelled(last, "&laquo; First")


# --- audit log and outgoing mail ----------------------------------------------------


def test_audit_log_pages_keep_the_kind(app, admin_client, create_donor, monkeypatch):
    monkeypatch.setattr(admin_views, "PER_PAGE", 2)
    for n in range(5):
        create_donor(f"Audited {n}")

    def entry_ids(html: str) -> list[int]:
        return [int(i) for i in re.findall(r'<tr id="event-(\d+)"', html)]

    pages = walk(admin_client, "/admin/audit?type=donor", "next", entry_ids)
    listed = [i for page in pages for i in page]
    assert len(listed) == len(set(listed)) >= 5
    assert listed == sorted(listed, reverse=True)
    first = admin_client.get("/admin/audit?type=donor").get_data(as_text=True)
    assert "type=donor" in link(first, "next")
    back = walk(admin_client, labelled(first, "Oldest &raquo;"), "prev", entry_ids)
    assert [i for page in reversed(back) for i in page] == listed
    assert admin_client.get("/admin/audit?before=zzz&page=4").status_code == 200


def test_audit_log_counts_events_since_its_check_only_so_far(
    app, admin_client, create_donor, monkeypatch
):
    admin_client.post("/admin/audit/verify", data={})
    for n in range(3):
        create_donor(f"After the check {n}")
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "3 recorded since then." in html
    monkeypatch.setattr(audit, "SINCE_LIMIT", 2)
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "More than 2 recorded since then." in html and "3 recorded" not in html


def test_outgoing_mail_pages_keep_the_status(app, admin_client, monkeypatch):
    monkeypatch.setattr(admin_views, "PER_PAGE", 2)
    for n in range(7):
        db.session.add(
            OutboxMessage(
                created_at=MOMENT,  # all at once: the id breaks the tie
                kind="gift_thanks",
                to_addr=f"d{n}@example.com",
                subject=f"Message {n}",
                body_text="Thank you",
                message_id=f"<m{n}@example.org>",
                status=MailStatus.FAILED if n % 2 else MailStatus.SENT,
            )
        )
    db.session.commit()

    def subjects(html: str) -> list[str]:
        return re.findall(r'href="/admin/mail/\d+">Message (\d)</a>', html)

    pages = walk(admin_client, "/admin/mail?status=failed", "next", subjects)
    assert [s for page in pages for s in page] == ["5", "3", "1"]
    everything = walk(admin_client, "/admin/mail?at=oldest", "prev", subjects)
    assert [s for page in reversed(everything) for s in page] == list("6543210")
    html = admin_client.get("/admin/mail?status=failed").get_data(as_text=True)
    assert "status=failed" in link(html, "next")


# --- an item's history --------------------------------------------------------------


def test_item_history_pages_and_balances_from_either_end(
    app, staff_client, goods, stock_in, monkeypatch
):
    monkeypatch.setattr(inventory_views, "HISTORY_PER_PAGE", 3)
    for quantity in (5, 7, 2, 9, 4):
        stock_in(goods.shelter, SOCKS_M=quantity)
        stock_in(goods.warehouse, SOCKS_M=quantity + 10)
    socks = goods.items["SOCKS-M"]
    inventory.record_intake(  # back-dated: sorts before the rest, though recorded last
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date.today() - timedelta(days=3),
        source="anonymous",
        lines=[goods.line("SOCKS-M", 4, "new")],
    )
    db.session.commit()
    expected = [
        (entry.id, int(balance))
        for entry, balance in db.session.execute(inventory.item_history_query(item_id=socks.id))
    ]
    assert len(expected) == 11

    def rows(html: str) -> list[tuple[int, int]]:
        movements = html.split("Movements", 1)[1]
        body = re.search(r"<tbody>(.*?)</tbody>", movements, re.S)
        found = re.findall(
            r'data-label="Document"><a href="/inventory/documents/(\d+)".*?'
            r'data-label="Balance at site" class="num">(-?\d+)<',
            body.group(1),
            re.S,
        )
        return [(int(doc), int(balance)) for doc, balance in found]

    def as_docs(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        docs = {e.id: e.document_id for e in db.session.scalars(select(StockEntry))}
        return [(docs[entry_id], balance) for entry_id, balance in pairs]

    url = f"/inventory/items/{socks.id}"
    older = walk(staff_client, url, "next", rows)
    assert [r for page in older for r in page] == as_docs(expected)
    first = staff_client.get(url).get_data(as_text=True)
    newer = walk(staff_client, labelled(first, "Oldest &raquo;"), "prev", rows)
    assert [r for page in reversed(newer) for r in page] == as_docs(expected)

    at_site = f"{url}?site={goods.warehouse.id}"
    html = staff_client.get(at_site).get_data(as_text=True)
    assert f"site={goods.warehouse.id}" in link(html, "next")
    site_rows = [r for page in walk(staff_client, at_site, "next", rows) for r in page]
    assert [b for _, b in site_rows] == [77, 63, 44, 32, 15]


def test_item_stock_series_counts_back_from_the_balances(app, goods):
    today = date.today()
    for site, days_ago, quantity in [
        (goods.shelter, 300, 30),  # before the 90-day window: only in the starting level
        (goods.warehouse, 200, 12),
        (goods.shelter, 10, 5),
        (goods.warehouse, 10, 7),
        (goods.shelter, 0, 2),
    ]:
        inventory.record_intake(
            actor=None,
            site_id=site.id,
            effective_date=today - timedelta(days=days_ago),
            source="anonymous",
            lines=[goods.line("SOAP", quantity, "new")],
        )
    db.session.commit()
    soap = goods.items["SOAP"]
    entries = list(db.session.scalars(select(StockEntry).where(StockEntry.item_id == soap.id)))

    def from_ledger(site_id: int | None) -> list[tuple[date, int]]:
        start = today - timedelta(days=89)
        return [
            (
                start + timedelta(days=n),
                sum(
                    e.quantity
                    for e in entries
                    if e.effective_date <= start + timedelta(days=n)
                    and site_id in (None, e.site_id)
                ),
            )
            for n in range(90)
        ]

    for site_id in (None, goods.shelter.id, goods.warehouse.id):
        series = inventory.stock_series(item_id=soap.id, site_id=site_id)
        assert series == from_ledger(site_id)
    assert inventory.stock_series(item_id=soap.id, site_id=None)[0][1] == 42
