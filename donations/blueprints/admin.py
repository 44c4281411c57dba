"""Admin screens: users and roles, organisation and payment settings, outgoing mail, audit log."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from donations.authz import roles_required
from donations.blueprints.admin_forms import (
    EditUserForm,
    NewUserForm,
    OrganizationForm,
    PaymentSettingsForm,
    agency_choices,
    partner_role_choice,
)
from donations.extensions import db
from donations.forms import EmptyForm
from donations.models import MailStatus, OutboxMessage, Role, User
from donations.money import format_plain
from donations.services import (
    accounts,
    audit,
    mail,
    mail_queries,
    payment_keys,
    two_factor,
    user_sessions,
)
from donations.services.errors import NotFound
from donations.services.keyset import Position
from donations.services.links import absolute_url, public_base_url
from donations.services.org_slugs import several_organizations
from donations.services.organization import get_organization, update_organization
from donations.tenancy import HOME_ORGANIZATION_ID, current_organization_id
from donations.unit_of_work import unit_of_work

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


# --- users ---------------------------------------------------------------


def _member_or_404(user_id: int) -> User:
    """One of this organisation's people; anyone else's id is not found here."""
    try:
        return accounts.get_user(user_id)
    except NotFound:
        abort(404)


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    """List every user with their role and last sign-in."""
    return render_template("admin/users.html", users=accounts.list_users(), form=EmptyForm())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    """Create a user with a role and an initial password; a partner login names its agency."""
    form = NewUserForm()
    form.recipient_id.choices = agency_choices(accounts.partner_agencies())
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = accounts.create_user(
                actor=current_user,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                recipient_id=form.recipient_id.data,
            )
        if work.ok:
            if user.recipient is not None:
                flash(
                    f"{user.name} can now sign in for {user.recipient.name} and ask for goods.",
                    "success",
                )
            elif user.several_memberships:
                flash(
                    f"{user.name} already had an account with another organisation: they "
                    f"sign in here as {user.role} with their own password.",
                    "success",
                )
            else:
                flash(f"{user.name} can now sign in as {user.role}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    """Change a user's name, email, role or active flag."""
    user = _member_or_404(user_id)
    membership = accounts.membership_of(user)
    form = EditUserForm(
        obj=SimpleNamespace(
            email=user.email,
            name=user.name,
            role=membership.role,
            active=membership.active,
            recipient_id=membership.recipient_id,
        )
    )
    if membership.role == Role.PARTNER:  # a partner login stays one; its agency may change
        form.role.choices = [partner_role_choice(user)]
        form.recipient_id.choices = agency_choices(
            accounts.partner_agencies(), current=membership.recipient
        )
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            accounts.update_user(
                actor=current_user,
                user=user,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                active=form.active.data,
                # Only a partner login has an agency to change: the field is not shown else.
                recipient_id=form.recipient_id.data if membership.role == Role.PARTNER else None,
            )
        if work.ok:
            flash(f"Saved {user.name}.", "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        history=audit.recent_history("user", user.id),
        action_form=EmptyForm(),
        live_sessions=len(user_sessions.live_sessions(user=user)),
    )


