"""Admin screens for cash giving: the funds donors choose, and the donation page settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from donations.authz import roles_required
from donations.extensions import db
from donations.forms import strip_text
from donations.models import Fund, GivingSettings, Role
from donations.money import format_plain
from donations.ranges import BoundedIntegerField, IdSelectField, parse_id
from donations.services import audit
from donations.services import funds as fund_service
from donations.services.giving import active_funds, default_currency, get_giving_settings
from donations.unit_of_work import unit_of_work

bp = Blueprint("funds_admin", __name__, url_prefix="/admin")


class FundForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter the fund's name."),
            Length(max=fund_service.FUND_NAME_MAX_LENGTH),
        ],
        description="Donors see it on the donation page, and it appears on receipts.",
    )
    description = TextAreaField(
        "Description",
        filters=[strip_text],
        validators=[Length(max=fund_service.FUND_DESCRIPTION_MAX_LENGTH)],
        description="One sentence under the name on the donation page.",
    )
    is_restricted = BooleanField(
        "Restricted",
        description="Gifts to this fund may be spent only on its purpose.",
    )
    active = BooleanField(
        "Active", default=True, description="Donors can choose it. Past gifts keep their fund."
    )
    sort_order = BoundedIntegerField(
        "Order on the page",
        default=0,
        validators=[
            InputRequired(message="Enter a whole number, such as 10."),
            NumberRange(min=0, max=fund_service.SORT_ORDER_MAX),
        ],
        description="Lower numbers come first.",
    )

    def fund_fields(self) -> dict[str, Any]:
        """Return the submitted values keyed by fund field name."""
        return {name: self[name].data for name in fund_service.FUND_FIELDS}


class GivingForm(FlaskForm):
    preset_amounts = StringField(
        "Suggested amounts",
        validators=[Length(max=200)],
        description="Separated by commas, such as 25, 50, 100, 250 (no thousands separators). "
        "Donors can always type another amount.",
    )
    min_amount = StringField(
        "Smallest gift",
        validators=[DataRequired(message="Enter the smallest gift."), Length(max=30)],
    )
    max_amount = StringField(
        "Largest gift online",
        validators=[DataRequired(message="Enter the largest gift."), Length(max=30)],
        description="Above this, donors are asked to contact you.",
    )
    fee_percent = StringField(
        "Card fee: percentage",
        validators=[DataRequired(message="Enter the percentage, such as 2.9."), Length(max=10)],
        description="Stripe's rate, such as 2.9 for 2.9%.",
    )
    fee_fixed = StringField(
        "Card fee: fixed part",
        validators=[DataRequired(message="Enter the fixed part, such as 0.30."), Length(max=30)],
        description="Charged on every payment, such as 0.30.",
    )
    impact_text = TextAreaField(
        "How gifts help",
        filters=[strip_text],
        validators=[Length(max=fund_service.IMPACT_TEXT_MAX_LENGTH)],
        description="A sentence or two at the top of the donation page. "
        "Left blank, a standard sentence is shown.",
    )
    default_fund = IdSelectField("Fund chosen at first")


def _settings_data(settings: GivingSettings, currency: str) -> dict[str, Any]:
    return {
        "preset_amounts": ", ".join(
            fund_service.format_short_plain(cents, currency) for cents in settings.preset_list
        ),
        "min_amount": fund_service.format_short_plain(settings.min_amount_cents, currency),
        "max_amount": fund_service.format_short_plain(settings.max_amount_cents, currency),
        "fee_percent": fund_service.basis_points_to_percent(settings.fee_percent_bp),
        "fee_fixed": format_plain(settings.fee_fixed_cents, currency),
        "impact_text": settings.impact_text,
        "default_fund": str(settings.default_fund_id or ""),
    }


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
    history = db.session.scalars(
        audit.audit_query(object_type="fund", object_id=fund.id).limit(20)
    ).all()
    return render_template("admin/fund_form.html", form=form, fund=fund, history=history)


@bp.route("/giving", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def giving():
    """Edit the donation page: suggested amounts, limits, card fee, impact text, default fund."""
    settings = get_giving_settings()
    currency = default_currency()
    form = GivingForm(data=_settings_data(settings, currency) if request.method == "GET" else None)
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
    history = db.session.scalars(audit.audit_query(object_type="giving_settings").limit(20)).all()
    return render_template("admin/giving.html", form=form, currency=currency, history=history)
