"""Every free-text field on a goods form is screened for the people served (issue 11).

A full name, an email address or a phone number typed into a note is refused
with a message that says why, nothing is written, and none of it reaches a
page, a PDF or an export afterwards.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import AuditEvent, Item, ItemCategory, Pledge, Site, StockDocument
from donations.services import inventory, pledges, privacy, recipients
from donations.services.errors import InvalidInput

TODAY = date.today().isoformat()
MESSAGE = "Don&#39;t write the names or contact details of the people you serve"
PERSONAL = [
    "given to Maria Gonzalez, room 4, arrived from Houston",
    "For José Hernández and her two kids",
    "Reach her at maria.g@example.com",
    "Her number is (555) 123-4567",
    "call +1 555 123 4567 after 6",
    "Mrs Lopez asked for more",
]
SECRETS = ["Maria Gonzalez", "José Hernández", "maria.g@example.com", "123-4567", "Lopez"]


# --- the screen itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        *PERSONAL,
        "Tyrone Jackson",
        "AISHA BELLO",
        "Ana-Maria Pop came by",
        "María L. requested diapers",
        "Maria de la Cruz, room 4",
        "555.123.4567",
        "5551234567",
        "contact: @maria_g",
    ],
)
def test_names_emails_and_phones_are_refused(text):
    with pytest.raises(InvalidInput) as refused:
        privacy.check_free_text(text, field="note")
    assert refused.value.field == "note"
    assert privacy.SCREEN_MESSAGE in refused.value.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Two bags left at the side door.",
        "Water damage from the roof leak in bay 2; thrown away.",
        "Quarterly shelf count of the supply closet, 2026-12-01.",
        "Lincoln High coat drive",
        "Delivered to Hope Center on Monday",
        "Grace House residents",
        "For the new family",
        "1,000 units, lot 4821",
        "Bringing these after work, around 4 pm.",
    ],
)
def test_ordinary_notes_pass(text):
    assert privacy.check_free_text(text) == text


# --- every goods form ----------------------------------------------------------------------


def rows(*lines) -> dict[str, str]:
    data = {}
    for index, (item, quantity, *condition) in enumerate(lines):
        data[f"lines-{index}-item"] = item
        data[f"lines-{index}-quantity"] = quantity
        if condition:
            data[f"lines-{index}-condition"] = condition[0]
    return data


def documents() -> int:
    return db.session.scalar(select(func.count()).select_from(StockDocument))


def refused(response, field: str = "note") -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html
    assert MESSAGE in html
    assert f'id="{field}-error"' in html
    return html


@pytest.mark.parametrize("note", PERSONAL)
def test_intake_note(staff_client, goods, note):
    data = {
        "site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        "source": "drive",
        "drive_name": "Lincoln High coat drive",
        "note": note,
        **rows(("SOAP", "2", "new")),
    }
    refused(staff_client.post("/inventory/intake/new", data=data))
    assert documents() == 0


def test_intake_drive_and_donor_names_are_not_screened(staff_client, goods, create_donor):
    donor = create_donor("Maria Gonzalez", email="maria@example.com")
    data = {
        "site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        "source": "donor",
        "donor_id": str(donor.id),
        **rows(("SOAP", "2", "new")),
    }
    assert staff_client.post("/inventory/intake/new", data=data).status_code == 302
    data.update(source="drive", donor_id="", drive_name="Tyrone Jackson's office drive")
    assert staff_client.post("/inventory/intake/new", data=data).status_code == 302


@pytest.mark.parametrize("note", PERSONAL)
def test_distribution_note(staff_client, goods, stock_in, note):
    stock_in(goods.shelter, SOAP=2)
    before = documents()
    clinic = recipients.find_active_recipient(name="Safe Passage clinic")
    data = {
        "site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        "recipient_id": str(clinic.id),
        "note": note,
        **rows(("SOAP", "1")),
    }
    refused(staff_client.post("/inventory/distribution/new", data=data))
    assert documents() == before


def test_transfer_and_adjustment_notes(staff_client, goods, stock_in):
    stock_in(goods.warehouse, SOAP=4)
    before = documents()
    transfer = {
        "site_id": str(goods.warehouse.id),
        "to_site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        "note": PERSONAL[0],
        **rows(("SOAP", "1")),
    }
    refused(staff_client.post("/inventory/transfer/new", data=transfer))
    adjustment = {
        "site_id": str(goods.warehouse.id),
        "effective_date": TODAY,
        "reason": "other",
        "direction": "out",
        "note": PERSONAL[2],
        **rows(("SOAP", "1")),
    }
    refused(staff_client.post("/inventory/adjustment/new", data=adjustment))
    assert documents() == before


def test_count_note_is_refused_at_review(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    before = documents()
    data = {
        "site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        "lines-0-item_id": str(goods.items["SOAP"].id),
        "lines-0-counted": "4",
        "note": PERSONAL[3],
        "review": "y",
    }
    refused(staff_client.post("/inventory/count/new", data=data))
    data.pop("review")
    refused(staff_client.post("/inventory/count/new", data={**data, "confirm": "y"}))
    assert documents() == before


def test_kit_note(staff_client, goods, stock_in):
    stock_in(goods.shelter, TOOTHBRUSH=3, TOOTHPASTE=3, SOAP=3, SHAMPOO=3, SOCKS_M=4)
    before = documents()
    data = {
        "kit_item_id": str(goods.items["KIT-HYG"].id),
        "site_id": str(goods.shelter.id),
        "quantity": "1",
        "action": "assemble",
        "effective_date": TODAY,
        "note": PERSONAL[1],
    }
    refused(staff_client.post("/inventory/kits", data=data))
    assert documents() == before


def test_reversal_note(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    intake = db.session.scalar(select(StockDocument))
    response = staff_client.post(
        f"/inventory/documents/{intake.id}/reverse", data={"note": PERSONAL[4]}
    )
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert documents() == 1


def pledge_form(goods, note: str) -> dict[str, str]:
    return {
        "name": "Pat Giver",
        "email": "pat@example.com",
        "site_id": str(goods.dropoff.id),
        "expected_on": (date.today() + timedelta(days=3)).isoformat(),
        "note": note,
        "lines-0-item": str(goods.items["SOAP"].id),
        "lines-0-quantity": "4",
    }


def test_public_pledge_note(client, goods):
    refused(client.post("/needs/pledge", data=pledge_form(goods, PERSONAL[0])))
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    assert client.post("/needs/pledge", data=pledge_form(goods, "Two bags")).status_code == 302


def test_staff_pledge_pages(staff_client, goods):
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name="Pat Giver",
            email="pat@example.com",
            site_id=goods.dropoff.id,
            expected_on=date.today() + timedelta(days=2),
            lines=[goods.line("SOAP", 2)],
        )
    )
    db.session.commit()
    line = pledge.lines[0]
    receive = {
        "effective_date": TODAY,
        "site_id": str(goods.dropoff.id),
        f"quantity-{line.id}": "2",
        f"condition-{line.id}": "new",
        "note": PERSONAL[2],
    }
    refused(staff_client.post(f"/inventory/pledges/{pledge.id}/receive", data=receive))
    assert documents() == 0
    cancel = staff_client.post(
        f"/inventory/pledges/{pledge.id}/cancel", data={"cancel-reason": PERSONAL[0]}
    )
    refused(cancel, field="cancel-reason")
    db.session.refresh(pledge)
    assert pledge.status == "open"


def _upload(client, goods, content: str, **fields):
    form = {
        "site_id": str(goods.warehouse.id),
        "effective_date": TODAY,
        "source": "anonymous",
        "check": "1",
        **fields,
        "csv_file": (io.BytesIO(content.encode()), "intake.csv"),
    }
    return client.post("/inventory/import", data=form, content_type="multipart/form-data")


def test_goods_csv_import(staff_client, goods):
    note = _upload(staff_client, goods, "code,quantity\nSOAP,3\n", note=PERSONAL[0])
    refused(note)
    cells = _upload(
        staff_client,
        goods,
        "code,item,quantity\nSOAP,,3\n,Maria Gonzalez,2\n,maria@example.com,1\n",
    )
    page = cells.get_data(as_text=True)
    assert privacy.SCREEN_MESSAGE.replace("'", "&#39;") in page
    assert "Maria Gonzalez" not in page and "maria@example.com" not in page
    assert "Record this intake" not in page
    assert documents() == 0


def test_catalog_names(staff_client, admin_client, goods):
    items = db.session.scalar(select(func.count()).select_from(Item))
    item = {
        "category_id": str(goods.items["SOAP"].category_id),
        "name": "Coat for Maria Gonzalez",
        "size": "",
        "unit": "each",
        "code": "COAT-MG",
        "active": "y",
    }
    refused(staff_client.post("/inventory/catalog/new", data=item), field="name")
    assert db.session.scalar(select(func.count()).select_from(Item)) == items
    site = {
        "name": "Maria Gonzalez apartment",
        "kind": "shelter",
        "is_confidential": "y",
        "active": "y",
    }
    response = admin_client.post("/inventory/sites/new", data=site)
    assert response.status_code in (200, 400)
    assert MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Site)) == 3
    with pytest.raises(InvalidInput):
        from donations.services import catalog

        catalog.create_category(actor=None, name="For Tyrone Jackson")
    db.session.rollback()
    assert (
        db.session.scalar(
            select(func.count()).select_from(ItemCategory).where(ItemCategory.name.contains("Ty"))
        )
        == 0
    )


# --- nothing reaches a page or an export --------------------------------------------------


def test_after_every_attempt_nothing_personal_is_anywhere(
    staff_client, admin_client, goods, stock_in
):
    stock_in(goods.shelter, SOAP=5)
    stock_in(goods.warehouse, SOAP=5)
    outreach = recipients.find_active_recipient(name="Street outreach")
    for note in PERSONAL:
        base = {"effective_date": TODAY, "note": note}
        staff_client.post(
            "/inventory/distribution/new",
            data={
                **base,
                "site_id": str(goods.shelter.id),
                "recipient_id": str(outreach.id),
                "case_code": "Maria Gonzalez",
                **rows(("SOAP", "1")),
            },
        )
        staff_client.post(
            "/inventory/transfer/new",
            data={
                **base,
                "site_id": str(goods.warehouse.id),
                "to_site_id": str(goods.shelter.id),
                **rows(("SOAP", "1")),
            },
        )
    # One clean distribution, so the exports have a distribution row to show.
    ok = staff_client.post(
        "/inventory/distribution/new",
        data={
            "site_id": str(goods.shelter.id),
            "effective_date": TODAY,
            "recipient_id": str(outreach.id),
            "case_code": "C-104",
            "note": "For the new family",
            **rows(("SOAP", "1")),
        },
    )
    assert ok.status_code == 302
    pages = [
        staff_client.get("/inventory/documents"),
        staff_client.get("/dashboard"),
        staff_client.get("/inventory/export/ledger.csv"),
        staff_client.get("/inventory/export/stock.csv"),
        admin_client.get("/admin/audit"),
    ]
    for document in db.session.scalars(select(StockDocument)):
        pages.append(staff_client.get(f"/inventory/documents/{document.id}"))
    for response in pages:
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in body
    assert "Street outreach" in pages[2].get_data(as_text=True)
    audit = " ".join(db.session.scalars(select(AuditEvent.summary)))
    assert not any(secret in audit for secret in SECRETS)


def test_services_refuse_too(goods, stock_in):
    stock_in(goods.shelter, SOAP=3)
    with pytest.raises(InvalidInput) as caught:
        inventory.record_adjustment(
            actor=None,
            site_id=goods.shelter.id,
            effective_date=date.today(),
            reason="damaged",
            lines=[goods.line("SOAP", 1)],
            note="Torn by Maria Gonzalez",
        )
    assert caught.value.field == "note"
    db.session.rollback()


def test_an_item_row_naming_a_person_is_refused_without_matching(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    before = documents()
    data = {
        "site_id": str(goods.warehouse.id),
        "to_site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        **rows(("Maria Gonzalez", "1")),
    }
    response = staff_client.post("/inventory/transfer/new", data=data)
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert documents() == before


def test_an_item_code_that_reads_like_a_name_is_refused(staff_client, goods):
    item = {
        "category_id": str(goods.items["SOAP"].category_id),
        "name": "Coat",
        "size": "",
        "unit": "each",
        "code": "MARIA-GONZALEZ",
        "active": "y",
    }
    refused(staff_client.post("/inventory/catalog/new", data=item), field="code")
