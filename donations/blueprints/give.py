"""The public donation page: choose a gift, review it, pay through Stripe, be thanked.

No step needs JavaScript. The form posts to itself and, when valid, shows a
review page with the exact total; the review carries the donation as one
signed hidden field with a fresh attempt id, so "Continue" (clicked once or
twice, or again after a Stripe outage) always means the same pending gift and
the same Stripe idempotency key.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

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

from donations.authz import public
from donations.blueprints.give_controls import (
    blank_fields,
    blank_values,
    donation_controls,
    draw_fields,
    error_summary,
    form_values,
)
from donations.blueprints.give_forms import (
    CHOSEN_FIELDS,
    DonationForm,
    TestPaymentForm,
    amount_from_form,
    chosen_form,
    donation_form,
    form_data,
    show_donation_error,
    sign_donation,
    signed_donation,
)
from donations.blueprints.give_support import (
    ATTEMPT_CLOSED,
    DEFAULT_IMPACT,
    GATEWAY_TROUBLE,
    NO_PAYMENT_PAGE,
    PORTAL_TROUBLE,
    campaign_of,
    campaign_values,
    cover_of,
    edit_url,
    page_of,
)
from donations.blueprints.supporter_forms import ReportForm
from donations.extensions import limiter
from donations.forms import EmptyForm
from donations.models import (
    Campaign,
    CampaignStatus,
    Frequency,
    Gift,
    GiftStatus,
    PlanStatus,
    SupporterPage,
)
from donations.security_headers import allow_framing
from donations.services import campaigns, giving, payments, receipt_delivery, receipts
from donations.services.appeals import appeal_from_link
from donations.services.errors import DomainError, NotFound
from donations.services.gift_queries import fund_or_none
from donations.services.links import absolute_url
from donations.services.organization import embed_frame_ancestors
from donations.services.payments import GatewayError
from donations.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

bp = Blueprint("give", __name__, url_prefix="/give")


def _form_page(
    page: giving.DonationPage,
    form: DonationForm | None = None,
    *,
    campaign: Campaign | None = None,
    appeal: str = "",
    supporter_page: SupporterPage | None = None,
    shares_amount: bool = False,
):
    """Draw the donation form: blank, or ``form`` as submitted or refilled, with its errors;
    on a campaign's page, with the campaign's story and progress above it; on a supporter's
    page, with theirs. ``appeal``: the appeal code the donor's link carried, kept in a
    hidden field through to the gift."""
    if form is None and campaign is None:
        fields, summary = blank_fields(page), None
    elif form is None:  # a campaign's blank form: its default fund chosen
        fields = draw_fields(donation_controls(page, campaign_values(page, campaign)))
        summary = None
    else:
        values, errors = form_values(form)
        controls = donation_controls(page, values, errors)
        fields, summary = draw_fields(controls), error_summary(form, controls)
    context = {
        "fields": fields,
        "summary": summary,
        "csrf": current_app.config.get("WTF_CSRF_ENABLED", True),
        "impact_text": page.settings.impact_text or DEFAULT_IMPACT,
        "offers_needs": "needs.index" in current_app.view_functions,
        "appeal": appeal,
    }
    if campaign is None:
        return render_template("give/index.html", **context)
    if supporter_page is not None:
        return render_template(
            "give/supporter_page.html",
            campaign=campaign,
            page=supporter_page,
            fundraiser=supporter_page,
            progress=campaigns.page_progress(supporter_page),
            donor_names=campaigns.public_donor_names(supporter_page),
            shares_amount=shares_amount,
            report_form=ReportForm(formdata=None),
            **context,
        )
    return render_template(
        "give/campaign.html",
        campaign=campaign,
        progress=campaigns.campaign_progress(campaign),
        supporter_pages=campaigns.campaign_page_totals(campaign, limit=10),
        **context,
    )


def _campaign_closed(campaign: Campaign | None, status: int = 200):
    """Tell the donor the campaign takes no gifts now; offer general giving."""
    shown = campaign if campaign is not None and campaign.status != CampaignStatus.DRAFT else None
    return render_template(
        "give/campaign_closed.html",
        campaign=shown,
        opens_later=shown is not None and not campaigns.is_over(shown),
        progress=campaigns.campaign_progress(shown) if shown is not None else None,
    ), status


def _review(
    donation: giving.Donation,
    cover: giving.FeeCover,
    *,
    payload: str,
    message: str | None = None,
    notice: str | None = None,
):
    campaign = campaign_of(donation)
    page = page_of(donation)
    return render_template(
        "give/review.html",
        donation=donation,
        cover=cover,
        campaign=campaign,
        supporter_page=page,
        edit_url=edit_url(campaign, page),
        fund=fund_or_none(donation.fund_id),
        payload=payload,
        message=message,
        notice=notice,
        monthly=donation.frequency == Frequency.MONTHLY,
    )


def _thanks_url(gift: Gift) -> str:
    return absolute_url("give.thanks", token=giving.gift_token(gift))


def _gift_or_404(token: str) -> Gift:
    try:
        return giving.gift_for_token(token)
    except NotFound:
        abort(404)


def _problem(message: str, status: int = 200, *, heading: str | None = None):
    return render_template("give/problem.html", message=message, heading=heading), status


def _edit_after_error(donation: giving.Donation, error: DomainError):
    """Show the donation form again, refilled, with the problem next to its field (or, for
    a campaign that no longer takes gifts, say so and offer general giving)."""
    campaign = campaign_of(donation)
    if isinstance(error, campaigns.CampaignNotOpen):
        return _campaign_closed(campaign)
    page = giving.donation_page()
    if page is None:
        return render_template("give/closed.html")
    form = donation_form(page, data=form_data(donation, page.settings))
    show_donation_error(form, error)
    return _form_page(
        page,
        form,
        campaign=campaign,
        appeal=donation.appeal_code,
        supporter_page=page_of(donation) if campaign is not None else None,
        shares_amount=donation.shares_amount,
    )


def _checkout_limit() -> str:
    """Checkouts one address may start: slows down card testing through the donation page."""
    return current_app.config.get("GIVE_CHECKOUT_RATE_LIMIT", "20 per minute")


def _require_test_mode() -> None:
    if not payments.is_test_mode():
        abort(404)


# --- the donor's journey -----------------------------------------------------


@bp.route("", methods=["GET", "POST"])
@public
def index():
    """Show the donation form; when it is valid, show the review with the exact total."""
    page = giving.donation_page()
    if page is None:
        return render_template("give/closed.html")
    if request.method != "POST":  # the blank form: no WTForms object is needed to draw it
        return _form_page(page, appeal=appeal_from_link(request.args.get("appeal")))
    return _submitted(page)


def _submitted(
    page: giving.DonationPage,
    campaign: Campaign | None = None,
    supporter_page: SupporterPage | None = None,
):
    """Answer a posted donation form: refill it for editing, show it again with its
    problems, or show the review (the donation carries the campaign and the supporter's
    page, if any)."""
    settings, currency = page.settings, page.currency
    if "edit" in request.form:
        donation, _attempt_id, _payload = signed_donation()
        form = donation_form(page, data=form_data(donation, settings))
        return _form_page(
            page,
            form,
            campaign=campaign,
            appeal=donation.appeal_code,
            supporter_page=supporter_page,
            shares_amount=donation.shares_amount,
        )
    appeal = appeal_from_link(request.form.get("appeal"))
    shares_amount = supporter_page is not None and bool(request.form.get("shares_amount"))
    form = donation_form(page)
    if form.is_submitted():
        valid = form.validate()
        amount_cents, amount_note = amount_from_form(form, settings, currency)
        if valid and amount_cents is not None:
            donation = form.donation(amount_cents=amount_cents, currency=currency)
            donation = dataclasses.replace(donation, appeal_code=appeal)
            if campaign is not None:
                donation = dataclasses.replace(donation, campaign_id=campaign.id)
            if supporter_page is not None:
                donation = dataclasses.replace(
                    donation, supporter_page_id=supporter_page.id, shares_amount=shares_amount
                )
            with unit_of_work() as work:
                cover = giving.check_donation(donation)
            if isinstance(work.error, campaigns.CampaignNotOpen):
                return _campaign_closed(campaign)
            if work.error is not None:
                show_donation_error(form, work.error)
            else:
                payload = sign_donation(donation, uuid.uuid4().hex)
                return _review(donation, cover, payload=payload, notice=amount_note)
    return _form_page(
        page,
        form,
        campaign=campaign,
        appeal=appeal,
        supporter_page=supporter_page,
        shares_amount=shares_amount,
    )


@bp.route("/<slug>", methods=["GET", "POST"])
@public
def campaign(slug: str):
    """A campaign's page: its story, image and progress above the donation form, whose
    gifts go to the campaign; once it is over, a note that sends donors to general giving."""
    found = campaigns.campaign_by_slug(slug)
    if found is None:
        abort(404)
    if found.status == CampaignStatus.DRAFT:  # not public yet: nothing to give to
        return _campaign_closed(None, 404)
    if not campaigns.accepts_gifts(found):
        return _campaign_closed(found)
    page = giving.donation_page()
    if page is None:
        return render_template("give/closed.html")
    if request.method == "POST":
        return _submitted(page, found)
    appeal = appeal_from_link(request.args.get("appeal"))
    if any(name in request.args for name in CHOSEN_FIELDS):  # sent on by the campaign's embed
        return _form_page(page, _chosen(page, found), campaign=found, appeal=appeal)
    return _form_page(page, campaign=found, appeal=appeal)


def _chosen(page: giving.DonationPage, campaign: Campaign) -> DonationForm:
    """The campaign's form with the amount and how often chosen in its embed, the amount
    checked as a posted one is (a problem shows next to its field); the donor goes on here."""
    form = chosen_form(page, request.args, campaign_values(page, campaign))
    amount_from_form(form, page.settings, page.currency)
    return form


@bp.get("/<slug>/embed")
@public
def campaign_embed(slug: str):
    """A campaign's compact donation form that the sites the organisation lists may frame:
    its name, progress, amount and how often. It sends the donor's choice (a GET, in the top
    window) to the campaign's page, where the full form goes on: no cookie is needed here."""
    found = campaigns.campaign_by_slug(slug)
    if found is None:
        abort(404)
    page = giving.donation_page()
    appeal = appeal_from_link(request.args.get("appeal"))
    status, context = 200, {"campaign": found, "progress": None, "fields": None, "appeal": appeal}
    if found.status == CampaignStatus.DRAFT:  # not public yet: nothing to show of it
        status, context["campaign"] = 404, None
    elif campaigns.accepts_gifts(found) and page is not None:
        controls = donation_controls(page, blank_values(page))
        context["fields"] = draw_fields(controls, compact=True)
    if context["campaign"] is not None:
        context["progress"] = campaigns.campaign_progress(found)
    response = make_response(render_template("give/embed.html", **context), status)
    return allow_framing(response, embed_frame_ancestors())


