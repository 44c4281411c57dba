"""The home page and the signed-in dashboard."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import ANY_ROLE, access_of, public, roles_required
from donations.blueprints.main_forms import ChartForm, chart_form
from donations.extensions import db
from donations.models import Item, Role, Site
from donations.services import catalog, charts, inventory
from donations.services import dashboard as dashboard_service
from donations.services import front_door as front_door_service
from donations.services.organization import get_organization

bp = Blueprint("main", __name__)
# The item page draws its chart with one line: {{ item_stock_chart(item) }}.
bp.add_app_template_global(charts.item_stock_chart, "item_stock_chart")

GOODS_ROLES = (Role.ADMIN, Role.STAFF)
MONEY_ROLES = (Role.ADMIN, Role.TREASURER)
UNDER_PAR_SHOWN = 12
RECENT_DOCUMENTS = 10
TOP_DISTRIBUTED = 5
TOP_DISTRIBUTED_DAYS = 30
CHART_DAYS = 90


@bp.get("/")
@public
def home():
    """Show the public home page: who we are, live campaigns, what we need most, and
    where to bring goods."""
    return render_template(
        "main/home.html", org=get_organization(), door=front_door_service.front_door()
    )


@bp.get("/dashboard")
@roles_required(*ANY_ROLE)
def dashboard():
    """Show what the signed-in user can do, by role; stock keepers also see the goods."""
    goods = _goods_panels() if current_user.role in GOODS_ROLES else None
    money = dashboard_service.money_overview() if current_user.role in MONEY_ROLES else None
    admin = current_user.role == Role.ADMIN
    setup = dashboard_service.setup_steps() if admin else None
    health = dashboard_service.system_health() if admin else None
    open_requests = (
        dashboard_service.open_partner_requests()
        if current_user.role in (access_of("goods_requests.index") or ())
        else None
    )
    return render_template(
        "main/dashboard.html",
        org=get_organization(),
        goods=goods,
        money=money,
        setup=setup,
        health=health,
        open_requests=open_requests,
    )


def _goods_panels() -> dict:
    """What the dashboard shows stock keepers: shortages, recent documents, the chart."""
    under_par = dashboard_service.under_par_overview(limit=UNDER_PAR_SHOWN)
    top = inventory.top_distributed(days=TOP_DISTRIBUTED_DAYS, limit=TOP_DISTRIBUTED)
    return {
        "under_par": under_par.by_site,
        "under_par_total": under_par.total,
        "under_par_shown": under_par.shown,
        "documents": dashboard_service.recent_documents(limit=RECENT_DOCUMENTS),
        "top": top,
        "top_days": TOP_DISTRIBUTED_DAYS,
        "can_record": "movements.record" in current_app.view_functions,
        **_chart(default_item=next((item for item, _n in top if item.active), None)),
    }


def _chosen(form: ChartForm) -> tuple[Item | None, Site | None]:
    """The item and site chosen on the form, if any, marking a bad choice."""
    item = site = None
    if {"chart_item", "chart_site"} & request.args.keys():
        form.validate()
        if not form.chart_item.errors:
            item = db.session.get(Item, int(form.chart_item.data))
        if form.chart_site.data and not form.chart_site.errors:
            site = db.session.get(Site, int(form.chart_site.data))
        if form.chart_item.errors:
            form.chart_item.errors = ["Choose an item from the list."]
        if form.chart_site.errors:
            form.chart_site.errors = ["Choose a site from the list, or all sites."]
            form.chart_site.data = ""
    return item, site


def _chart(*, default_item: Item | None) -> dict:
    """The chart of one item's stock: the form's choice, else the default item."""
    form = chart_form(
        request.args, catalog.active_items(), catalog.list_sites(include_inactive=False)
    )
    item, site = _chosen(form)
    if item is None:
        item = default_item or charts.first_item_held()
        form.chart_item.data = str(item.id) if item else ""
    if item is None:
        return {"chart_form": form, "chart": None, "chart_item": None, "chart_site": None}
    series = inventory.stock_series(
        item_id=item.id, site_id=site.id if site else None, days=CHART_DAYS
    )
    where = f"at {site.name}" if site else "at all sites"
    par = charts.total_par(item.id, site.id if site else None)
    chart = charts.stock_chart_svg(
        series,
        par=par,
        title=f"{item.label}: stock {where} over the last {CHART_DAYS} days",
        chart_id="dashboard-chart",
    )
    return {
        "chart_form": form,
        "chart": chart,
        "chart_item": item,
        "chart_site": site,
        "chart_last": series[-1][1] if series else 0,
        "chart_par": par,
        "chart_days": CHART_DAYS,
    }


@bp.get("/healthz")
@public
def healthz():
    """Answer load balancers: the app is up."""
    return {"status": "ok"}


@bp.get("/favicon.ico")
@public
def favicon():
    return redirect(url_for("static", filename="favicon.svg"))


def signed_in_home_url() -> str:
    return url_for("main.dashboard") if current_user.is_authenticated else url_for("main.home")
