"""Phones: lists stack into labelled cards and the staff navigation folds into a menu.

The layout itself is CSS (``table.stacked`` under 40rem, e2e/test_08_phones.py checks it in
a browser at 375 px); these tests check the markup it relies on: every cell of a list's row
carries its column's name in ``data-label``, and the key figures and actions are among them.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from donations.extensions import db
from donations.models import Fund, Role, utcnow
from donations.services import gifts as gift_service
from donations.services import receipt_delivery, receipt_files, receipts

FAKE_PDF = b"%PDF-1.4\n% a stand-in receipt\n%%EOF\n"


# --- reading tables ------------------------------------------------------------


@dataclasses.dataclass
class Cell:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    links: list[str] = dataclasses.field(default_factory=list)

    @property
    def label(self) -> str | None:
        return self.attrs.get("data-label")


@dataclasses.dataclass
class Table:
    classes: set[str]
    headers: list[str] = dataclasses.field(default_factory=list)
    rows: list[list[Cell]] = dataclasses.field(default_factory=list)  # tbody and tfoot rows

    def cell(self, row: list[Cell], label: str) -> Cell:
        found = [c for c in row if c.label == label]
        assert len(found) == 1, f"no single cell labelled {label!r} in {[c.label for c in row]}"
        return found[0]


class Tables(HTMLParser):
    """Every table of a page: its classes, column names (visible text) and labelled cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self.section = ""
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None
        self.spans: list[bool] = []  # for each open span: is it visually hidden?
        self.header = ""

    def handle_starttag(self, tag, attrs) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.tables.append(Table(set(attributes.get("class", "").split())))
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif tag == "tr" and self.tables:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = Cell(tag, attributes)
            self.header = ""
        elif tag == "span":
            self.spans.append("visually-hidden" in attributes.get("class", ""))
        elif tag == "a" and self.cell is not None:
            self.cell.links.append(attributes.get("href", ""))

    def handle_endtag(self, tag) -> None:
        if tag == "span" and self.spans:
            self.spans.pop()
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.cell.text = " ".join(self.cell.text.split())
            if self.section == "thead":
                self.tables[-1].headers.append(" ".join(self.header.split()))
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.section in ("tbody", "tfoot"):
                self.tables[-1].rows.append(self.row)
            self.row = None

    def handle_data(self, data) -> None:
        if self.cell is not None:
            self.cell.text += data
            if not any(self.spans):
                self.header += data


def tables_of(html: str) -> list[Table]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def stacked_tables(client, url: str) -> list[Table]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [t for t in tables_of(response.get_data(as_text=True)) if "stacked" in t.classes]


def assert_cells_named_by_their_column(table: Table, url: str) -> None:
    """Each data cell is labelled with the name of the column it sits in (action columns,
    whose header is only for screen readers, need no label: their buttons say what they do)."""
    for row in table.rows:
        column = 0
        for cell in row:
            span = int(cell.attrs.get("colspan") or 1)
            if cell.tag == "td" and span == 1:
                name = table.headers[column] if column < len(table.headers) else ""
                if name:
                    assert cell.label == name, (
                        f"{url}: {cell.text!r} is labelled {cell.label!r}, not {name!r}"
                    )
            column += span


# --- fixtures ------------------------------------------------------------------


@pytest.fixture
def stub_pdf(monkeypatch):
    monkeypatch.setattr(receipt_files, "render", lambda content, void=None: FAKE_PDF)


@pytest.fixture
def fund(app):
    fund = Fund(name="Shelter beds")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def cheque(app, organization, fund, create_donor):
    def make(amount_cents: int = 5_000, *, donor=None):
        gift = gift_service.record_offline_gift(
            actor=None,
            donor_id=(donor or create_donor("Zoë Ångström", email="zoe@example.com")).id,
            fund_id=fund.id,
            method="cheque",
            cheque_number="1042",
            amount_cents=amount_cents,
            currency="USD",
            received_on=utcnow().date(),
        )
        db.session.commit()
        return gift

    return make


# --- the three lists the issue names -------------------------------------------


def test_each_row_of_the_gift_list_names_its_gross_fee_and_net(treasurer_client, cheque):
    gift = cheque(12_345)
    (table,) = stacked_tables(treasurer_client, "/gifts/")
    row = next(r for r in table.rows if f"/gifts/{gift.id}" in r[0].links)
    assert table.cell(row, "Gross").text == "$123.45"
    assert table.cell(row, "Fee").text == "$0.00"
    assert table.cell(row, "Net").text == "$123.45"
    assert table.cell(row, "Donor").text.startswith("Zoë Ångström")
    # The totals row is a card too, with the same names.
    total = table.rows[-1]
    assert total[0].text.startswith("Total")
    assert table.cell(total, "Net").text == "$123.45"
    assert_cells_named_by_their_column(table, "/gifts/")