@bp.route("/<slug>/p/<page_slug>", methods=["GET", "POST"])
@public
def supporter_page(slug: str, page_slug: str):
    """A supporter's page: their photo, story and progress above the campaign's donation
    form, whose gifts count for the page and the campaign. Not public until approved."""
    found = campaigns.public_page(slug, page_slug)
    if found is None:
        abort(404)
    campaign = found.campaign
    if not campaigns.accepts_gifts(campaign):
        return _campaign_closed(campaign)
    page = giving.donation_page()
    if page is None:
        return render_template("give/closed.html")
    if request.method != "POST":
        appeal = appeal_from_link(request.args.get("appeal"))
        return _form_page(page, campaign=campaign, appeal=appeal, supporter_page=found)
    return _submitted(page, campaign, found)


@bp.post("/checkout")
@public
@limiter.limit(_checkout_limit)
def checkout():
    """Record the pending gift, then send the donor to Stripe's payment page."""
    donation, attempt_id, payload = signed_donation()
    with unit_of_work() as work:
        gift = giving.prepare_checkout(donation=donation, attempt_id=attempt_id)
    if work.error is not None:
        return _edit_after_error(donation, work.error)
    if gift.status in (GiftStatus.PAID, GiftStatus.PROCESSING):
        return redirect(_thanks_url(gift), 303)
    if gift.status != GiftStatus.PENDING:
        fresh = sign_donation(donation, uuid.uuid4().hex)
        return _review(donation, cover_of(gift), payload=fresh, notice=ATTEMPT_CLOSED)
    token = giving.gift_token(gift)
    with unit_of_work(errors=(GatewayError,)) as opened:
        session = giving.open_checkout_session(
            gift=gift,
            gateway=payments.get_gateway(),
            success_url=absolute_url("give.thanks", token=token),
            cancel_url=absolute_url("give.cancelled", token=token),
        )
        if not session.url:  # e.g. a session made for an embedded form: nowhere to send the donor
            opened.discard()  # the gift stays pending, with no session that cannot be paid
    if opened.error is not None:
        log.warning("could not open a checkout for gift %s: %s", gift.id, opened.error.message)
        return _review(donation, cover_of(gift), payload=payload, message=GATEWAY_TROUBLE)
    if not opened.ok:
        log.warning("checkout session %s for gift %s came without a url", session.id, gift.id)
        return _problem(NO_PAYMENT_PAGE, 502, heading="We could not open the payment page")
    return redirect(session.url, 303)


