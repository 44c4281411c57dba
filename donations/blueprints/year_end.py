"""Year-end statements: start a run for a tax year (calendar or fiscal) and follow its
progress; a ZIP of every receipt issued in a period."""

from __future__ import annotations

import logging
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.year_end_forms import DonorStatementForm, StartForm, start_form
from donations.jobs import year_end_queue
from donations.models import Role, StatementBasis, YearEndStatus
from donations.services import receipt_archive, year_end
from donations.services import receipts as receipt_service
from donations.services.errors import DomainError, NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("year_end", __name__, url_prefix="/receipts/year-end")

BOOKS = (Role.ADMIN, Role.TREASURER)
RUNS_SHOWN = 30
STATEMENTS_SHOWN = 500
REFRESH_SECONDS = 2
log = logging.getLogger(__name__)


def _start_form(**kwargs) -> StartForm:
    return start_form(
        year_end.years_with_gifts(),
        year_end.default_tax_year(),
        year_end.start_month_or_default(),
        **kwargs,
    )


def _index_page(form: StartForm, *, status: int = 200, zip_error: str = "", zip_notice: str = ""):
    runs = year_end.recent_runs(RUNS_SHOWN)
    start, end = year_end.default_zip_period()
    return (
        render_template(
            "year_end/index.html",
            form=form,
            runs=runs,
            is_alive=year_end.is_alive,
            label=year_end.run_label,
            bases_coincide=year_end.bases_coincide(),
            fiscal_example=year_end.fiscal_example(),
            org_ready=year_end.organization_ready(),
            zip_from=request.args.get("from", start.isoformat()),
            zip_to=request.args.get("to", end.isoformat()),
            zip_error=zip_error,
            zip_notice=zip_notice,
        ),
        status,
    )


@bp.get("/")
@roles_required(*BOOKS)
def index():
    """Choose a tax year to send statements for; see past runs."""
    return _index_page(_start_form())


@bp.post("/preview")
@roles_required(*BOOKS)
def preview():
    """What a run would do: the donors, the count, the totals, mail and post; no number taken."""
    form = _start_form()
    if not form.validate_on_submit():
        return _index_page(form, status=400)
    with unit_of_work(form) as work:
        summary = year_end.preview_run(
            tax_year=form.tax_year.data,
            basis=form.basis.data,
            open_confirmed=form.confirm_open.data,
        )
        work.discard()  # nothing to keep: a preview stores nothing
    if work.error is not None:
        return _index_page(form, status=400)
    return render_template(
        "year_end/preview.html",
        preview=summary,
        form=form,
        basis_label=StatementBasis(summary.basis).label,
        bases_coincide=year_end.bases_coincide(),
    )


@bp.get("/preview/sample.pdf")
@roles_required(*BOOKS)
def sample_pdf():
    """One donor's statement as it would be issued, marked "PREVIEW — not issued"."""
    try:
        tax_year = int(request.args.get("tax_year", ""))
        donor_id = int(request.args["donor"]) if request.args.get("donor") else None
    except ValueError:
        abort(404)
    with unit_of_work(flash_errors=True) as work:
        _donor, data = year_end.sample_statement_pdf(
            tax_year=tax_year,
            basis=request.args.get("basis", StatementBasis.FISCAL.value),
            open_confirmed=request.args.get("confirm_open") == "y",
            donor_id=donor_id,
        )
        work.discard()  # nothing to keep: a preview stores nothing
    if work.error is not None:
        return redirect(url_for(".index"))
    return _pdf_response(data, f"statement-preview-{tax_year}.pdf")


def _pdf_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/start")
@roles_required(*BOOKS)
def start():
    """Start (or continue) the statements of a tax year, in the background."""
    form = _start_form()
    if not form.validate_on_submit():
        return _index_page(form, status=400)
    with unit_of_work(form) as work:
        run = year_end.start_run(
            actor=current_user,
            tax_year=form.tax_year.data,
            basis=form.basis.data,
            open_confirmed=form.confirm_open.data,
        )
        year_end_queue.launch(run.id)  # the queue takes it once this commits
    if not work.ok:
        return _index_page(form, status=400)
    return redirect(url_for(".run", run_id=run.id))


@bp.get("/<int:run_id>")
@roles_required(*BOOKS)
def run(run_id: int):
    """One run's progress; the page reloads itself while the run is going."""
    try:
        run = year_end.get_run(run_id)
    except NotFound:
        abort(404)
    alive = year_end.is_alive(run)
    mail_link = (url_for("admin.outgoing_mail"), "Outgoing mail")
    return render_template(
        "year_end/run.html",
        run=run,
        alive=alive,
        stale=run.status == YearEndStatus.RUNNING and not alive,
        refresh=REFRESH_SECONDS if alive else None,
        label=year_end.run_label(run),
        basis_label=StatementBasis(run.basis).label,
        can_continue=not alive and run.status != YearEndStatus.DONE,
        mail_link=mail_link,
        statements=year_end.run_statements(run.id, limit=STATEMENTS_SHOWN),
        statements_shown=STATEMENTS_SHOWN,
    )


