"""Admin screens for privacy: programs and partner agencies, and the stored-notes scan."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.recipients_forms import PartnerLoginForm, RecipientForm, RenameForm
from donations.extensions import db
from donations.forms import EmptyForm
from donations.models import Recipient, RecipientKind, Role
from donations.services import accounts, audit, privacy
from donations.services import recipients as recipient_service
from donations.unit_of_work import unit_of_work

bp = Blueprint("recipients", __name__, url_prefix="/admin")


# --- programs and partner agencies ----------------------------------------------------


@bp.route("/recipients", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index():
    """List programs and partner agencies, and add one."""
    form = RecipientForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            with unit_of_work(form) as work:
                recipient = recipient_service.create_recipient(
                    actor=current_user,
                    kind=form.kind.data,
                    name=form.name.data or "",
                    contact=form.contact.data or "",
                )
            if work.ok:
                flash(f"Added {recipient.kind_label.lower()} {recipient.name}.", "success")
                return redirect(url_for("recipients.index"))
        status = 400
    return (
        render_template(
            "recipients/index.html",
            form=form,
            recipients=recipient_service.list_recipients(),
            button=EmptyForm(),
        ),
        status,
    )


@bp.route("/recipients/<int:recipient_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(recipient_id: int):
    """Rename a program or partner agency, or change the agency's contact."""
    recipient = db.get_or_404(Recipient, recipient_id)
    form = RenameForm(obj=recipient)
    status = 200
    if form.is_submitted():
        if form.validate():
            with unit_of_work(form) as work:
                recipient_service.update_recipient(
                    actor=current_user,
                    recipient_id=recipient.id,
                    name=form.name.data or "",
                    contact=form.contact.data or "",
                )
            if work.ok:
                flash(f"Saved {recipient.name}.", "success")
                return redirect(url_for("recipients.index"))
        status = 400
    return (
        render_template(
            "recipients/edit.html",
            form=form,
            recipient=recipient,
            history=audit.recent_history("recipient", recipient.id),
            button=EmptyForm(),
            logins=accounts.partner_logins(recipient.id),
        ),
        status,
    )


@bp.route("/recipients/<int:recipient_id>/logins/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_partner_login(recipient_id: int):
    """Create a login for an open partner agency: it sees only the agency's requests."""
    recipient = db.get_or_404(Recipient, recipient_id)
    if recipient.kind != RecipientKind.PARTNER:
        abort(404)
    form = PartnerLoginForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            with unit_of_work(form) as work:
                user = accounts.create_user(
                    actor=current_user,
                    email=form.email.data,
                    name=form.name.data or "",
                    role=Role.PARTNER,
                    password=form.password.data,
                    recipient_id=recipient.id,
                )
            if work.ok:
                flash(
                    f"{user.name} can now sign in for {recipient.name} and ask for goods.",
                    "success",
                )
                return redirect(url_for("recipients.edit", recipient_id=recipient.id))
        status = 400
    return (
        render_template("recipients/partner_login.html", form=form, recipient=recipient),
        status,
    )


@bp.post("/recipients/<int:recipient_id>/active")
@roles_required(Role.ADMIN)
def set_active(recipient_id: int):
    """Archive a program or partner agency, or reopen it."""
    recipient = db.get_or_404(Recipient, recipient_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    make_active = request.form.get("active") == "1"
    with unit_of_work(flash_errors=True) as work:
        recipient_service.set_recipient_active(
            actor=current_user, recipient_id=recipient.id, active=make_active
        )
    if work.ok:
        if make_active:
            flash(f"{recipient.name} is offered on new distributions again.", "success")
        else:
            flash(
                f"{recipient.name} is archived: old documents keep it, new distributions "
                "cannot choose it.",
                "success",
            )
    return redirect(url_for("recipients.index"))


# --- the privacy scan ---------------------------------------------------------------------


@bp.get("/privacy")
@roles_required(Role.ADMIN)
def privacy_scan():
    """List stored notes the screen would refuse today, each with a Redact button."""
    return render_template(
        "recipients/privacy.html", findings=privacy.scan_stored_text(), button=EmptyForm()
    )


@bp.post("/privacy/<kind>/<int:object_id>/redact")
@roles_required(Role.ADMIN)
def redact(kind: str, object_id: int):
    """Replace one stored note with "[redacted]"; the audit log records only that it happened."""
    if kind not in privacy.KINDS:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as work:
        what = privacy.redact(actor=current_user, kind=kind, object_id=object_id)
    if work.ok:
        flash(f"Redacted the {what}.", "success")
    return redirect(url_for("recipients.privacy_scan"))
