"""The stock page reads a fixed number of queries whatever it shows, and its cells hold
each site's balance and par."""

from __future__ import annotations

import re

from conftest import engine_statements
from donations.extensions import db
from donations.models import Role
from donations.services import catalog, inventory


def statements_of(client, path: str) -> tuple[list[str], str]:
    with engine_statements() as seen:
        response = client.get(path)
    assert response.status_code == 200
    return seen, response.get_data(as_text=True)


def test_stock_page_queries_do_not_grow_with_items_or_sites(goods, stock_in, login):
    client = login(Role.STAFF)
    stock_in(goods.shelter, SOAP=4)
    few, _ = statements_of(client, "/inventory/")
    codes = [code for code in goods.items if not goods.items[code].is_kit][:12]
    stock_in(goods.warehouse, **{code.replace("-", "_"): 3 for code in codes})
    stock_in(goods.dropoff, **{code.replace("-", "_"): 2 for code in codes})
    inventory.set_par_levels(
        actor=None, site_id=goods.shelter.id, levels={goods.items["SOAP"].id: 10}
    )
    db.session.commit()
    many, html = statements_of(client, "/inventory/")
    assert len(many) == len(few)
    assert not any("stock_entries" in s for s in many)  # nothing read from the ledger
    soap = re.search(r">Soap</a>.*?</tr>", html, re.S).group(0)
    cells = re.findall(r'<td class="num([^"]*)" data-label="([^"]*)">(\d+)', soap)
    held = {label: (int(qty), cls.strip()) for cls, label, qty in cells}
    assert held["Harbor House (conf.)"] == (4, "under-par")
    assert held["Main warehouse"] == (3, "") and held["Downtown drop-off"] == (2, "")
    assert '<td class="num" data-label="All sites"><strong>9</strong>' in soap
    assert "/ 10" in soap and "(under par)" in soap


def test_stock_cells_escape_site_names(goods, stock_in, login):
    site = catalog.create_site(
        actor=None, name='<b>Annex</b> & "Co"', kind="shelter", address_line1="1 Side St"
    )
    db.session.commit()
    stock_in(site, SOAP=2)
    _, html = statements_of(login(Role.STAFF), f"/inventory/?site={site.id}")
    assert 'data-label="&lt;b&gt;Annex&lt;/b&gt; &amp; &#34;Co&#34;">2</td>' in html
    assert "<b>Annex</b>" not in html
