"""Admin screens for cash giving: the funds donors choose, and the donation page settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.authz import roles_required
from donations.blueprints.funds_admin_forms import FundForm, GivingForm, settings_data
from donations.extensions import db
from donations.models import Fund, Role
from donations.ranges import parse_id
from donations.services import audit
from donations.services import funds as fund_service
from donations.services.giving import active_funds, default_currency, get_giving_settings
from donations.unit_of_work import unit_of_work

bp = Blueprint("funds_admin", __name__, url_prefix="/admin")


def _parsed_settings(form: GivingForm, currency: str) -> dict[str, Any] | None:
    """Return the settings as numbers, or None after marking every field that is not one."""
    parsers = {
        "preset_amounts": lambda: fund_service.parse_preset_amounts(
            form.preset_amounts.data, currency
        ),
        "min_amount_cents": lambda: fund_service.parse_money(
            form.min_amount.data, currency, field="min_amount"
        ),
        "max_amount_cents": lambda: fund_service.parse_money(
            form.max_amount.data, currency, field="max_amount"
        ),
        "fee_percent_bp": lambda: fund_service.percent_to_basis_points(form.fee_percent.data),
        "fee_fixed_cents": lambda: fund_service.parse_money(
            form.fee_fixed.data, currency, field="fee_fixed", allow_zero=True
        ),
    }
    values: dict[str, Any] = {}
    for name, parse in parsers.items():
        with unit_of_work(form, read_only=True):
            values[name] = parse()
    if len(values) < len(parsers):
        return None
    fund_id = form.default_fund.data or ""
    values["default_fund_id"] = parse_id(fund_id)
    values["impact_text"] = form.impact_text.data or ""
    return values


@bp.get("/funds")
@roles_required(Role.ADMIN)
def funds():
    """List every fund with its restriction, state and order."""
    return render_template(
        "admin/funds.html", funds=fund_service.list_funds(), settings=get_giving_settings()
    )


@bp.route("/funds/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_fund():
    """Add a fund donors can choose."""
    form = FundForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            fund = fund_service.create_fund(actor=current_user, **form.fund_fields())
        if work.ok:
            flash(f"Added the fund {fund.name}.", "success")
            return redirect(url_for("funds_admin.funds"))
    return render_template("admin/fund_form.html", form=form, fund=None)


@bp.route("/funds/<int:fund_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_fund(fund_id: int):
    """Change a fund's name, description, restriction, state or order."""
    fund = db.get_or_404(Fund, fund_id)
    form = FundForm(obj=fund)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            fund_service.update_fund(actor=current_user, fund=fund, **form.fund_fields())
        if work.ok:
            flash(f"Saved the fund {fund.name}.", "success")
            return redirect(url_for("funds_admin.funds"))
    history = audit.recent_history("fund", fund.id)
    return render_template("admin/fund_form.html", form=form, fund=fund, history=history)


@bp.route("/giving", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def giving():
    """Edit the donation page: suggested amounts, limits, card fee, impact text, default fund."""
    settings = get_giving_settings()
    currency = default_currency()
    form = GivingForm(data=settings_data(settings, currency) if request.method == "GET" else None)
    form.default_fund.choices = [SelectChoice("", "The first fund in the list")] + [
        SelectChoice(str(fund.id), fund.name) for fund in active_funds()
    ]
    if form.validate_on_submit():
        values = _parsed_settings(form, currency)
        if values is not None:
            with unit_of_work(form) as work:
                fund_service.update_giving_settings(actor=current_user, currency=currency, **values)
            if work.ok:
                flash("Donation page settings saved.", "success")
                return redirect(url_for("funds_admin.giving"))
    history = audit.recent_history("giving_settings")
    return render_template("admin/giving.html", form=form, currency=currency, history=history)
