"""The forms that record goods: intake, distribution, transfer, adjustment, counts and kits."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import InKindGift, Item, Recipient, StockDocument, StockEntry, StockLevel

TODAY = date.today().isoformat()


# --- helpers -------------------------------------------------------------------


def documents() -> int:
    return db.session.scalar(select(func.count()).select_from(StockDocument))


def on_hand(site, code: str, goods) -> int:
    level = db.session.get(StockLevel, (site.id, goods.items[code].id))
    return level.on_hand if level else 0


def latest() -> StockDocument:
    return db.session.scalar(select(StockDocument).order_by(StockDocument.id.desc()))


def rows(*lines: tuple) -> dict[str, str]:
    """Form data for rows: rows(("SOAP", "3"), ("", ""), ("Toothbrush", "2", "good_used"))."""
    data = {}
    for index, line in enumerate(lines):
        data[f"lines-{index}-item"] = line[0]
        data[f"lines-{index}-quantity"] = line[1]
        if len(line) > 2:
            data[f"lines-{index}-condition"] = line[2]
    return data


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def assert_redirect_to_document(response, document: StockDocument) -> None:
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/inventory/documents/{document.id}")


class HiddenInputs(HTMLParser):
    """Collect the hidden inputs of a page: name -> value."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.values[attributes["name"]] = attributes.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    parser = HiddenInputs()
    parser.feed(html)
    return parser.values


def intake_data(goods, *lines, **fields) -> dict[str, str]:
    data = {
        "site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        "source": "anonymous",
        **rows(*lines),
    }
    data.update({k: str(v) for k, v in fields.items()})
    return data


# --- access ---------------------------------------------------------------------

ROUTES = [
    "/inventory/record",
    "/inventory/intake/new",
    "/inventory/distribution/new",
    "/inventory/transfer/new",
    "/inventory/adjustment/new",
    "/inventory/count/new",
    "/inventory/kits",
]


@pytest.mark.parametrize("path", ROUTES)
def test_treasurer_may_not_record_goods(treasurer_client, goods, path):
    assert treasurer_client.get(path).status_code == 403
    if path != "/inventory/record":
        before = documents()
        response = treasurer_client.post(path, data={"site_id": goods.shelter.id})
        assert response.status_code == 403
        assert documents() == before


@pytest.mark.parametrize("path", ROUTES)
def test_staff_and_admin_see_every_form(staff_client, admin_client, goods, path):
    for client in (staff_client, admin_client):
        response = client.get(path)
        assert response.status_code == 200
        assert 'aria-current="page">Record goods</a>' in response.get_data(as_text=True)


def test_record_page_has_a_card_per_movement(staff_client, goods):
    html = staff_client.get("/inventory/record").get_data(as_text=True)
    for path in ROUTES[1:]:
        assert f'href="{path}"' in html
    assert html.count('class="card"') == 6


def test_record_link_only_for_stock_keepers(staff_client, treasurer_client, goods):
    assert "/inventory/record" in staff_client.get("/inventory/").get_data(as_text=True)
    assert "/inventory/record" not in treasurer_client.get("/inventory/").get_data(as_text=True)


# --- the rows ---------------------------------------------------------------------


def test_new_form_has_eight_blank_rows_and_item_list(staff_client, goods):
    html = staff_client.get("/inventory/intake/new").get_data(as_text=True)
    assert html.count("data-line-row") == 8
    assert 'name="lines-7-item"' in html
    assert '<option value="Socks (M) — SOCKS-M">' in html
    assert 'list="item-options"' in html
    assert "lines.js" in html


