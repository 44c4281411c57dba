"""Staff's queue of supporters' fundraising pages: approve or decline a page waiting for
review, hide a public one at any time (and show it again), and read visitors' reports.
Staff and admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.supporter_forms import DecisionForm
from donations.models import Role, SupporterPage, SupporterPageStatus
from donations.services import audit, campaigns
from donations.services.errors import NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("supporter_pages_admin", __name__, url_prefix="/admin/supporter-pages")

DONE = {
    "approve": "approved: it is public now",
    "decline": "declined",
    "hide": "hidden: the public no longer sees it",
    "unhide": "public again",
}


def _load(page_id: int) -> SupporterPage:
    try:
        return campaigns.get_page(page_id)
    except NotFound:
        abort(404)


@bp.get("")
@roles_required(Role.ADMIN, Role.STAFF)
def index():
    """The pages, those waiting for review first, with their reports."""
    wanted = request.args.get("status", "")
    status = SupporterPageStatus(wanted) if wanted in set(SupporterPageStatus) else None
    return render_template(
        "supporter_pages_admin/index.html",
        rows=campaigns.page_queue(status=status),
        status=status,
        statuses=[s for s in SupporterPageStatus if s != SupporterPageStatus.UNVERIFIED],
        form=DecisionForm(),
    )


@bp.get("/<int:page_id>")
@roles_required(Role.ADMIN, Role.STAFF)
def detail(page_id: int):
    """One page as the public would see it, its total, its reports and its history."""
    page = _load(page_id)
    return render_template(
        "supporter_pages_admin/detail.html",
        page=page,
        progress=campaigns.page_progress(page),
        reports=campaigns.page_reports(page),
        history=audit.recent_history("supporter_page", page.id),
        form=DecisionForm(),
        allowed={
            action: {s.value for s in ok} for action, (ok, _to) in campaigns.DECISIONS.items()
        },
    )


@bp.post("/<int:page_id>/decision")
@roles_required(Role.ADMIN, Role.STAFF)
def decide(page_id: int):
    """Approve, decline, hide or unhide a page."""
    page = _load(page_id)
    form = DecisionForm()
    if form.validate_on_submit():
        with unit_of_work(flash_errors=True) as work:
            campaigns.decide_page(actor=current_user, page=page, action=form.action.data)
        if work.ok:
            flash(f"The page “{page.title}” is {DONE[form.action.data]}.", "success")
    else:
        flash("Choose a decision: nothing was changed.", "error")
    return redirect(url_for("supporter_pages_admin.detail", page_id=page_id), 303)
