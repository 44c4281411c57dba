"""Treasurer receipts: the list, one receipt, its PDF, void and reissue; receipt settings."""

from __future__ import annotations

import base64
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from donations.authz import roles_required
from donations.blueprints.receipts_forms import (
    STATUS_LABELS,
    ReceiptFilterForm,
    ReceiptSettingsForm,
    VoidForm,
)
from donations.extensions import db
from donations.forms import EmptyForm
from donations.models import Receipt, ReceiptSettings, Role
from donations.ranges import page_arg
from donations.services import gifts as gift_service
from donations.services import receipt_delivery, receipts
from donations.services import receipt_files as files
from donations.services.errors import DomainError, NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("receipts", __name__)

BOOKS = (Role.ADMIN, Role.TREASURER)
RECEIPTS_PER_PAGE = 50
FILTER_PARAMS = ("kind", "status", "year", "donor", "number")
RENDER_MODULE = "donations.pdf.render"  # written by the PDF helper; absent until it lands


# --- helpers -------------------------------------------------------------------


def _page() -> int:
    return page_arg()


def _load(receipt_id: int) -> Receipt:
    try:
        return files.get_receipt(receipt_id)
    except NotFound:
        abort(404)


def _valid(field: Any) -> Any:
    return None if field.errors or field.data in ("", None) else field.data


def _filter_args() -> dict[str, str]:
    return {name: request.args[name] for name in FILTER_PARAMS if request.args.get(name)}


def _render_detail(receipt: Receipt, *, void_form: VoidForm | None = None, status: int = 200):
    replacement = receipts.replacement_of(receipt)
    return (
        render_template(
            "receipts/detail.html",
            receipt=receipt,
            content=receipts.content_of(receipt),
            replacement=replacement,
            can_reissue=receipt.is_void and replacement is None,
            void_form=void_form or VoidForm(formdata=None),
            action_form=EmptyForm(),
            history=files.receipt_history(receipt),
            filename=files.download_name(receipt),
        ),
        status,
    )


def _checked_post() -> None:
    """Refuse a one-button POST whose CSRF token does not hold."""
    if not EmptyForm().validate_on_submit():
        abort(400)


# --- the list and one receipt ----------------------------------------------------


@bp.get("/receipts/")
@roles_required(*BOOKS)
def index():
    """List receipts, newest first, narrowed by kind, status, year, donor or number."""
    form = ReceiptFilterForm(request.args)
    form.year.choices = [SelectChoice("", "All years")] + [
        SelectChoice(str(year), str(year)) for year in files.fiscal_years()
    ]
    form.validate()
    year = _valid(form.year)
    filters = files.ReceiptFilters(
        kind=_valid(form.kind),
        status=_valid(form.status),
        fiscal_year=int(year) if year else None,
        donor_name=_valid(form.donor) or "",
        number=_valid(form.number) or "",
    )
    page = db.paginate(
        files.receipts_query(filters),
        page=_page(),
        per_page=RECEIPTS_PER_PAGE,
        error_out=False,
    )
    return render_template(
        "receipts/index.html",
        form=form,
        page=page,
        filter_args=_filter_args(),
        filtered=filters != files.ReceiptFilters(),
        status_labels=STATUS_LABELS,
    )


@bp.get("/receipts/<int:receipt_id>")
@roles_required(*BOOKS)
def detail(receipt_id: int):
    """Show a receipt: what it says, who issued it, void and reissue, its history."""
    return _render_detail(_load(receipt_id))


@bp.get("/receipts/<int:receipt_id>.pdf")
@roles_required(*BOOKS)
def pdf(receipt_id: int):
    """Send the receipt's PDF, shown in the browser, saved under its number."""
    receipt = _load(receipt_id)
    try:
        data = files.receipt_pdf(receipt)
    except ModuleNotFoundError as error:
        if error.name != RENDER_MODULE:
            raise
        flash("Receipt PDFs cannot be made yet on this server.", "error")
        return redirect(url_for("receipts.detail", receipt_id=receipt.id))
    return _pdf_response(data, files.download_name(receipt))


def _pdf_response(data: bytes, filename: str) -> Response:
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- void, reissue, issue ------------------------------------------------------


@bp.post("/receipts/<int:receipt_id>/void")
@roles_required(*BOOKS)
def void(receipt_id: int):
    """Void a receipt, saying why; it keeps its number and its PDF says VOID."""
    receipt = _load(receipt_id)
    form = VoidForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            receipts.void_receipt(actor=current_user, receipt=receipt, reason=form.reason.data)
        if work.ok:
            flash(
                f"Receipt {receipt.number} is void. Reissue it if the donor should get "
                "a corrected one.",
                "success",
            )
            return redirect(url_for("receipts.detail", receipt_id=receipt.id))
    receipt = _load(receipt_id)
    return _render_detail(receipt, void_form=form, status=400)