@bp.get("/thanks/<token>")
@public
def thanks(token: str):
    """Thank the donor, or say that the payment is still being confirmed."""
    gift = _gift_or_404(token)
    plan = gift.plan
    receipt = receipts.valid_receipt_for_gift(gift.id)
    response = make_response(
        render_template(
            "give/thanks.html",
            gift=gift,
            receipt=receipt,
            receipt_url=url_for(
                "receipts_public.download", token=receipt_delivery.receipt_token(receipt)
            )
            if receipt is not None
            else None,
            monthly=gift.frequency == Frequency.MONTHLY,
            plan_token=giving.plan_token(plan) if plan is not None else None,
            plan_cancelled=plan is not None and plan.status == PlanStatus.CANCELLED,
        )
    )
    if gift.status == GiftStatus.PENDING:
        response.headers["Refresh"] = "5"  # no script needed (and none allowed)
    return response


@bp.get("/cancelled/<token>")
@public
def cancelled(token: str):
    """Tell the donor who left the payment page that nothing was charged."""
    gift = _gift_or_404(token)
    return render_template("give/cancelled.html", gift=gift, token=token)


@bp.get("/manage/<token>")
@public
def manage_plan(token: str):
    """Open Stripe's billing portal, where the donor changes the card or stops the gift."""
    with unit_of_work(errors=(DomainError, GatewayError), read_only=True) as work:
        plan = giving.plan_for_token(token)
        url = giving.portal_url(
            plan=plan,
            gateway=payments.get_gateway(),
            return_url=absolute_url("give.index"),
        )
    if isinstance(work.error, NotFound):
        return _problem(work.error.message, 404)
    if isinstance(work.error, DomainError):
        return _problem(work.error.message)
    if isinstance(work.error, GatewayError):
        log.warning("could not open the billing portal: %s", work.error.message)
        return _problem(PORTAL_TROUBLE, 503)
    return redirect(url, 303)


