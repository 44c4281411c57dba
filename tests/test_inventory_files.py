"""CSV files of goods: importing an intake list (check, then record) and the two exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import InKindGift, Role, StockDocument, StockEntry, StockLevel
from donations.services import inventory, recipients
from donations.services import inventory_files as files
from donations.services.errors import InvalidInput

# --- helpers ---------------------------------------------------------------------


def _documents() -> int:
    return db.session.scalar(select(func.count()).select_from(StockDocument))


def _on_hand(site, item) -> int:
    level = db.session.get(StockLevel, (site.id, item.id))
    return level.on_hand if level else 0


def _upload(client, content: bytes | str, *, filename="intake.csv", **fields):
    data = content.encode() if isinstance(content, str) else content
    form = {
        "site_id": str(fields.pop("site_id")),
        "effective_date": fields.pop("effective_date", date.today().isoformat()),
        "source": fields.pop("source", "anonymous"),
        "check": "1",
        **fields,
    }
    form["csv_file"] = (io.BytesIO(data), filename)
    return client.post("/inventory/import", data=form, content_type="multipart/form-data")


def _hidden(html: str, name: str) -> str:
    """The value of a hidden input in the record form (unescaped)."""
    import html as html_lib
    import re

    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match, f"no hidden {name}"
    return html_lib.unescape(match.group(1))


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


# --- reading a list (the service) ------------------------------------------------------


def test_rows_are_checked_and_merged(goods):
    text = (
        "code,quantity,condition\n"
        "socks-m,10,new\n"
        "SOAP,5,\n"
        "\n"
        "SOCKS-M,4,New\n"
        "NOPE,1,new\n"
        "SOAP,2.5,new\n"
        "SOAP,-3,new\n"
        "SOAP,0,new\n"
        "SOAP,3,worn out\n"
        "SOCKS-M,2,good used\n"
        "\n\n"
    )
    intake = files.parse_intake_text(text)
    by_row = {r.row: r for r in intake.rows}
    assert by_row[2].status == "ok" and by_row[2].item_code == "SOCKS-M"
    assert by_row[3].status == "ok" and by_row[3].condition == "new"  # blank means new
    assert by_row[4].status == "blank"
    assert by_row[5].status == "merged" and "row 2" in by_row[5].message
    assert "No item has the code NOPE" in by_row[6].message
    assert "not a whole number" in by_row[7].message
    assert "above zero" in by_row[8].message and "above zero" in by_row[9].message
    assert "not a condition" in by_row[10].message
    assert by_row[11].status == "ok" and by_row[11].condition == "good_used"
    assert intake.errors == 5 and not intake.ok
    assert 12 not in by_row  # trailing blank rows are dropped
    socks, soap = goods.items["SOCKS-M"].id, goods.items["SOAP"].id
    assert intake.lines == [
        inventory.Line(socks, 14, "new"),
        inventory.Line(soap, 5, "new"),
        inventory.Line(socks, 2, "good_used"),
    ]


def test_items_by_name_and_size_semicolons_and_bom(goods):
    text = (
        "\ufeffItem;Size;Qty;Condition;Comment\r\n"
        "Coat, adult;M;3;good used;from the drive\r\n"
        "Coat, adult (L);;2;;\r\n"
        "soap;;7;;\r\n"
        "Coat, adult;;1;;\r\n"
        "Coat, adult;XXXL;1;;\r\n"
        "Unicorn;;1;;\r\n"
    )
    intake = files.parse_intake_text(text)
    assert intake.delimiter == ";"
    assert intake.ignored_columns == ["Comment"]
    rows = intake.rows
    assert [r.item_code for r in rows[:3]] == ["COAT-A-M", "COAT-A-L", "SOAP"]
    assert "comes in sizes" in rows[3].message
    assert "no Coat, adult in size XXXL" in rows[4].message
    assert "not in the catalog" in rows[5].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"  \r\n\r\n", "The file is empty"),
        (b"code,quantity\n", "no item rows"),
        (b"PK\x03\x04 rest of a workbook", "spreadsheet workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not saved as UTF-8"),
        ("code,quantity\nSOAP,1\n".encode("utf-16-le"), "not a CSV text file"),
        ("item,quantity\nCafé,1\n".encode("cp1252"), "not saved as UTF-8"),
        (b"name,amount\nsoap,3\n", "The first row must name the columns"),
        (b"x" * (files.UPLOAD_MAX_BYTES + 1), "larger than 1 MB"),
        (b"code,quantity\n" + b"SOAP,1\n" * (files.ROWS_MAX + 1), "more than 2,000 item rows"),
        (b'code,quantity\n"SOAP' + b"x" * 200_000 + b'",1\n', "could not be read as CSV"),
    ],
)
def test_bad_files_are_refused_with_a_message(goods, data, message):
    with pytest.raises(InvalidInput, match=message):
        files.read_intake_csv(data=data)


def test_utf16_with_a_bom_is_read(goods):
    intake = files.read_intake_csv(data="code\tquantity\nSOAP\t4\n".encode("utf-16"))
    assert intake.ok and intake.lines[0].quantity == 4


def test_more_different_items_than_one_document_holds(goods, monkeypatch):
    monkeypatch.setattr(inventory, "LINES_MAX", 2)
    intake = files.parse_intake_text("code,quantity\nSOAP,1\nSHAMPOO,1\nSOCKS-M,1\n")
    assert intake.errors == 0 and not intake.ok
    assert "at most 2" in intake.problems[0]


def test_inactive_items_are_a_row_problem(goods):
    goods.items["SOAP"].active = False
    db.session.commit()
    intake = files.parse_intake_text("code,quantity\nSOAP,1\n")
    assert "inactive" in intake.rows[0].message and not intake.ok


# --- the import page ---------------------------------------------------------------


def test_import_page_explains_the_columns(staff_client, goods):
    response = staff_client.get("/inventory/import")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Import an intake list" in page and "SOCKS-M,24,new" in page
    assert 'aria-current="page">Import' in page
    assert "Harbor House" in page  # an open site to choose


def test_preview_with_problems_saves_nothing(staff_client, goods):
    content = "code,quantity,condition\nSOCKS-M,10,new\nNOPE,3,new\nSOAP,x,new\n"
    response = _upload(staff_client, content, site_id=goods.shelter.id)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "No item has the code NOPE." in page
    assert "x is not a whole number" in page
    assert "Record this intake" not in page
    assert "Nothing was saved" in page
    assert _documents() == 0
    assert _on_hand(goods.shelter, goods.items["SOCKS-M"]) == 0


def test_valid_preview_saves_nothing_until_recorded(staff_client, goods):
    content = (
        "code,quantity,condition\nSOCKS-M,10,new\nSOAP,5,\n\nsocks-m,4,new\nSOAP,2,good used\n"
    )
    response = _upload(staff_client, content, site_id=goods.warehouse.id)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Record this intake" in page
    assert "Same item and condition as row 2" in page
    assert "Skipped:</span> Blank row." in page
    assert _documents() == 0

    rows = _hidden(page, "rows")
    response = staff_client.post(
        "/inventory/import",
        data={
            "record": "1",
            "rows": rows,
            "site_id": _hidden(page, "site_id"),
            "effective_date": _hidden(page, "effective_date"),
            "source": _hidden(page, "source"),
            "drive_name": "",
            "donor_id": "",
            "note": "",
        },
    )
    assert response.status_code == 302
    document = db.session.scalar(select(StockDocument))
    assert f"/inventory/documents/{document.id}" in response.headers["Location"]
    assert document.kind == "intake" and document.source == "anonymous"
    assert document.created_by_id == staff_client.user.id
    lines = [(e.item.code, e.quantity, e.condition) for e in document.entries]
    assert lines == [("SOCKS-M", 14, "new"), ("SOAP", 5, "new"), ("SOAP", 2, "good_used")]
    assert _on_hand(goods.warehouse, goods.items["SOCKS-M"]) == 14
    assert _on_hand(goods.warehouse, goods.items["SOAP"]) == 7
    assert inventory.verify_balances() == []


def test_recording_reads_the_posted_rows_again(staff_client, goods):
    """A tampered or stale list is checked again and refused; nothing is saved."""
    response = staff_client.post(
        "/inventory/import",
        data={
            "record": "1",
            "rows": "code,quantity,condition\nSOCKS-M,-5,new\n",
            "site_id": str(goods.shelter.id),
            "effective_date": date.today().isoformat(),
            "source": "anonymous",
        },
    )
    assert response.status_code == 400
    assert "above zero" in response.get_data(as_text=True)
    assert _documents() == 0


def test_drive_intake_needs_the_drive_name(staff_client, goods):
    response = _upload(
        staff_client, "code,quantity\nSOAP,5\n", site_id=goods.shelter.id, source="drive"
    )
    assert response.status_code == 400
    assert "Name the drive" in response.get_data(as_text=True)
    assert "Record this intake" not in response.get_data(as_text=True)
    response = _upload(
        staff_client,
        "code,quantity\nSOAP,5\n",
        site_id=goods.shelter.id,
        source="drive",
        drive_name="Lincoln High drive",
    )
    assert response.status_code == 200
    assert "Drive: Lincoln High drive" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"effective_date": (date.today() + timedelta(days=5)).isoformat()}, "in the future"),
        ({"effective_date": "31/12/2025"}, "Not a valid date"),
        ({"source": "donor"}, "Choose the donor."),
    ],
)
def test_header_problems_show_before_recording(staff_client, goods, fields, message):
    response = _upload(staff_client, "code,quantity\nSOAP,5\n", site_id=goods.shelter.id, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "Record this intake" not in response.get_data(as_text=True)


def test_closed_site_is_refused(staff_client, goods):
    goods.warehouse.active = False
    db.session.commit()
    response = _upload(staff_client, "code,quantity\nSOAP,5\n", site_id=goods.warehouse.id)
    assert response.status_code == 400
    assert _documents() == 0


def test_intake_from_a_known_donor_is_an_in_kind_gift(staff_client, goods, create_donor):
    donor = create_donor("Acme Linens", email="acme@example.com")
    page = staff_client.get("/inventory/import?q=acme").get_data(as_text=True)
    assert "Acme Linens" in page and "acme@example.com" not in page  # names only for staff
    page = staff_client.get(f"/inventory/import?donor_id={donor.id}").get_data(as_text=True)
    assert "Donor: <strong>Acme Linens</strong>" in page
    response = _upload(
        staff_client,
        "code,quantity\nBLANKET,12\n",
        site_id=goods.shelter.id,
        source="donor",
        donor_id=str(donor.id),
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    response = staff_client.post(
        "/inventory/import",
        data={
            "record": "1",
            "rows": _hidden(page, "rows"),
            "site_id": _hidden(page, "site_id"),
            "effective_date": _hidden(page, "effective_date"),
            "source": "donor",
            "donor_id": _hidden(page, "donor_id"),
        },
    )
    assert response.status_code == 302
    gift = db.session.scalar(select(InKindGift))
    assert gift.donor_id == donor.id
    assert _on_hand(goods.shelter, goods.items["BLANKET"]) == 12


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "empty.csv", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png", "not saved as UTF-8"),
        ("item,quantity\nCafé,1\n".encode("cp1252"), "latin.csv", "not saved as UTF-8"),
        (b"code,quantity\n" + b"SOAP,1\n" * 2001, "big.csv", "more than 2,000"),
        (b"hello world", "notes.txt", "The first row must name the columns"),
    ],
)
def test_bad_uploads_get_a_message_not_a_500(staff_client, goods, content, filename, message):
    response = _upload(staff_client, content, filename=filename, site_id=goods.shelter.id)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _documents() == 0


def test_empty_post_is_a_form_error(staff_client, goods):
    response = staff_client.post("/inventory/import", data={})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose the site." in page and "Choose the CSV file" in page


def test_upload_over_the_request_limit_is_413_not_500(staff_client, goods, app):
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    response = _upload(staff_client, b"code,quantity\n" + b"SOAP,1\n" * 20_000, site_id=1)
    assert response.status_code == 413


def test_treasurer_cannot_import(treasurer_client, goods):
    assert treasurer_client.get("/inventory/import").status_code == 403


def test_subnav_links(login, goods):
    staff_page = login(Role.STAFF).get("/inventory/export").get_data(as_text=True)
    assert ">Import</a>" in staff_page and 'aria-current="page">Export' in staff_page
    treasurer_page = login(Role.TREASURER).get("/inventory/export").get_data(as_text=True)
    assert ">Import</a>" not in treasurer_page and ">Export</a>" in treasurer_page


# --- exports -------------------------------------------------------------------


@pytest.fixture
def ledger(goods, stock_in, create_donor):
    """An intake, a distribution, a transfer, a reversal, and formula-like text."""
    stock_in(goods.shelter, SOCKS_M=10, SOAP=4)
    donor = create_donor('=HYPERLINK("http://evil")', email="secret@example.com")
    intake = inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=date.today() - timedelta(days=10),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("BLANKET", 6, "good_used")],
    )
    youth = recipients.create_recipient(actor=None, kind="program", name="+Youth program")
    distribution = inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date.today(),
        recipient_id=youth.id,
        case_code="C-104",
        lines=[goods.line("SOCKS-M", 3)],
    )
    inventory.record_transfer(
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=goods.shelter.id,
        effective_date=date.today(),
        lines=[goods.line("BLANKET", 2)],
    )
    db.session.commit()
    reversal = inventory.reverse_document(
        actor=None, document_id=distribution.id, note="Entered twice"
    )
    db.session.commit()
    return {"intake": intake, "distribution": distribution, "reversal": reversal}


def test_ledger_export_has_every_entry_with_headers(login, ledger, goods):
    client = login(Role.TREASURER)  # any role may export
    response = client.get("/inventory/export/ledger.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="goods-ledger-{date.today().isoformat()}.csv"' in disposition
    assert response.data.startswith("\ufeff".encode())
    rows = _csv(response)
    assert rows[0] == files.LEDGER_HEADER
    assert len(rows) - 1 == db.session.scalar(select(func.count()).select_from(StockEntry))
    body = response.get_data(as_text=True)
    assert "secret@example.com" not in body  # never a donor's email
    by_kind = {}
    for row in rows[1:]:
        by_kind.setdefault(row[1], []).append(dict(zip(rows[0], row, strict=True)))
    distribution = by_kind["Distribution"][0]
    assert distribution["quantity"] == "-3"  # a number stays a number
    assert distribution["recipient"] == "'+Youth program"  # text that looks like a formula
    assert distribution["case code"] == "C-104"
    assert distribution["site"] == "Harbor House"
    intake = by_kind["Intake"][-1]
    assert intake["donor"].startswith("'=HYPERLINK")
    assert intake["source"] == "A known donor"
    assert intake["condition"] == "Good used"
    assert intake["item"] == "Blanket" and intake["item code"] == "BLANKET"
    reversal = by_kind["Reversal"][0]
    assert reversal["reverses"] == ledger["distribution"].number
    assert reversal["quantity"] == "3"
    transfer = {r["site"]: r["quantity"] for r in by_kind["Transfer"]}
    assert transfer == {"Main warehouse": "-2", "Harbor House": "2"}


def test_ledger_export_filters(staff_client, ledger, goods):
    def rows(query: str) -> list[dict[str, str]]:
        response = staff_client.get("/inventory/export/ledger.csv?" + query)
        assert response.status_code == 200
        table = _csv(response)
        return [dict(zip(table[0], row, strict=True)) for row in table[1:]]

    warehouse = rows(f"site={goods.warehouse.id}")
    assert warehouse and {r["site"] for r in warehouse} == {"Main warehouse"}
    socks = rows("item=socks-m")
    assert {r["item code"] for r in socks} == {"SOCKS-M"} and len(socks) == 3
    old = (date.today() - timedelta(days=10)).isoformat()
    dated = rows(f"date_from={old}&date_to={old}")
    assert [r["kind"] for r in dated] == ["Intake"]
    assert rows(f"date_to={(date.today() - timedelta(days=30)).isoformat()}") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("item=NOPE", "No item has the code NOPE."),
        ("date_from=2026-03-01&date_to=2026-02-01", "The end date is before the start date."),
        ("date_from=yesterday", "Not a valid date"),
    ],
)
def test_ledger_export_bad_filters_show_the_form(staff_client, ledger, query, message):
    response = staff_client.get("/inventory/export/ledger.csv?" + query)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)


def test_stock_export(login, ledger, goods):
    goods_socks = goods.items["SOCKS-M"]
    inventory.set_par_levels(actor=None, site_id=goods.shelter.id, levels={goods_socks.id: 20})
    db.session.commit()
    response = login(Role.TREASURER).get("/inventory/export/stock.csv")
    assert response.status_code == 200
    assert f"goods-stock-{date.today().isoformat()}.csv" in response.headers["Content-Disposition"]
    table = _csv(response)
    assert table[0] == [
        "site",
        "item code",
        "item",
        "category",
        "unit",
        "on hand",
        "par",
        "under par",
    ]
    rows = {(r[0], r[1]): r for r in table[1:]}
    assert rows[("Harbor House", "SOCKS-M")] == [
        "Harbor House",
        "SOCKS-M",
        "Socks (M)",
        "Socks",
        "pair",
        "10",  # the distribution of 3 was reversed
        "20",
        "yes",
    ]
    assert rows[("Harbor House", "SOAP")][5:] == ["4", "0", "no"]
    assert rows[("Main warehouse", "BLANKET")][5:] == ["4", "0", "no"]
    # A balance row with nothing on hand and no par is left out.
    inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date.today(),
        recipient="Youth program",
        lines=[goods.line("SOAP", 4)],
    )
    db.session.commit()
    table = _csv(login(Role.STAFF).get("/inventory/export/stock.csv"))
    assert ("Harbor House", "SOAP") not in {(r[0], r[1]) for r in table[1:]}
    only = _csv(login(Role.STAFF).get(f"/inventory/export/stock.csv?site={goods.shelter.id}"))
    assert {r[0] for r in only[1:]} == {"Harbor House"}


def test_exports_are_streamed(app, staff_client, ledger):
    for path in ("/inventory/export/ledger.csv", "/inventory/export/stock.csv"):
        response = staff_client.get(path, buffered=False)
        assert response.status_code == 200
        assert response.is_streamed
        assert b"".join(response.response).startswith("\ufeff".encode())
        response.close()


def test_csv_chunks_escape_formulas_and_stream_in_batches():
    rows = [["=1+1", "+x", "-y", "@z", "\tt", "safe", -5, None, "a-b"]] * 3
    chunks = list(files.csv_chunks(iter(rows), batch=2))
    assert len(chunks) == 2
    parsed = list(csv.reader(io.StringIO("".join(chunks).lstrip("\ufeff"))))
    assert parsed[0] == ["'=1+1", "'+x", "'-y", "'@z", "'\tt", "safe", "-5", "", "a-b"]


def test_export_page_offers_both_downloads(login, goods):
    page = login(Role.TREASURER).get("/inventory/export").get_data(as_text=True)
    assert "Download the ledger (CSV)" in page and "Download stock levels (CSV)" in page
    assert 'id="stock-site"' in page and 'for="stock-site"' in page
