"""Survivor safety on goods requests: a partner's note and a decline reason are screened when
typed (refused next to the field, the input kept, nothing stored), and what was stored before
the screen is found by the privacy scan and can be redacted."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select, update

from conftest import sign_in
from donations.extensions import db
from donations.models import (
    AuditEvent,
    GoodsRequest,
    GoodsRequestStatus,
    OutboxMessage,
    Recipient,
    Role,
)
from donations.services import partner_requests, privacy
from donations.services.errors import InvalidInput

SCREEN = "Don't write the names or contact details of the people you serve"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def partner(app, create_user, goods):
    clinic = db.session.scalar(select(Recipient).where(Recipient.name == "Safe Passage clinic"))
    user = create_user(Role.PARTNER, name="Clinic desk", recipient_id=clinic.id)
    client = sign_in(app.test_client(), user)
    client.user = user
    return client


def form_of(page: str, quantities: dict[int, str], **fields: str) -> dict[str, str]:
    ids = [int(v) for v in re.findall(r'name="rows-\d+-item_id" type="hidden" value="(\d+)"', page)]
    data = {}
    for index, item_id in enumerate(ids):
        data[f"rows-{index}-item_id"] = str(item_id)
        data[f"rows-{index}-quantity"] = quantities.get(item_id, "")
    return data | fields


def requests_stored() -> int:
    return db.session.scalar(select(func.count()).select_from(GoodsRequest))


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


# --- screened when typed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "what"),
    [
        ("For Maria Lopez and her two kids", "a person's name"),
        ("Ask Mrs. Okafor at the desk", "a person's name"),
        ("Mail the client at rosa.m@example.com", "an email address"),
        ("Text her on +1 (312) 555-0147", "a phone number"),
        ("Her handle is @rosa_m", "an email address"),
    ],
)
def test_a_refused_note_is_marked_the_input_kept_and_nothing_stored(partner, goods, note, what):
    soap, socks = goods.items["SOAP"].id, goods.items["SOCKS-M"].id
    page = text_of(partner.get("/partner/requests/new"))
    response = partner.post(
        "/partner/requests/new",
        data=form_of(page, {soap: "2", socks: "5"}, note=note, needed_by=""),
    )
    assert response.status_code == 400
    page = text_of(response)
    error = field_error(page, "note")
    assert SCREEN in error and what in error
    textarea = re.search(r"<textarea([^>]*)>(.*?)</textarea>", page, re.S)
    assert 'aria-invalid="true"' in textarea.group(1)
    assert "note-error" in textarea.group(1)  # the error describes the field
    assert textarea.group(2).strip() == note  # kept, to correct
    for item_id, quantity in ((soap, "2"), (socks, "5")):
        row = page.split(f'value="{item_id}"')[1].split("</tr>")[0]
        assert f'value="{quantity}"' in row  # the quantities are kept too
    assert requests_stored() == 0
    assert "goods_request.create" not in set(db.session.scalars(select(AuditEvent.action)))


def test_a_plain_note_is_kept_as_typed(partner, goods):
    page = text_of(partner.get("/partner/requests/new"))
    response = partner.post(
        "/partner/requests/new",
        data=form_of(
            page, {goods.items["SOAP"].id: "2"}, note="Winter coats for the Hope Center drop-in"
        ),
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(select(GoodsRequest.note)) == "Winter coats for the Hope Center drop-in"
    )


def test_the_service_screens_the_note_whoever_calls_it(partner, goods):
    with pytest.raises(InvalidInput, match=SCREEN) as refused:
        partner_requests.create_request(
            actor=partner.user,
            lines=[partner_requests.AskedLine(goods.items["SOAP"].id, 1)],
            note="Call Ana Silva on 555-123-4567",
        )
    assert refused.value.field == "note"
    assert "a person's name and a phone number" in refused.value.message
    db.session.rollback()
    assert requests_stored() == 0


def test_a_refused_decline_reason_is_marked_kept_and_the_request_stays_open(
    staff_client, partner, goods
):
    made = partner_requests.create_request(
        actor=partner.user, lines=[partner_requests.AskedLine(goods.items["SOAP"].id, 3)]
    )
    db.session.commit()
    reason = "Maria Gonzalez already took the last soap"
    response = staff_client.post(f"/inventory/requests/{made.id}/decline", data={"reason": reason})
    assert response.status_code == 400
    page = text_of(response)
    assert SCREEN in field_error(page, "reason")
    kept_text = re.search(r'<textarea[^>]*id="reason"[^>]*>(.*?)</textarea>', page, re.S)
    assert kept_text.group(1).strip() == reason  # kept, to correct
    db.session.expire_all()
    kept = db.session.get(GoodsRequest, made.id)
    assert kept.status == GoodsRequestStatus.OPEN and kept.decline_reason == ""
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- stored before the screen: the privacy scan -------------------------------------------


@pytest.fixture
def stored(partner, goods, create_user):
    """Two requests whose texts were written before the screen: put straight in the database."""
    lines = [partner_requests.AskedLine(goods.items["SOAP"].id, 1)]
    open_one = partner_requests.create_request(actor=partner.user, lines=lines, note="Clean")
    declined = partner_requests.create_request(actor=partner.user, lines=lines)
    partner_requests.decline_request(
        actor=create_user(Role.STAFF), request_id=declined.id, reason="Out of stock"
    )
    clean = partner_requests.create_request(actor=partner.user, lines=lines, note="For our shelf")
    db.session.execute(
        update(GoodsRequest)
        .where(GoodsRequest.id == open_one.id)
        .values(note="For Tyrone Jackson, 555-123-4567")
    )
    db.session.execute(
        update(GoodsRequest)
        .where(GoodsRequest.id == declined.id)
        .values(decline_reason="Given to Maria Lopez already")
    )
    db.session.commit()
    return {"open": open_one, "declined": declined, "clean": clean}


def test_scan_lists_request_notes_and_reasons_the_screen_would_refuse(stored):
    found = {
        (f.field, f.id, f.label, f.reasons)
        for f in privacy.scan_stored_text()
        if f.kind == "goods_request"
    }
    assert found == {
        ("note", stored["open"].id, stored["open"].number, ("a person's name", "a phone number")),
        ("decline_reason", stored["declined"].id, stored["declined"].number, ("a person's name",)),
    }


def test_redacting_a_decided_request_touches_only_its_refused_text(app, admin_client, stored):
    page = text_of(admin_client.get("/admin/privacy"))
    assert f"Request {stored['declined'].number}" in page
    assert f'href="/inventory/requests/{stored["declined"].id}"' in page
    assert "Maria" not in page and "Tyrone" not in page  # the list names records only
    response = admin_client.post(f"/admin/privacy/goods_request/{stored['declined'].id}/redact")
    assert response.status_code == 302
    db.session.expire_all()
    declined = db.session.get(GoodsRequest, stored["declined"].id)
    assert declined.decline_reason == "[redacted]"
    assert declined.status == GoodsRequestStatus.DECLINED  # the decision itself is kept
    audit = db.session.scalar(
        select(AuditEvent.summary).where(AuditEvent.action == "privacy.note_redacted")
    )
    assert audit == f"Note redacted: decline reason of {declined.number} replaced with [redacted]"
    assert "Maria" not in audit
    # Twice: nothing left to redact.
    again = admin_client.post(
        f"/admin/privacy/goods_request/{declined.id}/redact", follow_redirects=True
    )
    assert "has nothing left to redact" in text_of(again)
    # The CLI redacts the open one; the clean request is never touched.
    result = app.test_cli_runner().invoke(
        args=["privacy", "redact", "goods_request", str(stored["open"].id)]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(GoodsRequest, stored["open"].id).note == "[redacted]"
    assert db.session.get(GoodsRequest, stored["clean"].id).note == "For our shelf"
    assert not [f for f in privacy.scan_stored_text() if f.kind == "goods_request"]


def test_cli_scan_names_the_request(app, stored):
    result = app.test_cli_runner().invoke(args=["privacy", "scan"])
    assert result.exit_code == 0, result.output
    assert stored["open"].number in result.output and "decline_reason" in result.output
    assert "Tyrone" not in result.output
