"""Supporters' own side of fundraising pages: start a page under a live campaign,
confirm the email, and the dashboard by a signed link (status, total, donors' first
names, editing the page). Visitors report a page and see its photo here; the page
itself, with the donation form, is ``give.supporter_page``.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from donations.authz import public
from donations.blueprints.secret_pages import private
from donations.blueprints.supporter_forms import PageForm, ReportForm, StartPageForm
from donations.errors import render_error
from donations.extensions import limiter
from donations.forms import EmptyForm
from donations.models import SupporterPage
from donations.money import format_plain
from donations.services import campaigns
from donations.unit_of_work import unit_of_work

bp = Blueprint("supporter_public", __name__)

# A photo upload may be larger than other requests; the service refuses one over
# IMAGE_MAX_BYTES next to its field, and this limit keeps the rest out.
UPLOAD_REQUEST_MAX = campaigns.IMAGE_MAX_BYTES + 1024 * 1024
PHOTO_MAX_AGE = 86_400
STARTED = (
    "Thank you. We have sent a link to {email}: open it to confirm your address. "
    "Staff then look at your page before it is public."
)
LINK_GONE = (
    "This link no longer works: links to your page's dashboard work for 30 days, and the "
    "whole link must be copied. Each gift through your page mails you a fresh one."
)


def _limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/give/<slug>/fundraise", methods=["GET", "POST"])
@public
@limiter.limit(_limit, methods=["POST"])
def start(slug: str):
    """Start a fundraising page under a live campaign: public once the email is
    confirmed and staff approve it."""
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None or campaign.status == "draft":
        abort(404)
    if not campaigns.accepts_gifts(campaign):
        return render_template("supporter_public/not_open.html", campaign=campaign)
    request.max_content_length = UPLOAD_REQUEST_MAX
    form = StartPageForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            campaigns.start_page(
                campaign=campaign,
                supporter=campaigns.Supporter(
                    name=form.name.data or "", email=form.email.data or ""
                ),
                values=form.values(campaign.currency),
                photo=form.uploaded_photo(),
            )
        if work.ok:
            flash(STARTED.format(email=(form.email.data or "").strip().lower()), "success")
            return redirect(url_for("supporter_public.start", slug=slug), 303)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("supporter_public/start.html", form=form, campaign=campaign), status


@bp.route("/fundraise/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str):
    """Confirm the email a page was made with: the mailed link opens a page with one
    button (a GET changes nothing, so a mail scanner opening links confirms nothing)."""
    page = campaigns.page_to_confirm(token)
    if page is None:
        return render_error(
            404,
            "This confirmation link does not work: it may have expired (links work for 7 days) "
            "or be cut short. Start your page again to get a new one.",
        )
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work():
            campaigns.confirm_page_email(page=page)
        flash("Your email is confirmed. Staff will look at your page and email you.", "success")
    elif page.email_verified_at is None:
        html = render_template("supporter_public/confirm.html", page=page, form=form)
        return private(make_response(html))
    target = url_for("supporter_public.dashboard", token=campaigns.dashboard_token(page))
    return private(redirect(target, 303))


def _edit_form(page: SupporterPage) -> PageForm:
    request.max_content_length = UPLOAD_REQUEST_MAX
    form = PageForm(obj=page if request.method == "GET" else None)
    if request.method == "GET":
        form.goal.data = format_plain(page.goal_cents, page.currency)
    return form


@bp.route("/fundraise/me/<token>", methods=["GET", "POST"])
@public
def dashboard(token: str):
    """The supporter's dashboard: the page's status, total and donors, and its form."""
    page = campaigns.page_for_dashboard(token)
    if page is None:
        return private(make_response(render_error(404, LINK_GONE)))
    form = _edit_form(page)
    status = 200
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            campaigns.edit_page(
                page=page, values=form.values(page.currency), photo=form.uploaded_photo()
            )
        if work.ok:
            flash("Your page is saved.", "success")
            return private(redirect(url_for("supporter_public.dashboard", token=token), 303))
        status = 400
    elif form.is_submitted():
        status = 400
    html = render_template(
        "supporter_public/dashboard.html",
        page=page,
        form=form,
        progress=campaigns.page_progress(page),
        gifts=campaigns.supporter_gift_lines(page),
    )
    return private(make_response(html, status))


def _public_page_or_404(slug: str, page_slug: str) -> SupporterPage:
    page = campaigns.public_page(slug, page_slug)
    if page is None:
        abort(404)
    return page


@bp.post("/give/<slug>/p/<page_slug>/report")
@public
@limiter.limit(_limit)
def report(slug: str, page_slug: str):
    """Report a public page to staff (a reason and, if they like, a few words)."""
    page = _public_page_or_404(slug, page_slug)
    form = ReportForm()
    target = url_for("give.supporter_page", slug=slug, page_slug=page_slug)
    if not form.validate_on_submit():
        flash("Choose a reason to report this page: nothing was sent.", "error")
        return redirect(target + "#report", 303)
    with unit_of_work(flash_errors=True) as work:
        campaigns.report_page(page=page, reason=form.reason.data, details=form.details.data or "")
    if work.ok:
        flash("Thank you: staff will look at this page.", "success")
    return redirect(target, 303)


@bp.get("/give/<slug>/p/<page_slug>/photo")
@public
def photo(slug: str, page_slug: str):
    """Serve a page's photo (staff see a page's photo before it is public)."""
    page = campaigns.page_by_slugs(slug, page_slug)
    if page is None or (not page.is_public and not current_user.is_authenticated):
        abort(404)
    if not page.photo_etag or page.photo_data is None:
        abort(404)
    response = make_response(page.photo_data)
    response.headers["Content-Type"] = page.photo_type
    if page.is_public:
        response.headers["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}"
    else:
        response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(page.photo_etag)
    return response.make_conditional(request)