@bp.post("/users/<int:user_id>/sign-out-everywhere")
@roles_required(Role.ADMIN)
def sign_user_out_everywhere(user_id: int):
    """End every session of a user (a lost laptop, a shared computer)."""
    user = _member_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        ended = user_sessions.revoke_all_sessions(
            user=user, reason="signed out by an admin", actor=current_user
        )
    flash(f"{user.name} is signed out everywhere ({ended} session(s) ended).", "success")
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/reset-two-step")
@roles_required(Role.ADMIN)
def reset_two_factor(user_id: int):
    """Remove a user's second factor so they can set it up again (a lost phone)."""
    user = _member_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as work:
        two_factor.reset_two_factor(actor=current_user, user=user)
    if work.ok:
        flash(
            f"Two-step sign-in is reset for {user.name}, who is signed out everywhere "
            "and sets it up again at the next sign-in.",
            "success",
        )
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def set_user_active(user_id: int):
    """Deactivate or reactivate a user from the list."""
    user = _member_or_404(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    make_active = request.form.get("active") == "1"
    with unit_of_work(flash_errors=True) as work:
        accounts.set_user_active(actor=current_user, user=user, active=make_active)
    if work.ok:
        state = "active again" if make_active else "deactivated and signed out"
        flash(f"{user.name} is {state}.", "success")
    return redirect(url_for("admin.users"))


# --- organisation --------------------------------------------------------


@bp.route("/organization", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def organization():
    """Edit the organisation profile used on pages and receipts."""
    org = get_organization()
    form = OrganizationForm(obj=org)
    form.currency = org.default_currency if org is not None else "USD"
    if not form.is_submitted() and org is not None and org.volunteer_hour_value_cents is not None:
        form.volunteer_hour_value.data = format_plain(org.volunteer_hour_value_cents, form.currency)
    hosts = current_app.config["ORGANIZATION_HOSTS"]
    host_choices = bool(hosts) and current_organization_id() != HOME_ORGANIZATION_ID
    form.host.choices = [*form.host.choices[:1], *((host, host) for host in hosts)]
    if org is not None and org.host and org.host not in hosts:  # no longer configured
        form.host.choices.append((org.host, f"{org.host} (not set up on this server)"))
    if form.validate_on_submit():
        skip = ("submit", "csrf_token", "volunteer_hour_value")
        data = {name: form[name].data for name in form.data if name not in skip}
        data["email"] = data["email"] or ""
        data["volunteer_hour_value_cents"] = form.volunteer_hour_value_cents
        with unit_of_work(form) as work:
            update_organization(actor=current_user, **data)
        if work.ok:
            flash("Organisation settings saved.", "success")
            return redirect(url_for("admin.organization"))
    return render_template(
        "admin/organization.html",
        form=form,
        org=org,
        public_base_url=public_base_url(),
        public_base_url_is_default=bool(current_app.config.get("PUBLIC_BASE_URL_IS_DEFAULT")),
        trusted_hosts=current_app.config.get("TRUSTED_HOSTS") or [],
        coalition=several_organizations(),
        host_choices=host_choices,
    )


# --- payments ------------------------------------------------------------


@bp.route("/payments", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def payments():
    """Set the organisation's Stripe keys and test mode; only their last four characters show."""
    settings = payment_keys.payment_settings_page()
    form = PaymentSettingsForm(
        data={"test_mode": settings.test_mode} if request.method == "GET" else None
    )
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            payment_keys.save_stripe_settings(
                actor=current_user,
                secret_key=form.secret_key.data or "",
                publishable_key=form.publishable_key.data or "",
                webhook_secret=form.webhook_secret.data or "",
                test_mode=bool(form.test_mode.data),
            )
        if work.ok:
            flash("Payment settings saved.", "success")
            return redirect(url_for("admin.payments"))
    return render_template(
        "admin/payments.html",
        form=form,
        settings=settings,
        forget_form=EmptyForm(),
        webhook_url=absolute_url("webhooks.stripe_webhook"),
        history=audit.recent_history("payment_settings"),
    )


@bp.post("/payments/forget")
@roles_required(Role.ADMIN)
def forget_payments():
    """Remove the organisation's stored Stripe keys: the server's environment applies again."""
    with unit_of_work(flash_errors=True) as work:
        removed = payment_keys.forget_stripe_settings(actor=current_user)
    if work.ok:
        flash(
            "Removed the stored payment settings."
            if removed
            else "No payment settings were stored.",
            "success" if removed else "info",
        )
    return redirect(url_for("admin.payments"))


# --- outgoing mail -------------------------------------------------------


@bp.get("/mail")
@roles_required(Role.ADMIN, Role.TREASURER)
def outgoing_mail():
    """List queued, sent and failed messages."""
    status = request.args.get("status") or None
    if status not in {None, *(s.value for s in MailStatus)}:
        status = None
    page = mail_queries.outbox_page(
        status=status, position=Position.from_args(request.args), per_page=PER_PAGE
    )
    return render_template(
        "admin/mail.html",
        page=page,
        attachments=mail_queries.attachment_names([m.id for m in page.items]),
        kind_label=mail_queries.kind_label,
        status=status,
        statuses=[s.value for s in MailStatus],
        is_stuck=mail.is_stuck,
        smtp=bool(current_app.config.get("MAIL_SERVER")),
        eml_dir=current_app.config["MAIL_EML_DIR"],
        form=EmptyForm(),
    )


@bp.get("/mail/<int:message_id>")
@roles_required(Role.ADMIN, Role.TREASURER)
def mail_message(message_id: int):
    """Show one message; bodies with secrets in them stay hidden."""
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "admin/mail_message.html",
        message=message,
        kind_label=mail_queries.kind_label,
        stuck=mail.is_stuck(message),
        form=EmptyForm(),
    )


@bp.post("/mail/<int:message_id>/requeue")
@roles_required(Role.ADMIN, Role.TREASURER)
def requeue_mail(message_id: int):
    """Queue a failed or stuck message for another try."""
    message = db.get_or_404(OutboxMessage, message_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as work:
        mail.requeue_message(actor=current_user, message=message)
    if work.ok:
        flash("The message is queued again.", "success")
    return redirect(url_for("admin.mail_message", message_id=message.id))


# --- audit log -----------------------------------------------------------


# The log's filters: each names the kinds of object its entries are about.
AUDIT_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gift": ("Gifts", ("gift", "stripe_event")),
    "receipt": ("Receipts", ("receipt", "year_end_run")),
    "donor": ("Donors", ("donor",)),
    "goods": (
        "Goods",
        ("stock_document", "item", "item_category", "site", "pledge", "recipient"),
    ),
    "user": ("Users", ("user",)),
    "settings": (
        "Settings",
        ("organization", "fund", "giving_settings", "receipt_settings"),
    ),
    "mail": ("Mail", ("mail",)),
}
# Where an entry's object can be seen: (endpoint, its id argument).
AUDIT_LINKS = {
    "gift": ("gifts.detail", "gift_id"),
    "receipt": ("receipts.detail", "receipt_id"),
    "donor": ("donors.detail", "donor_id"),
    "stock_document": ("inventory.document", "document_id"),
    "item": ("inventory.item", "item_id"),
    "pledge": ("needs.pledge_detail", "pledge_id"),
    "recipient": ("recipients.edit", "recipient_id"),
    "user": ("admin.edit_user", "user_id"),
    "mail": ("admin.mail_message", "message_id"),
    "year_end_run": ("year_end.run", "run_id"),
}


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit_log():
    """List every recorded change, newest first, optionally of one kind."""
    kind = request.args.get("type") or None
    page = audit.audit_log_page(  # a filter's kinds, or an object type named directly (old links)
        object_types=AUDIT_FILTERS[kind][1] if kind in AUDIT_FILTERS else None,
        object_type=kind,
        position=Position.from_args(request.args),
        per_page=PER_PAGE,
    )
    verification = audit.latest_verification()
    links = {
        object_type: link
        for object_type, link in AUDIT_LINKS.items()
        if link[0] in current_app.view_functions
    }
    return render_template(
        "admin/audit.html",
        page=page,
        object_type=kind,
        filters=AUDIT_FILTERS,
        links=links,
        verification=verification,
        since=audit.events_since(verification) if verification and verification.ok else 0,
        since_limit=audit.SINCE_LIMIT,
        form=EmptyForm(),
    )


@bp.post("/audit/verify")
@roles_required(Role.ADMIN)
def verify_audit():
    """Recompute the audit log's hash chain now and store the result."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        verification = audit.verify_chain(actor=current_user)
    if verification.ok:
        flash("Checked the chain just now: it is intact.", "success")
    else:
        flash("Checked the chain just now: it is broken, see below.", "error")
    return redirect(url_for("admin.audit_log"))