def test_add_more_rows_keeps_input_and_writes_nothing(staff_client, goods):
    data = intake_data(goods, ("SOCKS-M", "3", "good_used"), *[("", "")] * 7)
    data["note"] = "Boxes from the church"
    data["add_rows"] = "y"
    response = staff_client.post("/inventory/intake/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("data-line-row") == 16
    assert 'value="SOCKS-M"' in html
    assert 'value="3"' in html
    assert '<option selected value="good_used">' in html
    assert "Boxes from the church" in html
    assert "Nothing is recorded" in html
    assert "autofocus" in html  # the cursor goes to the next blank row
    assert '<span class="line-name muted small" data-line="name">Socks (M)</span>' in html
    assert documents() == 0


def test_add_more_rows_focuses_a_scanned_row_missing_its_quantity(staff_client, goods):
    data = intake_data(goods, ("SOAP", "2", "new"), ("SOCKS-M", "", "new"), add_rows="y")
    html = staff_client.post("/inventory/intake/new", data=data).get_data(as_text=True)
    assert re.search(r'<input[^>]*autofocus[^>]*id="lines-1-quantity"', html)


def test_blank_rows_are_ignored(staff_client, goods):
    data = intake_data(
        goods,
        ("", ""),
        ("SOAP", "4", "new"),
        ("", "", "new"),
        ("  ", " "),
        ("Toothbrush", "2", "good_used"),
    )
    response = staff_client.post("/inventory/intake/new", data=data)
    document = latest()
    assert_redirect_to_document(response, document)
    assert len(document.entries) == 2
    assert on_hand(goods.shelter, "SOAP", goods) == 4
    assert on_hand(goods.shelter, "TOOTHBRUSH", goods) == 2
    conditions = {e.item.code: e.condition for e in document.entries}
    assert conditions == {"SOAP": "new", "TOOTHBRUSH": "good_used"}


@pytest.mark.parametrize(
    "typed",
    ["SOCKS-M", "socks-m", " SOCKS-M ", "Socks (M) — SOCKS-M", "Socks (M)", "socks (m)"],
)
def test_item_by_code_label_or_list_choice(staff_client, goods, typed):
    response = staff_client.post(
        "/inventory/intake/new", data=intake_data(goods, (typed, "2", "new"))
    )
    assert_redirect_to_document(response, latest())
    assert on_hand(goods.shelter, "SOCKS-M", goods) == 2


def test_no_rows_at_all_is_an_error(staff_client, goods):
    response = staff_client.post("/inventory/intake/new", data=intake_data(goods))
    assert response.status_code == 400
    assert "Add at least one item with a quantity." in response.get_data(as_text=True)
    assert documents() == 0


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Enter a quantity above zero"),
        ("-2", "Enter a quantity above zero"),
        ("1.5", "Enter a whole number"),
        ("2,5", "Enter the quantity as a whole number"),
        ("lots", "Enter the quantity as a whole number"),
        ("", "Enter how many."),
        ("99999999999", "At most 1,000,000 on one row."),
    ],
)
def test_bad_quantity_is_an_error_on_its_row(staff_client, goods, quantity, message):
    data = intake_data(goods, ("SOAP", "2", "new"), ("SOCKS-M", quantity, "new"))
    response = staff_client.post("/inventory/intake/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<p class="error" id="lines-1-quantity-error">{message}' in html
    assert 'id="lines-1-quantity"' in html and 'aria-invalid="true"' in html
    # Everything typed is kept.
    assert 'value="SOAP"' in html and 'value="SOCKS-M"' in html
    assert f'value="{quantity}"' in html
    assert documents() == 0


def test_unknown_item_names_what_was_typed(staff_client, goods):
    data = intake_data(goods, ("SOAP", "2", "new"), ("UNICORN-9", "1", "new"))
    response = staff_client.post("/inventory/intake/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No item has the code or name “UNICORN-9”" in html
    assert "lines-1-item-error" in html
    assert documents() == 0


def test_quantity_without_item_is_an_error(staff_client, goods):
    response = staff_client.post("/inventory/intake/new", data=intake_data(goods, ("", "4", "new")))
    assert response.status_code == 400
    assert "Choose the item for this quantity" in response.get_data(as_text=True)
    assert documents() == 0


# --- intake -----------------------------------------------------------------------------


def test_intake_anonymous(staff_client, goods):
    data = intake_data(goods, ("SOCKS-M", "3", "new"), ("COAT-A-L", "1", "good_used"))
    data["note"] = "Left at the door"
    response = staff_client.post("/inventory/intake/new", data=data)
    document = latest()
    assert_redirect_to_document(response, document)
    assert document.kind == "intake" and document.source == "anonymous"
    assert document.note == "Left at the door"
    assert on_hand(goods.shelter, "SOCKS-M", goods) == 3
    assert on_hand(goods.shelter, "COAT-A-L", goods) == 1
    assert db.session.scalar(select(func.count()).select_from(InKindGift)) == 0
    assert flashes(staff_client) == [
        f"Recorded {document.number}: 4 units received at Harbor House."
    ]


def test_intake_from_donor_records_an_in_kind_gift(staff_client, goods, create_donor):
    donor = create_donor("Jane Giver")
    data = intake_data(
        goods, ("SOAP", "10", "new"), source="donor", donor_id=donor.id, donor_value="$25.50"
    )
    response = staff_client.post("/inventory/intake/new", data=data)
    document = latest()
    assert_redirect_to_document(response, document)
    gift = db.session.scalar(select(InKindGift))
    assert gift.donor_id == donor.id and gift.document_id == document.id
    assert gift.donor_value_cents == 2550
    (message,) = flashes(staff_client)
    assert document.number in message
    assert "in-kind gift from Jane Giver" in message


def test_intake_from_donor_needs_the_donor(staff_client, goods):
    data = intake_data(goods, ("SOAP", "1", "new"), source="donor")
    response = staff_client.post("/inventory/intake/new", data=data)
    assert response.status_code == 400
    assert "Choose the donor." in response.get_data(as_text=True)
    assert documents() == 0


def test_intake_bad_donor_value_is_an_error(staff_client, goods, create_donor):
    donor = create_donor("Jane Giver")
    data = intake_data(
        goods, ("SOAP", "1", "new"), source="donor", donor_id=donor.id, donor_value="a lot"
    )
    response = staff_client.post("/inventory/intake/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter the amount as a number" in html
    assert 'value="a lot"' in html
    assert "Jane Giver" in html  # the chosen donor is kept
    assert documents() == 0


def test_intake_donor_value_ignored_unless_from_a_donor(staff_client, goods):
    data = intake_data(goods, ("SOAP", "1", "new"), source="anonymous", donor_value="not money")
    response = staff_client.post("/inventory/intake/new", data=data)
    assert_redirect_to_document(response, latest())


def test_intake_from_a_drive_needs_its_name(staff_client, goods):
    data = intake_data(goods, ("SOAP", "1", "new"), source="drive")
    response = staff_client.post("/inventory/intake/new", data=data)
    assert response.status_code == 400
    assert "Name the drive" in response.get_data(as_text=True)
    assert documents() == 0
    data["drive_name"] = "Lincoln High coat drive"
    response = staff_client.post("/inventory/intake/new", data=data)
    assert_redirect_to_document(response, latest())
    assert latest().drive_name == "Lincoln High coat drive"


def test_intake_source_is_required(staff_client, goods):
    data = intake_data(goods, ("SOAP", "1", "new"))
    del data["source"]
    response = staff_client.post("/inventory/intake/new", data=data)
    assert response.status_code == 400
    assert "Say where the goods came from." in response.get_data(as_text=True)
    assert documents() == 0


@pytest.mark.parametrize("site_id", ["", "99999", "abc"])
def test_intake_unknown_site_is_an_error(staff_client, goods, site_id):
    data = intake_data(goods, ("SOAP", "1", "new"), site_id=site_id)
    response = staff_client.post("/inventory/intake/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="site_id-error"' in html
    assert documents() == 0


def test_intake_inactive_item_is_refused(staff_client, goods):
    goods.items["BLANKET"].active = False
    db.session.commit()
    response = staff_client.post(
        "/inventory/intake/new", data=intake_data(goods, ("BLANKET", "1", "new"))
    )
    assert response.status_code == 400
    assert "Blanket is no longer used (inactive)" in response.get_data(as_text=True)
    assert documents() == 0


def test_intake_donor_search_without_javascript(staff_client, goods, create_donor):
    donor = create_donor("Jane Giver")
    create_donor("Someone Else")
    html = staff_client.get("/inventory/intake/new?q=jane").get_data(as_text=True)
    assert "Jane Giver" in html and "Someone Else" not in html
    assert f"/inventory/intake/new?donor_id={donor.id}" in html
    assert "donor" + str(donor.id) + "@example.com" not in html  # names only, no emails
    chosen = staff_client.get(f"/inventory/intake/new?donor_id={donor.id}").get_data(as_text=True)
    assert "Donor: <strong data-donor-name>Jane Giver</strong>" in chosen
    assert f'id="donor_id" name="donor_id" type="hidden" value="{donor.id}"' in chosen
    assert 'checked id="source-0"' in chosen
    assert 'data-lookup-url="/donors/lookup.json"' in chosen
    nobody = staff_client.get("/inventory/intake/new?q=zzz").get_data(as_text=True)
    assert "No donor&#39;s name contains" in nobody or "No donor's name contains" in nobody


# --- distribution -----------------------------------------------------------------------


def recipient_id(name: str) -> int:
    return db.session.scalar(select(Recipient.id).where(Recipient.name == name))


def distribution_data(goods, *lines, recipient: str = "Safe Passage clinic", **fields):
    data = {
        "site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        "recipient_id": str(recipient_id(recipient) or "") if recipient else "",
        **rows(*lines),
    }
    data.update({k: str(v) for k, v in fields.items()})
    return data


def test_distribution(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5, SOCKS_M=3)
    data = distribution_data(goods, ("SOAP", "2"), ("SOCKS-M", "3"), case_code="c-104")
    response = staff_client.post("/inventory/distribution/new", data=data)
    document = latest()
    assert_redirect_to_document(response, document)
    assert document.kind == "distribution"
    assert document.recipient == "Safe Passage clinic"
    assert document.case_code == "C-104"
    assert on_hand(goods.shelter, "SOAP", goods) == 3
    assert on_hand(goods.shelter, "SOCKS-M", goods) == 0
    assert "to Safe Passage clinic" in flashes(staff_client)[0]


def test_distribution_shortage_names_item_site_asked_and_on_hand(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5, SOCKS_M=3)
    before = documents()
    data = distribution_data(goods, ("SOAP", "2"), ("SOCKS-M", "9"), note="For the new family")
    response = staff_client.post("/inventory/distribution/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    # Above the form ...
    assert "Not enough stock. Socks (M) at Harbor House: asked for 9, there are 3." in html
    # ... and next to the short row, not the other.
    assert (
        '<p class="error" id="lines-1-quantity-error">Only 3 on hand at Harbor House '
        "(asked for 9).</p>"
    ) in html
    assert "lines-0-quantity-error" not in html
    # Every input is kept.
    assert f'<option selected value="{recipient_id("Safe Passage clinic")}">' in html
    assert 'value="9"' in html and "For the new family" in html
    assert documents() == before
    assert on_hand(goods.shelter, "SOAP", goods) == 5


@pytest.mark.parametrize(
    ("case_code", "message"),
    [
        ("Maria Lopez", "looks like a name"),
        ("MariaLopez", "looks like a name"),
        ("555-123-4567", "looks like a phone number"),
        ("a@b.org", "looks like a phone number or an email"),
        ("1990-04-12", "looks like a date"),
        ("C-" + "1" * 30, "at most 20 characters"),
    ],
)
def test_distribution_refuses_case_codes_that_identify(
    staff_client, goods, stock_in, case_code, message
):
    stock_in(goods.shelter, SOAP=5)
    before = documents()
    data = distribution_data(goods, ("SOAP", "1"), case_code=case_code)
    response = staff_client.post("/inventory/distribution/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="case_code-error"' in html
    assert message in html
    assert "Never a name, birth date, phone number or email." in html
    assert documents() == before


def test_distribution_case_code_hint_and_recipient_list(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    staff_client.post("/inventory/distribution/new", data=distribution_data(goods, ("SOAP", "1")))
    html = staff_client.get("/inventory/distribution/new").get_data(as_text=True)
    assert "A short code your team chose, such as C-104" in html
    # The recipient is picked from the programs and partner agencies, not typed.
    assert 'id="recipient_id" name="recipient_id"' in html
    assert ">Safe Passage clinic (partner agency)</option>" in html
    assert ">Street outreach (program)</option>" in html


def test_distribution_refuses_contact_details_as_recipient(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    before = documents()
    data = distribution_data(goods, ("SOAP", "1"), recipient_id="Maria 555-123-4567")
    response = staff_client.post("/inventory/distribution/new", data=data)
    assert response.status_code == 400
    assert 'id="recipient_id-error"' in response.get_data(as_text=True)
    assert documents() == before


def test_distribution_needs_a_recipient(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    before = documents()
    data = distribution_data(goods, ("SOAP", "1"), recipient="")
    response = staff_client.post("/inventory/distribution/new", data=data)
    assert response.status_code == 400
    assert "Choose a program or partner agency from the list." in response.get_data(as_text=True)
    assert documents() == before


# --- transfer ------------------------------------------------------------------------------


def transfer_data(goods, *lines, **fields) -> dict[str, str]:
    data = {
        "site_id": str(goods.warehouse.id),
        "to_site_id": str(goods.shelter.id),
        "effective_date": TODAY,
        **rows(*lines),
    }
    data.update({k: str(v) for k, v in fields.items()})
    return data


def test_transfer(staff_client, goods, stock_in):
    stock_in(goods.warehouse, COAT_A_L=4, SOAP=2)
    response = staff_client.post(
        "/inventory/transfer/new", data=transfer_data(goods, ("COAT-A-L", "3"), ("soap", "2"))
    )
    document = latest()
    assert_redirect_to_document(response, document)
    assert document.kind == "transfer" and document.to_site_id == goods.shelter.id
    assert on_hand(goods.warehouse, "COAT-A-L", goods) == 1
    assert on_hand(goods.shelter, "COAT-A-L", goods) == 3
    assert on_hand(goods.warehouse, "SOAP", goods) == 0
    assert on_hand(goods.shelter, "SOAP", goods) == 2


def test_transfer_to_the_same_site_is_an_error(staff_client, goods, stock_in):
    stock_in(goods.warehouse, SOAP=2)
    before = documents()
    data = transfer_data(goods, ("SOAP", "1"), to_site_id=goods.warehouse.id)
    response = staff_client.post("/inventory/transfer/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="to_site_id-error"' in html
    assert documents() == before


def test_transfer_shortage(staff_client, goods, stock_in):
    stock_in(goods.warehouse, SOAP=2)
    before = documents()
    response = staff_client.post(
        "/inventory/transfer/new", data=transfer_data(goods, ("SOAP", "5"))
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Soap at Main warehouse: asked for 5, there are 2" in html
    assert "Only 2 on hand at Main warehouse (asked for 5)." in html
    assert documents() == before


def test_transfer_needs_the_destination(staff_client, goods, stock_in):
    stock_in(goods.warehouse, SOAP=2)
    before = documents()
    data = transfer_data(goods, ("SOAP", "1"), to_site_id="")
    response = staff_client.post("/inventory/transfer/new", data=data)
    assert response.status_code == 400
    assert "Choose the site the goods go to." in response.get_data(as_text=True)
    assert documents() == before


# --- adjustment -----------------------------------------------------------------------------


def adjustment_data(goods, *lines, **fields) -> dict[str, str]:
    data = {"site_id": str(goods.shelter.id), "effective_date": TODAY, **rows(*lines)}
    data.update({k: str(v) for k, v in fields.items()})
    return data


def test_adjustment_damaged_removes(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    response = staff_client.post(
        "/inventory/adjustment/new", data=adjustment_data(goods, ("SOAP", "2"), reason="damaged")
    )
    document = latest()
    assert_redirect_to_document(response, document)
    assert document.reason == "damaged"
    assert on_hand(goods.shelter, "SOAP", goods) == 3
    assert "removed from Harbor House (damaged)" in flashes(staff_client)[0]


def test_adjustment_found_adds(staff_client, goods):
    response = staff_client.post(
        "/inventory/adjustment/new", data=adjustment_data(goods, ("BLANKET", "2"), reason="found")
    )
    assert_redirect_to_document(response, latest())
    assert on_hand(goods.shelter, "BLANKET", goods) == 2


def test_adjustment_other_needs_direction_and_note(staff_client, goods):
    data = adjustment_data(goods, ("BLANKET", "2"), reason="other")
    response = staff_client.post("/inventory/adjustment/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Say whether stock is added or removed." in html
    assert documents() == 0
    data["direction"] = "in"
    response = staff_client.post("/inventory/adjustment/new", data=data)
    assert response.status_code == 400
    assert "Write why (required for other)." in response.get_data(as_text=True)
    assert documents() == 0
    data["note"] = "Miscounted at the last intake"
    response = staff_client.post("/inventory/adjustment/new", data=data)
    assert_redirect_to_document(response, latest())
    assert on_hand(goods.shelter, "BLANKET", goods) == 2


def test_adjustment_form_explains_direction(staff_client, goods):
    html = staff_client.get("/inventory/adjustment/new").get_data(as_text=True)
    assert "Needed only when the reason is Other" in html
    for label in ("Damaged", "Expired", "Lost or missing", "Found", "Other (say why)"):
        assert label in html


def test_adjustment_needs_a_reason(staff_client, goods):
    response = staff_client.post(
        "/inventory/adjustment/new", data=adjustment_data(goods, ("BLANKET", "2"))
    )
    assert response.status_code == 400
    assert "Choose a reason." in response.get_data(as_text=True)
    assert documents() == 0


# --- stock count -----------------------------------------------------------------------------


def count_rows(goods, counts: dict[str, str]) -> dict[str, str]:
    data = {}
    for index, (code, counted) in enumerate(counts.items()):
        data[f"lines-{index}-item_id"] = str(goods.items[code].id)
        data[f"lines-{index}-counted"] = counted
    return data


def count_data(goods, counts: dict[str, str], **fields) -> dict[str, str]:
    data = {"site_id": str(goods.shelter.id), "effective_date": TODAY, **count_rows(goods, counts)}
    data.update(fields)
    return data


def test_count_lists_the_sites_items(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5, SOCKS_M=3)
    start = staff_client.get("/inventory/count/new").get_data(as_text=True)
    assert "Harbor House" in start and "List the items" in start
    html = staff_client.get(f"/inventory/count/new?site_id={goods.shelter.id}").get_data(
        as_text=True
    )
    assert "Soap" in html and "Socks (M)" in html
    assert "Blanket" not in html
    assert html.count("data-line-row") == 2
    blankets = goods.items["BLANKET"].category_id
    with_category = staff_client.get(
        f"/inventory/count/new?site_id={goods.shelter.id}&category_id={blankets}"
    ).get_data(as_text=True)
    assert "Blanket" in with_category
    assert with_category.count("data-line-row") == 3


def test_count_of_an_unknown_site(staff_client, goods):
    response = staff_client.get("/inventory/count/new?site_id=99999")
    assert response.status_code == 400
    assert "Choose an open site" in response.get_data(as_text=True)


def test_count_review_then_confirm(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5, SOCKS_M=3)
    before = documents()
    data = count_data(goods, {"SOAP": "4", "SOCKS-M": "", "TOOTHBRUSH": "0"}, review="y")
    review = staff_client.post("/inventory/count/new", data=data)
    html = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "Review the count at Harbor House" in html
    assert re.search(
        r'<tr class="changed">\s*<th scope="row">Soap</th>\s*<td class="num">5</td>\s*'
        r'<td class="num">4</td>\s*<td class="num"><strong>-1</strong>',
        html,
    )
    assert "Socks (M)" not in html.split("<table")[1].split("</table>")[0]
    assert documents() == before  # a review writes nothing
    hidden = hidden_inputs(html)
    assert hidden["lines-0-expected"] == "5"
    assert hidden["lines-1-expected"] == ""  # not counted
    assert hidden["lines-0-counted"] == "4"
    response = staff_client.post("/inventory/count/new", data={**hidden, "confirm": "y"})
    document = latest()
    assert_redirect_to_document(response, document)
    assert document.kind == "count"
    assert on_hand(goods.shelter, "SOAP", goods) == 4
    assert on_hand(goods.shelter, "SOCKS-M", goods) == 3
    counted = {e.item.code: (e.quantity, e.counted_quantity) for e in document.entries}
    assert counted == {"SOAP": (-1, 4), "TOOTHBRUSH": (0, 0)}
    assert "2 items counted, 1 changed" in flashes(staff_client)[0]


def test_count_refused_when_stock_moved_meanwhile(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    review = staff_client.post(
        "/inventory/count/new", data=count_data(goods, {"SOAP": "4"}, review="y")
    )
    hidden = hidden_inputs(review.get_data(as_text=True))
    assert hidden["lines-0-expected"] == "5"
    stock_in(goods.shelter, SOAP=2)  # someone recorded an intake meanwhile
    before = documents()
    again = staff_client.post("/inventory/count/new", data={**hidden, "confirm": "y"})
    html = again.get_data(as_text=True)
    assert again.status_code == 400
    assert "Stock changed while you were counting (Soap)" in html
    assert "Review the count at Harbor House" in html
    assert documents() == before
    assert on_hand(goods.shelter, "SOAP", goods) == 7
    fresh = hidden_inputs(html)
    assert fresh["lines-0-expected"] == "7"
    response = staff_client.post("/inventory/count/new", data={**fresh, "confirm": "y"})
    assert_redirect_to_document(response, latest())
    assert on_hand(goods.shelter, "SOAP", goods) == 4


def test_count_confirm_without_expected_is_reviewed_again(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    before = documents()
    response = staff_client.post(
        "/inventory/count/new", data=count_data(goods, {"SOAP": "4"}, confirm="y")
    )
    assert response.status_code == 400
    assert "Stock changed while you were counting" in response.get_data(as_text=True)
    assert documents() == before


def test_count_of_an_inactive_item_is_an_error(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    goods.items["SOAP"].active = False
    db.session.commit()
    before = documents()
    for action in ("review", "confirm"):
        response = staff_client.post(
            "/inventory/count/new", data=count_data(goods, {"SOAP": "3"}, **{action: "y"})
        )
        assert response.status_code == 400
        assert "Soap is inactive and cannot be counted." in response.get_data(as_text=True)
    assert documents() == before
    assert on_hand(goods.shelter, "SOAP", goods) == 5
    # And it is not offered on the count sheet.
    sheet = staff_client.get(f"/inventory/count/new?site_id={goods.shelter.id}")
    assert "Harbor House holds no active items yet." in sheet.get_data(as_text=True)


@pytest.mark.parametrize(
    ("counted", "message"),
    [
        ("-1", "A count cannot be negative"),
        ("2.5", "Enter a whole number"),
        ("many", "Enter the quantity as a whole number"),
    ],
)
def test_count_bad_values_are_errors_on_their_row(staff_client, goods, stock_in, counted, message):
    stock_in(goods.shelter, SOAP=5, SOCKS_M=3)
    before = documents()
    data = count_data(goods, {"SOAP": "4", "SOCKS-M": counted}, review="y")
    response = staff_client.post("/inventory/count/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<p class="error" id="lines-1-counted-error">{message}' in html
    assert f'value="{counted}"' in html and 'value="4"' in html
    assert documents() == before


def test_count_with_nothing_counted(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    response = staff_client.post(
        "/inventory/count/new", data=count_data(goods, {"SOAP": ""}, review="y")
    )
    assert response.status_code == 400
    assert "Enter at least one counted quantity" in response.get_data(as_text=True)


def test_count_change_the_counts_keeps_them(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5, SOCKS_M=3)
    review = staff_client.post(
        "/inventory/count/new", data=count_data(goods, {"SOAP": "4", "SOCKS-M": ""}, review="y")
    )
    hidden = hidden_inputs(review.get_data(as_text=True))
    response = staff_client.post("/inventory/count/new", data={**hidden, "edit": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter what you counted" in html
    assert 'name="lines-0-counted" type="text" value="4"' in html
    assert "Socks (M)" in html


def test_count_empty_post_asks_for_a_site(staff_client, goods):
    response = staff_client.post("/inventory/count/new", data={})
    assert response.status_code == 400
    assert "Choose an open site" in response.get_data(as_text=True)


# --- kits ---------------------------------------------------------------------------------------


def kit_data(goods, quantity: str, action: str = "assemble", **fields) -> dict[str, str]:
    data = {
        "kit_item_id": str(goods.items["KIT-HYG"].id),
        "site_id": str(goods.shelter.id),
        "quantity": quantity,
        "action": action,
        "effective_date": TODAY,
    }
    data.update(fields)
    return data


@pytest.fixture
def components(goods, stock_in):
    stock_in(goods.shelter, TOOTHBRUSH=3, TOOTHPASTE=3, SOAP=3, SHAMPOO=3, SOCKS_M=4)


def test_kits_page_shows_components_and_what_can_be_made(staff_client, goods, components):
    html = staff_client.get("/inventory/kits").get_data(as_text=True)
    assert "1 x Toothbrush, 1 x Toothpaste, 1 x Soap, 1 x Shampoo, 1 x Socks (M)" in html
    # One row per site: kits on hand, then how many the components would make.
    assert f'{goods.shelter.name}</th><td class="num">0</td><td class="num">3</td>' in html
    assert '</th><td class="num">0</td><td class="num">0</td>' in html  # at the other sites


def test_kit_assembly_and_disassembly(staff_client, goods, components):
    response = staff_client.post("/inventory/kits", data=kit_data(goods, "2"))
    document = latest()
    assert_redirect_to_document(response, document)
    assert document.kind == "kit_assembly" and document.kit_quantity == 2
    assert on_hand(goods.shelter, "KIT-HYG", goods) == 2
    assert on_hand(goods.shelter, "TOOTHBRUSH", goods) == 1
    assert on_hand(goods.shelter, "SOCKS-M", goods) == 2
    assert "assembled 2 x Hygiene kit at Harbor House" in flashes(staff_client)[0]

    response = staff_client.post("/inventory/kits", data=kit_data(goods, "1", "disassemble"))
    document = latest()
    assert_redirect_to_document(response, document)
    assert document.kind == "kit_disassembly"
    assert on_hand(goods.shelter, "KIT-HYG", goods) == 1
    assert on_hand(goods.shelter, "TOOTHBRUSH", goods) == 2


def test_kit_assembly_shortage(staff_client, goods, components):
    before = documents()
    response = staff_client.post("/inventory/kits", data=kit_data(goods, "4", note="For intake"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not enough stock." in html
    assert "Toothbrush at Harbor House: asked for 4, there are 3" in html
    assert 'id="quantity-error"' in html
    assert 'value="4"' in html and "For intake" in html
    assert documents() == before


def test_kit_disassembly_without_kits(staff_client, goods, components):
    before = documents()
    response = staff_client.post("/inventory/kits", data=kit_data(goods, "1", "disassemble"))
    assert response.status_code == 400
    assert "Hygiene kit at Harbor House: asked for 1, there are 0" in response.get_data(
        as_text=True
    )
    assert documents() == before


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "x", ""])
def test_kit_bad_quantity(staff_client, goods, components, quantity):
    before = documents()
    response = staff_client.post("/inventory/kits", data=kit_data(goods, quantity))
    assert response.status_code == 400
    assert 'id="quantity-error"' in response.get_data(as_text=True)
    assert documents() == before


def test_kit_must_be_a_kit(staff_client, goods, components):
    before = documents()
    data = kit_data(goods, "1", kit_item_id=str(goods.items["SOAP"].id))
    response = staff_client.post("/inventory/kits", data=data)
    assert response.status_code == 400
    assert "Choose a kit." in response.get_data(as_text=True)
    assert documents() == before


# --- the ledger stays consistent ------------------------------------------------------------------


def test_balances_match_the_ledger_after_every_form(staff_client, goods, components):
    from donations.services import inventory

    staff_client.post("/inventory/kits", data=kit_data(goods, "2"))
    staff_client.post(
        "/inventory/distribution/new", data=distribution_data(goods, ("KIT-HYG", "1"))
    )
    staff_client.post(
        "/inventory/transfer/new",
        data=transfer_data(
            goods, ("SOAP", "1"), site_id=goods.shelter.id, to_site_id=goods.warehouse.id
        ),
    )
    assert db.session.scalar(select(func.count()).select_from(StockEntry)) > 0
    assert inventory.verify_balances() == []
    assert db.session.get(Item, goods.items["KIT-HYG"].id).is_kit
