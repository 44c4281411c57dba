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
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import BooleanField, RadioField, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from donations.authz import roles_required
from donations.extensions import db
from donations.forms import EmptyForm, strip_text
from donations.models import InKindGift, Receipt, ReceiptKind, ReceiptStatus, Role
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
STATUS_LABELS = {ReceiptStatus.VALID.value: "Valid", ReceiptStatus.VOID.value: "Void"}


# --- forms ---------------------------------------------------------------------


class ReceiptFilterForm(FlaskForm):
    """The filters above the receipts list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice("", "All kinds"),
            *(SelectChoice(k.value, k.label) for k in ReceiptKind),
        ],
        default="",
    )
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Valid and void"),
            *(SelectChoice(v, lbl) for v, lbl in STATUS_LABELS.items()),
        ],
        default="",
    )
    year = SelectField("Fiscal year", choices=[SelectChoice("", "All years")], default="")
    donor = SearchField(
        "Donor name", filters=[strip_text], validators=[Length(max=files.SEARCH_MAX_LENGTH)]
    )
    number = SearchField(
        "Receipt number",
        filters=[strip_text],
        validators=[Length(max=files.SEARCH_MAX_LENGTH)],
        description="All or part of it, such as 2026-000042 or 42.",
    )


class VoidForm(FlaskForm):
    reason = TextAreaField(
        "Why is this receipt void?",
        filters=[strip_text],
        validators=[
            DataRequired(message="Say why the receipt is void."),
            Length(max=receipts.VOID_REASON_MAX_LENGTH),
        ],
        description=(
            "Printed on the voided PDF and kept in the history, such as “Wrong donor name”."
        ),
    )


def _account_field(name: str) -> StringField:
    label = files.ACCOUNT_FIELDS[name]
    return StringField(
        label,
        filters=[strip_text],
        validators=[
            DataRequired(message=f"Enter the name of the {label.lower()} account."),
            Length(max=files.ACCOUNT_MAX_LENGTH),
        ],
    )


class ReceiptSettingsForm(FlaskForm):
    per_gift_receipts = BooleanField(
        "Issue a receipt for each gift",
        description=(
            "Off: donors get no receipt per gift, only the year-end statement listing "
            "all their gifts of the year."
        ),
    )
    page_size = RadioField(
        "Paper size",
        choices=[SelectChoice(v, label) for v, label in files.PAGE_SIZES.items()],
        validators=[DataRequired(message="Choose Letter or A4.")],
    )
    logo = FileField(
        "Logo",
        description=(
            f"A PNG or JPEG of at most {files.LOGO_MAX_BYTES // 1024} KB, printed at the top "
            "of every receipt. Leave empty to keep the current logo."
        ),
    )
    remove_logo = BooleanField("Remove the logo")
    account_bank = _account_field("account_bank")
    account_clearing = _account_field("account_clearing")
    account_fees = _account_field("account_fees")
    account_income = _account_field("account_income")
    account_in_kind = _account_field("account_in_kind")
    account_refunds = _account_field("account_refunds")


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


def _download_name(receipt: Receipt) -> str:
    """The PDF's file name; a void one ends in -VOID.pdf, as in the year-end ZIP."""
    name = files.receipt_filename(receipt)
    return name.removesuffix(".pdf") + "-VOID.pdf" if receipt.is_void else name


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
            filename=_download_name(receipt),
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
    return _pdf_response(data, _download_name(receipt))


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
    in_kind = db.session.get(InKindGift, in_kind_id)
    if in_kind is None:
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
    logo_src = None
    if current.logo:
        encoded = base64.b64encode(current.logo).decode("ascii")
        logo_src = f"data:{current.logo_content_type or 'image/png'};base64,{encoded}"
    return (
        render_template(
            "receipts/settings.html",
            form=form,
            settings=current,
            logo_src=logo_src,
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