def _sent(receipt) -> str:
    if receipt.delivery == "post":
        return "the donor has no email address, so print it and send it by post"
    return "it is on its way to the donor by email"


@bp.post("/receipts/<int:receipt_id>/reissue")
@roles_required(*BOOKS)
def reissue(receipt_id: int):
    """Issue a new receipt, with a new number, in place of a void one."""
    receipt = _load(receipt_id)
    _checked_post()
    with unit_of_work(flash_errors=True) as work:
        new = receipts.reissue_receipt(actor=current_user, receipt=receipt)
        receipt_delivery.send_receipt(new, actor=current_user)
    if not work.ok:
        return redirect(url_for("receipts.detail", receipt_id=receipt_id))
    flash(f"Issued {new.number} in place of {receipt.number}; {_sent(new)}.", "success")
    return redirect(url_for("receipts.detail", receipt_id=new.id))


@bp.post("/receipts/issue/gift/<int:gift_id>")
@roles_required(*BOOKS)
def issue_for_gift(gift_id: int):
    """Issue the receipt of a paid gift, from the gift's page."""
    try:
        gift = gift_service.get_gift(gift_id)
    except NotFound:
        abort(404)
    _checked_post()
    with unit_of_work(flash_errors=True) as work:
        receipt = receipts.issue_gift_receipt(actor=current_user, gift=gift)
        receipt_delivery.send_receipt(receipt, actor=current_user)
    if not work.ok:
        return redirect(url_for("gifts.detail", gift_id=gift_id))
    flash(f"Issued receipt {receipt.number} for gift #{gift_id}; {_sent(receipt)}.", "success")
    return redirect(url_for("receipts.detail", receipt_id=receipt.id))


@bp.post("/receipts/issue/in-kind/<int:in_kind_id>")
@roles_required(*BOOKS)
def issue_for_in_kind(in_kind_id: int):
    """Acknowledge goods from a donor, from the donor's page."""
    try:
        in_kind = files.get_in_kind_gift(in_kind_id)
    except NotFound:
        abort(404)
    donor_id = in_kind.donor_id
    _checked_post()
    with unit_of_work(flash_errors=True) as work:
        receipt = receipts.issue_in_kind_receipt(actor=current_user, in_kind=in_kind)
        receipt_delivery.send_receipt(receipt, actor=current_user)
    if not work.ok:
        return redirect(url_for("donors.detail", donor_id=donor_id))
    flash(f"Issued acknowledgement {receipt.number}; {_sent(receipt)}.", "success")
    return redirect(url_for("receipts.detail", receipt_id=receipt.id))


# --- settings ------------------------------------------------------------------


def _uploaded_logo(form: ReceiptSettingsForm) -> bytes | None:
    upload = form.logo.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return upload.read(files.LOGO_MAX_BYTES + 1)


def _logo_src(current: ReceiptSettings) -> str | None:
    """The logo as a data: URL for the settings page, or None without one."""
    if not current.logo:
        return None
    encoded = base64.b64encode(current.logo).decode("ascii")
    return f"data:{current.logo_content_type or 'image/png'};base64,{encoded}"


@bp.route("/admin/receipts", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    """Edit how receipts are issued and printed, and the journal's account names."""
    current = receipts.get_receipt_settings()
    form = ReceiptSettingsForm(data=files.settings_values(current))
    if form.validate_on_submit():
        values = {name: form[name].data for name in files.ACCOUNT_FIELDS}
        with unit_of_work(form) as work:
            files.update_receipt_settings(
                actor=current_user,
                per_gift_receipts=form.per_gift_receipts.data,
                page_size=form.page_size.data,
                logo=_uploaded_logo(form),
                remove_logo=form.remove_logo.data,
                **values,
            )
        if work.ok:
            flash("Receipt settings saved.", "success")
            return redirect(url_for("receipts.settings"))
    current = receipts.get_receipt_settings()
    return (
        render_template(
            "receipts/settings.html",
            form=form,
            settings=current,
            logo_src=_logo_src(current),
            account_fields=list(files.ACCOUNT_FIELDS),
        ),
        400 if form.errors or form.form_errors else 200,
    )


@bp.get("/admin/receipts/sample.pdf")
@roles_required(Role.ADMIN)
def sample_pdf():
    """Show a sample receipt to "Sample Donor" with the current settings; nothing is stored."""
    with unit_of_work(flash_errors=True, errors=(DomainError, ModuleNotFoundError)) as work:
        data = files.sample_pdf()
        work.discard()  # reading the settings may have created their row: keep nothing
    if isinstance(work.error, ModuleNotFoundError):
        if work.error.name != RENDER_MODULE:
            raise work.error
        flash("Receipt PDFs cannot be made yet on this server.", "error")
        return redirect(url_for("receipts.settings"))
    if work.error is not None:
        return redirect(url_for("receipts.settings"))
    return _pdf_response(data, "receipt-sample.pdf")
