"""The public "What we need now" list and pledges, and the staff side of pledges."""

from __future__ import annotations

from collections.abc import Iterable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from donations.authz import ANY_ROLE, public, roles_required
from donations.blueprints.needs_forms import (
    CONDITION_CHOICES,
    CancelForm,
    PledgeForm,
    ReceiveForm,
    SettingsForm,
    add_pledge_rows,
    outstanding_values,
    prepare_pledge_form,
    read_arrived,
    site_choices,
    today,
    visibility_choices,
)
from donations.extensions import db, limiter
from donations.models import Campaign, CampaignStatus, Pledge, PledgeStatus, Role, Site
from donations.ranges import id_arg, page_arg, parse_id
from donations.services import audit, campaigns, catalog, inventory, pledges
from donations.services import donors as donor_service
from donations.services import needs as needs_service
from donations.services.errors import NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("needs", __name__)

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
PLEDGES_PER_PAGE = 50
# The public list changes only when stock or settings do: let browsers and proxies
# keep it a little while.
NEEDS_MAX_AGE = 60
PLEDGE_SESSION_KEY = "needs.pledge_id"
HISTORY_LIMIT = 50
STATUS_FILTERS = {
    PledgeStatus.OPEN.value: "Open",
    PledgeStatus.RECEIVED.value: "Received",
    PledgeStatus.CANCELLED.value: "Cancelled",
    PledgeStatus.EXPIRED.value: "Expired",
}


# --- the public needs list -------------------------------------------------------


def _grouped(needs: Iterable[inventory.Need]) -> list[tuple[str, list[inventory.Need]]]:
    """The needs by category, keeping the catalog's order."""
    groups: dict[str, list[inventory.Need]] = {}
    for need in needs:
        groups.setdefault(need.category, []).append(need)
    return list(groups.items())


@bp.get("/needs")
@public
def index():
    """Show what we need now, by category, and where to bring it: no site, no quantity."""
    needs = inventory.public_needs()
    response = make_response(
        render_template(
            "needs/index.html",
            groups=_grouped(needs),
            dropoffs=catalog.dropoff_points(),
        )
    )
    if not current_user.is_authenticated and not session.get("_flashes"):
        # The same page for every visitor: nothing personal, no form token.
        response.cache_control.public = True
        response.cache_control.max_age = NEEDS_MAX_AGE
    else:
        response.cache_control.private = True
        response.cache_control.no_cache = True
    response.add_etag()
    return response.make_conditional(request)


# --- the public pledge form ------------------------------------------------------


def _pledge_limit() -> str:
    return current_app.config.get("PLEDGE_RATE_LIMIT", "10 per minute")


def _adding_rows() -> bool:
    """Adding rows to the form writes nothing, so it does not count against the limit."""
    return "more_rows" in request.form


def _pledge_campaign(form: PledgeForm) -> Campaign | None:
    """The campaign the pledge form was opened from, if any (never a draft)."""
    found = campaigns.campaign_by_slug(form.campaign.data) if form.campaign.data else None
    return found if found is not None and found.status != CampaignStatus.DRAFT else None


def _pledge_page(form: PledgeForm, dropoffs: list[Site], status: int = 200):
    prepare_pledge_form(form, dropoffs)
    return (
        render_template(
            "needs/pledge.html",
            form=form,
            campaign=_pledge_campaign(form),
            dropoffs=dropoffs,
            today=today(),
            lines_errors=[e for e in form.lines.errors if isinstance(e, str)],
            can_add_rows=len(form.lines.entries) < pledges.PLEDGE_LINES_MAX,
        ),
        status,
    )


@bp.route("/needs/pledge", methods=["GET", "POST"])
@public
@limiter.limit(_pledge_limit, methods=["POST"], exempt_when=_adding_rows)
def pledge():
    """Let a donor promise to bring items to a drop-off point on a given day."""
    dropoffs = catalog.dropoff_points()
    form = PledgeForm()
    if not form.is_submitted():
        item_id = id_arg("item")
        if item_id:
            form.lines.entries[0].item.data = str(item_id)
        form.campaign.data = (request.args.get("campaign") or "")[:60]
        if len(dropoffs) == 1:
            form.site_id.data = str(dropoffs[0].id)
        return _pledge_page(form, dropoffs)
    if _adding_rows():
        add_pledge_rows(form)
        return _pledge_page(form, dropoffs)
    if not form.validate():
        return _pledge_page(form, dropoffs, 400)
    site_id = form.site_id.data
    campaign = _pledge_campaign(form)
    with unit_of_work(form) as work:
        made = pledges.make_pledge(
            pledges.PledgeRequest(
                name=form.name.data,
                email=form.email.data,
                site_id=parse_id(site_id),
                expected_on=form.expected_on.data,
                lines=form.parsed_lines,
                note=form.note.data or "",
                campaign_id=campaign.id if campaign is not None else None,
            )
        )
    if not work.ok:
        return _pledge_page(form, dropoffs, 400)
    session[PLEDGE_SESSION_KEY] = made.id
    return redirect(url_for("needs.pledge_thanks"))


@bp.get("/needs/pledge/thanks")
@public
def pledge_thanks():
    """Thank the donor and say what to bring where and when (their own pledge only)."""
    pledge_id = session.get(PLEDGE_SESSION_KEY)
    found = db.session.get(Pledge, pledge_id) if isinstance(pledge_id, int) else None
    if found is None:
        return redirect(url_for("needs.index"))
    return render_template("needs/thanks.html", pledge=found, site=found.site)


# --- staff: pledges --------------------------------------------------------------


def _load(pledge_id: int) -> Pledge:
    try:
        return pledges.get_pledge(pledge_id)
    except NotFound:
        abort(404)


