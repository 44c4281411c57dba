"""Staff pages for volunteers: the list, one volunteer's record (approval, background
check, training, active, notes, hours outside shifts, professional services given pro
bono and their acknowledgements) and the admin's skills list."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.volunteers_forms import (
    DecisionForm,
    HoursForm,
    RecordForm,
    ServiceForm,
    SkillForm,
    VoidServiceForm,
)
from donations.forms import EmptyForm
from donations.models import Role, Volunteer, VolunteerStatus
from donations.services import audit, giving, volunteers
from donations.services.errors import NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("volunteers", __name__, url_prefix="/volunteers")
VOLUNTEER_STAFF = (Role.ADMIN, Role.STAFF)
PER_PAGE = 50


def _arg_int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


@bp.get("/")
@roles_required(*VOLUNTEER_STAFF)
def index():
    """List volunteers, newest first, by status and skill."""
    status = request.args.get("status", "")
    skill_id = _arg_int("skill")
    page = volunteers.list_volunteers(
        status=status, skill_id=skill_id, page=_arg_int("page") or 1, per_page=PER_PAGE
    )
    return render_template(
        "volunteers/index.html",
        page=page,
        status=status,
        skill_id=skill_id,
        statuses=list(VolunteerStatus),
        skills=volunteers.all_skills(),
    )


def _volunteer_or_404(volunteer_id: int) -> Volunteer:
    try:
        return volunteers.get_volunteer(volunteer_id)
    except NotFound:
        abort(404)


def _record_form(volunteer: Volunteer) -> RecordForm:
    return RecordForm(
        formdata=None,
        background_check=volunteer.background_check,
        checked_on=volunteer.background_checked_on,
        check_expires_on=volunteer.background_check_expires_on,
        training_completed_on=volunteer.training_completed_on,
        active=volunteer.active,
        notes=volunteer.notes,
    )


def _service_form(*, blank: bool = False) -> ServiceForm:
    form = ServiceForm(formdata=None) if blank else ServiceForm()
    form.currency = giving.default_currency()
    form.program_id.choices = [(0, "— The organisation as a whole")] + [
        (p.id, p.name) for p in volunteers.program_choices()
    ]
    return form


def _render(volunteer: Volunteer, *, record=None, hours=None, service=None, status=200):
    return (
        render_template(
            "volunteers/detail.html",
            volunteer=volunteer,
            page=volunteers.volunteer_page(volunteer=volunteer),
            decision=DecisionForm(formdata=None),
            record=record or _record_form(volunteer),
            hours_form=hours or HoursForm(formdata=None),
            service_form=service or _service_form(blank=True),
            services=volunteers.list_services(volunteer_id=volunteer.id),
            void_form=VoidServiceForm(formdata=None),
            history=audit.recent_history("volunteer", volunteer.id),
        ),
        status,
    )


@bp.get("/<int:volunteer_id>")
@roles_required(*VOLUNTEER_STAFF)
def detail(volunteer_id: int):
    """One volunteer: what they offered, their record, shifts and hours."""
    return _render(_volunteer_or_404(volunteer_id))


@bp.post("/<int:volunteer_id>/decision")
@roles_required(*VOLUNTEER_STAFF)
def decide(volunteer_id: int):
    """Approve or decline a confirmed sign-up."""
    volunteer = _volunteer_or_404(volunteer_id)
    form = DecisionForm()
    if form.validate_on_submit():
        with unit_of_work(flash_errors=True) as work:
            volunteers.decide_volunteer(
                actor=current_user, volunteer_id=volunteer.id, decision=form.decision.data
            )
        if work.ok:
            flash(f"{volunteer.name}: {volunteer.status_label.lower()}.", "success")
    return redirect(url_for("volunteers.detail", volunteer_id=volunteer_id))


@bp.post("/<int:volunteer_id>/record")
@roles_required(*VOLUNTEER_STAFF)
def update_record(volunteer_id: int):
    """Save the background check, training, active flag and notes."""
    volunteer = _volunteer_or_404(volunteer_id)
    form = RecordForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            volunteers.update_volunteer_record(
                actor=current_user,
                volunteer_id=volunteer.id,
                background_check=form.background_check.data or "",
                checked_on=form.checked_on.data,
                check_expires_on=form.check_expires_on.data,
                training_completed_on=form.training_completed_on.data,
                active=bool(form.active.data),
                notes=form.notes.data or "",
            )
        if work.ok:
            flash("Saved.", "success")
            return redirect(url_for("volunteers.detail", volunteer_id=volunteer_id))
    return _render(volunteer, record=form, status=400)


@bp.post("/<int:volunteer_id>/hours")
@roles_required(*VOLUNTEER_STAFF)
def log_hours(volunteer_id: int):
    """Record hours of work outside shifts."""
    volunteer = _volunteer_or_404(volunteer_id)
    form = HoursForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            row = volunteers.log_hours(
                actor=current_user,
                volunteer_id=volunteer.id,
                worked_on=form.worked_on.data,
                hours=form.hours.data or "",
                description=form.description.data or "",
            )
        if work.ok:
            flash(f"Recorded {volunteers.format_minutes(row.minutes)}.", "success")
            return redirect(url_for("volunteers.detail", volunteer_id=volunteer_id))
    return _render(volunteer, hours=form, status=400)


@bp.post("/<int:volunteer_id>/services")
@roles_required(*VOLUNTEER_STAFF)
def log_service(volunteer_id: int):
    """Log a professional service given without charge and number its acknowledgement."""
    volunteer = _volunteer_or_404(volunteer_id)
    form = _service_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            service = volunteers.log_service(
                actor=current_user,
                volunteer_id=volunteer.id,
                service_type=form.service_type.data or "",
                service_date=form.service_date.data,
                hours=form.hours.data or "",
                description=form.description.data or "",
                program_id=form.program_id.data or None,
                fair_rate_cents=form.fair_rate_cents,
            )
        if work.ok:
            flash(f"Logged; acknowledgement {service.number}.", "success")
            return redirect(url_for("volunteers.detail", volunteer_id=volunteer_id))
    return _render(volunteer, service=form, status=400)


def _service_or_404(volunteer_id: int, service_id: int):
    try:
        return volunteers.get_service(volunteer_id=volunteer_id, service_id=service_id)
    except NotFound:
        abort(404)


@bp.get("/<int:volunteer_id>/services/<int:service_id>/letter.pdf")
@roles_required(*VOLUNTEER_STAFF)
def service_letter(volunteer_id: int, service_id: int):
    """Download a service's acknowledgement letter."""
    service = _service_or_404(volunteer_id, service_id)
    response = Response(volunteers.service_letter_pdf(service=service), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{volunteers.letter_filename(service)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:volunteer_id>/services/<int:service_id>/mail")
@roles_required(*VOLUNTEER_STAFF)
def mail_service_letter(volunteer_id: int, service_id: int):
    """Email the acknowledgement to the professional, the letter attached."""
    _service_or_404(volunteer_id, service_id)
    if EmptyForm().validate_on_submit():
        with unit_of_work(flash_errors=True) as work:
            service = volunteers.mail_service_letter(
                actor=current_user, volunteer_id=volunteer_id, service_id=service_id
            )
        if work.ok:
            flash(f"{service.number} is on its way to {service.volunteer.email}.", "success")
    return redirect(url_for("volunteers.detail", volunteer_id=volunteer_id))


@bp.post("/<int:volunteer_id>/services/<int:service_id>/void")
@roles_required(*VOLUNTEER_STAFF)
def void_service(volunteer_id: int, service_id: int):
    """Void an acknowledgement; it keeps its number."""
    _service_or_404(volunteer_id, service_id)
    form = VoidServiceForm()
    if not form.validate_on_submit():
        flash("Say why it is voided.", "error")
    else:
        with unit_of_work(flash_errors=True) as work:
            service = volunteers.void_service(
                actor=current_user,
                volunteer_id=volunteer_id,
                service_id=service_id,
                reason=form.reason.data or "",
            )
        if work.ok:
            flash(f"{service.number} is void; its number is kept.", "success")
    return redirect(url_for("volunteers.detail", volunteer_id=volunteer_id))


@bp.route("/skills", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def skills():
    """The skills volunteers may offer: add one, retire one."""
    form = SkillForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            skill = volunteers.add_skill(
                actor=current_user,
                name=form.name.data or "",
                asks_languages=form.asks_languages.data,
            )
        if work.ok:
            flash(f"Added {skill.name}.", "success")
            return redirect(url_for("volunteers.skills"))
    listed = volunteers.all_skills()
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "volunteers/skills.html",
        form=form,
        skills=listed,
        defaults=volunteers.offered_skills() if not listed else [],
        toggle=EmptyForm(),
    ), status


@bp.post("/skills/<int:skill_id>/active")
@roles_required(Role.ADMIN)
def set_skill_active(skill_id: int):
    """Retire a skill from the sign-up form, or bring it back."""
    if EmptyForm().validate_on_submit():
        with unit_of_work(flash_errors=True) as work:
            skill = volunteers.set_skill_active(
                actor=current_user, skill_id=skill_id, active=request.form.get("active") == "1"
            )
        if work.ok:
            flash(f"{skill.name}: {'offered' if skill.active else 'retired'}.", "success")
    return redirect(url_for("volunteers.skills"))
