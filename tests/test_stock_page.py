"""The stock page's compiled reads list what ``stock_items_query`` defines, and its filter
controls are the very markup the ``field`` macro draws."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string, request
from markupsafe import Markup

from donations.blueprints.inventory_forms import StockFilterForm
from donations.blueprints.stock_table import read_filters
from donations.extensions import db
from donations.models import Item, Role
from donations.services import catalog, inventory, movement_queries, stock_page
from donations.services.keyset import Position, encode_cursor


def listed(*, text="", category_id=None, site_ids, show) -> list[int]:
    query = movement_queries.stock_items_query(
        text=text, category_id=category_id, site_ids=site_ids, show=show
    )
    return list(db.session.scalars(query.with_only_columns(Item.id)))


def walk(case: dict, show: str, per_page: int, *, backwards: bool) -> list[list[int]]:
    """Every page of the stock list, from the first by "Next" or from the last by
    "Previous", each page's items in list order."""
    pages: list[list[int]] = []
    position = Position(oldest=True) if backwards else Position()
    while True:
        page = stock_page.stock_page(
            text=case.get("text", ""),
            category_id=case.get("category_id"),
            site_ids=case["site_ids"],
            show=show,
            position=position,
            per_page=per_page,
        )
        assert not page.invalid
        pages.append([row.item_id for row in page.items])
        assert len(pages[-1]) <= per_page
        assert (page.newer is None) == page.is_first and (page.older is None) == page.is_last
        if backwards and not page.is_first:
            position = Position(after=page.newer)
        elif not backwards and not page.is_last:
            position = Position(before=page.older)
        else:
            assert page.is_last if not backwards else page.is_first
            return pages[::-1] if backwards else pages


@pytest.mark.parametrize("show", ["held", "under", "all"])
def test_pages_list_what_the_filters_define_both_ways(goods, stock_in, show):
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
            forward = walk(case, show, per_page, backwards=False)
            assert [i for page in forward for i in page] == expected, (case, per_page)
            assert all(len(page) == per_page for page in forward[:-1]), (case, per_page)
            backward = walk(case, show, per_page, backwards=True)
            assert [i for page in backward for i in page] == expected, (case, per_page)
            assert all(len(page) == per_page for page in backward[1:]), (case, per_page)


def test_items_with_the_same_name_page_by_size_then_id(goods, stock_in):
    """The sort key ends in the id, so items alike in name and size each show once."""
    for n, size in enumerate(("M", "M", "L", "", "m")):
        catalog.create_item(
            actor=None, category_id=goods.items["SOAP"].category_id, name="COAT",
            size=size, code=f"ZZCOAT-{n}",
        )  # fmt: skip
    db.session.commit()
    case = {"site_ids": [goods.shelter.id], "text": "zzcoat"}
    expected = listed(show="all", **case)
    assert len(expected) == 5
    for per_page in (1, 2, 3):
        pages = walk(case, "all", per_page, backwards=False)
        assert [i for page in pages for i in page] == expected
        pages = walk(case, "all", per_page, backwards=True)
        assert [i for page in pages for i in page] == expected


@pytest.mark.parametrize(
    "position",
    [
        Position(before="not a cursor"),
        Position(after="W10"),  # "[]": a list of the wrong length
        Position(before="WyJhIiwiYiIsImMiXQ"),  # ["a","b","c"]: the id is not a number
        Position(before="x" * 1201),
    ],
)
def test_a_cursor_that_cannot_be_read_gives_the_first_page(goods, stock_in, position):
    stock_in(goods.shelter, SOAP=2, BLANKET=1)
    db.session.commit()
    page = stock_page.stock_page(
        text="", category_id=None, site_ids=[goods.shelter.id], show="held",
        position=position, per_page=1,
    )  # fmt: skip
    assert page.invalid and page.is_first and not page.is_last
    assert [row.item_id for row in page.items] == listed(site_ids=[goods.shelter.id], show="held")[
        :1
    ]


def test_items_with_long_names_in_any_script_page_by_their_cursors(goods, stock_in):
    names = ["库存物品" * 30, "مستلزمات النظافة " * 7, "Z" * 120]  # 120 characters each
    for n, name in enumerate(names):
        catalog.create_item(
            actor=None, category_id=goods.items["SOAP"].category_id, name=name[:120],
            code=f"LONG-{n}",
        )  # fmt: skip
    db.session.commit()
    case = {"site_ids": [goods.shelter.id], "text": "long-"}
    expected = listed(show="all", **case)
    assert len(expected) == 3
    for backwards in (False, True):
        pages = walk(case, "all", 1, backwards=backwards)
        assert [i for page in pages for i in page] == expected


def test_a_cursor_past_the_end_gives_the_first_page(goods, stock_in):
    stock_in(goods.shelter, SOAP=2, BLANKET=1)
    db.session.commit()
    beyond = encode_cursor(["zzzz", "", 10**6])
    page = stock_page.stock_page(
        text="", category_id=None, site_ids=[goods.shelter.id], show="held",
        position=Position(before=beyond), per_page=1,
    )  # fmt: skip
    assert not page.invalid and page.is_first and page.items


def test_the_stock_page_pages_by_links_and_counts_a_single_page(goods, stock_in, login):
    client = login(Role.STAFF)
    stock_in(goods.shelter, SOAP=2, BLANKET=1)
    db.session.commit()
    single = client.get(f"/inventory/?site={goods.shelter.id}").get_data(as_text=True)
    assert "2 items." in single and 'rel="next"' not in single
    import donations.blueprints.inventory as view

    view.ITEMS_PER_PAGE, kept = 1, view.ITEMS_PER_PAGE
    try:
        first = client.get(f"/inventory/?site={goods.shelter.id}").get_data(as_text=True)
        assert "items." not in first
        link = re.search(r'href="([^"]*)" rel="next">Next', first).group(1).replace("&amp;", "&")
        assert f"site={goods.shelter.id}" in link and "before=" in link
        second = client.get(link).get_data(as_text=True)
        assert 'rel="prev">&larr; Previous' in second and 'rel="next"' not in second
        names = [re.findall(r'/inventory/items/\d+">([^<]+)</a>', html) for html in (first, second)]
        assert len(names[0]) == len(names[1]) == 1 and names[0] != names[1]
        bad = client.get("/inventory/?before=garbage").get_data(as_text=True)
        assert "That page link could not be read" in bad
    finally:
        view.ITEMS_PER_PAGE = kept


def test_rows_carry_the_balances_at_the_shown_sites(goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    stock_in(goods.warehouse, SOAP=30)
    inventory.set_par_levels(
        actor=None, site_id=goods.shelter.id, levels={goods.items["SOAP"].id: 6}
    )
    db.session.commit()
    page = stock_page.stock_page(
        text="soap", category_id=None, site_ids=[goods.shelter.id], show="held",
        position=Position(), per_page=50,
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
