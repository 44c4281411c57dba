"""The treasurer's books: reports with charts (page and PDF) and the CSV exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from wtforms.fields.choices import SelectChoice

from donations.authz import roles_required
from donations.blueprints.reports_forms import (
    GiftsExportForm,
    GrantForm,
    InKindExportForm,
    JournalExportForm,
    PeriodForm,
)
from donations.models import Role
from donations.ranges import parse_id
from donations.services import exports as export_service
from donations.services import gifts as gift_service
from donations.services import grant_report as grant_service
from donations.services import reports as report_service
from donations.services.exports.grant import grant_rows
from donations.services.grant_chart import grant_months_svg
from donations.services.report_charts import month_bars_svg
from donations.unit_of_work import unit_of_work

bp = Blueprint("reports", __name__, url_prefix="/reports")

BOOKS = (Role.ADMIN, Role.TREASURER)


# --- helpers -------------------------------------------------------------------


def _fund_choices() -> list[SelectChoice]:
    return [SelectChoice("", "All funds")] + [
        SelectChoice(str(fund.id), fund.name) for fund in gift_service.all_funds()
    ]


def _export_forms() -> dict[str, Any]:
    gifts = GiftsExportForm(request.args)
    gifts.fund.choices = _fund_choices()
    gifts.ids("gifts")
    journal = JournalExportForm(request.args)
    journal.fund.choices = gifts.fund.choices
    journal.ids("journal")
    in_kind = InKindExportForm(request.args)
    in_kind.ids("in-kind")
    return {"gifts": gifts, "journal": journal, "in_kind": in_kind}


def _render_exports(forms: dict[str, Any], status: int = 200):
    return render_template("reports/exports.html", **forms), status


def _gift_filters(form: GiftsExportForm | JournalExportForm) -> gift_service.GiftFilters:
    status = getattr(form, "status", None)
    # The gifts screen's own narrowing, passed on by its "Download as CSV" link.
    donor_id = request.args.get("donor_id", "")
    frequency = request.args.get("frequency", "")
    return gift_service.GiftFilters(
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        fund_id=int(form.fund.data) if form.fund.data else None,
        method=form.method.data or None,
        status=(status.data if status is not None else None) or gift_service.DEFAULT_STATUS,
        donor_id=parse_id(donor_id),
        donor_name=request.args.get("donor", "").strip()[:200],
        frequency=frequency if frequency in ("one_time", "monthly") else None,
    )


def _csv_response(chunks: Iterator[str], kind: str) -> Response:
    """Stream CSV text as it is made: never the whole file in memory."""
    response = Response(stream_with_context(chunks), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export_service.export_filename(kind)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _period() -> tuple[PeriodForm, report_service.Report | None]:
    """Read the period from the query string (this year by default); build the report."""
    form = PeriodForm(request.args)
    start, end = report_service.default_period()
    if not form.date_from.raw_data:
        form.date_from.data = start
    if not form.date_to.raw_data:
        form.date_to.data = end
    if not form.validate() or form.date_from.data is None or form.date_to.data is None:
        return form, None
    with unit_of_work(form, read_only=True) as work:
        report = report_service.build_report(
            date_from=form.date_from.data, date_to=form.date_to.data
        )
    if work.error is not None:
        return form, None
    return form, report


# --- the report ------------------------------------------------------------------


@bp.get("/")
@roles_required(*BOOKS)
def index():
    """Show gifts by month, fund and method, donor retention and goods for a period."""
    form, report = _period()
    chart = None
    if report is not None:
        chart = month_bars_svg(
            report.chart_months(), title=f"Gross and net gifts per month ({report.currency})"
        )
    return (
        render_template("reports/index.html", form=form, report=report, chart=chart),
        200 if report is not None else 400,
    )


@bp.get("/report.pdf")
@roles_required(*BOOKS)
def report_pdf():
    """Download the same report as a PDF."""
    form, report = _period()
    if report is None:
        return render_template("reports/index.html", form=form, report=None, chart=None), 400
    data = report_service.report_pdf(report=report)
    response = Response(data, mimetype="application/pdf")
    name = f"report-{report.date_from.isoformat()}-to-{report.date_to.isoformat()}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- exports -------------------------------------------------------------------


@bp.get("/exports")
@roles_required(*BOOKS)
def exports():
    """Offer the gifts, in-kind and journal CSV files, each with its filters."""
    return _render_exports(_export_forms())


@bp.get("/gifts.csv")
@roles_required(*BOOKS)
def gifts_csv():
    """Stream every gift matching the filters as a CSV file."""
    forms = _export_forms()
    if not forms["gifts"].validate():
        return _render_exports(forms, 400)
    return _csv_response(export_service.gift_csv(_gift_filters(forms["gifts"])), "gifts")


@bp.get("/in-kind.csv")
@roles_required(*BOOKS)
def in_kind_csv():
    """Stream the in-kind gifts (goods from known donors) as a CSV file."""
    forms = _export_forms()
    form = forms["in_kind"]
    if not form.validate():
        return _render_exports(forms, 400)
    rows = export_service.in_kind_rows(date_from=form.date_from.data, date_to=form.date_to.data)
    return _csv_response(export_service.csv_chunks(rows), "in-kind-gifts")


@bp.get("/journal.csv")
@roles_required(*BOOKS)
def journal_csv():
    """Stream one balanced journal entry per received gift, for QuickBooks Online or Xero."""
    forms = _export_forms()
    if not forms["journal"].validate():
        return _render_exports(forms, 400)
    rows = export_service.journal_rows(_gift_filters(forms["journal"]))
    return _csv_response(export_service.csv_chunks(rows), "journal")


# --- the grant report ------------------------------------------------------------


def _grant() -> tuple[GrantForm, grant_service.GrantReport | None]:
    """Read the period and program from the query string (this year, every program by
    default); build the grant report."""
    form = GrantForm(request.args)
    form.program.choices = [SelectChoice("", "All programs")] + [
        SelectChoice(str(p.id), p.name) for p in grant_service.program_choices()
    ]
    start, end = grant_service.default_period()
    if not form.date_from.raw_data:
        form.date_from.data = start
    if not form.date_to.raw_data:
        form.date_to.data = end
    if not form.validate() or form.date_from.data is None or form.date_to.data is None:
        return form, None
    with unit_of_work(form, read_only=True) as work:
        report = grant_service.build_grant_report(
            date_from=form.date_from.data, date_to=form.date_to.data, program_id=form.program_id()
        )
    if work.error is not None:
        return form, None
    return form, report


def _grant_page(form: GrantForm, report: grant_service.GrantReport | None):
    chart = None
    if report is not None:
        chart = grant_months_svg(
            report.months,
            currency=report.currency,
            title="Hours given and goods received per month",
        )
    return (
        render_template(
            "reports/grant.html",
            form=form,
            report=report,
            chart=chart,
            note=grant_service.ASU_NOTE,
            query={
                "date_from": form.date_from.raw_data[0] if form.date_from.raw_data else "",
                "date_to": form.date_to.raw_data[0] if form.date_to.raw_data else "",
                "program": form.program.data or "",
            },
        ),
        200 if report is not None else 400,
    )


@bp.get("/grant")
@roles_required(*BOOKS)
def grant():
    """Show the grant report: gifts, goods, hours and services for a period and program."""
    return _grant_page(*_grant())


@bp.get("/grant.csv")
@roles_required(*BOOKS)
def grant_csv():
    """Download the grant report's figures as CSV."""
    form, report = _grant()
    if report is None:
        return _grant_page(form, report)
    return _csv_response(export_service.csv_chunks(grant_rows(report)), "grant-report")


@bp.get("/grant.pdf")
@roles_required(*BOOKS)
def grant_pdf():
    """Download the grant report as a PDF."""
    form, report = _grant()
    if report is None:
        return _grant_page(form, report)
    response = Response(grant_service.grant_pdf(report=report), mimetype="application/pdf")
    name = f"grant-report-{report.date_from.isoformat()}-to-{report.date_to.isoformat()}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
