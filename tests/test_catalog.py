"""The goods catalog: items, categories, kits, QR labels, sites and par levels."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import func, select

from donations.blueprints import catalog as catalog_views
from donations.extensions import db
from donations.models import (
    ORGANIZATION_ROLES,
    AuditEvent,
    Item,
    ItemCategory,
    KitComponent,
    Role,
    Site,
    StockLevel,
)
from donations.services import catalog

SVG_NS = "{http://www.w3.org/2000/svg}"


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def text_of(response) -> str:
    """The page as text, entities decoded, for asserting on messages."""
    return html.unescape(response.get_data(as_text=True))


def codes_listed(response) -> set[str]:
    """The item codes in the catalog table."""
    return set(re.findall(r"<code>([A-Z0-9-]+)</code>", response.get_data(as_text=True)))


def item_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Item))


def item_form(goods, **overrides: Any) -> dict[str, Any]:
    data = {
        "category_id": str(goods.items["SOAP"].category_id),
        "name": "Conditioner",
        "size": "",
        "unit": "bottle",
        "code": "conditioner",
        "fair_value": "4.50",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def kit_rows(*rows: tuple[Any, Any]) -> dict[str, str]:
    data = {}
    for n, (item, quantity) in enumerate(rows):
        data[f"rows-{n}-item"] = str(item)
        data[f"rows-{n}-quantity"] = str(quantity)
    return data


def components_of(kit: Item) -> dict[str, int]:
    rows = db.session.execute(
        select(Item.code, KitComponent.quantity)
        .join(KitComponent, KitComponent.component_id == Item.id)
        .where(KitComponent.kit_id == kit.id)
    )
    return dict(rows.all())


# --- the catalog list -------------------------------------------------------------


def test_every_role_sees_the_catalog_with_codes_values_and_links(login, goods):
    soap = goods.items["SOAP"]
    soap.fair_value_cents = 150
    db.session.commit()
    for role in ORGANIZATION_ROLES:  # a partner login sees no catalog or site
        response = login(role).get("/inventory/catalog")
        assert response.status_code == 200
        page = text_of(response)
        assert "SOCKS-M" in page and "KIT-HYG" in page
        assert "$1.50" in page
        assert f"/inventory/items/{soap.id}" in page  # the item's stock page
        # the goods subnav links to the catalog (current) and the sites
        assert '<a href="/inventory/catalog" aria-current="page">Catalog</a>' in page
        assert '<a href="/inventory/sites">Sites</a>' in page
        can_edit = f"/inventory/catalog/{soap.id}/edit" in page
        assert can_edit == (role in (Role.ADMIN, Role.STAFF))


def test_catalog_search_by_name_or_code_and_category_filter(treasurer_client, goods):
    codes = codes_listed(treasurer_client.get("/inventory/catalog?q=socks-"))
    assert codes == {"SOCKS-S", "SOCKS-M", "SOCKS-L"}
    codes = codes_listed(treasurer_client.get("/inventory/catalog?q=toothbrush"))
    assert codes == {"TOOTHBRUSH"}
    coats = goods.items["COAT-A-M"].category_id
    codes = codes_listed(treasurer_client.get(f"/inventory/catalog?category={coats}"))
    assert "COAT-C-XL" in codes and "COAT-A-XS" in codes and "SOCKS-M" not in codes
    page = text_of(treasurer_client.get("/inventory/catalog?q=no-such-thing"))
    assert "No item matches" in page
    # a search with LIKE wildcards matches them literally
    assert codes_listed(treasurer_client.get("/inventory/catalog?q=%25")) == set()


def test_catalog_shows_inactive_items_only_when_asked(staff_client, goods):
    goods.items["WIPES"].active = False
    db.session.commit()
    assert "WIPES" in codes_listed(staff_client.get("/inventory/catalog"))
    assert "WIPES" not in codes_listed(staff_client.get("/inventory/catalog?show=active"))
    codes = codes_listed(staff_client.get("/inventory/catalog?show=inactive"))
    assert codes == {"WIPES"}


def test_catalog_is_paged(staff_client, goods, monkeypatch):
    monkeypatch.setattr(catalog_views, "ITEMS_PER_PAGE", 10)
    first = text_of(staff_client.get("/inventory/catalog"))
    assert "Page 1 of" in first and "Next" in first
    last = text_of(staff_client.get("/inventory/catalog?page=99"))
    assert "There is no page 99" in last


# --- items --------------------------------------------------------------------


def test_staff_adds_an_item(staff_client, goods):
    response = staff_client.post("/inventory/catalog/new", data=item_form(goods))
    assert response.status_code == 302
    item = db.session.scalar(select(Item).where(Item.code == "CONDITIONER"))
    assert item.name == "Conditioner" and item.unit == "bottle"
    assert item.fair_value_cents == 450
    assert item.active and not item.is_kit and not item.needs_pinned
    [event] = audit_events("catalog.item_created")
    assert event.actor_id == staff_client.user.id and "CONDITIONER" in event.summary


def test_new_item_page_offers_sizes_and_explains_value_and_code(staff_client, goods):
    page = text_of(staff_client.get("/inventory/catalog/new"))
    for size in ("XS", "S", "M", "L", "XL", "XXL"):
        assert f'<option value="{size}">' in page
    assert "never printed for donors" in page
    assert "label" in page.lower()


def test_new_kit_goes_on_to_its_components(staff_client, goods):
    data = item_form(goods, name="Baby kit", code="KIT-BABY", unit="kit", is_kit="y")
    response = staff_client.post("/inventory/catalog/new", data=data)
    kit = db.session.scalar(select(Item).where(Item.code == "KIT-BABY"))
    assert kit.is_kit
    assert response.headers["Location"].endswith(f"/inventory/catalog/{kit.id}/components")


def test_duplicate_code_is_refused_next_to_the_code(staff_client, goods):
    before = item_count()
    response = staff_client.post("/inventory/catalog/new", data=item_form(goods, code="soap"))
    assert response.status_code == 400
    page = text_of(response)
    assert "Another item already has the code SOAP." in page
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert 'value="Conditioner"' in page  # the input is kept
    assert item_count() == before
    assert audit_events("catalog.item_created") == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("COAT/A", "Use capital letters, digits and dashes only"),
        ("-SOAP", "Use capital letters, digits and dashes only"),
        ("", "Enter a short code for the label"),
        ("X" * 31, "at most 30 characters"),
    ],
)
def test_bad_code_is_refused(staff_client, goods, code, message):
    before = item_count()
    response = staff_client.post("/inventory/catalog/new", data=item_form(goods, code=code))
    assert response.status_code == 400
    assert message in text_of(response)
    assert item_count() == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fair_value": "abc"}, "Enter the amount as a number"),
        ({"fair_value": "-3"}, "greater than zero"),
        ({"fair_value": "1.234"}, "at most 2 decimal places"),
        ({"category_id": ""}, "Choose a category."),
        ({"category_id": "999999"}, "Not a valid choice"),
        ({"name": ""}, "Enter the item's name."),
    ],
)
def test_bad_item_fields_are_refused(staff_client, goods, fields, message):
    before = item_count()
    response = staff_client.post("/inventory/catalog/new", data=item_form(goods, **fields))
    assert response.status_code == 400
    assert message in text_of(response)
    assert item_count() == before


def test_blank_fair_value_is_none(staff_client, goods):
    staff_client.post("/inventory/catalog/new", data=item_form(goods, fair_value=""))
    item = db.session.scalar(select(Item).where(Item.code == "CONDITIONER"))
    assert item.fair_value_cents is None


def test_edit_item(staff_client, goods):
    socks = goods.items["SOCKS-M"]
    page = text_of(staff_client.get(f"/inventory/catalog/{socks.id}/edit"))
    assert 'value="SOCKS-M"' in page
    data = item_form(
        goods,
        category_id=str(socks.category_id),
        name="Wool socks",
        size="M",
        unit="pair",
        code="wool-socks-m",
        fair_value="2",
    )
    response = staff_client.post(f"/inventory/catalog/{socks.id}/edit", data=data)
    assert response.status_code == 302
    socks = db.session.get(Item, socks.id)
    assert (socks.name, socks.code, socks.fair_value_cents) == ("Wool socks", "WOOL-SOCKS-M", 200)
    [event] = audit_events("catalog.item_updated")
    assert "SOCKS-M -> WOOL-SOCKS-M" in event.summary


def test_edit_refuses_another_items_code_and_keeps_the_item(staff_client, goods):
    socks = goods.items["SOCKS-M"]
    data = item_form(goods, category_id=str(socks.category_id), name="Socks", code="SOCKS-L")
    response = staff_client.post(f"/inventory/catalog/{socks.id}/edit", data=data)
    assert response.status_code == 400
    assert "Another item already has the code SOCKS-L." in text_of(response)
    assert db.session.get(Item, socks.id).code == "SOCKS-M"
    assert audit_events("catalog.item_updated") == []


def test_edit_unknown_item_is_404(staff_client, goods):
    assert staff_client.get("/inventory/catalog/999999/edit").status_code == 404


def test_only_admins_see_and_set_pin_and_hide(login, goods):
    admin, staff = login(Role.ADMIN), login(Role.STAFF)
    soap = goods.items["SOAP"]
    assert "needs_pinned" in admin.get(f"/inventory/catalog/{soap.id}/edit").get_data(True)
    assert "needs_pinned" not in staff.get(f"/inventory/catalog/{soap.id}/edit").get_data(True)
    assert "needs_hidden" not in staff.get("/inventory/catalog/new").get_data(True)

    data = item_form(goods, name="Soap", unit="bar", code="SOAP", needs_pinned="y")
    assert admin.post(f"/inventory/catalog/{soap.id}/edit", data=data).status_code == 302
    assert db.session.get(Item, soap.id).needs_pinned is True

    # Staff send the fields anyway: ignored, and saving keeps the admin's choice.
    data = item_form(goods, name="Soap bar", unit="bar", code="SOAP", needs_hidden="y")
    assert staff.post(f"/inventory/catalog/{soap.id}/edit", data=data).status_code == 302
    soap = db.session.get(Item, soap.id)
    assert soap.name == "Soap bar" and soap.needs_pinned is True and soap.needs_hidden is False

    staff.post("/inventory/catalog/new", data=item_form(goods, needs_pinned="y", needs_hidden=""))
    new = db.session.scalar(select(Item).where(Item.code == "CONDITIONER"))
    assert new.needs_pinned is False and new.needs_hidden is False


def test_pinned_and_hidden_together_is_refused(admin_client, goods):
    soap = goods.items["SOAP"]
    data = item_form(goods, name="Soap", code="SOAP", needs_pinned="y", needs_hidden="y")
    response = admin_client.post(f"/inventory/catalog/{soap.id}/edit", data=data)
    assert response.status_code == 400
    assert "both pinned to and hidden" in text_of(response)
    assert 'id="needs_hidden-error"' in response.get_data(as_text=True)
    assert db.session.get(Item, soap.id).needs_pinned is False


def test_a_kit_with_components_cannot_become_a_plain_item(staff_client, goods):
    kit = goods.items["KIT-HYG"]
    data = item_form(goods, category_id=str(kit.category_id), name="Hygiene kit", code="KIT-HYG")
    response = staff_client.post(f"/inventory/catalog/{kit.id}/edit", data=data)
    assert response.status_code == 400
    assert "Remove the kit's components" in text_of(response)
    assert db.session.get(Item, kit.id).is_kit


# --- categories -----------------------------------------------------------------


def test_add_a_category(staff_client, goods):
    response = staff_client.post(
        "/inventory/catalog/categories/new", data={"name": "  School   supplies ", "sort_order": 5}
    )
    assert response.status_code == 302
    category = db.session.scalar(select(ItemCategory).where(ItemCategory.name == "School supplies"))
    assert category.sort_order == 5
    assert response.headers["Location"].endswith(f"/inventory/catalog?category={category.id}")
    [event] = audit_events("catalog.category_created")
    assert event.summary == "School supplies"
    # The new category is offered on the item form.
    assert "School supplies" in text_of(staff_client.get("/inventory/catalog/new"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "coats"}, "There is already a category called coats."),
        ({"name": ""}, "Enter the category's name."),
        ({"name": "Books", "sort_order": "-1"}, "Enter a whole number, 0 or more."),
    ],
)
def test_bad_category_is_refused(staff_client, goods, data, message):
    before = db.session.scalar(select(func.count()).select_from(ItemCategory))
    response = staff_client.post("/inventory/catalog/categories/new", data=data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(ItemCategory)) == before


# --- kit components ---------------------------------------------------------------


def test_kit_components_page_lists_the_components(staff_client, goods):
    kit = goods.items["KIT-HYG"]
    page = staff_client.get(f"/inventory/catalog/{kit.id}/components").get_data(as_text=True)
    assert f'<option selected value="{goods.items["TOOTHBRUSH"].id}">' in page
    # kits and the kit itself are not offered as components
    assert f'<option value="{kit.id}"' not in page
    assert f'<option value="{goods.items["SOAP"].id}"' in page


def test_set_kit_components_ignoring_blank_rows(staff_client, goods):
    kit, items = goods.items["KIT-HYG"], goods.items
    data = kit_rows((items["SOAP"].id, 2), ("", ""), (items["PADS"].id, 1), ("", ""))
    response = staff_client.post(f"/inventory/catalog/{kit.id}/components", data=data)
    assert response.status_code == 302
    assert components_of(kit) == {"SOAP": 2, "PADS": 1}
    [event] = audit_events("catalog.kit_components")
    assert "2 x Soap" in event.summary


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("self", 1)], "A kit cannot contain itself."),
        ([("other_kit", 1)], "is itself a kit; kits hold plain items"),
        ([("SOAP", 0)], "Each component needs a whole number from 1 to 1000."),
        ([("SOAP", 1001)], "Each component needs a whole number from 1 to 1000."),
        ([("SOAP", "1.5")], "Enter a whole number, such as 1."),
        ([("SOAP", "-2")], "Enter a whole number, such as 1."),
        ([("SOAP", "")], "Enter how many one kit holds."),
        ([("", 3)], "Choose the item, or clear the quantity."),
        ([("SOAP", 1), ("SOAP", 2)], "This item is listed twice"),
        ([(999999, 1)], "One of the components is not in the catalog."),
        ([], "A kit needs at least one component."),
    ],
)
def test_bad_kit_components_are_refused(staff_client, goods, rows, message):
    kit = goods.items["KIT-HYG"]
    other = catalog.create_item(
        actor=None,
        category_id=kit.category_id,
        name="Winter kit",
        unit="kit",
        code="KIT-WINTER",
        is_kit=True,
    )
    db.session.commit()
    ids = {"self": kit.id, "other_kit": other.id, "SOAP": goods.items["SOAP"].id}
    before = components_of(kit)
    data = kit_rows(*((ids.get(item, item), qty) for item, qty in rows))
    response = staff_client.post(f"/inventory/catalog/{kit.id}/components", data=data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert components_of(kit) == before
    assert audit_events("catalog.kit_components") == []


def test_components_of_a_plain_item_are_refused(staff_client, goods):
    soap = goods.items["SOAP"]
    page = text_of(staff_client.get(f"/inventory/catalog/{soap.id}/components"))
    assert "Soap is not a kit" in page
    data = kit_rows((goods.items["PADS"].id, 1))
    response = staff_client.post(f"/inventory/catalog/{soap.id}/components", data=data)
    assert response.status_code == 400
    assert components_of(soap) == {}


def test_more_rows_adds_rows_without_saving(staff_client, goods):
    kit = goods.items["KIT-HYG"]
    before = components_of(kit)
    data = {**kit_rows((goods.items["SOAP"].id, 9)), "more": "1"}
    response = staff_client.post(f"/inventory/catalog/{kit.id}/components", data=data)
    assert response.status_code == 200
    assert 'name="rows-3-item"' in response.get_data(as_text=True)
    assert components_of(kit) == before


# --- QR labels --------------------------------------------------------------------


def test_label_svg_is_a_qr_code_of_the_item_code(treasurer_client, goods):
    socks = goods.items["SOCKS-M"]
    response = treasurer_client.get(f"/inventory/catalog/{socks.id}/label.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)  # noqa: S314 (our own response)
    assert root.tag == f"{SVG_NS}svg"
    paths = root.findall(f".//{SVG_NS}path")
    assert paths and all(re.match(r"^M\d", p.get("d")) for p in paths)
    assert response.get_data(as_text=True) == catalog.qr_svg("SOCKS-M")
    again = treasurer_client.get(
        f"/inventory/catalog/{socks.id}/label.svg",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_label_svg_of_unknown_item_is_404(staff_client, goods):
    assert staff_client.get("/inventory/catalog/999999/label.svg").status_code == 404


def test_label_sheet_lists_active_items_with_qr_images(treasurer_client, goods):
    goods.items["WIPES"].active = False
    db.session.commit()
    response = treasurer_client.get("/inventory/catalog/labels")
    assert response.status_code == 200
    page = text_of(response)
    assert 'class="label-code">SOCKS-M<' in page and 'class="label-code">SOAP<' in page
    assert "WIPES" not in page
    socks = goods.items["SOCKS-M"]
    assert f'src="/inventory/catalog/{socks.id}/label.svg' in page


def test_label_sheet_for_a_category_one_item_and_copies(staff_client, goods):
    socks = goods.items["SOCKS-M"]
    page = text_of(staff_client.get(f"/inventory/catalog/labels?category={socks.category_id}"))
    assert "SOCKS-S" in page and "SOCKS-L" in page and "SOAP" not in page
    page = text_of(staff_client.get(f"/inventory/catalog/labels?item={socks.id}&copies=3"))
    assert page.count('class="label-code">SOCKS-M<') == 3
    assert "SOCKS-L" not in page
    page = text_of(staff_client.get(f"/inventory/catalog/labels?item={socks.id}&copies=9999"))
    assert page.count('class="label-code">') == catalog_views.LABEL_COPIES_MAX


def test_label_sheet_hides_the_menus_when_printed(app):
    with app.open_resource("static/site.css") as css:
        rules = css.read().decode()
    assert "@media print" in rules
    assert re.search(r"body:has\(\.label-sheet\) \.site-header", rules)


# --- sites ------------------------------------------------------------------------


def site_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Eastside shelter",
        "kind": "shelter",
        "is_confidential": "y",
        "address_line1": "77 Quiet Street",
        "city": "Springfield",
        "contact_email": "East@Harborlight.test",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_every_role_sees_sites_with_confidential_addresses_marked(login, goods):
    for role in ORGANIZATION_ROLES:  # a partner login sees no catalog or site
        page = text_of(login(role).get("/inventory/sites"))
        assert "Harbor House" in page and "12 Hidden Lane" in page
        assert "Confidential — never shown to donors" in page
        assert "house@harborlight.test" in page
        assert ("/inventory/sites/new" in page) == (role == Role.ADMIN)
        assert (f"/inventory/sites/{goods.shelter.id}/par" in page) == (role != Role.TREASURER)


def test_sites_are_not_public(client, goods):
    response = client.get("/inventory/sites")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_adds_a_site(admin_client, goods):
    page = text_of(admin_client.get("/inventory/sites/new"))
    assert "never appears on a public page, a receipt or a donor export" in page
    assert "low-stock email" in page
    response = admin_client.post("/inventory/sites/new", data=site_form())
    assert response.status_code == 302
    site = db.session.scalar(select(Site).where(Site.name == "Eastside shelter"))
    assert site.is_confidential and site.kind == "shelter" and site.active
    assert site.contact_email == "east@harborlight.test"
    [event] = [e for e in audit_events("site.created") if e.actor_id == admin_client.user.id]
    assert event.summary == "Eastside shelter (shelter, confidential)"


def test_staff_cannot_add_or_edit_sites(staff_client, treasurer_client, goods):
    for client in (staff_client, treasurer_client):
        assert client.get("/inventory/sites/new").status_code == 403
        assert client.post("/inventory/sites/new", data=site_form()).status_code == 403
        edit = f"/inventory/sites/{goods.warehouse.id}/edit"
        assert client.get(edit).status_code == 403
        assert client.post(edit, data=site_form(name="Renamed")).status_code == 403
    assert (
        db.session.scalar(select(Site).where(Site.name.in_(["Eastside shelter", "Renamed"])))
        is None
    )
    assert db.session.get(Site, goods.warehouse.id).name == "Main warehouse"


def test_a_confidential_dropoff_is_refused_next_to_the_checkbox(admin_client, goods):
    response = admin_client.post("/inventory/sites/new", data=site_form(kind="dropoff"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="is_confidential-error"' in page
    assert "A public drop-off point cannot be confidential" in text_of(response)
    assert db.session.scalar(select(Site).where(Site.name == "Eastside shelter")) is None

    edit = f"/inventory/sites/{goods.dropoff.id}/edit"
    data = site_form(name="Downtown drop-off", kind="dropoff")
    response = admin_client.post(edit, data=data)
    assert response.status_code == 400
    assert db.session.get(Site, goods.dropoff.id).is_confidential is False


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter the site's name."),
        ({"name": "main WAREHOUSE"}, "There is already a site called main WAREHOUSE."),
        ({"kind": ""}, "Choose what kind of site it is."),
        ({"kind": "castle"}, "Not a valid choice"),
        ({"contact_email": "not an email"}, "Enter an email address"),
        ({"postal_code": "9" * 21}, "at most 20 characters"),
    ],
)
def test_bad_site_is_refused(admin_client, goods, fields, message):
    response = admin_client.post("/inventory/sites/new", data=site_form(**fields))
    assert response.status_code == 400
    assert message in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Site)) == 3


def test_admin_edits_a_site(admin_client, goods):
    edit = f"/inventory/sites/{goods.warehouse.id}/edit"
    assert 'value="400 Dock Rd"' in text_of(admin_client.get(edit))
    data = site_form(
        name="North warehouse",
        kind="warehouse",
        is_confidential=None,
        address_line1="1 Pier Way",
        contact_email="",
        active=None,
    )
    response = admin_client.post(edit, data=data)
    assert response.status_code == 302
    site = db.session.get(Site, goods.warehouse.id)
    assert (site.name, site.address_line1, site.active) == ("North warehouse", "1 Pier Way", False)
    [event] = audit_events("site.updated")
    assert "Main warehouse -> North warehouse" in event.summary


# --- par levels -------------------------------------------------------------------


def par_of(site: Site, item: Item) -> int | None:
    level = db.session.get(StockLevel, (site.id, item.id))
    return level.par_level if level else None


def test_par_levels_page_shows_on_hand_and_filters_by_category(staff_client, goods, stock_in):
    stock_in(goods.warehouse, SOCKS_M=7)
    socks = goods.items["SOCKS-M"]
    url = f"/inventory/sites/{goods.warehouse.id}/par"
    page = text_of(staff_client.get(url))
    assert "Par levels at Main warehouse" in page
    assert f'name="par-{socks.id}"' in page and f'name="par-{goods.items["SOAP"].id}"' in page
    assert re.search(r'class="num">7\b', page)
    page = text_of(staff_client.get(f"{url}?category={socks.category_id}"))
    assert f'name="par-{socks.id}"' in page and f'name="par-{goods.items["SOAP"].id}"' not in page


def test_save_par_levels(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    soap, socks, pads = goods.items["SOAP"], goods.items["SOCKS-M"], goods.items["PADS"]
    url = f"/inventory/sites/{goods.shelter.id}/par"
    data = {f"par-{soap.id}": "10", f"par-{socks.id}": " 4 ", f"par-{pads.id}": ""}
    response = staff_client.post(url, data=data)
    assert response.status_code == 302
    assert (par_of(goods.shelter, soap), par_of(goods.shelter, socks)) == (10, 4)
    assert par_of(goods.shelter, pads) == 0
    [event] = audit_events("stock.par_levels")
    assert event.object_id == str(goods.shelter.id)
    page = text_of(staff_client.get(url))
    assert "under par" in page  # soap: 2 on hand, par 10


@pytest.mark.parametrize("bad", ["-1", "2.5", "ten", "1e3", "10000001"])
def test_bad_par_level_is_refused_and_nothing_saved(staff_client, goods, bad):
    soap, socks = goods.items["SOAP"], goods.items["SOCKS-M"]
    url = f"/inventory/sites/{goods.shelter.id}/par"
    response = staff_client.post(url, data={f"par-{soap.id}": "10", f"par-{socks.id}": bad})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="par-{socks.id}-error"' in page
    assert f'value="{bad}"' in html.unescape(page)  # the input is kept
    assert "Nothing was saved" in page
    assert par_of(goods.shelter, soap) in (None, 0)
    assert audit_events("stock.par_levels") == []


def test_par_level_for_an_unknown_item_is_refused(staff_client, goods):
    url = f"/inventory/sites/{goods.shelter.id}/par"
    response = staff_client.post(url, data={"par-999999": "3"})
    assert response.status_code == 400
    assert "One of the items is not in the catalog." in text_of(response)


def test_par_levels_for_unknown_site_is_404_and_closed_to_treasurers(
    staff_client, treasurer_client, goods
):
    assert staff_client.get("/inventory/sites/999999/par").status_code == 404
    assert treasurer_client.get(f"/inventory/sites/{goods.shelter.id}/par").status_code == 403
