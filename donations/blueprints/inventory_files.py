"""Goods files: CSV import of an intake list, CSV exports of the ledger and stock levels."""

from __future__ import annotations

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
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    DateField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from donations.authz import ANY_ROLE, roles_required
from donations.extensions import db
from donations.forms import strip_text
from donations.models import Donor, Role, Site, utcnow
from donations.ranges import NO_SUCH_DONOR, BoundedIntegerField, id_arg, parse_id
from donations.services import donors, inventory
from donations.services import inventory_files as files
from donations.services.errors import InvalidInput, NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("inventory_files", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
DONOR_CHOICES_LIMIT = 20
SEARCH_MAX_LENGTH = 100


# --- forms ---------------------------------------------------------------------


class ImportForm(FlaskForm):
    """The intake list and what is true of all of it. Posted twice: to check, then to record."""

    csv_file = FileField(
        "The list, as a CSV file",
        description=(
            f"At most {files.ROWS_MAX:,} rows and {files.UPLOAD_MAX_BYTES // 1_000_000} MB. "
            "Columns: code (or item and size), quantity, condition."
        ),
    )
    site_id = SelectField("Received at", validators=[DataRequired(message="Choose the site.")])
    effective_date = DateField(
        "Date received",
        default=lambda: utcnow().date(),
        validators=[InputRequired(message="Enter the date, such as 2026-03-31.")],
    )
    source = SelectField(
        "Where the goods came from",
        choices=[
            SelectChoice("anonymous", inventory.SOURCE_LABELS["anonymous"]),
            SelectChoice("drive", inventory.SOURCE_LABELS["drive"]),
            SelectChoice("donor", inventory.SOURCE_LABELS["donor"] + " (chosen above)"),
        ],
        default="anonymous",
    )
    drive_name = StringField(
        "Name of the drive",
        filters=[strip_text],
        validators=[Length(max=inventory.DRIVE_NAME_MAX_LENGTH)],
        description="For a collection drive only, such as Lincoln High coat drive.",
    )
    donor_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=NO_SUCH_DONOR
    )
    note = TextAreaField(
        "Note", filters=[strip_text], validators=[Length(max=inventory.NOTE_MAX_LENGTH)]
    )
    # The checked list (code, quantity, condition), posted back to record it.
    rows = HiddenField()


class DonorSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        "Find the donor by name",
        filters=[strip_text],
        validators=[Length(max=SEARCH_MAX_LENGTH)],
    )


class LedgerExportForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField("Dated from", validators=[Optional()])
    date_to = DateField("Dated to", validators=[Optional()])
    site = SelectField("Site", default="")
    item = StringField(
        "Item code",
        filters=[strip_text],
        validators=[Length(max=40)],
        description="Leave empty for every item, or type or scan a label code such as SOCKS-M.",
    )

    item_id: int | None = None

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def validate_item(self, field: StringField) -> None:
        if field.data:
            found = inventory.find_item_by_code(field.data)
            if found is None:
                raise ValidationError(f"No item has the code {field.data}.")
            self.item_id = found.id


class StockExportForm(FlaskForm):
    class Meta:
        csrf = False

    site = SelectField("Site", default="")


# --- helpers -------------------------------------------------------------------


def _sites(*, active_only: bool) -> list[Site]:
    query = select(Site).order_by(Site.active.desc(), Site.name)
    if active_only:
        query = query.where(Site.active.is_(True))
    return list(db.session.scalars(query))


def _all_site_choices() -> list[SelectChoice]:
    return [SelectChoice("", "All sites")] + [
        SelectChoice(str(s.id), s.name + ("" if s.active else " (closed)"))
        for s in _sites(active_only=False)
    ]


def _int(value: Any) -> int | None:
    return parse_id(value) if isinstance(value, str) else None


def _header(form: ImportForm) -> files.IntakeHeader:
    return files.IntakeHeader(
        site_id=_int(form.site_id.data),
        effective_date=form.effective_date.data,
        source=form.source.data or "",
        drive_name=form.drive_name.data or "",
        donor_id=form.donor_id.data,
        note=form.note.data or "",
    )


def _uploaded_bytes(form: ImportForm) -> bytes:
    storage = form.csv_file.data
    if storage is None or not getattr(storage, "filename", ""):
        raise InvalidInput("Choose the CSV file to import.", field=files.FILE_FIELD)
    return storage.stream.read(files.UPLOAD_MAX_BYTES + 1)


def _donor(donor_id: int | None) -> Donor | None:
    if not donor_id:
        return None
    try:
        donor = donors.get_donor(donor_id)
    except NotFound:
        return None
    if donor.merged_into_id is not None:
        return db.session.get(Donor, donor.merged_into_id)
    return donor


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


def _csv_response(rows, kind: str) -> Response:
    response = Response(
        stream_with_context(files.csv_chunks(rows)), mimetype="text/csv; charset=utf-8"
    )
    filename = files.export_filename(kind)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- import --------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def import_intake():
    """Check an uploaded intake list row by row; record it only once every row is right."""
    form = ImportForm()
    form.site_id.choices = [SelectChoice("", "Choose a site")] + [
        SelectChoice(str(s.id), s.name) for s in _sites(active_only=True)
    ]
    if not form.is_submitted():
        form.donor_id.data = id_arg("donor_id")
        if form.donor_id.data:
            form.source.data = "donor"
    intake: files.IntakeList | None = None
    recording = form.is_submitted() and "record" in request.form
    if form.is_submitted():
        header_ok = form.validate()
        if header_ok:
            with unit_of_work(form, read_only=True) as check:
                files.check_intake_header(_header(form))
            header_ok = check.ok
        with unit_of_work(form, read_only=True):
            if recording:
                intake = files.parse_intake_text(form.rows.data or "")
            else:
                intake = files.read_intake_csv(data=_uploaded_bytes(form))
        if recording and header_ok and intake is not None and intake.ok:
            with unit_of_work(form) as work:
                document = files.record_intake_list(
                    actor=current_user, header=_header(form), intake=intake
                )
            if work.ok:
                flash(
                    f"Recorded intake {document.number}: {len(intake.lines)} "
                    f"line{'' if len(intake.lines) == 1 else 's'}, {intake.units:,} "
                    f"unit{'' if intake.units == 1 else 's'}.",
                    "success",
                )
                return redirect(url_for("inventory.document", document_id=document.id))
    donor = _donor(form.donor_id.data)
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
            site=db.session.get(Site, _int(form.site_id.data) or 0) if ready else None,
            source_labels=inventory.SOURCE_LABELS,
            here="import",
        ),
        status,
    )


# --- exports -------------------------------------------------------------------


def _export_forms() -> tuple[LedgerExportForm, StockExportForm]:
    ledger = LedgerExportForm(request.args)
    ledger.site.choices = _all_site_choices()
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
    rows = files.ledger_rows(
        date_from=ledger.date_from.data,
        date_to=ledger.date_to.data,
        site_id=_int(ledger.site.data),
        item_id=ledger.item_id,
        show_names=donors.sees_donor_names(current_user.role),
    )
    return _csv_response(rows, "ledger")


@bp.get("/export/stock.csv")
@roles_required(*ANY_ROLE)
def export_stock():
    """Stream the stock level of every item at every site as a CSV file."""
    ledger, stock = _export_forms()
    if not stock.validate():
        return _render_export(ledger, stock, 400)
    return _csv_response(files.stock_rows(site_id=_int(stock.site.data)), "stock")
