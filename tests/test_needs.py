"""The public needs list, pledges from donors, and staff receiving them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from donations.extensions import db
from donations.models import (
    AuditEvent,
    Donor,
    Item,
    OutboxMessage,
    Pledge,
    PledgeLine,
    StockDocument,
    StockLevel,
    utcnow,
)
from donations.services import giving, inventory, pledges
from donations.services import needs as needs_service


def today():
    return utcnow().date()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def on_hand(site, item) -> int:
    level = db.session.get(StockLevel, (site.id, item.id))
    return level.on_hand if level else 0


def html_of(response) -> str:
    return response.get_data(as_text=True)


def need_row(html: str, label: str) -> str:
    """The public list's <li> for one item, or '' when it is not listed."""
    for row in re.findall(r"<li>(.*?)</li>", html, flags=re.S):
        if f'<span class="need-label">{label}</span>' in row:
            return row
    return ""


@pytest.fixture
def par(goods):
    """Set par levels at a site and commit: par(site, SOAP=10, SOCKS_M=4)."""

    def set_levels(site, **levels: int) -> None:
        inventory.set_par_levels(
            actor=None,
            site_id=site.id,
            levels={goods.items[c.replace("_", "-")].id: n for c, n in levels.items()},
        )
        db.session.commit()

    return set_levels


@pytest.fixture
def short_goods(goods, par, stock_in):
    """At the confidential shelter: soap under par (needed), socks under half (urgent)."""
    par(goods.shelter, SOAP=41, SOCKS_M=29, TOOTHBRUSH=5)
    stock_in(goods.shelter, SOAP=23, SOCKS_M=3, TOOTHBRUSH=17)
    return goods


def make_pledge(goods, **quantities: int) -> Pledge:
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name="Pat Giver",
            email="pat@example.com",
            site_id=goods.dropoff.id,
            expected_on=today() + timedelta(days=2),
            lines=[goods.line(c.replace("_", "-"), q) for c, q in quantities.items()],
        )
    )
    db.session.commit()
    return pledge


# --- the public list -----------------------------------------------------------


def test_needs_list_shows_needed_and_urgent_items_without_sites_or_quantities(client, short_goods):
    response = client.get("/needs")
    assert response.status_code == 200
    html = html_of(response)
    assert "What we need now" in html
    assert "Urgently needed" in need_row(html, "Socks (M)")
    soap = need_row(html, "Soap")
    assert "Needed" in soap and "Urgently" not in soap
    assert need_row(html, "Toothbrush") == ""  # above par: not needed
    assert "Toiletries" in html and "Socks" in html  # grouped by category
    # Never the confidential shelter, nor any other stock site, nor a quantity.
    for secret in ("Harbor House", "12 Hidden Lane", "Main warehouse", "400 Dock Rd"):
        assert secret not in html
    for number in ("23", "41", "29", "17"):
        assert not re.search(rf"\b{number}\b", html), number
    # The public drop-off point, with its address and hours, and the pledge button.
    assert "Downtown drop-off" in html and "5 Market St" in html and "Mon-Fri 9-5" in html
    assert "Pledge to bring items" in html
    assert f"/needs/pledge?item={short_goods.items['SOAP'].id}" in html


