"""The stock page's compiled reads list what ``stock_items_query`` defines, and its filter
controls are the very markup the ``field`` macro draws."""

from __future__ import annotations

import pytest
from flask import render_template_string, request
from markupsafe import Markup

from donations.blueprints.inventory_forms import StockFilterForm
from donations.blueprints.stock_table import read_filters
from donations.extensions import db
from donations.models import Item, Role
from donations.services import catalog, inventory, movement_queries, stock_page


def listed(*, text="", category_id=None, site_ids, show) -> list[int]:
    query = movement_queries.stock_items_query(
        text=text, category_id=category_id, site_ids=site_ids, show=show
    )
    return list(db.session.scalars(query.with_only_columns(Item.id)))


@pytest.mark.parametrize("show", ["held", "under", "all"])
def test_pages_list_and_count_what_the_filters_define(goods, stock_in, show):
    stock_in(goods.shelter, SOAP=2, BLANKET=1)
    stock_in(goods.warehouse, SOAP=30, TOOTHPASTE=4)
    inventory.set_par_levels(
        actor=None, site_id=goods.shelter.id, levels={goods.items["SOAP"].id: 6}
    )
    db.session.commit()
    category = goods.items["SOAP"].category_id
    every_site = [goods.shelter.id, goods.warehouse.id, goods.dropoff.id]
    cases = [
        {"site_ids": every_site},
        {"site_ids": [goods.shelter.id]},
        {"site_ids": every_site, "text": "SO"},
        {"site_ids": every_site, "text": "100%_"},  # LIKE's wildcards taken literally
        {"site_ids": every_site, "category_id": category},
        {"site_ids": [goods.warehouse.id], "text": "t", "category_id": category},
    ]
    for case in cases:
        expected = listed(show=show, **case)
        for per_page in (1, 2, 50):
            shown: list[int] = []
            for number in range(1, len(expected) + 3):
                page = stock_page.stock_page(
                    text=case.get("text", ""),
                    category_id=case.get("category_id"),
                    site_ids=case["site_ids"],
                    show=show,
                    page=number,
                    per_page=per_page,
                )
                assert page.total == len(expected), (case, per_page, number)
                shown += [row.item_id for row in page.items]
            assert shown == expected, (case, per_page)


def test_rows_carry_the_balances_at_the_shown_sites(goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    stock_in(goods.warehouse, SOAP=30)
    inventory.set_par_levels(
        actor=None, site_id=goods.shelter.id, levels={goods.items["SOAP"].id: 6}
    )
    db.session.commit()
    page = stock_page.stock_page(
        text="soap", category_id=None, site_ids=[goods.shelter.id], show="held", page=1,
        per_page=50,
    )  # fmt: skip
    (row,) = page.items
    assert row.levels == {goods.shelter.id: (2, 6)} and row.total == 2
    assert row.label == goods.items["SOAP"].label and row.code == "SOAP"


def test_filters_read_sites_open_first_and_categories_in_catalog_order(goods):
    closed = catalog.create_site(actor=None, name="Annex", kind="shelter", address_line1="1 St")
    closed.active = False
    db.session.commit()
    sites, categories = stock_page.stock_filters()
    assert [s.id for s in sites] == [s.id for s in movement_queries.sites_open_first()]
    assert sites[-1].name == "Annex" and not sites[-1].active
    assert [s.is_confidential for s in sites if s.id == goods.shelter.id] == [True]
    assert categories == movement_queries.category_choices()


MACRO_FIELDS = """{% from "_macros.html" import field %}
  {{ field(form.q, placeholder="Name, or scan a label") }}
  {{ field(form.site) }}
  {{ field(form.category) }}
  {{ field(form.show) }}"""


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"q": '  <b>"soap"</b> & co ', "show": "under"},
        {"site": "SITE", "category": "CATEGORY", "show": "all"},
        {"site": "CLOSED"},
        {"site": "", "category": "", "q": ""},
        {"site": "99999"},
        {"site": "abc"},
        {"category": "1.0"},
        {"show": ""},
        {"show": "bogus"},
        {"q": "x" * 100},
        {"q": "x" * 101},
        {"q": " " + "x" * 100 + " "},
        {"site": ["SITE", "99999"]},
        {"site": ["99999", "SITE"]},
    ],
)
def test_filters_read_without_the_form_as_the_form_reads_them(app, goods, args):
    closed = catalog.create_site(actor=None, name="Annex", kind="shelter", address_line1="1 St")
    closed.active = False
    catalog.create_category(actor=None, name='Odd <"&> name', sort_order=999)
    db.session.commit()
    sites, categories = stock_page.stock_filters()
    ids = {"SITE": str(goods.warehouse.id), "CLOSED": str(closed.id)}
    ids["CATEGORY"] = str(categories[-1][0])

    def real(value):
        return [ids.get(v, v) for v in value] if isinstance(value, list) else ids.get(value, value)

    query = {key: real(value) for key, value in args.items()}
    with app.test_request_context("/inventory/", query_string=query):
        chosen = read_filters(request.args, sites, categories)
        form = StockFilterForm(request.args)
        form.site.choices = [("", "All sites")] + [
            (str(s.id), s.name + ("" if s.active else " (closed)")) for s in sites
        ]
        form.category.choices = [("", "All categories")] + [(str(i), n) for i, n in categories]
        valid = form.validate()
        assert chosen.valid == valid
        if not valid:
            assert chosen.controls is None and chosen.form is not None
            assert (chosen.site_id, chosen.text, chosen.category_id, chosen.show) == (
                None, "", None, "held",
            )  # fmt: skip
            return
        assert (chosen.site_id, chosen.text, chosen.category_id, chosen.show) == (
            int(form.site.data) if form.site.data else None,
            form.q.data or "",
            int(form.category.data) if form.category.data else None,
            form.show.data,
        )
        assert isinstance(chosen.controls, Markup)
        assert chosen.controls == render_template_string(MACRO_FIELDS, form=form)


def test_a_refused_filter_is_drawn_by_the_macro_with_its_error(goods, login):
    client = login(Role.STAFF)
    assert client.get("/inventory/").status_code == 200
    page = client.get("/inventory/?show=bogus&q=" + "x" * 101).get_data(as_text=True)
    assert 'id="q-error"' in page and 'id="show-error"' in page
    assert 'aria-invalid="true"' in page
