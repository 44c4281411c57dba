"""Admin screens for campaigns: add and edit them (with their image), set their goods
goals, open and close them. Treasurers may read them; only admins change them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.authz import roles_required
from donations.blueprints.campaigns_admin_forms import (
    CampaignForm,
    GoodsGoalsForm,
    StatusForm,
)
from donations.models import Campaign, CampaignStatus, Role
from donations.money import format_plain
from donations.services import audit, campaigns, catalog
from donations.services.errors import NotFound
from donations.services.giving import active_funds, default_currency
from donations.services.links import absolute_url
from donations.services.organization import embed_frame_ancestors
from donations.unit_of_work import unit_of_work

bp = Blueprint("campaigns_admin", __name__, url_prefix="/admin/campaigns")

# An image upload may be larger than other requests (MAX_CONTENT_LENGTH); the service
# refuses one over IMAGE_MAX_BYTES next to its field, and this limit keeps the rest out.
UPLOAD_REQUEST_MAX = campaigns.IMAGE_MAX_BYTES + 1024 * 1024


def _load(campaign_id: int) -> Campaign:
    try:
        return campaigns.get_campaign(campaign_id)
    except NotFound:
        abort(404)


def _campaign_form(campaign: Campaign | None) -> CampaignForm:
    request.max_content_length = UPLOAD_REQUEST_MAX
    form = CampaignForm(obj=campaign if request.method == "GET" else None)
    if request.method == "GET" and campaign is not None:
        form.default_fund.data = str(campaign.default_fund_id or "")
        if campaign.goal_cents:
            form.goal.data = format_plain(campaign.goal_cents, campaign.currency)
    form.default_fund.choices = [SelectChoice("", "The donation page's default fund")] + [
        SelectChoice(str(fund.id), fund.name) for fund in active_funds()
    ]
    return form


def _save(form: CampaignForm, campaign: Campaign | None):
    currency = campaign.currency if campaign is not None else default_currency()
    with unit_of_work(form) as work:
        saved = campaigns.save_campaign(
            actor=current_user,
            campaign=campaign,
            values=form.values(form.goal_cents(currency)),
            image=form.uploaded_image(),
            remove_image=bool(form.remove_image.data),
        )
    return saved if work.ok else None


@bp.get("")
@roles_required(Role.ADMIN, Role.TREASURER)
def index():
    """List every campaign, drafts included, with its progress."""
    rows = [(c, campaigns.campaign_progress(c)) for c in campaigns.list_campaigns()]
    return render_template("campaigns_admin/index.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new():
    """Add a campaign (a draft until it is opened)."""
    form = _campaign_form(None)
    if form.validate_on_submit():
        saved = _save(form, None)
        if saved is not None:
            flash(f"Added the campaign {saved.name} as a draft.", "success")
            return redirect(url_for("campaigns_admin.detail", campaign_id=saved.id))
    return render_template("campaigns_admin/form.html", form=form, campaign=None)


@bp.get("/<int:campaign_id>")
@roles_required(Role.ADMIN, Role.TREASURER)
def detail(campaign_id: int):
    """Show a campaign: its state, dates, goals, progress and history."""
    campaign = _load(campaign_id)
    return render_template(
        "campaigns_admin/detail.html",
        campaign=campaign,
        progress=campaigns.campaign_progress(campaign),
        accepts=campaigns.accepts_gifts(campaign),
        form=StatusForm(),
        history=audit.recent_history("campaign", campaign.id),
        embed_url=absolute_url("give.campaign_embed", slug=campaign.slug),
        embed_sites=embed_frame_ancestors(),
    )


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(campaign_id: int):
    """Change a campaign's name, address, dates, money goal, fund, story or image."""
    campaign = _load(campaign_id)
    form = _campaign_form(campaign)
    if form.validate_on_submit():
        saved = _save(form, campaign)
        if saved is not None:
            flash(f"Saved the campaign {saved.name}.", "success")
            return redirect(url_for("campaigns_admin.detail", campaign_id=saved.id))
    return render_template("campaigns_admin/form.html", form=form, campaign=campaign)


@bp.post("/<int:campaign_id>/status")
@roles_required(Role.ADMIN)
def status(campaign_id: int):
    """Open a campaign (live) or close it."""
    campaign = _load(campaign_id)
    form = StatusForm()
    if form.validate_on_submit():
        wanted = CampaignStatus.LIVE if form.action.data == "open" else CampaignStatus.CLOSED
        with unit_of_work(flash_errors=True) as work:
            campaigns.set_campaign_status(actor=current_user, campaign=campaign, status=wanted)
        if work.ok:
            flash(f"The campaign {campaign.name} is {wanted.value}.", "success")
    else:
        flash("Choose open or close.", "error")
    return redirect(url_for("campaigns_admin.detail", campaign_id=campaign_id), 303)


@bp.route("/<int:campaign_id>/goods", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def goods(campaign_id: int):
    """Set how many of which items the campaign hopes to collect."""
    campaign = _load(campaign_id)
    if request.method == "GET":
        data = [{"item": str(g.item_id), "quantity": str(g.quantity)} for g in campaign.goods_goals]
        form = GoodsGoalsForm(data={"rows": data})
        while len(form.rows.entries) < len(data) + 2:
            form.rows.append_entry()
    else:
        form = GoodsGoalsForm()
    choices = [SelectChoice("", "Choose an item")] + [
        SelectChoice(str(item.id), item.label) for item in catalog.active_items()
    ]
    for entry in form.rows.entries:
        entry.form.item.choices = choices
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            campaigns.set_goods_goals(actor=current_user, campaign=campaign, goals=form.goals())
        if work.ok:
            flash("Goods goals saved.", "success")
            return redirect(url_for("campaigns_admin.detail", campaign_id=campaign_id), 303)
    goal_errors = [e for e in form.rows.errors if isinstance(e, str)]
    return render_template(
        "campaigns_admin/goods.html", form=form, campaign=campaign, goal_errors=goal_errors
    )
