"""Partner agencies ask for goods: partner logins, their requests, staff fulfilling or declining."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from conftest import sign_in
from donations.extensions import db
from donations.models import (
    AuditEvent,
    DocumentKind,
    GoodsRequest,
    GoodsRequestStatus,
    OutboxMessage,
    Recipient,
    Role,
    StockDocument,
    StockEntry,
    StockLevel,
    User,
)
from donations.services import accounts, partner_requests
from donations.services.errors import NotAllowed


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def agency(name: str) -> Recipient:
    return db.session.scalar(select(Recipient).where(Recipient.name == name))


@pytest.fixture
def clinic(goods) -> Recipient:
    return agency("Safe Passage clinic")


@pytest.fixture
def partner(app, create_user, clinic):
    """A client signed in as the clinic's partner login."""
    user = create_user(Role.PARTNER, name="Clinic desk", recipient_id=clinic.id)
    client = sign_in(app.test_client(), user)
    client.user = user
    return client


def on_hand(goods, code: str, site=None) -> int:
    site = site or goods.shelter
    level = db.session.get(StockLevel, (site.id, goods.items[code].id))
    return level.on_hand if level else 0


def ask(goods, user: User, note: str = "", **quantities: int) -> GoodsRequest:
    lines = [
        partner_requests.AskedLine(goods.items[code.replace("_", "-")].id, n)
        for code, n in quantities.items()
    ]
    made = partner_requests.create_request(actor=user, lines=lines, note=note)
    db.session.commit()
    return made


def new_request_form(page: str, quantities: dict[int, str], **fields: str) -> dict[str, str]:
    """The new-request form as posted: every catalog row, with the given quantities."""
    found = re.findall(r'name="rows-\d+-item_id" type="hidden" value="(\d+)"', page)
    item_ids = [int(v) for v in found]
    assert item_ids
    data = {}
    for index, item_id in enumerate(item_ids):
        data[f"rows-{index}-item_id"] = str(item_id)
        data[f"rows-{index}-quantity"] = quantities.get(item_id, "")
    data.update(fields)
    return data


# --- partner logins and access -----------------------------------------------------------


def test_partner_login_needs_an_open_partner_agency(app, goods):
    program = agency("Street outreach")
    with pytest.raises(Exception, match="partner agency"):
        accounts.create_user(
            actor=None,
            email="p@example.org",
            name="P",
            role=Role.PARTNER,
            password="long-enough-pass",
            recipient_id=program.id,
        )
    db.session.rollback()
    with pytest.raises(Exception, match="partner agency"):
        accounts.create_user(
            actor=None, email="p@example.org", name="P", role="partner", password="long-enough-pass"
        )
    db.session.rollback()
    with pytest.raises(Exception, match="Only a partner login"):
        accounts.create_user(
            actor=None,
            email="s@example.org",
            name="S",
            role=Role.STAFF,
            password="long-enough-pass",
            recipient_id=agency("Safe Passage clinic").id,
        )


def test_admin_adds_a_partner_login_on_the_agency_page(admin_client, clinic, goods):
    page = text_of(admin_client.get(f"/admin/recipients/{clinic.id}"))
    assert "Partner logins" in page and "Add a partner login" in page
    response = admin_client.post(
        f"/admin/recipients/{clinic.id}/logins/new",
        data={
            "name": "Intake coordinator",
            "email": "Intake@Clinic.example",
            "password": "clinic-pass-123",
            "confirm": "clinic-pass-123",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "intake@clinic.example"))
    assert user.role == Role.PARTNER and user.recipient_id == clinic.id
    assert "Intake coordinator" in text_of(admin_client.get(f"/admin/recipients/{clinic.id}"))
    assert "partner (Safe Passage clinic)" in text_of(admin_client.get("/admin/users"))
    # Its user page keeps the one role it may have; saving works.
    edit = admin_client.post(
        f"/admin/users/{user.id}/edit",
        data={"name": "Intake desk", "email": user.email, "role": "partner", "active": "y"},
    )
    assert edit.status_code == 302
    # It never becomes staff, and the Users page cannot make a partner login.
    refused = admin_client.post(
        f"/admin/users/{user.id}/edit",
        data={"name": "Intake desk", "email": user.email, "role": "staff", "active": "y"},
    )
    assert refused.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).role == Role.PARTNER
    response = admin_client.post(
        "/admin/users/new",
        data={
            "name": "X",
            "email": "x@example.org",
            "role": "partner",
            "password": "clinic-pass-123",
            "confirm": "clinic-pass-123",
        },
    )
    assert response.status_code == 200
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None
    # A program has no partner logins.
    program = agency("Street outreach")
    assert admin_client.get(f"/admin/recipients/{program.id}/logins/new").status_code == 404