def test_the_donors_receipts_name_the_amount_and_keep_the_download_link(
    app, client, stub_pdf, cheque
):
    gift = cheque(4_321)
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    db.session.commit()
    token = receipt_delivery.donor_token([gift.donor_id])
    receipts_table, gifts_table = stacked_tables(client, f"/my-gifts/{token}")
    (row,) = receipts_table.rows
    assert receipts_table.cell(row, "Number").text == receipt.number
    assert receipts_table.cell(row, "Amount").text == "$43.21"
    download = [link for cell in row for link in cell.links]
    assert download == [f"/r/{receipt_delivery.receipt_token(receipt)}"]
    assert client.get(download[0]).data == FAKE_PDF
    (gift_row,) = gifts_table.rows
    assert gifts_table.cell(gift_row, "Amount").text == "$43.21"
    for table in (receipts_table, gifts_table):
        assert_cells_named_by_their_column(table, "/my-gifts/")


def test_each_item_of_the_stock_table_names_every_sites_quantity(login, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    stock_in(goods.warehouse, SOAP=7)
    stock_in(goods.dropoff, SOAP=2)
    staff = login(Role.STAFF)
    (table,) = stacked_tables(staff, "/inventory/")
    row = next(r for r in table.rows if "SOAP" in r[0].text)
    assert row[0].tag == "th"  # the item heads its card
    assert table.cell(row, "Harbor House (conf.)").text.startswith("5")
    assert table.cell(row, "Main warehouse").text.startswith("7")
    assert table.cell(row, "Downtown drop-off").text.startswith("2")
    assert table.cell(row, "All sites").text == "14"
    assert_cells_named_by_their_column(table, "/inventory/")


# --- every other list ------------------------------------------------------------


LISTS = [
    "/gifts/",
    "/receipts/",
    "/donors/",
    "/donors/{donor}",
    "/admin/mail",
    "/admin/audit",
    "/admin/users",
    "/admin/funds",
    "/inventory/",
    "/inventory/catalog",
    "/inventory/sites",
    "/inventory/documents",
    "/inventory/items/{item}",
    "/reports/",
    "/dashboard",
]


def test_every_list_stacks_into_cards_labelled_by_column(
    app, login, stub_pdf, cheque, goods, stock_in
):
    gift = cheque(2_500)
    receipts.issue_gift_receipt(actor=None, gift=gift)
    db.session.commit()
    stock_in(goods.warehouse, SOAP=3)
    assert app.test_client().post("/my-gifts", data={"email": "zoe@example.com"}).status_code == 302
    admin = login(Role.ADMIN)
    ids = {"donor": gift.donor_id, "item": goods.items["SOAP"].id}
    for pattern in LISTS:
        url = pattern.format(**ids)
        tables = stacked_tables(admin, url)
        assert tables, f"{url} has no list that stacks on a phone"
        for table in tables:
            assert table.rows, url
            assert_cells_named_by_their_column(table, url)


def test_a_list_without_a_label_is_caught_by_the_check():
    html = """<table class="stacked"><thead><tr><th scope="col">Name</th>
      <th scope="col" class="num">Net</th>
      <th><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody><tr><td data-label="Name">A</td><td class="num">$1.00</td>
      <td><button>Go</button></td></tr></tbody></table>"""
    (table,) = tables_of(html)
    assert table.headers == ["Name", "Net", ""]
    with pytest.raises(AssertionError, match="Net"):
        assert_cells_named_by_their_column(table, "sample")


# --- navigation ------------------------------------------------------------------


def test_staff_navigation_folds_into_a_details_menu(login, client):
    html = login(Role.ADMIN).get("/dashboard").get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Main"[^>]*>(.*?)</nav>', html, re.S).group(1)
    menu = re.search(
        r'<details class="nav-menu">\s*<summary>Menu</summary>(.*?)</details>', nav, re.S
    )
    assert menu, "the staff links are not inside a <details> menu with a summary"
    links = re.findall(r'<a href="([^"]+)"', menu.group(1))
    assert "/admin/users" in links and "/gifts/" in links and len(links) >= 10
    # The public navigation is three links: it stays as it is.
    public = client.get("/").get_data(as_text=True)
    assert "nav-menu" not in public and "Your receipts" in public


def test_the_menu_is_open_on_a_wide_screen_and_folds_on_a_phone(app):
    css = (Path(app.static_folder) / "site.css").read_text()
    wide = re.search(r"@media \(width > 40rem\) \{(.*?)\n\}", css, re.S)
    assert wide, "no wide-screen rule for the menu"
    assert re.search(r"\.nav-menu > summary \{ display: none; \}", wide.group(1))
    assert re.search(r"\.nav-menu::details-content \{ content-visibility: visible;", wide.group(1))
    narrow = re.findall(r"@media \(max-width: 40rem\) \{(.*?)\n\}", css, re.S)
    assert any("table.stacked > thead" in block for block in narrow)
    assert any("content: attr(data-label)" in block for block in narrow)