def test_needs_list_is_cacheable_and_cheap(app, client, short_goods):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get("/needs")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    # The needs and the drop-off points (plus the organisation's name in the header).
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3
    assert "public" in response.headers["Cache-Control"]
    assert response.headers.get("ETag")
    again = client.get("/needs", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_needs_list_empty_state_points_to_money(client, goods):
    html = html_of(client.get("/needs"))
    assert "our shelves are full right now; a gift of money helps most" in html
    assert 'href="/give"' in html
    assert "Pledge to bring items" not in html


def test_pinned_item_shows_and_hidden_item_never_does(client, short_goods):
    goods = short_goods
    needs_service.set_needs_visibility(
        actor=None,
        choices={goods.items["TOOTHBRUSH"].id: "pin", goods.items["SOCKS-M"].id: "hide"},
    )
    db.session.commit()
    html = html_of(client.get("/needs"))
    assert "Needed" in need_row(html, "Toothbrush")  # pinned although above par
    assert need_row(html, "Socks (M)") == ""  # hidden although urgently short
    assert need_row(html, "Soap")


def test_public_nav_and_donation_page_link_to_the_needs_list(client, goods):
    giving.ensure_default_funds()
    db.session.commit()
    assert 'href="/needs"' in html_of(client.get("/"))
    give = html_of(client.get("/give"))
    assert "Would you rather give goods?" in give and 'href="/needs"' in give


# --- the pledge form -------------------------------------------------------------


def pledge_form(goods, **overrides) -> dict[str, str]:
    data = {
        "name": "Pat Giver",
        "email": "Pat@Example.com",
        "site_id": str(goods.dropoff.id),
        "expected_on": (today() + timedelta(days=3)).isoformat(),
        "note": "Two bags",
        "lines-0-item": str(goods.items["SOAP"].id),
        "lines-0-quantity": "4",
        "lines-1-item": str(goods.items["SOCKS-M"].id),
        "lines-1-quantity": "6",
        "lines-2-item": "",
        "lines-2-quantity": "",
    }
    data.update(overrides)
    return data


def test_pledge_form_lists_needed_items_first_and_preselects_one(client, short_goods):
    soap = short_goods.items["SOAP"]
    html = html_of(client.get(f"/needs/pledge?item={soap.id}"))
    needed, _, others = html.partition('<optgroup label="Other items we collect">')
    assert '<optgroup label="Needed now">' in needed and "Socks (M)" in needed
    assert "Toothbrush" in others and "Hygiene kit" not in html  # kits are not pledged
    assert f'<option selected value="{soap.id}">Soap</option>' in html
    assert "5 Market St" in html and "Harbor House" not in html


def test_pledge_happy_path(client, goods):
    response = client.post("/needs/pledge", data=pledge_form(goods))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/needs/pledge/thanks")
    assert "pledge_id" not in response.headers["Location"]
    pledge = db.session.scalar(select(Pledge))
    donor = db.session.get(Donor, pledge.donor_id)
    assert (donor.name, donor.email) == ("Pat Giver", "pat@example.com")
    assert pledge.site_id == goods.dropoff.id and pledge.status == "open"
    assert pledge.note == "Two bags"
    assert {(line.item.code, line.quantity) for line in pledge.lines} == {
        ("SOAP", 4),
        ("SOCKS-M", 6),
    }
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "pledge_confirmation")
    )
    assert mail.to_addr == "pat@example.com"
    assert "5 Market St" in mail.body_text and "Hidden Lane" not in mail.body_text

    thanks = html_of(client.get("/needs/pledge/thanks"))
    assert "Thank you for your pledge" in thanks
    assert "Pat Giver" not in thanks  # an existing donor's stored name is not shown
    assert "4 \u00d7 Soap" in thanks and "6 \u00d7 Socks (M)" in thanks
    assert "Downtown drop-off" in thanks and "5 Market St" in thanks and "Mon-Fri 9-5" in thanks

    # Someone else cannot read the pledge: the id lives only in the donor's session.
    stranger = client.application.test_client()
    assert stranger.get("/needs/pledge/thanks").status_code == 302