def test_partner_cannot_switch_role(app, goods, create_user, clinic):
    user = create_user(Role.PARTNER, recipient_id=clinic.id)
    with pytest.raises(NotAllowed):
        accounts.update_user(
            actor=None, user=user, email=user.email, name=user.name, role="staff", active=True
        )


def test_partner_signs_in_to_its_requests_and_sees_only_partner_links(
    app, goods, create_user, clinic
):
    create_user(Role.PARTNER, email="desk@clinic.example", recipient_id=clinic.id)
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "desk@clinic.example", "password": "correct horse battery"}
    )
    assert response.status_code == 302, text_of(response)
    assert response.headers["Location"].endswith("/partner/requests")
    page = text_of(client.get("/partner/requests"))
    nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert "/partner/requests/new" in nav
    for staff_link in ("/dashboard", "/inventory/", "/donors", "/gifts", "/admin"):
        assert staff_link not in nav


def test_partner_reaches_no_staff_page(partner, goods):
    for path in (
        "/dashboard",
        "/inventory/",
        "/inventory/catalog",
        "/inventory/sites",
        "/inventory/requests/",
        "/needs",  # public: allowed
    ):
        response = partner.get(path)
        if path == "/needs":
            assert response.status_code == 200
        else:
            assert response.status_code == 403, path


def test_partner_sees_only_its_own_agencys_requests(app, goods, create_user, partner, clinic):
    other = create_user(Role.PARTNER, recipient_id=agency("Legal advocacy partner").id)
    theirs = ask(goods, other, SOAP=2)
    ours = ask(goods, partner.user, SOCKS_M=3)
    page = text_of(partner.get("/partner/requests"))
    assert ours.number in page and theirs.number not in page
    assert partner.get(f"/partner/requests/{ours.id}").status_code == 200
    assert partner.get(f"/partner/requests/{theirs.id}").status_code == 404
    assert partner.post(f"/partner/requests/{theirs.id}/withdraw").status_code == 404
    assert partner.get("/partner/requests/999999").status_code == 404
    db.session.expire_all()
    assert db.session.get(GoodsRequest, theirs.id).status == GoodsRequestStatus.OPEN


# --- asking ---------------------------------------------------------------------------------


def test_new_request_shows_availability_without_quantities_or_sites(partner, goods, stock_in):
    stock_in(goods.shelter, SOAP=4321)
    page = text_of(partner.get("/partner/requests/new"))
    soap_row = page.split(goods.items["SOAP"].label)[1].split("</tr>")[0]
    assert "Available" in soap_row and "Not available now" not in soap_row
    socks_row = page.split(goods.items["SOCKS-M"].label)[1].split("</tr>")[0]
    assert "Not available now" in socks_row
    assert "4321" not in page and "4,321" not in page
    for site in ("Harbor House", "Hidden Lane", "Main warehouse", "Downtown drop-off"):
        assert site not in page


def test_new_request_lists_the_catalog_by_category_without_the_test_mode_banner(
    partner, staff_client, goods
):
    page = text_of(partner.get("/partner/requests/new"))
    groups = re.findall(r'<th scope="rowgroup" colspan="2">([^<]+)</th>', page)
    assert len(groups) == len(set(groups)) > 1  # each category once, as a heading
    soap = goods.items["SOAP"]
    toiletries = page.split(f">{soap.category.name}</th>")[1].split('scope="rowgroup"')[0]
    assert soap.label in toiletries  # the item sits under its own category
    assert f"{soap.label} {soap.category.name}" not in page  # no longer run together
    # A partner agency takes no payments: the test-mode banner is for the organisation.
    assert "Test mode" not in page
    assert "Test mode" in text_of(staff_client.get("/dashboard"))


