"""The coalition's needs board: each member's needs, read as that member; never a site,
a quantity or an archived member."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from donations.extensions import db
from donations.models import Item, utcnow
from donations.services import catalog, inventory, organizations
from donations.tenancy import use_organization


def _short(site_id: int, code: str, on_hand: int, par: int) -> None:
    item_id = db.session.scalar(select(Item.id).where(Item.code == code))
    if on_hand:
        inventory.record_intake(
            actor=None,
            site_id=site_id,
            effective_date=date.today(),
            source="anonymous",
            lines=[inventory.Line(item_id, on_hand, "new")],
        )
    inventory.set_par_levels(actor=None, site_id=site_id, levels={item_id: par})


def test_the_board_lists_each_members_needs_and_nothing_else(organization, goods, client):
    _short(goods.shelter.id, "SOAP", 1, 10)  # urgent at the first member
    _short(goods.warehouse.id, "BLANKET", 3, 4)  # needed
    north = organizations.create_organization(
        actor=None, slug="north", legal_name="North Star Refuge"
    )
    closed = organizations.create_organization(
        actor=None, slug="closed", legal_name="Closed Shelter"
    )
    db.session.commit()
    for member in (north, closed):
        with use_organization(member.id):
            catalog.seed_catalog()
            site = catalog.create_site(
                actor=None,
                name="North safe house",
                kind="shelter",
                is_confidential=True,
                address_line1="9 Secret Way",
            )
            db.session.flush()
            _short(site.id, "COAT-A-M", 3, 4)
            db.session.commit()
    closed.archived_at = utcnow()
    db.session.commit()

    response = client.get("/coalition/needs")
    assert response.status_code == 200
    assert response.cache_control.public
    page = response.get_data(as_text=True)
    home_part, north_part = page.split("North Star Refuge", 1)
    assert "Harbor Light Shelter, Inc." in home_part
    assert "Soap" in home_part and "Urgently needed" in home_part
    assert "Blanket" in home_part
    assert "Coat, adult" in north_part and "Soap" not in north_part
    assert 'href="http://donations.test/needs/pledge"' in home_part
    assert 'href="http://donations.test/o/north/needs"' in north_part
    assert "/o/north/needs/pledge" not in page  # no drop-off point open: no pledge link
    # Never a site, an address, a quantity, or an archived member.
    for secret in ("Harbor House", "Hidden Lane", "North safe house", "9 Secret Way"):
        assert secret not in page
    assert "Closed Shelter" not in page
    assert ">3<" not in page and ">10<" not in page and ">4<" not in page


def test_with_nothing_needed_the_board_says_so(organization, client):
    page = client.get("/coalition/needs").get_data(as_text=True)
    assert "shelves are full" in page