@bp.get("/inventory/pledges", endpoint="pledges")
@roles_required(*ANY_ROLE)
def pledges_list():
    """List pledges: open ones by the day they are expected, closed ones newest first."""
    status = request.args.get("status") or PledgeStatus.OPEN.value
    if status not in STATUS_FILTERS:
        status = PledgeStatus.OPEN.value
    query = needs_service.pledge_list_query(status)
    page = db.paginate(query, page=page_arg(), per_page=PLEDGES_PER_PAGE, error_out=False)
    return render_template(
        "needs/pledges.html",
        page=page,
        status=status,
        filters=STATUS_FILTERS,
        received=needs_service.received_by_pledge(p.id for p in page.items),
        today=today(),
        here="pledges",
    )


def _render_detail(
    found: Pledge,
    *,
    receive_form: ReceiveForm | None = None,
    cancel_form: CancelForm | None = None,
    values: dict[int, dict[str, str]] | None = None,
    row_errors: dict[int, str] | None = None,
    status: int = 200,
):
    received = pledges.received_quantities(found)
    if receive_form is None:
        receive_form = ReceiveForm(formdata=None, site_id=str(found.site_id))
    receive_form.site_id.choices = site_choices(found)
    if values is None:
        values = outstanding_values(found, received)
    return (
        render_template(
            "needs/pledge_detail.html",
            pledge=found,
            received=received,
            documents=needs_service.pledge_documents(found.id),
            history=audit.recent_history("pledge", found.id, limit=HISTORY_LIMIT),
            receive_form=receive_form,
            cancel_form=cancel_form or CancelForm(formdata=None, prefix="cancel"),
            values=values,
            row_errors=row_errors or {},
            conditions=CONDITION_CHOICES,
            stock_keeper=current_user.role in STOCK_KEEPERS,
            books=current_user.role in (Role.ADMIN, Role.TREASURER),
            today=today(),
            here="pledges",
        ),
        status,
    )


@bp.get("/inventory/pledges/<int:pledge_id>")
@roles_required(*ANY_ROLE)
def pledge_detail(pledge_id: int):
    """Show a pledge: what was pledged, what has arrived, and the intakes made from it."""
    return _render_detail(_load(pledge_id))


@bp.post("/inventory/pledges/<int:pledge_id>/receive")
@roles_required(*STOCK_KEEPERS)
def receive(pledge_id: int):
    """Record what arrived for a pledge as an intake from its donor, and thank them."""
    found = _load(pledge_id)
    form = ReceiveForm()
    form.site_id.choices = site_choices(found)
    lines, values, row_errors = read_arrived(found, request.form)
    valid = form.validate()
    if row_errors:
        form.form_errors.append("Check the quantities marked below.")
    if not valid or row_errors:
        return _render_detail(
            found, receive_form=form, values=values, row_errors=row_errors, status=400
        )
    site_id = form.site_id.data
    with unit_of_work(form) as work:
        document = pledges.receive_pledge(
            actor=current_user,
            pledge=found,
            effective_date=form.effective_date.data,
            lines=lines,
            site_id=parse_id(site_id),
            close=form.close.data,
            note=form.note.data or "",
        )
    if not work.ok:
        return _render_detail(found, receive_form=form, values=values, status=400)
    who = donor_service.visible_name(donor=found.donor, role=current_user.role)
    message = f"Recorded {document.number}: the goods are in stock and {who} is thanked."
    if found.status == PledgeStatus.OPEN:
        message += " The pledge stays open for the rest."
    else:
        message += " The pledge is closed."
    flash(message, "success")
    return redirect(url_for("inventory.document", document_id=document.id))


@bp.post("/inventory/pledges/<int:pledge_id>/cancel")
@roles_required(*STOCK_KEEPERS)
def cancel(pledge_id: int):
    """Close a pledge that will not come; what already arrived stays recorded."""
    found = _load(pledge_id)
    form = CancelForm(prefix="cancel")
    if not form.validate():
        return _render_detail(found, cancel_form=form, status=400)
    with unit_of_work(form) as work:
        pledges.cancel_pledge(actor=current_user, pledge=found, reason=form.reason.data)
    if not work.ok:
        return _render_detail(found, cancel_form=form, status=400)
    who = donor_service.visible_name(donor=found.donor, role=current_user.role)
    flash(f"Pledge #{found.id} from {who} is cancelled.", "success")
    return redirect(url_for("needs.pledge_detail", pledge_id=found.id))


# --- admin: the needs list's settings ----------------------------------------------


@bp.route("/admin/needs", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    """Pin items to the public needs list, hide them, or let stock levels decide."""
    form = SettingsForm()
    if form.validate_on_submit():
        choices = visibility_choices(request.form)
        with unit_of_work() as work:
            changed = needs_service.set_needs_visibility(actor=current_user, choices=choices)
        if work.error is not None:
            form.form_errors.append(work.error.message)
        if work.ok:
            if changed:
                flash(
                    f"Saved: {changed} item{'' if changed == 1 else 's'} changed. "
                    "The public list shows the change within a minute.",
                    "success",
                )
            else:
                flash("Nothing was changed.", "info")
            return redirect(url_for("needs.settings"))
    return (
        render_template(
            "needs/settings.html",
            form=form,
            items=needs_service.settings_items(),
            stock=needs_service.stock_needs(),
            shown={n.item_id: n for n in inventory.public_needs()},
            labels=needs_service.VISIBILITY_LABELS,
            visibility_of=needs_service.visibility_of,
            posted={k: v for k, v in request.form.items()} if form.is_submitted() else {},
            here="needs-settings",
        ),
        400 if form.is_submitted() else 200,
    )
