"""The stock chart (server-side SVG), the goods panels of the staff dashboard and its hint of
open partner requests."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from markupsafe import Markup
from sqlalchemy import event, select

from donations.extensions import db
from donations.models import Recipient, Role, User, utcnow
from donations.services import charts, inventory, partner_requests

SVG = "{http://www.w3.org/2000/svg}"


def _series(days: int, start: int = 0) -> list[tuple[date, int]]:
    first = date(2025, 3, 1)
    return [(first + timedelta(days=i), start + i % 7) for i in range(days)]


def _parse(svg: str) -> ET.Element:
    """Parse the chart as XML: it must be well-formed."""
    return ET.fromstring(str(svg))  # noqa: S314 - our own output, not untrusted data


def _points(svg: str) -> list[str]:
    match = re.search(r'<polyline class="chart-line" points="([^"]*)"', svg)
    assert match, "no stock line in the chart"
    return match.group(1).split()


# --- the chart -----------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 2, 30, 90])
def test_the_line_has_one_point_per_day(days):
    svg = charts.stock_chart_svg(_series(days), par=None, title="Soap")
    assert isinstance(svg, Markup)
    assert len(_points(svg)) == days
    root = _parse(str(svg))  # well-formed XML
    assert root.get("role") == "img"
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    assert root.get("width") is None  # scales to its container
    assert root.find(f"{SVG}title").text == "Soap"


def test_points_stay_inside_the_drawing_and_higher_stock_is_higher():
    series = [(date(2025, 1, 1) + timedelta(days=i), q) for i, q in enumerate([0, 10, 5, 40])]
    points = [
        tuple(map(float, p.split(",")))
        for p in _points(charts.stock_chart_svg(series, par=None, title="x"))
    ]
    xs = [x for x, _y in points]
    ys = [y for _x, y in points]
    assert xs == sorted(xs) and xs[0] == charts.LEFT and xs[-1] == charts.WIDTH - charts.RIGHT
    assert all(charts.TOP <= y <= charts.HEIGHT - charts.BOTTOM for y in ys)
    assert ys[3] < ys[1] < ys[2] < ys[0]  # SVG y grows downwards


def test_par_line_is_drawn_dashed_only_when_par_is_given():
    without = charts.stock_chart_svg(_series(10), par=None, title="Soap")
    assert "chart-par-line" not in without and "stroke-dasharray" not in without
    assert "chart-par-line" not in charts.stock_chart_svg(_series(10), par=0, title="Soap")
    with_par = charts.stock_chart_svg(_series(10), par=25, title="Soap")
    root = _parse(str(with_par))
    par_lines = [e for e in root.iter(f"{SVG}line") if e.get("class") == "chart-par-line"]
    assert len(par_lines) == 1 and par_lines[0].get("stroke-dasharray")
    assert "par 25" in with_par
    # The scale reaches the par level even when stock never did.
    assert "Par level 25; under par now." in root.get("aria-label")


def test_title_and_labels_are_escaped():
    title = '<script>alert("x")</script> & Socks'
    svg = str(charts.stock_chart_svg(_series(5), par=3, title=title))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; Socks" in svg
    root = _parse(svg)
    assert root.find(f"{SVG}title").text == title
    assert root.get("aria-label").startswith(title + ".")


def test_screen_readers_get_the_last_value_and_the_range():
    series = [(date(2025, 5, 1) + timedelta(days=i), q) for i, q in enumerate([8, 3, 12, 7])]
    svg = charts.stock_chart_svg(series, par=10, title="Blankets")
    root = _parse(str(svg))
    label = root.get("aria-label")
    assert "7 on hand on 2025-05-04" in label
    assert "lowest 3, highest 12" in label
    assert root.find(f"{SVG}desc").text in label
    # ... and sighted readers see the last value at the end of the line.
    assert root.find(f".//{SVG}text[@class='chart-label chart-last']").text == "7"


def test_date_ticks_are_few_and_include_both_ends():
    svg = charts.stock_chart_svg(_series(90), par=None, title="x")
    ticks = re.findall(r'<g class="chart-ticks".*?</g>', str(svg))[0]
    labels = re.findall(r">([A-Z][a-z]{2} \d+)<", ticks)
    assert 2 <= len(labels) <= charts.DATE_TICKS
    assert labels[0] == "Mar 1" and labels[-1] == "May 29"


def test_an_empty_series_says_so():
    svg = charts.stock_chart_svg([], par=5, title="Nothing")
    _parse(str(svg))
    assert "No stock recorded" in svg and "polyline" not in svg


def test_chart_ids_are_kept_safe():
    svg = charts.stock_chart_svg(_series(3), par=None, title="x", chart_id='a"><b')
    root = _parse(str(svg))
    assert root.get("id") == "a---b"


# --- the item page helper --------------------------------------------------------


def test_item_chart_helper_sums_par_over_open_sites(app, goods, stock_in):
    socks = goods.items["SOCKS-M"]
    inventory.set_par_levels(actor=None, site_id=goods.shelter.id, levels={socks.id: 10})
    inventory.set_par_levels(actor=None, site_id=goods.warehouse.id, levels={socks.id: 6})
    db.session.commit()
    stock_in(goods.shelter, SOCKS_M=4)
    stock_in(goods.warehouse, SOCKS_M=3)
    helper = app.jinja_env.globals["item_stock_chart"]
    html = str(helper(socks))
    assert "Stock over the last 90 days" in html
    assert len(_points(html)) == 90
    assert "par 16" in html
    assert "7 on hand on " + utcnow().date().isoformat() in html
    one_site = str(helper(socks, goods.warehouse.id))
    assert "par 6" in one_site and "at Main warehouse" in one_site
    # Two charts on one page keep distinct ids.
    assert f'id="item-{socks.id}-chart"' in html


def test_item_chart_without_par_has_no_par_line(app, goods):
    html = str(charts.item_stock_chart(goods.items["SOAP"]))
    assert "chart-par-line" not in html and "dashed line" not in html
    assert "0 on hand" in html


# --- the dashboard ------------------------------------------------------------


@pytest.fixture
def season(goods, stock_in):
    """Soap under par at the shelter, socks given out, a few documents."""
    soap, socks = goods.items["SOAP"], goods.items["SOCKS-M"]
    inventory.set_par_levels(
        actor=None, site_id=goods.shelter.id, levels={soap.id: 20, socks.id: 2}
    )
    db.session.commit()
    stock_in(goods.shelter, SOAP=4, SOCKS_M=9)
    goods.distribution = inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=utcnow().date(),
        recipient="Street outreach",
        case_code="C-104",
        lines=[goods.line("SOCKS-M", 6)],
    )
    db.session.commit()
    return goods


def test_staff_dashboard_shows_goods_panels(staff_client, season):
    html = staff_client.get("/dashboard").get_data(as_text=True)
    assert "Goods at a glance" in html
    under = html.split('id="under-par-heading"')[1].split("</section>")[0]
    assert "Harbor House" in under and "Soap" in under and "urgent" in under
    assert "Socks (M)" not in under  # 3 on hand, par 2
    assert "/inventory/?show=under" in html
    documents = html.split('id="documents-heading"')[1].split("</section>")[0]
    assert (
        season.distribution.number in documents
        and "Street outreach" in documents
        and "C-104" in documents
    )
    assert "/inventory/documents/" in documents
    top = html.split('id="top-heading"')[1].split("</section>")[0]
    assert "Socks (M)" in top and ">6 <" in top
    # The chart shows the top distributed item by default.
    chart = html.split('id="chart-heading"')[1].split("</section>")[0]
    assert "<svg" in chart and "Socks (M): stock at all sites" in chart
    assert "<strong>3</strong>" in chart  # the text beside the chart: on hand today


def test_admin_dashboard_shows_goods_cards(admin_client, season):
    html = admin_client.get("/dashboard").get_data(as_text=True)
    assert "Goods on hand" in html and "Goods at a glance" in html
    assert "Users" in html  # the admin cards stay


def test_record_goods_card_links_the_movements_page(app, staff_client, season):
    html = staff_client.get("/dashboard").get_data(as_text=True)
    if "movements.record" in app.view_functions:
        assert "Record goods" in html
    else:  # the movements pages are not there yet
        assert "Record goods" not in html


def test_treasurers_keep_their_money_dashboard(treasurer_client, season):
    response = treasurer_client.get("/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Gifts" in html and "Donors" in html
    assert "Goods at a glance" not in html and "Record goods" not in html
    assert "Goods on hand" not in html and "<svg" not in html


def test_chart_form_chooses_item_and_site(staff_client, season):
    soap = season.items["SOAP"]
    html = staff_client.get(
        f"/dashboard?chart_item={soap.id}&chart_site={season.shelter.id}"
    ).get_data(as_text=True)
    assert "Soap: stock at Harbor House over the last 90 days" in html
    assert "par 20" in html
    assert f'<option selected value="{soap.id}">' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("chart_item=abc", "Choose an item from the list."),
        ("chart_item=999999", "Choose an item from the list."),
        ("chart_item=&chart_site=x", "Choose a site from the list, or all sites."),
        ("chart_site=424242", "Choose a site from the list, or all sites."),
    ],
)
def test_bad_chart_choices_fall_back_to_the_default(staff_client, season, query, message):
    response = staff_client.get(f"/dashboard?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Socks (M): stock at all sites" in html


def test_a_valid_item_with_a_bad_site_keeps_the_item(staff_client, season):
    soap = season.items["SOAP"]
    html = staff_client.get(f"/dashboard?chart_item={soap.id}&chart_site=x").get_data(as_text=True)
    assert "Soap: stock at all sites" in html
    assert "Choose a site from the list" in html


def test_dashboard_without_any_goods_says_what_to_do(staff_client, goods):
    html = staff_client.get("/dashboard").get_data(as_text=True)
    assert "Nothing is under par." in html
    assert "No goods recorded yet." in html
    assert "No stock to chart yet." in html
    assert "Nothing was given out in the last 30 days." in html


def test_without_distributions_the_chart_shows_the_first_item_held(staff_client, goods, stock_in):
    stock_in(goods.warehouse, SOAP=2, BLANKET=5)
    html = staff_client.get("/dashboard").get_data(as_text=True)
    assert "Blanket: stock at all sites" in html


def test_under_par_list_is_limited_and_links_to_all(staff_client, goods):
    from donations.blueprints.main import UNDER_PAR_SHOWN

    levels = {item.id: 5 for item in list(goods.items.values())[: UNDER_PAR_SHOWN + 3]}
    inventory.set_par_levels(actor=None, site_id=goods.shelter.id, levels=levels)
    db.session.commit()
    html = staff_client.get("/dashboard").get_data(as_text=True)
    under = html.split('id="under-par-heading"')[1].split("</section>")[0]
    assert under.count('<td class="num">5</td>') == UNDER_PAR_SHOWN
    assert f"All {UNDER_PAR_SHOWN + 3} items under par" in under


def test_last_value_and_par_labels_do_not_overlap():
    near_below = [(date(2025, 1, 1) + timedelta(days=i), q) for i, q in enumerate([30, 23])]
    svg = str(charts.stock_chart_svg(near_below, par=24, title="x"))
    assert re.search(r'chart-last"[^>]*dy="1.2em"', svg)  # the value under the point
    assert re.search(r'chart-par-label"[^>]*dy="-0.4em"', svg)  # par above its line
    far = [(date(2025, 1, 1) + timedelta(days=i), q) for i, q in enumerate([30, 90])]
    svg = str(charts.stock_chart_svg(far, par=24, title="x"))
    assert re.search(r'chart-last"[^>]*dy="-0.5em"', svg)
    assert re.search(r'chart-par-label"[^>]*dy="0.32em"', svg)


# --- the hint of open partner requests ---------------------------------------


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def agency(name: str) -> Recipient:
    return db.session.scalar(select(Recipient).where(Recipient.name == name))


def ask(goods, user: User, n: int = 1) -> None:
    for _ in range(n):
        partner_requests.create_request(
            actor=user, lines=[partner_requests.AskedLine(goods.items["SOAP"].id, 1)]
        )
    db.session.commit()


HINT = 'id="partner-requests-hint"'


def test_dashboard_hint_counts_open_requests_and_links_to_them(
    staff_client, admin_client, treasurer_client, goods, create_user
):
    assert HINT not in text_of(staff_client.get("/dashboard"))  # none open: no hint
    partner = create_user(Role.PARTNER, recipient_id=agency("Safe Passage clinic").id)
    ask(goods, partner, 3)
    withdrawn = partner_requests.create_request(
        actor=partner, lines=[partner_requests.AskedLine(goods.items["SOAP"].id, 1)]
    )
    partner_requests.withdraw_request(actor=partner, request_id=withdrawn.id)
    db.session.commit()
    for client in (staff_client, admin_client):
        page = text_of(client.get("/dashboard"))
        hint = page.split(HINT)[1].split("</p>")[0]
        assert '<a href="/inventory/requests/">3 open requests from partner agencies</a>' in hint
        assert "wait for an answer" in hint
    # Treasurers cannot open the requests page: no hint for them.
    assert HINT not in text_of(treasurer_client.get("/dashboard"))
    assert treasurer_client.get("/inventory/requests/").status_code == 403


def test_dashboard_hint_says_one_request_in_the_singular(staff_client, goods, create_user):
    partner = create_user(Role.PARTNER, recipient_id=agency("Safe Passage clinic").id)
    ask(goods, partner)
    hint = text_of(staff_client.get("/dashboard")).split(HINT)[1].split("</p>")[0]
    assert "1 open request from partner agencies</a> waits for an answer" in hint


def dashboard_statements(client) -> list[str]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/dashboard").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements


def test_dashboard_hint_is_one_count_whatever_the_number_of_requests(
    staff_client, goods, create_user
):
    partner = create_user(Role.PARTNER, recipient_id=agency("Safe Passage clinic").id)
    ask(goods, partner, 1)
    dashboard_statements(staff_client)  # warm: caches filled once per process
    few = dashboard_statements(staff_client)
    ask(goods, partner, 12)
    many = dashboard_statements(staff_client)
    assert len(many) == len(few)
    touching = [s for s in many if "goods_requests" in s]
    assert len(touching) == 1, touching
    assert re.match(r"\s*SELECT count\(\*\)", touching[0], re.I), touching[0]