def test_pledge_for_a_known_donor_reuses_the_donor(client, goods, create_donor):
    known = create_donor("Pat Giver", email="pat@example.com")
    assert client.post("/needs/pledge", data=pledge_form(goods)).status_code == 302
    assert db.session.scalar(select(Pledge)).donor_id == known.id
    assert count(Donor) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "lines-0-item": "",
                "lines-0-quantity": "",
                "lines-1-item": "",
                "lines-1-quantity": "",
            },
            "Choose at least one item and how many.",
        ),
        ({"lines-0-quantity": "0"}, "Enter a number from 1 to 10,000."),
        ({"lines-0-quantity": "-3"}, "Enter a number from 1 to 10,000."),
        ({"lines-0-quantity": "1.5"}, "Enter a whole number, such as 3."),
        ({"lines-0-quantity": ""}, "Enter how many."),
        ({"lines-0-item": ""}, "Choose the item."),
        ({"lines-0-item": "999999"}, "One of the items is not one we collect."),
        ({"email": "not-an-email"}, "Enter your email address, such as you@example.com."),
        ({"email": ""}, "Enter your email address, such as you@example.com."),
        ({"name": "  "}, "Enter your name."),
        ({"site_id": "shelter"}, "Choose a drop-off point from the list."),
        ({"site_id": ""}, "Choose a drop-off point from the list."),
        ({"expected_on": "2020-01-01"}, "Choose today or a later day."),
        ({"expected_on": ""}, "Say when you plan to bring the items."),
    ],
)
def test_pledge_bad_input_is_refused_and_nothing_written(client, goods, overrides, message):
    if overrides.get("site_id") == "shelter":  # a real site, but not a drop-off point
        overrides = {"site_id": str(goods.shelter.id)}
    response = client.post("/needs/pledge", data=pledge_form(goods, **overrides))
    assert response.status_code == 400
    html = html_of(response)
    assert message in html
    assert 'value="Two bags"' in html or "Two bags</textarea>" in html  # input kept
    assert count(Pledge) == 0 and count(PledgeLine) == 0
    assert count(Donor) == 0 and count(OutboxMessage) == 0


def test_pledge_of_an_item_no_longer_collected_is_refused(client, goods):
    soap = goods.items["SOAP"]
    soap.active = False
    db.session.commit()
    response = client.post("/needs/pledge", data=pledge_form(goods))
    assert response.status_code == 400
    assert "One of the items is not one we collect." in html_of(response)
    assert count(Pledge) == 0


def test_add_more_rows_keeps_input_and_writes_nothing(client, goods):
    response = client.post("/needs/pledge", data={**pledge_form(goods), "more_rows": "1"})
    assert response.status_code == 200
    html = html_of(response)
    assert 'id="lines-7-item"' in html  # 3 posted rows + 5 more
    assert 'value="Pat Giver"' in html
    assert count(Pledge) == 0


def test_pledge_form_is_rate_limited(app, client, goods):
    app.config["PLEDGE_RATE_LIMIT"] = "2 per minute"
    bad = pledge_form(goods, email="nope")
    assert client.post("/needs/pledge", data=bad).status_code == 400
    assert client.post("/needs/pledge", data=bad).status_code == 400
    assert client.post("/needs/pledge", data=bad).status_code == 429
    assert client.get("/needs/pledge").status_code == 200  # reading the form is not limited


# --- staff: the pledges list and receiving ---------------------------------------


def test_pledges_list_shows_open_pledges_for_every_role(goods, login):
    later = make_pledge(goods, SOAP=5)
    later.expected_on = today() + timedelta(days=9)
    sooner = make_pledge(goods, SOCKS_M=2)
    db.session.commit()
    for role in ("staff", "treasurer", "admin"):
        response = login(role).get("/inventory/pledges")
        assert response.status_code == 200
        html = html_of(response)
        assert html.index(f"#{sooner.id}<") < html.index(f"#{later.id}<")
        assert "Pat Giver" in html and "Downtown drop-off" in html
        assert "Soap: 0 of 5" in html
    assert "No received pledges yet" in html_of(
        login("staff").get("/inventory/pledges?status=received")
    )


def test_detail_prefills_outstanding_and_hides_forms_from_the_treasurer(
    goods, staff_client, treasurer_client
):
    pledge = make_pledge(goods, SOAP=5, SOCKS_M=3)
    soap_line = next(line for line in pledge.lines if line.item.code == "SOAP")
    html = html_of(staff_client.get(f"/inventory/pledges/{pledge.id}"))
    assert f'name="quantity-{soap_line.id}" value="5"' in html
    assert "Record the intake" in html and "Cancel the pledge" in html
    viewer = html_of(treasurer_client.get(f"/inventory/pledges/{pledge.id}"))
    assert "Pat Giver" in viewer and "Record the intake" not in viewer
    assert "Cancel the pledge" not in viewer