def _parse_day(value: str | None, what: str) -> date:
    if not value:
        raise ValueError(f"Give the {what} date of the period, as YYYY-MM-DD.")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"“{value[:40]}” is not a date; write the {what} date as YYYY-MM-DD."
        ) from None


@bp.get("/zip")
@roles_required(*BOOKS)
def receipts_zip():
    """Every receipt issued in a period, one PDF each, in a ZIP streamed as it is made."""
    with unit_of_work(errors=(ValueError, DomainError), read_only=True) as work:
        start = _parse_day(request.args.get("from"), "first")
        end = _parse_day(request.args.get("to"), "last")
        ids = receipt_archive.receipts_issued_between(start, end)
    if isinstance(work.error, DomainError):
        return _index_page(_start_form(), status=400, zip_error=work.error.message)
    if work.error is not None:
        return _index_page(_start_form(), status=400, zip_error=str(work.error))
    if not ids:
        return _index_page(
            _start_form(),
            zip_notice=f"No receipts were issued from {start:%B %-d, %Y} to {end:%B %-d, %Y}.",
        )
    name = f"receipts-{start.isoformat()}-to-{end.isoformat()}.zip"
    return Response(
        stream_with_context(receipt_archive.stream_receipts_zip(ids)),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# --- one donor's statement over any dates --------------------------------------------


def _donor_or_404(donor_id: int):
    try:
        return year_end.get_donor(donor_id)
    except NotFound:
        abort(404)


def _donor_page(donor, form: DonorStatementForm, *, draft=None, status: int = 200):
    return (
        render_template(
            "year_end/donor.html",
            donor=donor,
            form=form,
            draft=draft,
            label=receipt_service.range_label(draft.start, draft.end) if draft else "",
        ),
        status,
    )


@bp.get("/donor/<int:donor_id>")
@roles_required(*BOOKS)
def donor_statement(donor_id: int):
    """Choose the dates of one donor's statement."""
    donor = _donor_or_404(donor_id)
    form = DonorStatementForm()
    if form.start.data is None and form.end.data is None:
        today = date.today()
        form.start.data, form.end.data = date(today.year, 1, 1), today
    return _donor_page(donor, form)[0]


@bp.post("/donor/<int:donor_id>/preview")
@roles_required(*BOOKS)
def donor_statement_preview(donor_id: int):
    """What the statement would list: every gift of the range with its deductible amount."""
    donor = _donor_or_404(donor_id)
    form = DonorStatementForm()
    if not form.validate_on_submit():
        return _donor_page(donor, form, status=400)
    with unit_of_work(form) as work:
        draft = year_end.preview_donor_statement(
            donor_id=donor.id, start=form.start.data, end=form.end.data
        )
        work.discard()  # nothing to keep: a preview stores nothing
    if work.error is not None:
        return _donor_page(donor, form, status=400)
    return _donor_page(donor, form, draft=draft)


@bp.get("/donor/<int:donor_id>/preview.pdf")
@roles_required(*BOOKS)
def donor_statement_pdf(donor_id: int):
    """The statement as it would be issued, marked "PREVIEW — not issued"."""
    donor = _donor_or_404(donor_id)
    with unit_of_work(errors=(ValueError, DomainError), flash_errors=True) as work:
        start = _parse_day(request.args.get("start"), "first")
        end = _parse_day(request.args.get("end"), "last")
        data = year_end.donor_statement_pdf(donor_id=donor.id, start=start, end=end)
        work.discard()  # nothing to keep: a preview stores nothing
    if work.error is not None:
        if not isinstance(work.error, DomainError):
            flash(str(work.error), "error")
        return redirect(url_for(".donor_statement", donor_id=donor.id))
    return _pdf_response(data, f"statement-preview-{start.isoformat()}-to-{end.isoformat()}.pdf")


@bp.post("/donor/<int:donor_id>/issue")
@roles_required(*BOOKS)
def donor_statement_issue(donor_id: int):
    """Issue the numbered statement; email it or leave it to download from its page."""
    donor = _donor_or_404(donor_id)
    form = DonorStatementForm()
    if not form.validate_on_submit():
        return _donor_page(donor, form, status=400)
    with unit_of_work(form) as work:
        receipt = year_end.issue_donor_statement(
            actor=current_user,
            donor_id=donor.id,
            start=form.start.data,
            end=form.end.data,
            email=form.email.data,
        )
    if not work.ok:
        return _donor_page(donor, form, status=400)
    if receipt.delivery == "email":
        flash(f"Statement {receipt.number} issued and emailed to {donor.email}.", "success")
    else:
        flash(f"Statement {receipt.number} issued; download its PDF below.", "success")
    return redirect(url_for("receipts.detail", receipt_id=receipt.id))