def test_partner_makes_and_withdraws_a_request(partner, goods, clinic):
    page = text_of(partner.get("/partner/requests/new"))
    soap = goods.items["SOAP"].id
    response = partner.post(
        "/partner/requests/new",
        data=new_request_form(page, {soap: "6"}, note="Winter supplies for our drop-in"),
    )
    assert response.status_code == 302
    made = db.session.scalar(select(GoodsRequest))
    assert made.recipient_id == clinic.id and made.status == GoodsRequestStatus.OPEN
    assert [(line.item_id, line.quantity) for line in made.lines] == [(soap, 6)]
    detail = text_of(partner.get(response.headers["Location"]))
    assert made.number in detail and "Winter supplies" in detail and "Open" in detail
    assert partner.post(f"/partner/requests/{made.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(GoodsRequest, made.id).status == GoodsRequestStatus.WITHDRAWN
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"goods_request.create", "goods_request.withdraw"} <= actions
    # Withdrawing twice says so, and changes nothing.
    again = partner.post(f"/partner/requests/{made.id}/withdraw", follow_redirects=True)
    assert "already withdrawn" in text_of(again)


@pytest.mark.parametrize(
    ("note", "what"),
    [
        ("For Maria Lopez, arriving Monday", "a person's name"),
        ("Call 555-123-4567 when ready", "a phone number"),
        ("Child born 2019-04-05 needs a coat", "birth date"),
    ],
)
def test_a_note_with_personal_details_is_refused(partner, goods, note, what):
    page = text_of(partner.get("/partner/requests/new"))
    response = partner.post(
        "/partner/requests/new",
        data=new_request_form(page, {goods.items["SOAP"].id: "2"}, note=note),
    )
    assert response.status_code == 400
    assert "Don't write the names or contact details" in text_of(response)
    assert what in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(GoodsRequest)) == 0


def test_bad_input_is_refused_with_a_message(partner, goods):
    page = text_of(partner.get("/partner/requests/new"))
    for quantities, message in (
        ({}, "at least one item"),
        ({goods.items["SOAP"].id: "two"}, "whole number"),
        ({goods.items["SOAP"].id: "99999999"}, "At most"),
    ):
        response = partner.post("/partner/requests/new", data=new_request_form(page, quantities))
        assert response.status_code == 400
        assert message in text_of(response)
    response = partner.post(
        "/partner/requests/new",
        data=new_request_form(page, {goods.items["SOAP"].id: "1"}, needed_by="2001-01-01"),
    )
    assert response.status_code == 400 and "has passed" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(GoodsRequest)) == 0


def test_asking_for_an_item_archived_meanwhile_says_so_and_changes_nothing(
    partner, goods, stock_in
):
    stock_in(goods.shelter, SOAP=5)
    page = text_of(partner.get("/partner/requests/new"))
    soap, socks = goods.items["SOAP"], goods.items["SOCKS-M"]
    soap.active = False  # archived by staff while the partner was filling in the form
    db.session.commit()
    response = partner.post(
        "/partner/requests/new",
        data=new_request_form(page, {soap.id: "3", socks.id: "2"}, note="For our drop-in"),
    )
    assert response.status_code == 400
    page = text_of(response)
    alert = page.split('class="form-errors" role="alert">')[1].split("</div>")[0]
    assert "One of the items is no longer offered; choose from the list again." in alert
    hidden = re.search(rf'name="rows-\d+-item_id" type="hidden" value="{soap.id}"', page)
    soap_row = page[: hidden.start()].rsplit("<tr", 1)[1]
    assert "An item no longer offered" in soap_row and soap.label not in soap_row
    assert "For our drop-in" in page  # the rest of what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(GoodsRequest)) == 0
    assert "goods_request.create" not in set(db.session.scalars(select(AuditEvent.action)))
    assert on_hand(goods, "SOAP") == 5
    # The form read afresh no longer offers it.
    fresh = text_of(partner.get("/partner/requests/new"))
    assert not re.search(rf'name="rows-\d+-item_id" type="hidden" value="{soap.id}"', fresh)


# --- staff: fulfil and decline ---------------------------------------------------------------


def fulfil_data(goods_request: GoodsRequest, site, **given: int) -> dict[str, str]:
    data = {"site_id": str(site.id), "effective_date": date.today().isoformat()}
    for index, line in enumerate(goods_request.lines):
        data[f"lines-{index}-line_id"] = str(line.id)
        data[f"lines-{index}-quantity"] = str(given.get(line.item.code, line.quantity))
    return data