def receive_form(pledge, site, **quantities) -> dict[str, str]:
    data = {"effective_date": today().isoformat(), "site_id": str(site.id)}
    for line in pledge.lines:
        code = line.item.code.replace("-", "_")
        data[f"quantity-{line.id}"] = str(quantities.get(code, ""))
        data[f"condition-{line.id}"] = "new"
    return data


def test_receive_partly_then_the_rest(goods, staff_client):
    pledge = make_pledge(goods, SOAP=5, SOCKS_M=3)
    soap, socks = goods.items["SOAP"], goods.items["SOCKS-M"]

    first = staff_client.post(
        f"/inventory/pledges/{pledge.id}/receive",
        data=receive_form(pledge, goods.dropoff, SOAP=3, SOCKS_M=3),
    )
    assert first.status_code == 302
    doc1 = db.session.scalar(select(StockDocument).where(StockDocument.pledge_id == pledge.id))
    assert first.headers["Location"].endswith(f"/inventory/documents/{doc1.id}")
    assert doc1.kind == "intake" and doc1.donor_id == pledge.donor_id
    assert on_hand(goods.dropoff, soap) == 3 and on_hand(goods.dropoff, socks) == 3
    db.session.refresh(pledge)
    assert pledge.status == "open"
    assert pledges.outstanding(pledge) == {soap.id: 2, socks.id: 0}
    thanks = OutboxMessage.kind == "goods_thanks"
    assert count(OutboxMessage, thanks) == 1

    html = html_of(staff_client.get(f"/inventory/pledges/{pledge.id}"))
    assert doc1.number in html
    soap_line = next(line for line in pledge.lines if line.item_id == soap.id)
    assert f'name="quantity-{soap_line.id}" value="2"' in html

    second = staff_client.post(
        f"/inventory/pledges/{pledge.id}/receive",
        data=receive_form(pledge, goods.dropoff, SOAP=2, SOCKS_M=0),
    )
    assert second.status_code == 302
    assert count(StockDocument, StockDocument.pledge_id == pledge.id) == 2
    assert on_hand(goods.dropoff, soap) == 5
    db.session.refresh(pledge)
    assert pledge.status == "received" and pledge.closed_at is not None
    assert count(OutboxMessage, thanks) == 2
    mail = db.session.scalars(select(OutboxMessage).where(thanks).order_by(OutboxMessage.id)).all()
    assert mail[-1].to_addr == "pat@example.com" and "2 x Soap" in mail[-1].body_text

    # Closed now: another receipt is refused on the page, nothing written.
    again = staff_client.post(
        f"/inventory/pledges/{pledge.id}/receive",
        data=receive_form(pledge, goods.dropoff, SOAP=1),
    )
    assert again.status_code == 400
    assert "This pledge is closed" in html_of(again)
    assert count(StockDocument) == 2


def test_receive_elsewhere_and_close_early(goods, staff_client):
    pledge = make_pledge(goods, SOAP=5, SOCKS_M=3)
    data = receive_form(pledge, goods.warehouse, SOAP=1)
    data["close"] = "y"
    assert (
        staff_client.post(f"/inventory/pledges/{pledge.id}/receive", data=data).status_code == 302
    )
    db.session.refresh(pledge)
    assert pledge.status == "received"
    assert on_hand(goods.warehouse, goods.items["SOAP"]) == 1
    assert on_hand(goods.dropoff, goods.items["SOAP"]) == 0


