"""Goods files: CSV import of an intake list, CSV exports of the ledger and stock levels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from donations.authz import ANY_ROLE, roles_required
from donations.blueprints.inventory_files_forms import (
    DonorSearchForm,
    ImportForm,
    LedgerExportForm,
    StockExportForm,
    all_site_choices,
    choice_id,
)
from donations.models import Donor, Role, StockDocument
from donations.ranges import id_arg
from donations.services import donors, inventory
from donations.services import inventory_files as files
from donations.unit_of_work import unit_of_work

bp = Blueprint("inventory_files", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
DONOR_CHOICES_LIMIT = 20


# --- helpers -------------------------------------------------------------------


def _donor_search(donor: Donor | None) -> dict[str, Any]:
    search = DonorSearchForm(request.args)
    q = (search.q.data or "") if search.validate() else ""
    show_names = donors.sees_donor_names(current_user.role)
    results = (
        donors.lookup_donors_by_name(text=q, limit=DONOR_CHOICES_LIMIT + 1, show_names=show_names)
        if q
        else None
    )
    return {
        "show": donor is None or bool(q) or "change_donor" in request.args,
        "search": search,
        "q": q,
        "results": results[:DONOR_CHOICES_LIMIT] if results is not None else None,
        "more": results is not None and len(results) > DONOR_CHOICES_LIMIT,
    }


def _csv_response(chunks: Iterator[str], kind: str) -> Response:
    """Stream CSV text as it is made: never the whole file in memory."""
    response = Response(stream_with_context(chunks), mimetype="text/csv; charset=utf-8")
    filename = files.export_filename(kind)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- import --------------------------------------------------------------------


def _import_form() -> ImportForm:
    form = ImportForm()
    form.set_sites(inventory.sites_open_first(active_only=True))
    if not form.is_submitted():
        form.donor_id.data = id_arg("donor_id")
        if form.donor_id.data:
            form.source.data = "donor"
    return form


def _check_import(form: ImportForm, *, recording: bool) -> tuple[bool, files.IntakeList | None]:
    """Check the header and read the list (the upload, or the checked lines posted back)."""
    header_ok = form.validate()
    if header_ok:
        with unit_of_work(form, read_only=True) as check:
            files.check_intake_header(form.header())
        header_ok = check.ok
    intake: files.IntakeList | None = None
    with unit_of_work(form, read_only=True):
        if recording:
            intake = files.parse_intake_text(form.rows.data or "")
        else:
            intake = files.read_intake_csv(data=form.uploaded_bytes())
    return header_ok, intake


def _recorded(document: StockDocument, intake: files.IntakeList) -> str:
    lines, units = len(intake.lines), intake.units
    return (
        f"Recorded intake {document.number}: {lines} line{'' if lines == 1 else 's'}, "
        f"{units:,} unit{'' if units == 1 else 's'}."
    )


def _render_import(form: ImportForm, intake: files.IntakeList | None, *, recording: bool):
    donor = files.intake_donor(form.donor_id.data)
    ready = intake is not None and intake.ok and not form.errors and not form.form_errors
    status = 200 if not form.is_submitted() or ready else 400
    return (
        render_template(
            "inventory_files/import.html",
            form=form,
            intake=intake,
            ready=ready,
            recording=recording,
            donor=donor,
            choice=_donor_search(donor) if not form.is_submitted() else None,
            site=inventory.find_site(choice_id(form.site_id.data)) if ready else None,
            source_labels=inventory.SOURCE_LABELS,
            here="import",
        ),
        status,
    )


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def import_intake():
    """Check an uploaded intake list row by row; record it only once every row is right."""
    form = _import_form()
    intake: files.IntakeList | None = None
    recording = form.is_submitted() and "record" in request.form
    if form.is_submitted():
        header_ok, intake = _check_import(form, recording=recording)
        if recording and header_ok and intake is not None and intake.ok:
            with unit_of_work(form) as work:
                document = files.record_intake_list(
                    actor=current_user, header=form.header(), intake=intake
                )
            if work.ok:
                flash(_recorded(document, intake), "success")
                return redirect(url_for("inventory.document", document_id=document.id))
    return _render_import(form, intake, recording=recording)


# --- exports -------------------------------------------------------------------


def _export_forms() -> tuple[LedgerExportForm, StockExportForm]:
    ledger = LedgerExportForm(request.args)
    ledger.site.choices = all_site_choices(inventory.sites_open_first(active_only=False))
    stock = StockExportForm(request.args)
    stock.site.choices = ledger.site.choices
    # Both forms have a "site" query argument; their selects need their own ids.
    stock.site.id = stock.site.label.field_id = "stock-site"
    return ledger, stock


def _render_export(ledger: LedgerExportForm, stock: StockExportForm, status: int = 200):
    return (
        render_template("inventory_files/export.html", ledger=ledger, stock=stock, here="export"),
        status,
    )


@bp.get("/export")
@roles_required(*ANY_ROLE)
def export():
    """Offer the ledger and stock levels as CSV files, with filters for the ledger."""
    ledger, stock = _export_forms()
    return _render_export(ledger, stock)


@bp.get("/export/ledger.csv")
@roles_required(*ANY_ROLE)
def export_ledger():
    """Stream every ledger entry matching the filters as a CSV file."""
    ledger, stock = _export_forms()
    if not ledger.validate():
        return _render_export(ledger, stock, 400)
    chunks = files.ledger_csv(
        date_from=ledger.date_from.data,
        date_to=ledger.date_to.data,
        site_id=choice_id(ledger.site.data),
        item_id=ledger.item_id,
        show_names=donors.sees_donor_names(current_user.role),
    )
    return _csv_response(chunks, "ledger")


@bp.get("/export/stock.csv")
@roles_required(*ANY_ROLE)
def export_stock():
    """Stream the stock level of every item at every site as a CSV file."""
    ledger, stock = _export_forms()
    if not stock.validate():
        return _render_export(ledger, stock, 400)
    rows = files.stock_rows(site_id=choice_id(stock.site.data))
    return _csv_response(files.csv_chunks(rows), "stock")