def test_staff_list_shows_open_requests_first(staff_client, partner, goods):
    first = ask(goods, partner.user, SOAP=1)
    second = ask(goods, partner.user, SOAP=2)
    partner_requests.withdraw_request(actor=partner.user, request_id=first.id)
    db.session.commit()
    page = text_of(staff_client.get("/inventory/requests/"))
    assert page.index(second.number) < page.index(first.number)
    assert "Open (1)" in page


def test_staff_fulfil_a_request_whole(app, staff_client, partner, goods, stock_in, clinic):
    app.config["PUBLIC_BASE_URL"] = "https://give.example.org"
    stock_in(goods.shelter, SOAP=10, SOCKS_M=5)
    made = ask(goods, partner.user, SOAP=4, SOCKS_M=5)
    page = text_of(staff_client.get(f"/inventory/requests/{made.id}"))
    assert "Harbor House: 10" in page  # staff see where the stock is
    response = staff_client.post(
        f"/inventory/requests/{made.id}/fulfil",
        data=fulfil_data(made, goods.shelter),
        headers={"Host": "donations.test"},
    )
    assert response.status_code == 302, text_of(response)
    db.session.expire_all()
    made = db.session.get(GoodsRequest, made.id)
    assert made.status == GoodsRequestStatus.FULFILLED
    assert [line.quantity_given for line in made.lines] == [4, 5]
    document = made.distribution
    assert document.kind == DocumentKind.DISTRIBUTION and document.recipient_id == clinic.id
    entries = db.session.scalars(select(StockEntry).where(StockEntry.document_id == document.id))
    assert sorted(e.quantity for e in entries) == [-5, -4]
    assert on_hand(goods, "SOAP") == 6 and on_hand(goods, "SOCKS-M") == 0
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_addr == partner.user.email)
    )
    assert mail is not None and "fulfilled" in mail.subject
    assert f"https://give.example.org/partner/requests/{made.id}" in mail.body_text
    assert "donations.test" not in mail.body_text
    assert "goods_request.fulfil" in set(db.session.scalars(select(AuditEvent.action)))
    # The partner sees what was given, never the site it left.
    detail = text_of(partner.get(f"/partner/requests/{made.id}"))
    assert "Fulfilled" in detail and "Harbor House" not in detail
    # Decided once: a second fulfil or a decline is refused, nothing changes.
    again = staff_client.post(
        f"/inventory/requests/{made.id}/fulfil",
        data=fulfil_data(made, goods.shelter),
        follow_redirects=True,
    )
    assert "already fulfilled; nothing was changed" in text_of(again)
    declined = staff_client.post(
        f"/inventory/requests/{made.id}/decline", data={"reason": "No"}, follow_redirects=True
    )
    assert "already fulfilled" in text_of(declined)
    assert on_hand(goods, "SOAP") == 6


def test_staff_fulfil_a_request_in_part(staff_client, partner, goods, stock_in):
    stock_in(goods.shelter, SOAP=10)
    made = ask(goods, partner.user, SOAP=4, SOCKS_M=5)
    response = staff_client.post(
        f"/inventory/requests/{made.id}/fulfil",
        data=fulfil_data(made, goods.shelter, SOAP=3, **{"SOCKS-M": 0}),
    )
    assert response.status_code == 302, text_of(response)
    db.session.expire_all()
    made = db.session.get(GoodsRequest, made.id)
    assert made.status == GoodsRequestStatus.PARTLY_FULFILLED
    assert [line.quantity_given for line in made.lines] == [3, 0]
    assert on_hand(goods, "SOAP") == 7
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_addr == partner.user.email)
    )
    assert "partly fulfilled" in mail.subject and "3 x" in mail.body_text