@pytest.mark.parametrize(
    ("quantities", "field", "message"),
    [
        ({}, None, "Add at least one item with a quantity."),
        ({"SOAP": "-2"}, None, "Enter a whole number, such as 3, or 0 if none came."),
        ({"SOAP": "2.5"}, None, "Enter a whole number, such as 3, or 0 if none came."),
        ({"SOAP": "2"}, {"effective_date": ""}, "Enter the date the goods arrived."),
        ({"SOAP": "2"}, {"site_id": ""}, "Choose the site the goods arrived at."),
        ({"SOAP": "2"}, {"site_id": "999999"}, None),
        ({"SOAP": "2"}, {"effective_date": "2999-01-01"}, "The date is in the future."),
    ],
)
def test_receive_bad_input_writes_nothing(goods, staff_client, quantities, field, message):
    pledge = make_pledge(goods, SOAP=5)
    data = receive_form(pledge, goods.dropoff, **quantities)
    data.update(field or {})
    response = staff_client.post(f"/inventory/pledges/{pledge.id}/receive", data=data)
    assert response.status_code == 400
    if message:
        assert message in html_of(response)
    assert count(StockDocument) == 0
    assert count(OutboxMessage, OutboxMessage.kind == "goods_thanks") == 0
    db.session.refresh(pledge)
    assert pledge.status == "open"


def test_cancel_a_pledge(goods, staff_client):
    pledge = make_pledge(goods, SOAP=5)
    url = f"/inventory/pledges/{pledge.id}/cancel"
    blank = staff_client.post(url, data={"cancel-reason": ""})
    assert blank.status_code == 400 and "Say why the pledge is cancelled." in html_of(blank)
    response = staff_client.post(url, data={"cancel-reason": "Donor moved away"})
    assert response.status_code == 302
    db.session.refresh(pledge)
    assert pledge.status == "cancelled"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pledge.cancelled"))
    assert audit.summary == "Donor moved away"
    assert "Donor moved away" in html_of(staff_client.get(f"/inventory/pledges/{pledge.id}"))
    again = staff_client.post(url, data={"cancel-reason": "twice"})
    assert again.status_code == 400 and "already closed" in html_of(again)
    cancelled = html_of(staff_client.get("/inventory/pledges?status=cancelled"))
    assert f"#{pledge.id}<" in cancelled


# --- admin: the needs list's settings ----------------------------------------------


def test_admin_pins_and_hides_items(short_goods, admin_client, client):
    goods = short_goods
    toothbrush, socks = goods.items["TOOTHBRUSH"], goods.items["SOCKS-M"]
    page = html_of(admin_client.get("/admin/needs"))
    assert "Urgently needed" in page and "Not needed" in page
    response = admin_client.post(
        "/admin/needs",
        data={
            f"visibility-{toothbrush.id}": "pin",
            f"visibility-{socks.id}": "hide",
            f"visibility-{goods.items['SOAP'].id}": "auto",  # unchanged
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, toothbrush.id).needs_pinned
    assert db.session.get(Item, socks.id).needs_hidden
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "needs.visibility")
    ).all()
    assert len(events) == 2
    assert any("Socks (M)" in e.summary and "never show" in e.summary for e in events)
    public = html_of(client.get("/needs"))
    assert need_row(public, "Toothbrush") and not need_row(public, "Socks (M)")

    # Back to automatic.
    admin_client.post("/admin/needs", data={f"visibility-{socks.id}": "auto"})
    db.session.expire_all()
    assert not db.session.get(Item, socks.id).needs_hidden


def test_admin_settings_bad_choice_changes_nothing(goods, admin_client):
    soap = goods.items["SOAP"]
    response = admin_client.post(
        "/admin/needs", data={f"visibility-{soap.id}": "pin", "visibility-999999": "hide"}
    )
    assert response.status_code == 400
    assert "not in the catalog" in html_of(response)
    bad = admin_client.post("/admin/needs", data={f"visibility-{soap.id}": "sometimes"})
    assert bad.status_code == 400
    db.session.expire_all()
    assert not db.session.get(Item, soap.id).needs_pinned
    assert count(AuditEvent, AuditEvent.action == "needs.visibility") == 0


def test_staff_cannot_reach_the_needs_settings(goods, staff_client, treasurer_client):
    assert staff_client.get("/admin/needs").status_code == 403
    assert staff_client.post("/admin/needs", data={}).status_code == 403
    assert treasurer_client.get("/admin/needs").status_code == 403
