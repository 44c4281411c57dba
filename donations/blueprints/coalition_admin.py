"""The coalition admin's pages: member organisations, inviting their admins, and the
coalition report. No member's donors, gifts or goods documents are on them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import coalition_required
from donations.blueprints.coalition_admin_forms import (
    CoalitionPeriodForm,
    InviteAdminForm,
    NewMemberForm,
)
from donations.services import coalition_admin, reports
from donations.services.errors import NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("coalition_admin", __name__, url_prefix="/coalition")


@bp.get("/members")
@coalition_required
def members():
    """Every member organisation, with how many people and admins it has."""
    return render_template(
        "coalition/members.html",
        members=coalition_admin.members_overview(),
        invite_form=InviteAdminForm(),
    )


@bp.route("/members/new", methods=["GET", "POST"])
@coalition_required
def new_member():
    """Add a member organisation and invite its first admin."""
    form = NewMemberForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            organization = coalition_admin.create_member(
                actor=current_user,
                legal_name=form.legal_name.data,
                slug=form.slug.data or "",
                default_currency=form.default_currency.data or "USD",
                admin_email=form.admin_email.data,
                admin_name=form.admin_name.data,
            )
        if work.ok:
            flash(
                f"{organization.legal_name} is a member at /o/{organization.slug}/; "
                f"{form.admin_email.data} is invited as its admin.",
                "success",
            )
            return redirect(url_for("coalition_admin.members"))
    return render_template("coalition/member_form.html", form=form)


@bp.post("/members/<slug>/admins")
@coalition_required
def invite_admin(slug: str):
    """Invite another admin to a member (the first one left, or never signed in)."""
    try:
        organization = coalition_admin.member_by_slug(slug)
    except NotFound:
        abort(404)
    form = InviteAdminForm()
    if form.validate_on_submit():
        with unit_of_work(flash_errors=True) as work:
            coalition_admin.invite_admin(
                actor=current_user,
                organization_id=organization.id,
                email=form.admin_email.data,
                name=form.admin_name.data,
            )
        if work.ok:
            flash(
                f"{form.admin_email.data} is invited as an admin of {organization.legal_name}.",
                "success",
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("coalition_admin.members"))


@bp.get("/report")
@coalition_required
def report():
    """Goods in and out per member; gift counts and totals of members who share them."""
    form = CoalitionPeriodForm(request.args)
    start, end = reports.default_period()
    if not form.date_from.raw_data:
        form.date_from.data = start
    if not form.date_to.raw_data:
        form.date_to.data = end
    result = None
    if form.validate() and form.date_from.data and form.date_to.data:
        with unit_of_work(form, read_only=True) as work:
            result = coalition_admin.coalition_report(
                date_from=form.date_from.data, date_to=form.date_to.data
            )
        if work.error is not None:
            result = None
    return (
        render_template("coalition/report.html", form=form, report=result),
        200 if result is not None else 400,
    )