# --- test mode: the local stand-ins for Stripe's pages -------------------------


@bp.route("/test-checkout/<id>", methods=["GET", "POST"])
@public
def test_checkout(id: str):  # the name payments.py builds the address with
    """Show the local test payment page; pay or cancel the test checkout."""
    _require_test_mode()
    try:
        session = payments.test_checkout_session(id)
    except NotFound:
        abort(404)
    form = TestPaymentForm()
    if form.validate_on_submit():
        paying = form.action.data == "pay"
        with unit_of_work(form) as work:
            payments.complete_test_checkout(session_id=id, outcome="paid" if paying else "cancel")
        if work.ok:
            return redirect(session["success_url" if paying else "cancel_url"], 303)
    elif form.is_submitted():
        form.form_errors.extend(form.action.errors)
    return render_template("give/test_checkout.html", session=session, form=form)


@bp.route("/test-portal/<customer>", methods=["GET", "POST"])
@public
def test_portal(customer: str):
    """Show the local stand-in for Stripe's billing portal, where a monthly gift stops."""
    _require_test_mode()
    try:
        plan = payments.plan_for_customer(customer)
    except NotFound:
        abort(404)
    form = EmptyForm()
    cancelled = plan.status == PlanStatus.CANCELLED
    if form.validate_on_submit():
        if cancelled:  # a second click: Stripe would refuse to cancel twice
            flash("Your monthly gift is already cancelled.", "info")
            return redirect(url_for("give.test_portal", customer=customer), 303)
        with unit_of_work(flash_errors=True) as work:
            payments.cancel_test_plan(plan=plan)
        if work.ok:
            flash("Your monthly gift is cancelled. No more payments will be taken.", "success")
        return redirect(url_for("give.test_portal", customer=customer), 303)
    return render_template("give/test_portal.html", plan=plan, form=form, cancelled=cancelled)
