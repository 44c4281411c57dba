"""The public "What we need now" list and pledges, and the staff side of pledges."""

from __future__ import annotations

import re
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
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from donations.authz import ANY_ROLE, public, roles_required
from donations.extensions import db, limiter
from donations.forms import strip_text
from donations.models import (
    Condition,
    Item,
    ItemCategory,
    Pledge,
    PledgeLine,
    PledgeStatus,
    Role,
    utcnow,
)
from donations.ranges import IdSelectField, id_arg, page_arg, parse_id
from donations.services import catalog, inventory, pledges
from donations.services import donors as donor_service
from donations.services import needs as needs_service
from donations.services.audit import audit_query
from donations.services.errors import NotFound
from donations.unit_of_work import unit_of_work

bp = Blueprint("needs", __name__)

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
PLEDGE_ROWS = 5  # rows on a blank pledge form
MORE_ROWS = 5  # rows "Add more rows" adds
PLEDGES_PER_PAGE = 50
# The public list changes only when stock or settings do: let browsers and proxies
# keep it a little while.
NEEDS_MAX_AGE = 60
PLEDGE_SESSION_KEY = "needs.pledge_id"
CANCEL_REASON_MAX = 500
STATUS_FILTERS = {
    PledgeStatus.OPEN.value: "Open",
    PledgeStatus.RECEIVED.value: "Received",
    PledgeStatus.CANCELLED.value: "Cancelled",
}
CONDITION_CHOICES = [SelectChoice(c.value, c.label) for c in Condition]
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,9}")


def _today():
    return utcnow().date()


def _quantity(raw: str) -> int | None:
    """A typed quantity as an int, or None when it is not a whole number."""
    raw = raw.replace(",", "").strip()
    return int(raw) if WHOLE_NUMBER.fullmatch(raw) else None


# --- forms ---------------------------------------------------------------------


class PledgeLineForm(Form):
    """One row of the pledge form: an item and how many."""

    item = IdSelectField("Item", default="")
    quantity = StringField("How many", filters=[strip_text], validators=[Length(max=12)])


class PledgeForm(FlaskForm):
    name = StringField(
        "Your name",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter your name."),
            Length(max=pledges.NAME_MAX_LENGTH),
        ],
    )
    email = EmailField(
        "Your email",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter your email address, such as you@example.com."),
            Length(max=254),
        ],
        description="We email you a confirmation now, and a thank-you when your items arrive.",
    )
    site_id = IdSelectField(
        "Drop-off point",
        default="",
        validators=[DataRequired(message="Choose a drop-off point from the list.")],
    )
    expected_on = DateField(
        "The day you will bring them",
        validators=[InputRequired(message="Say when you plan to bring the items.")],
    )
    lines = FieldList(
        FormField(PledgeLineForm), min_entries=PLEDGE_ROWS, max_entries=pledges.PLEDGE_LINES_MAX
    )
    note = TextAreaField(
        "Anything we should know? (optional)",
        filters=[strip_text],
        validators=[Length(max=pledges.NOTE_MAX_LENGTH)],
        description="For example, the sizes of the coats, or that you need help unloading.",
    )

    parsed_lines: list[inventory.Line]

    def validate_lines(self, field: FieldList) -> None:
        """Read the rows that were filled in; mark half-filled and malformed ones."""
        self.parsed_lines = []
        marked = False
        for entry in field.entries:
            row = entry.form
            item, raw = (row.item.data or "").strip(), row.quantity.data or ""
            if not item and not raw:
                continue
            if parse_id(item) is None:
                row.item.errors.append("Choose the item.")
                marked = True
                continue
            quantity = _quantity(raw) if raw else None
            if not raw:
                row.quantity.errors.append("Enter how many.")
            elif quantity is None:
                row.quantity.errors.append("Enter a whole number, such as 3.")
            elif not 0 < quantity <= pledges.PLEDGE_QUANTITY_MAX:
                row.quantity.errors.append(
                    f"Enter a number from 1 to {pledges.PLEDGE_QUANTITY_MAX:,}."
                )
            if row.quantity.errors:
                marked = True
                continue
            self.parsed_lines.append(inventory.Line(int(item), quantity))
        if marked:
            raise ValidationError("Check the items marked below.")
        if not self.parsed_lines:
            raise ValidationError("Choose at least one item and how many.")


