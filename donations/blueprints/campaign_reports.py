"""The campaign report (treasurer and admin): figures per campaign, one campaign's gifts
and raised-per-day chart, and the same figures as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from donations.authz import roles_required
from donations.models import Role
from donations.services import campaigns
from donations.services.errors import NotFound

bp = Blueprint("campaign_reports", __name__, url_prefix="/reports")


@bp.get("/campaigns")
@roles_required(Role.ADMIN, Role.TREASURER)
def index():
    """Every campaign's figures side by side."""
    return render_template("campaigns_admin/report.html", figures=campaigns.all_campaign_figures())


@bp.get("/campaigns.csv")
@roles_required(Role.ADMIN, Role.TREASURER)
def csv():
    """The campaign report as CSV: one line per campaign."""
    text = "".join(campaigns.figures_csv(campaigns.all_campaign_figures()))
    response = Response(text, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="campaigns.csv"'
    return response


@bp.get("/campaigns/<int:campaign_id>")
@roles_required(Role.ADMIN, Role.TREASURER)
def detail(campaign_id: int):
    """One campaign: its figures, raised per day, goods against goals, and its gifts."""
    try:
        campaign = campaigns.get_campaign(campaign_id)
    except NotFound:
        abort(404)
    figures = campaigns.campaign_figures(campaign)
    chart = campaigns.days_svg(
        figures.days,
        currency=figures.currency,
        title=f"Raised per day for {campaign.name}",
        chart_id=f"campaign-{campaign.id}-days",
    )
    return render_template(
        "campaigns_admin/report_detail.html",
        f=figures,
        chart=chart,
        appeals=campaigns.appeal_rows(figures.gifts),
        pages=campaigns.campaign_page_totals(campaign, public_only=False),
    )


@bp.get("/campaigns/<int:campaign_id>/pages.csv")
@roles_required(Role.ADMIN, Role.TREASURER)
def pages_csv(campaign_id: int):
    """A campaign's supporters' pages as CSV: what each raised and from how many donors."""
    try:
        campaign = campaigns.get_campaign(campaign_id)
    except NotFound:
        abort(404)
    totals = campaigns.campaign_page_totals(campaign, public_only=False)
    response = Response("".join(campaigns.page_totals_csv(totals)), mimetype="text/csv")
    name = f"campaign-{campaign.id}-pages.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
