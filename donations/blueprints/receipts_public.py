"""Public receipt pages: verify a receipt by its code, donor links, donor self-service."""

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

from donations.authz import public
from donations.blueprints.receipts_public_forms import GiftsLinkForm
from donations.blueprints.secret_pages import private
from donations.errors import render_error
from donations.extensions import limiter
from donations.services import receipt_delivery, receipt_files, receipts
from donations.services.giving import plan_token
from donations.unit_of_work import unit_of_work

bp = Blueprint("receipts_public", __name__)

RENDER_MODULE = "donations.pdf.render"
LINK_SENT = (
    "If we have gifts under that address, we have sent a link to it. "
    "It works for one hour; check your spam folder if it does not arrive."
)


# The same page for a link that expired and one that was never valid.
LINK_GONE = (
    "This link to your gifts no longer works: links work for one hour, "
    "and the whole link must be copied. Ask for a new one with your email."
)
NEW_LINK = "Email me a new link"


def _self_service_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.get("/verify")
@bp.get("/verify/<code>")
@public
def verify(code: str | None = None):
    """Confirm a receipt's number, date, amount and status, and nothing else."""
    code = code or request.args.get("code", "")
    result = receipts.verify_code(code) if code else None
    status = 404 if code and result is None else 200
    return render_template("receipts_public/verify.html", code=code, result=result), status


@bp.get("/r/<token>")
@public
def download(token: str):
    """Send the receipt a donor's emailed link names; any bad link is simply not found."""
    receipt = receipt_delivery.receipt_for_token(token)
    if receipt is None:
        abort(404)
    try:
        data = receipt_files.receipt_pdf(receipt)
    except ModuleNotFoundError as error:
        if error.name != RENDER_MODULE:
            raise
        return render_error(503, "Receipts cannot be downloaded just now. Try again later.")
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    filename = receipt_files.receipt_filename(receipt)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return private(response)


@bp.route("/my-gifts", methods=["GET", "POST"])
@public
@limiter.limit(_self_service_limit, methods=["POST"])
def request_link():
    """Email a donor a link to their gifts, without saying whether the address is known."""
    form = GiftsLinkForm()
    if form.validate_on_submit():
        with unit_of_work():
            receipt_delivery.request_gifts_link(email=form.email.data)
        flash(LINK_SENT, "info")
        return redirect(url_for("receipts_public.request_link"))
    status = 400 if form.errors else 200
    return render_template("receipts_public/request_link.html", form=form), status


@bp.get("/my-gifts/<token>")
@public
def my_gifts(token: str):
    """Show a donor their gifts, receipts and monthly gifts, from an emailed link."""
    donors = receipt_delivery.donors_for_token(token)
    if not donors:
        return render_error(404, LINK_GONE, (url_for("receipts_public.request_link"), NEW_LINK))
    page = receipt_delivery.donor_gifts(donors)
    response = make_response(
        render_template(
            "receipts_public/my_gifts.html",
            page=page,
            receipt_token=receipt_delivery.receipt_token,
            plan_token=plan_token,
        )
    )
    return private(response)