class ReceiveForm(FlaskForm):
    """What arrived for a pledge; the quantities are read per pledge line by the view."""

    effective_date = DateField(
        "Date the goods arrived",
        default=_today,
        validators=[InputRequired(message="Enter the date the goods arrived.")],
    )
    site_id = IdSelectField(
        "Received at",
        validators=[DataRequired(message="Choose the site the goods arrived at.")],
    )
    close = BooleanField(
        "Close the pledge even if some items did not come",
        description="Otherwise it stays open until everything pledged has arrived.",
    )
    note = TextAreaField(
        "Note (optional)",
        filters=[strip_text],
        validators=[Length(max=inventory.NOTE_MAX_LENGTH)],
        description="Kept with the intake document.",
    )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why is it cancelled?",
        filters=[strip_text],
        validators=[
            DataRequired(message="Say why the pledge is cancelled."),
            Length(max=CANCEL_REASON_MAX),
        ],
        description="For example: the donor wrote that they cannot come. Kept in the history.",
    )


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


def _item_choices() -> list[SelectChoice]:
    """Needed items first, then every other active item that is not a kit."""
    needed = inventory.public_needs()
    needed_ids = {n.item_id for n in needed}
    others = [i for i in catalog.active_items() if not i.is_kit and i.id not in needed_ids]
    return [
        SelectChoice("", "Choose an item"),
        *(SelectChoice(str(n.item_id), n.label, optgroup="Needed now") for n in needed),
        *(SelectChoice(str(i.id), i.label, optgroup="Other items we collect") for i in others),
    ]


def _prepare_pledge_form(form: PledgeForm, dropoffs) -> None:
    form.site_id.choices = [SelectChoice("", "Choose a drop-off point")] + [
        SelectChoice(str(s.id), s.name) for s in dropoffs
    ]
    choices = _item_choices()
    for number, entry in enumerate(form.lines.entries, start=1):
        entry.item.choices = choices
        entry.item.label.text = f"Item {number}"
        # Five rows of "How many" sound alike to a screen reader: say which row.
        entry.quantity.label.text = Markup(
            'How many<span class="visually-hidden"> of item {}</span>'
        ).format(number)


