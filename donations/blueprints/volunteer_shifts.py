"""Staff pages for volunteer opportunities and shifts: add them, see who signed up,
record attendance and hours. Listing pages name a site, never its address."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from donations.authz import roles_required
from donations.blueprints.volunteers_forms import AttendanceForm, OpportunityForm, ShiftForm
from donations.models import Role, VolunteerOpportunity, VolunteerShift, utcnow
from donations.services import volunteers
from donations.services.errors import NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("volunteer_shifts", __name__, url_prefix="/volunteers")
VOLUNTEER_STAFF = (Role.ADMIN, Role.STAFF)


def _utc(value: datetime | None) -> datetime | None:
    """A time typed in a form (no zone) as UTC, the zone the pages show."""
    return value.replace(tzinfo=UTC) if value is not None else None


@bp.route("/opportunities", methods=["GET", "POST"])
@roles_required(*VOLUNTEER_STAFF)
def opportunities():
    """Opportunities with their shifts; add an opportunity."""
    form = OpportunityForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            opportunity = volunteers.create_opportunity(
                actor=current_user,
                title=form.title.data or "",
                description=form.description.data or "",
            )
        if work.ok:
            flash(f"Added {opportunity.title}: now add its shifts.", "success")
            return redirect(url_for("volunteer_shifts.opportunity", opportunity_id=opportunity.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "volunteers/opportunities.html",
        form=form,
        opportunities=volunteers.list_opportunities(),
        now=utcnow(),
    ), status


def _opportunity_or_404(opportunity_id: int) -> VolunteerOpportunity:
    try:
        return volunteers.get_opportunity(opportunity_id)
    except NotFound:
        abort(404)


@bp.route("/opportunities/<int:opportunity_id>", methods=["GET", "POST"])
@roles_required(*VOLUNTEER_STAFF)
def opportunity(opportunity_id: int):
    """An opportunity's shifts; add a shift."""
    found = _opportunity_or_404(opportunity_id)
    form = ShiftForm()
    form.site_id.choices = [SelectChoice(s.id, s.name) for s in volunteers.open_sites()]
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            shift = volunteers.add_shift(
                actor=current_user,
                opportunity_id=found.id,
                site_id=form.site_id.data,
                starts_at=_utc(form.starts_at.data),
                ends_at=_utc(form.ends_at.data),
                capacity=form.capacity.data,
                sensitive=bool(form.sensitive.data),
            )
        if work.ok:
            flash(f"Added the shift of {shift.starts_at:%Y-%m-%d %H:%M} UTC.", "success")
            return redirect(url_for("volunteer_shifts.opportunity", opportunity_id=found.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("volunteers/opportunity.html", opportunity=found, form=form), status


def _shift_or_404(shift_id: int) -> VolunteerShift:
    try:
        return volunteers.get_shift(shift_id)
    except NotFound:
        abort(404)


def _render_shift(
    shift: VolunteerShift, forms: dict[int, AttendanceForm] | None = None, status=200
):
    forms = forms or {}
    for signup in shift.signups:
        if signup.id not in forms:
            row = signup.hours
            forms[signup.id] = AttendanceForm(
                formdata=None,
                prefix=f"s{signup.id}",
                checked_in_at=row.checked_in_at if row else None,
                checked_out_at=row.checked_out_at if row else None,
            )
    return render_template("volunteers/shift.html", shift=shift, forms=forms), status


@bp.get("/shifts/<int:shift_id>")
@roles_required(*VOLUNTEER_STAFF)
def shift(shift_id: int):
    """A shift's volunteers, with their attendance."""
    return _render_shift(_shift_or_404(shift_id))


@bp.post("/shifts/<int:shift_id>/attendance/<int:signup_id>")
@roles_required(*VOLUNTEER_STAFF)
def attendance(shift_id: int, signup_id: int):
    """Record a volunteer's check-in and check-out, or hours typed."""
    found = _shift_or_404(shift_id)
    if signup_id not in {s.id for s in found.signups}:
        abort(404)
    form = AttendanceForm(prefix=f"s{signup_id}")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            row = volunteers.record_attendance(
                actor=current_user,
                signup_id=signup_id,
                checked_in_at=_utc(form.checked_in_at.data),
                checked_out_at=_utc(form.checked_out_at.data),
                hours=form.hours.data or "",
            )
        if work.ok:
            flash(f"Recorded {volunteers.format_minutes(row.minutes)}.", "success")
            return redirect(url_for("volunteer_shifts.shift", shift_id=shift_id))
    return _render_shift(found, {signup_id: form}, status=400)