def test_fulfil_more_than_on_hand_or_asked_is_refused(staff_client, partner, goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    made = ask(goods, partner.user, SOAP=4)
    response = staff_client.post(
        f"/inventory/requests/{made.id}/fulfil", data=fulfil_data(made, goods.shelter)
    )
    assert response.status_code == 400
    assert "Only 2 on hand at Harbor House" in text_of(response)
    response = staff_client.post(
        f"/inventory/requests/{made.id}/fulfil",
        data=fulfil_data(made, goods.shelter, SOAP=9),
    )
    assert response.status_code == 400 and "At most 4" in text_of(response)
    response = staff_client.post(
        f"/inventory/requests/{made.id}/fulfil",
        data=fulfil_data(made, goods.shelter, SOAP=0),
    )
    assert response.status_code == 400 and "decline the request" in text_of(response)
    db.session.expire_all()
    assert db.session.get(GoodsRequest, made.id).status == GoodsRequestStatus.OPEN
    assert on_hand(goods, "SOAP") == 2
    kinds = db.session.scalars(select(StockDocument.kind))
    assert DocumentKind.DISTRIBUTION not in set(kinds)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_staff_decline_with_a_reason(staff_client, partner, goods):
    made = ask(goods, partner.user, SOAP=4)
    refused = staff_client.post(f"/inventory/requests/{made.id}/decline", data={"reason": ""})
    assert refused.status_code == 400 and "Say why" in text_of(refused)
    screened = staff_client.post(
        f"/inventory/requests/{made.id}/decline", data={"reason": "Ask Maria Lopez"}
    )
    assert screened.status_code == 400
    response = staff_client.post(
        f"/inventory/requests/{made.id}/decline",
        data={"reason": "Out of soap until the spring drive"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    made = db.session.get(GoodsRequest, made.id)
    assert made.status == GoodsRequestStatus.DECLINED
    assert made.decline_reason == "Out of soap until the spring drive"
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_addr == partner.user.email)
    )
    assert "declined" in mail.subject and "spring drive" in mail.body_text
    assert f"http://donations.test/partner/requests/{made.id}" in mail.body_text
    assert "goods_request.decline" in set(db.session.scalars(select(AuditEvent.action)))
    assert "spring drive" in text_of(partner.get(f"/partner/requests/{made.id}"))


def test_a_decided_request_is_never_rewritten(app, partner, goods):
    made = ask(goods, partner.user, SOAP=1)
    partner_requests.withdraw_request(actor=partner.user, request_id=made.id)
    db.session.commit()
    made.note = "changed"
    with pytest.raises(RuntimeError, match="kept as it was decided"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("decision", ["decline", "fulfil", "withdraw"])
def test_a_decision_by_an_actor_read_before_a_commit_is_recorded(
    create_user, partner, goods, stock_in, decision
):
    """The actor's id is read before the request changes: no second UPDATE of a decided one."""
    stock_in(goods.shelter, SOAP=5)
    made = ask(goods, partner.user, SOAP=2)
    staff = create_user(Role.STAFF)
    db.session.commit()  # both users expire: reading an id loads it again
    if decision == "decline":
        partner_requests.decline_request(actor=staff, request_id=made.id, reason="Out of soap")
    elif decision == "fulfil":
        partner_requests.fulfil_request(
            actor=staff,
            request_id=made.id,
            site_id=goods.shelter.id,
            effective_date=date.today(),
            given={made.lines[0].id: 1},
        )
    else:
        partner_requests.withdraw_request(actor=partner.user, request_id=made.id)
    db.session.commit()
    db.session.expire_all()
    decided = db.session.get(GoodsRequest, made.id)
    assert decided.status != GoodsRequestStatus.OPEN and decided.decided_at is not None
    expected = partner.user.id if decision == "withdraw" else staff.id
    assert decided.decided_by_id == expected


def test_request_lists_stack_into_cards_on_a_phone(staff_client, partner, goods):
    """Each list is a `stacked` table whose cells name their column (see test_narrow_layout)."""
    from test_narrow_layout import assert_cells_named_by_their_column, stacked_tables

    decided = ask(goods, partner.user, SOAP=1)
    partner_requests.withdraw_request(actor=partner.user, request_id=decided.id)
    ask(goods, partner.user, SOAP=2)
    db.session.commit()
    for client, url, count in (
        (staff_client, "/inventory/requests/", 2),
        (partner, "/partner/requests", 1),
        (partner, f"/partner/requests/{decided.id}", 1),
        (staff_client, f"/inventory/requests/{decided.id}", 1),
    ):
        tables = stacked_tables(client, url)
        assert len(tables) == count, url
        for table in tables:
            assert table.rows, url
            assert_cells_named_by_their_column(table, url)