def _pledge_page(form: PledgeForm, dropoffs, status: int = 200):
    _prepare_pledge_form(form, dropoffs)
    return (
        render_template(
            "needs/pledge.html",
            form=form,
            dropoffs=dropoffs,
            today=_today(),
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
        if len(dropoffs) == 1:
            form.site_id.data = str(dropoffs[0].id)
        return _pledge_page(form, dropoffs)
    if _adding_rows():
        for _ in range(MORE_ROWS):
            if len(form.lines.entries) < pledges.PLEDGE_LINES_MAX:
                form.lines.append_entry()
        return _pledge_page(form, dropoffs)
    if not form.validate():
        return _pledge_page(form, dropoffs, 400)
    site_id = form.site_id.data
    with unit_of_work(form) as work:
        made = pledges.make_pledge(
            pledges.PledgeRequest(
                name=form.name.data,
                email=form.email.data,
                site_id=parse_id(site_id),
                expected_on=form.expected_on.data,
                lines=form.parsed_lines,
                note=form.note.data or "",
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
    query = pledges.pledges_query(status).options(
        joinedload(Pledge.donor),
        joinedload(Pledge.site),
        selectinload(Pledge.lines).joinedload(PledgeLine.item),
    )
    page = db.paginate(query, page=page_arg(), per_page=PLEDGES_PER_PAGE, error_out=False)
    return render_template(
        "needs/pledges.html",
        page=page,
        status=status,
        filters=STATUS_FILTERS,
        received=needs_service.received_by_pledge(p.id for p in page.items),
        today=_today(),
        here="pledges",
    )


def _site_choices(pledge: Pledge) -> list[SelectChoice]:
    sites = catalog.list_sites(include_inactive=False)
    return [SelectChoice("", "Choose a site")] + [
        SelectChoice(str(s.id), f"{s.name} ({s.kind_label.lower()})")
        for s in sites
        if s.active or s.id == pledge.site_id
    ]


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
    receive_form.site_id.choices = _site_choices(found)
    if values is None:
        values = {
            line.id: {
                "quantity": str(max(line.quantity - received.get(line.item_id, 0), 0) or ""),
                "condition": Condition.NEW.value,
            }
            for line in found.lines
        }
    return (
        render_template(
            "needs/pledge_detail.html",
            pledge=found,
            received=received,
            documents=needs_service.pledge_documents(found.id),
            history=db.session.scalars(
                audit_query(object_type="pledge", object_id=found.id).limit(50)
            ).all(),
            receive_form=receive_form,
            cancel_form=cancel_form or CancelForm(formdata=None, prefix="cancel"),
            values=values,
            row_errors=row_errors or {},
            conditions=CONDITION_CHOICES,
            stock_keeper=current_user.role in STOCK_KEEPERS,
            books=current_user.role in (Role.ADMIN, Role.TREASURER),
            today=_today(),
            here="pledges",
        ),
        status,
    )


@bp.get("/inventory/pledges/<int:pledge_id>")
@roles_required(*ANY_ROLE)
def pledge_detail(pledge_id: int):
    """Show a pledge: what was pledged, what has arrived, and the intakes made from it."""
    return _render_detail(_load(pledge_id))


def _arrived(found: Pledge) -> tuple[list[inventory.Line], dict, dict[int, str]]:
    """Read one quantity and condition per pledge line; blank or 0 means it did not come."""
    lines: list[inventory.Line] = []
    values: dict[int, dict[str, str]] = {}
    errors: dict[int, str] = {}
    conditions = {c.value for c in Condition}
    for line in found.lines:
        raw = (request.form.get(f"quantity-{line.id}") or "").strip()
        condition = request.form.get(f"condition-{line.id}") or Condition.NEW.value
        values[line.id] = {"quantity": raw[:12], "condition": condition}
        if not raw:
            continue
        quantity = _quantity(raw)
        if quantity is None or quantity < 0:
            errors[line.id] = "Enter a whole number, such as 3, or 0 if none came."
        elif quantity > inventory.QUANTITY_MAX:
            errors[line.id] = f"Enter at most {inventory.QUANTITY_MAX:,}."
        elif condition not in conditions:
            errors[line.id] = "Choose the condition: new or good used."
        elif quantity:
            lines.append(inventory.Line(line.item_id, quantity, condition))
    return lines, values, errors


@bp.post("/inventory/pledges/<int:pledge_id>/receive")
@roles_required(*STOCK_KEEPERS)
def receive(pledge_id: int):
    """Record what arrived for a pledge as an intake from its donor, and thank them."""
    found = _load(pledge_id)
    form = ReceiveForm()
    form.site_id.choices = _site_choices(found)
    lines, values, row_errors = _arrived(found)
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


class SettingsForm(FlaskForm):
    """The CSRF token; the per-item choices are read by the view."""


@bp.route("/admin/needs", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    """Pin items to the public needs list, hide them, or let stock levels decide."""
    form = SettingsForm()
    if form.validate_on_submit():
        choices: dict[int, str] = {}
        for key, value in request.form.items():
            prefix, _, item_id = key.partition("-")
            if prefix == "visibility" and item_id.isdigit():
                choices[int(item_id)] = value
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
    items = list(
        db.session.scalars(
            select(Item)
            .join(ItemCategory, ItemCategory.id == Item.category_id)
            .options(joinedload(Item.category))
            .where(Item.active.is_(True))
            .order_by(ItemCategory.sort_order, ItemCategory.name, Item.name, Item.size)
        )
    )
    return (
        render_template(
            "needs/settings.html",
            form=form,
            items=items,
            stock=needs_service.stock_needs(),
            shown={n.item_id: n for n in inventory.public_needs()},
            labels=needs_service.VISIBILITY_LABELS,
            visibility_of=needs_service.visibility_of,
            posted={k: v for k, v in request.form.items()} if form.is_submitted() else {},
            here="needs-settings",
        ),
        400 if form.is_submitted() else 200,
    )
