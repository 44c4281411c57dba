"""Recording goods movements: intake, distribution, transfer, adjustment, counts and kits.

Each form is a thin view over ``donations.services.inventory``. The item lines
are server-rendered rows (a FieldList); "Add more rows" re-renders with more,
keeping what was typed, so everything works without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from donations.authz import roles_required
from donations.extensions import db
from donations.forms import show_domain_error, strip_text
from donations.models import (
    Condition,
    Donor,
    Item,
    ItemCategory,
    Role,
    Site,
    StockDocument,
    StockLevel,
    utcnow,
)
from donations.money import AmountError, parse_amount
from donations.ranges import CHOOSE_AGAIN, NO_SUCH_DONOR, BoundedIntegerField, id_arg, parse_id
from donations.services import donors as donor_service
from donations.services import inventory, privacy
from donations.services import recipients as recipient_service
from donations.services.errors import DomainError, NotAllowed, NotFound
from donations.services.giving import default_currency
from donations.unit_of_work import unit_of_work

bp = Blueprint("movements", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
ROWS_START = 8  # blank rows on a new form
ROWS_STEP = 8  # rows added by "Add more rows"
ROWS_MAX = inventory.LINES_MAX
ITEM_TEXT_MAX_LENGTH = 160
QUANTITY_TEXT_MAX_LENGTH = 20
DONOR_CHOICES_LIMIT = 20
COUNT_ROWS_MAX = 5000
SITE_SESSION_KEY = "goods_site_id"
DIRECTION_LABELS = {"in": "Add to stock", "out": "Remove from stock"}


# --- small parsers -------------------------------------------------------------


def _coerce_id(value: Any) -> int | None:
    """Coerce a select's value to an id, or None when blank or not a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_id(value)


_WHOLE_RE = re.compile(r"^[+-]?\d+$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)$")


def parse_quantity(text: str, *, allow_zero: bool = False) -> tuple[int | None, str | None]:
    """Return (quantity, None) for a whole number typed in a row, or (None, message)."""
    text = (text or "").strip()
    if _WHOLE_RE.match(text):
        number = int(text)
    elif _DECIMAL_RE.match(text):
        value = Decimal(text)
        if value != value.to_integral_value():
            return None, "Enter a whole number: goods are counted in whole units."
        number = int(value)
    else:
        return None, "Enter the quantity as a whole number, such as 3."
    if number < 0:
        if allow_zero:
            return None, "A count cannot be negative; enter 0 or more."
        return None, "Enter a quantity above zero; to take stock away use an adjustment."
    if number == 0 and not allow_zero:
        return None, "Enter a quantity above zero, or clear the row."
    if number > inventory.QUANTITY_MAX:
        return None, f"At most {inventory.QUANTITY_MAX:,} on one row."
    return number, None


def _add_error(target: Any, message: str) -> None:
    target.errors = [*target.errors, message]


# --- forms ---------------------------------------------------------------------


class LineForm(Form):
    """One row: the item (name or label code) and how many."""

    item = StringField("Item", filters=[strip_text], validators=[Length(max=ITEM_TEXT_MAX_LENGTH)])
    quantity = StringField(
        "Quantity", filters=[strip_text], validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)]
    )


class IntakeLineForm(LineForm):
    condition = SelectField(
        "Condition",
        choices=[SelectChoice(c.value, c.label) for c in Condition],
        default=Condition.NEW.value,
    )


def _lines_field(line_form: type[Form]) -> FieldList:
    return FieldList(FormField(line_form), min_entries=ROWS_START, max_entries=ROWS_MAX)


def _site_field(label: str, message: str) -> SelectField:
    return SelectField(
        label, coerce=_coerce_id, validate_choice=False, validators=[InputRequired(message)]
    )


def _date_field(label: str = "Date") -> DateField:
    return DateField(
        label,
        default=lambda: utcnow().date(),
        validators=[InputRequired(message="Enter the date, such as 2026-01-31.")],
    )


def _note_field(label: str = "Note", description: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        filters=[strip_text],
        validators=[Length(max=inventory.NOTE_MAX_LENGTH)],
        description=description,
    )


class LinesForm(FlaskForm):
    """What every multi-line movement form has."""

    add_rows = SubmitField("Add more rows")


class IntakeForm(LinesForm):
    site_id = _site_field("Received at", "Choose the site where the goods arrived.")
    effective_date = _date_field("Date received")
    source = RadioField(
        "Where the goods came from",
        choices=[SelectChoice(value, label) for value, label in inventory.SOURCE_LABELS.items()],
        validators=[InputRequired(message="Say where the goods came from.")],
    )
    donor_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=NO_SUCH_DONOR
    )
    drive_name = StringField(
        "Name of the drive",
        filters=[strip_text],
        validators=[Length(max=inventory.DRIVE_NAME_MAX_LENGTH)],
        description="Such as Lincoln High coat drive.",
    )
    donor_value = StringField(
        "The donor's own estimate of the value (optional)",
        filters=[strip_text],
        validators=[Length(max=30)],
    )
    note = _note_field()
    lines = _lines_field(IntakeLineForm)
    submit = SubmitField("Record goods received")


class DistributionForm(LinesForm):
    site_id = _site_field("Given out from", "Choose the site the goods left.")
    effective_date = _date_field()
    recipient_id = SelectField(
        "Program or partner agency",
        coerce=_coerce_id,
        validate_choice=False,
        validators=[InputRequired("Choose a program or partner agency from the list.")],
        description=(
            "Goods go to one of your programs or to a partner agency, never to a named "
            "person. An admin adds new ones under Programs and partners."
        ),
    )
    case_code = StringField(
        "Case code (optional)", filters=[strip_text], description=inventory.CASE_CODE_HINT
    )
    note = _note_field()
    lines = _lines_field(LineForm)
    submit = SubmitField("Record distribution")


class TransferForm(LinesForm):
    site_id = _site_field("From site", "Choose the site the goods leave.")
    to_site_id = _site_field("To site", "Choose the site the goods go to.")
    effective_date = _date_field()
    note = _note_field()
    lines = _lines_field(LineForm)
    submit = SubmitField("Record transfer")


class AdjustmentForm(LinesForm):
    site_id = _site_field("Site", "Choose the site.")
    effective_date = _date_field()
    reason = SelectField(
        "Reason",
        choices=[SelectChoice("", "Choose a reason")]
        + [SelectChoice(value, label) for value, label in inventory.REASON_LABELS.items()],
        validators=[InputRequired(message="Choose a reason.")],
    )
    direction = RadioField(
        "Add or remove (only for Other)",
        choices=[SelectChoice(value, label) for value, label in DIRECTION_LABELS.items()],
        validate_choice=False,
        description=(
            "Needed only when the reason is Other: damaged, expired and lost always remove "
            "stock, found always adds it."
        ),
    )
    note = _note_field("Note", "Required when the reason is Other: say why.")
    lines = _lines_field(LineForm)
    submit = SubmitField("Record adjustment")


class DonorSearchForm(Form):
    """A GET search for the donor who brought goods; searching changes nothing."""

    q = SearchField("Find the donor by name", filters=[strip_text], validators=[Length(max=200)])


class CountStartForm(Form):
    """Step one of a count (GET): which site, and optionally which category."""

    site_id = SelectField("Site to count", coerce=_coerce_id, validate_choice=False)
    category_id = SelectField(
        "Also list every item of this category (optional)",
        coerce=_coerce_id,
        validate_choice=False,
        description="The site's items are listed anyway; a category adds the items it has none of.",
    )


class CountLineForm(Form):
    item_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    counted = StringField(
        "Counted", filters=[strip_text], validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)]
    )
    expected = StringField(widget=HiddenInput(), validators=[Length(max=QUANTITY_TEXT_MAX_LENGTH)])


class CountForm(FlaskForm):
    site_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    category_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=CHOOSE_AGAIN
    )
    effective_date = _date_field("Date counted")
    note = _note_field()
    lines = FieldList(FormField(CountLineForm), min_entries=0, max_entries=COUNT_ROWS_MAX)
    review = SubmitField("Review the differences")
    confirm = SubmitField("Confirm count")
    edit = SubmitField("Change the counts")


class KitForm(FlaskForm):
    kit_item_id = SelectField(
        "Kit", coerce=_coerce_id, validate_choice=False, validators=[InputRequired("Choose a kit.")]
    )
    site_id = _site_field("Site", "Choose the site.")
    quantity = StringField(
        "Number of kits",
        filters=[strip_text],
        validators=[
            InputRequired(message="Enter how many kits."),
            Length(max=QUANTITY_TEXT_MAX_LENGTH),
        ],
    )
    action = RadioField(
        "Assemble or take apart",
        choices=[
            SelectChoice("assemble", "Assemble: make kits from their components"),
            SelectChoice("disassemble", "Take apart: put the components back on the shelf"),
        ],
        default="assemble",
    )
    effective_date = _date_field()
    note = _note_field()
    submit = SubmitField("Record")


# --- choices and defaults ----------------------------------------------------------


def _open_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)))


def _site_choices(sites: list[Site], first: str = "Choose a site") -> list[SelectChoice]:
    return [SelectChoice("", first)] + [
        SelectChoice(site.id, f"{site.name} ({site.kind_label.lower()})") for site in sites
    ]


def _default_site_id(sites: list[Site]) -> int | None:
    """The site in ?site_id=, else the last one this person used, else the only one."""
    open_ids = {site.id for site in sites}
    for candidate in (id_arg("site_id"), session.get(SITE_SESSION_KEY)):
        if candidate in open_ids:
            return candidate
    return sites[0].id if len(sites) == 1 else None


def _remember_site(site_id: int | None) -> None:
    if site_id:
        session[SITE_SESSION_KEY] = site_id


def _item_options() -> list[Item]:
    """Active items for the rows' <datalist>, in name order."""
    return list(
        db.session.scalars(
            select(Item).where(Item.active.is_(True)).order_by(func.lower(Item.name), Item.size)
        )
    )


def _recipient_choices() -> list[SelectChoice]:
    """Open programs and partner agencies: the only recipients a distribution may name."""
    return [SelectChoice("", "Choose a program or partner agency")] + [
        SelectChoice(r.id, f"{r.name} ({r.kind_label.lower()})")
        for r in recipient_service.list_recipients(include_archived=False)
    ]


# --- the rows ----------------------------------------------------------------------


class ItemResolver:
    """Find the item a row names: a label code first (scanned or typed), else its label."""

    SEPARATOR = " — "  # how the <datalist> shows "Socks (M) — SOCKS-M"

    def __init__(self) -> None:
        self._by_label: dict[str, list[Item]] | None = None

    def _labels(self) -> dict[str, list[Item]]:
        if self._by_label is None:
            self._by_label = {}
            for item in db.session.scalars(select(Item).order_by(Item.active.desc(), Item.id)):
                self._by_label.setdefault(item.label.casefold(), []).append(item)
        return self._by_label

    def resolve(self, text: str) -> tuple[Item | None, str | None]:
        text = " ".join(text.split())
        label_part, code_part = text, text
        if self.SEPARATOR.strip() in text:
            label_part, _, code_part = text.rpartition(self.SEPARATOR.strip())
            label_part, code_part = label_part.strip(), code_part.strip()
        for code in dict.fromkeys((code_part, text)):
            item = inventory.find_item_by_code(code)
            if item is not None:
                return item, None
        matches = self._labels().get(label_part.casefold(), [])
        active = [item for item in matches if item.active]
        if len(matches) == 1:
            return matches[0], None
        if len(active) == 1:
            return active[0], None
        if matches:
            return None, f"Several items are called “{label_part}”; type its label code instead."
        return None, (
            f"No item has the code or name “{text}”. Choose one from the list, or check the label."
        )


@dataclass
class ReadLines:
    """The rows of a form as service lines, and which row holds which item."""

    lines: list[inventory.Line] = field(default_factory=list)
    row_items: dict[int, int] = field(default_factory=dict)  # row index -> item id
    names: dict[int, str] = field(default_factory=dict)  # row index -> item label
    ok: bool = True


def read_lines(rows: FieldList, *, with_condition: bool = False) -> ReadLines:
    """Turn the filled rows into lines; put an error next to each bad row.

    Blank rows are ignored. A row needs a known item and a whole quantity above zero.
    """
    resolver = ItemResolver()
    result = ReadLines()
    for index, entry in enumerate(rows.entries):
        row = entry.form
        item_text = (row.item.data or "").strip()
        quantity_text = (row.quantity.data or "").strip()
        if row.item.errors or row.quantity.errors:
            result.ok = False
            continue
        if not item_text and not quantity_text:
            continue
        item = None
        if item_text:
            item, problem = resolver.resolve(item_text)
            if problem and privacy.personal_details(item_text):
                problem = f"{privacy.SCREEN_MESSAGE} Choose the item from the catalog."
            if problem:
                _add_error(row.item, problem)
                result.ok = False
            else:
                result.names[index] = item.label
        else:
            _add_error(row.item, "Choose the item for this quantity, or clear the row.")
            result.ok = False
        if not quantity_text:
            _add_error(row.quantity, "Enter how many.")
            result.ok = False
            continue
        quantity, problem = parse_quantity(quantity_text)
        if problem:
            _add_error(row.quantity, problem)
            result.ok = False
            continue
        condition = ""
        if with_condition:
            condition = row.condition.data or ""
            if condition not in {c.value for c in Condition}:
                _add_error(row.condition, "Choose new or good used.")
                result.ok = False
                continue
        if item is not None:
            result.lines.append(inventory.Line(item.id, quantity, condition))
            result.row_items[index] = item.id
    return result


def recognised(rows: FieldList) -> ReadLines:
    """The items the rows name so far, to show beside them; nothing is checked."""
    resolver = ItemResolver()
    result = ReadLines()
    for index, entry in enumerate(rows.entries):
        text = (entry.form.item.data or "").strip()
        if text and len(text) <= ITEM_TEXT_MAX_LENGTH:
            item, _problem = resolver.resolve(text)
            if item is not None:
                result.names[index] = item.label
    return result


def add_rows(form: LinesForm) -> None:
    """Give the form more blank rows, keeping what was typed."""
    rows = form.lines
    added = 0
    while added < ROWS_STEP and len(rows.entries) < ROWS_MAX:
        rows.append_entry()
        added += 1
    if not added:
        form.form_errors.append(f"A document holds at most {ROWS_MAX} rows; record the rest next.")


def _focus_after_add(rows: FieldList) -> str | None:
    """Where the cursor goes after "Add more rows".

    A row with an item but no quantity first (a scanned item), else the first
    blank row after the last filled one.
    """
    forms = [entry.form for entry in rows.entries]
    for row in forms:
        if row.item.data and not row.quantity.data:
            return row.quantity.id
    filled = [i for i, row in enumerate(forms) if row.item.data or row.quantity.data]
    after = filled[-1] + 1 if filled else 0
    return forms[after].item.id if after < len(forms) else None


def show_error(form: FlaskForm, error: DomainError, read: ReadLines | None = None) -> None:
    """Show a service's refusal on the form: shortages also next to their rows."""
    if isinstance(error, inventory.InsufficientStock):
        form.form_errors.append(error.message)
        if read is not None:
            for shortage in error.shortages:
                for index, item_id in read.row_items.items():
                    if item_id == shortage.item_id:
                        row = form.lines.entries[index].form
                        _add_error(
                            row.quantity,
                            f"Only {shortage.on_hand} on hand at {shortage.site} "
                            f"(asked for {shortage.asked}).",
                        )
        return
    if error.field == "lines":
        form.form_errors.append(error.message)
        return
    show_domain_error(form, error)


def _post_lines(
    form: LinesForm,
    *,
    with_condition: bool = False,
    before: Callable[[], bool] | None = None,
    post: Callable[[list[inventory.Line]], tuple[StockDocument, str]],
) -> tuple[Any, ReadLines | None, str | None]:
    """Handle a multi-line form's POST.

    Returns (redirect, None, None) once the document is recorded, else
    (status, the rows read, the field to focus) for re-rendering.
    """
    if form.add_rows.data:
        add_rows(form)
        return 200, recognised(form.lines), _focus_after_add(form.lines)
    valid = form.validate()
    read = read_lines(form.lines, with_condition=with_condition)
    if before is not None:
        valid = before() and valid
    if not read.ok:
        form.form_errors.append(
            "Some rows need correcting: see the messages next to them."
            if valid
            else "Please correct the fields and rows marked below."
        )
    if valid and read.ok:
        with unit_of_work() as work:
            document, message = post(read.lines)
        if work.error is not None:
            show_error(form, work.error, read)
        else:
            _remember_site(form.site_id.data)
            flash(message, "success")
            return redirect(url_for("inventory.document", document_id=document.id)), None, None
    return 400, read, None


def _units(lines: Iterable[inventory.Line]) -> str:
    total = sum(line.quantity for line in lines)
    return f"{total} unit{'s' if total != 1 else ''}"


def _render_lines(template: str, form: LinesForm, status: int, read, focus, **context):
    return (
        render_template(
            template,
            form=form,
            item_options=_item_options(),
            names=read.names if read else {},
            focus=focus,
            here="record",
            **context,
        ),
        status,
    )


# --- the landing page ------------------------------------------------------------


@bp.get("/record")
@roles_required(*STOCK_KEEPERS)
def record():
    """Offer one card per kind of movement."""
    return render_template("movements/record.html", here="record")


# --- intake ---------------------------------------------------------------------------


def _donor_choice(donor_id: int | None) -> tuple[Donor | None, dict[str, Any]]:
    """Return the chosen donor (the record in use) and the donor search to show."""
    donor = None
    if donor_id:
        try:
            donor = donor_service.resolve_merged(donor_service.get_donor(donor_id))
        except NotFound:
            donor = None
    search = DonorSearchForm(request.args)
    q = (search.q.data or "") if search.validate() else ""
    results = None
    if q:
        results = donor_service.lookup_donors_by_name(
            text=q,
            limit=DONOR_CHOICES_LIMIT + 1,
            show_names=donor_service.sees_donor_names(current_user.role),
        )
    return donor, {
        "search": search,
        "q": q,
        "results": results[:DONOR_CHOICES_LIMIT] if results is not None else None,
        "more": results is not None and len(results) > DONOR_CHOICES_LIMIT,
    }


@bp.route("/intake/new", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def intake():
    """Record goods received at a site: from a known donor, a drive or an anonymous drop-off."""
    form = IntakeForm()
    sites = _open_sites()
    form.site_id.choices = _site_choices(sites)
    currency = default_currency()
    status, read, focus = 200, None, None
    if not form.is_submitted():
        form.site_id.data = _default_site_id(sites)
        donor_id = id_arg("donor_id")
        if donor_id:
            form.donor_id.data = donor_id
        if donor_id or request.args.get("q"):
            form.source.data = "donor"
    else:
        donor_value: dict[str, int | None] = {"cents": None}

        def check_value() -> bool:
            if form.source.data != "donor" or not form.donor_value.data:
                return True
            try:
                donor_value["cents"] = parse_amount(form.donor_value.data, currency)
            except AmountError as error:
                _add_error(form.donor_value, str(error))
                return False
            return True

        def post(lines: list[inventory.Line]) -> tuple[StockDocument, str]:
            document = inventory.record_intake(
                actor=current_user,
                site_id=form.site_id.data,
                effective_date=form.effective_date.data,
                source=form.source.data,
                lines=lines,
                donor_id=form.donor_id.data,
                drive_name=form.drive_name.data or "",
                donor_value_cents=donor_value["cents"],
                currency=currency,
                note=form.note.data or "",
            )
            where = f"{_units(lines)} received at {document.site.name}"
            if document.donor is not None:
                who = donor_service.visible_name(donor=document.donor, role=current_user.role)
                return document, (
                    f"Recorded {document.number}: {where}, and an in-kind gift from {who}."
                )
            return document, f"Recorded {document.number}: {where}."

        outcome, read, focus = _post_lines(form, with_condition=True, before=check_value, post=post)
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    donor, choice = _donor_choice(form.donor_id.data)
    if donor is not None:
        form.donor_id.data = donor.id
    return _render_lines(
        "movements/intake.html",
        form,
        status,
        read,
        focus,
        donor=donor,
        choice=choice,
        currency=currency,
    )


# --- distribution ---------------------------------------------------------------------


@bp.route("/distribution/new", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def distribution():
    """Record goods given out to a program or partner agency."""
    form = DistributionForm()
    sites = _open_sites()
    form.site_id.choices = _site_choices(sites)
    form.recipient_id.choices = _recipient_choices()
    status, read, focus = 200, None, None
    if not form.is_submitted():
        form.site_id.data = _default_site_id(sites)
    else:

        def post(lines: list[inventory.Line]) -> tuple[StockDocument, str]:
            document = inventory.record_distribution(
                actor=current_user,
                site_id=form.site_id.data,
                effective_date=form.effective_date.data,
                recipient_id=form.recipient_id.data,
                case_code=form.case_code.data or "",
                lines=lines,
                note=form.note.data or "",
            )
            return document, (
                f"Recorded {document.number}: {_units(lines)} given out from "
                f"{document.site.name} to {document.recipient}."
            )

        outcome, read, focus = _post_lines(form, post=post)
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    return _render_lines(
        "movements/distribution.html",
        form,
        status,
        read,
        focus,
        has_recipients=len(form.recipient_id.choices) > 1,
        case_code_max=inventory.CASE_CODE_MAX_LENGTH,
    )


# --- transfer ----------------------------------------------------------------------------


@bp.route("/transfer/new", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def transfer():
    """Record goods moved from one site to another."""
    form = TransferForm()
    sites = _open_sites()
    form.site_id.choices = _site_choices(sites)
    form.to_site_id.choices = _site_choices(sites)
    status, read, focus = 200, None, None
    if not form.is_submitted():
        form.site_id.data = _default_site_id(sites)
    else:

        def same_site() -> bool:
            if form.site_id.data and form.site_id.data == form.to_site_id.data:
                _add_error(form.to_site_id, "Choose a different site from the one goods leave.")
                return False
            return True

        def post(lines: list[inventory.Line]) -> tuple[StockDocument, str]:
            document = inventory.record_transfer(
                actor=current_user,
                from_site_id=form.site_id.data,
                to_site_id=form.to_site_id.data,
                effective_date=form.effective_date.data,
                lines=lines,
                note=form.note.data or "",
            )
            return document, (
                f"Recorded {document.number}: {_units(lines)} moved from "
                f"{document.site.name} to {document.to_site.name}."
            )

        outcome, read, focus = _post_lines(form, before=same_site, post=post)
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    return _render_lines("movements/transfer.html", form, status, read, focus)


# --- adjustment --------------------------------------------------------------------------


@bp.route("/adjustment/new", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def adjustment():
    """Record stock found, or damaged, expired or lost, or changed for another reason."""
    form = AdjustmentForm()
    sites = _open_sites()
    form.site_id.choices = _site_choices(sites)
    status, read, focus = 200, None, None
    if not form.is_submitted():
        form.site_id.data = _default_site_id(sites)
        reason = request.args.get("reason", "")
        if reason in inventory.REASON_LABELS:
            form.reason.data = reason
    else:

        def post(lines: list[inventory.Line]) -> tuple[StockDocument, str]:
            document = inventory.record_adjustment(
                actor=current_user,
                site_id=form.site_id.data,
                effective_date=form.effective_date.data,
                reason=form.reason.data or "",
                direction=form.direction.data or "",
                lines=lines,
                note=form.note.data or "",
            )
            added = any(entry.quantity > 0 for entry in document.entries)
            word = "added to" if added else "removed from"
            reason_label = inventory.REASON_LABELS[document.reason].lower()
            return document, (
                f"Recorded {document.number}: {_units(lines)} {word} "
                f"{document.site.name} ({reason_label})."
            )

        outcome, read, focus = _post_lines(form, post=post)
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    return _render_lines(
        "movements/adjustment.html", form, status, read, focus, reasons=inventory.REASON_LABELS
    )


# --- stock count -------------------------------------------------------------------------


def _count_items(site_id: int, category_id: int | None) -> list[Item]:
    """Active items the site holds a balance row for, plus the chosen category's active items."""
    held = select(StockLevel.item_id).where(StockLevel.site_id == site_id)
    condition = Item.id.in_(held)
    if category_id:
        condition = condition | (Item.category_id == category_id)
    return list(
        db.session.scalars(
            select(Item)
            .join(ItemCategory, ItemCategory.id == Item.category_id)
            .where(Item.active.is_(True), condition)
            .order_by(ItemCategory.sort_order, ItemCategory.name, func.lower(Item.name), Item.size)
        )
    )


def _categories() -> list[ItemCategory]:
    return list(
        db.session.scalars(
            select(ItemCategory).order_by(ItemCategory.sort_order, ItemCategory.name)
        )
    )


def _count_start_form(sites: list[Site]) -> CountStartForm:
    start = CountStartForm(request.args)
    start.site_id.choices = _site_choices(sites)
    start.category_id.choices = [SelectChoice("", "No category: only the site's items")] + [
        SelectChoice(c.id, c.name) for c in _categories()
    ]
    if "site_id" not in request.args:
        start.site_id.data = _default_site_id(sites)
    return start


def _read_counts(form: CountForm) -> tuple[dict[int, int], bool]:
    """Return {item id: counted} for the rows filled in, and whether every row was valid."""
    counts: dict[int, int] = {}
    ok = True
    for entry in form.lines.entries:
        row = entry.form
        if row.item_id.errors or row.counted.errors:
            ok = False
            continue
        text = (row.counted.data or "").strip()
        if not text:
            continue
        if not row.item_id.data:
            form.form_errors.append("One of the rows names no item; list the site's items again.")
            ok = False
            continue
        counted, problem = parse_quantity(text, allow_zero=True)
        if problem:
            _add_error(row.counted, problem)
            ok = False
            continue
        counts[row.item_id.data] = counted
    if ok and not counts:
        form.form_errors.append("Enter at least one counted quantity; leave uncounted items blank.")
        ok = False
    elif not ok:
        form.form_errors.append("Some counts need correcting: see the messages next to them.")
    return counts, ok


def _read_expected(form: CountForm) -> dict[int, int]:
    expected: dict[int, int] = {}
    for entry in form.lines.entries:
        row = entry.form
        text = (row.expected.data or "").strip()
        if row.item_id.data and text.isdigit():
            expected[row.item_id.data] = int(text)
    return expected


def _set_expected(form: CountForm, differences: list[inventory.CountDifference]) -> None:
    """Carry what was expected on the review into hidden fields, for the confirmation."""
    by_item = {d.item_id: d.expected for d in differences}
    for entry in form.lines.entries:
        row = entry.form
        value = by_item.get(row.item_id.data)
        row.expected.data = "" if value is None else str(value)
        row.expected.raw_data = None


def _count_item_map(form: CountForm) -> dict[int, Item]:
    ids = {entry.form.item_id.data for entry in form.lines.entries if entry.form.item_id.data}
    if not ids:
        return {}
    return {item.id: item for item in db.session.scalars(select(Item).where(Item.id.in_(ids)))}


@bp.route("/count/new", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def count():
    """Count a site's shelves in three steps: list its items, review the differences, confirm."""
    sites = _open_sites()
    start = _count_start_form(sites)
    open_sites = {site.id: site for site in sites}

    def render_start(status: int = 200):
        return render_template("movements/count_start.html", start=start, here="record"), status

    def render_sheet(form: CountForm, site: Site, status: int = 200):
        return (
            render_template(
                "movements/count.html",
                start=start,
                form=form,
                site=site,
                items=_count_item_map(form),
                here="record",
            ),
            status,
        )

    def render_review(form, site, differences, status: int = 200):
        return (
            render_template(
                "movements/count_review.html",
                form=form,
                site=site,
                differences=differences,
                items=_count_item_map(form),
                here="record",
            ),
            status,
        )

    if request.method == "GET":
        if not request.args.get("site_id"):
            return render_start()
        site = open_sites.get(start.site_id.data)
        if site is None:
            _add_error(start.site_id, "Choose an open site from the list.")
            return render_start(400)
        category_id = start.category_id.data
        items = _count_items(site.id, category_id)
        form = CountForm(
            data={
                "site_id": site.id,
                "category_id": category_id,
                "lines": [{"item_id": item.id, "counted": ""} for item in items],
            }
        )
        return render_sheet(form, site)

    form = CountForm()
    site = open_sites.get(form.site_id.data) if form.site_id.data else None
    if site is None:
        _add_error(start.site_id, "Choose an open site from the list, then count its items.")
        return render_start(400)
    start.site_id.data = site.id
    start.category_id.data = form.category_id.data
    valid = form.validate()
    if form.edit.data:
        return render_sheet(form, site)
    counts, counts_ok = _read_counts(form)
    if not (valid and counts_ok):
        return render_sheet(form, site, 400)
    if form.confirm.data:
        with unit_of_work() as work:
            document = inventory.record_count(
                actor=current_user,
                site_id=site.id,
                effective_date=form.effective_date.data,
                counts=counts,
                expected=_read_expected(form),
                note=form.note.data or "",
            )
        if isinstance(work.error, NotAllowed):
            form.form_errors.append(work.error.message)
            with unit_of_work(read_only=True) as again:
                differences = inventory.preview_count(site_id=site.id, counts=counts)
            if again.error is not None:
                show_error(form, again.error)
                return render_sheet(form, site, 400)
            _set_expected(form, differences)
            return render_review(form, site, differences, 400)
        if work.error is not None:
            show_error(form, work.error)
            return render_sheet(form, site, 400)
        _remember_site(site.id)
        changed = sum(1 for entry in document.entries if entry.quantity)
        flash(
            f"Recorded count {document.number} at {site.name}: {len(counts)} "
            f"item{'s' if len(counts) != 1 else ''} counted, {changed} changed.",
            "success",
        )
        return redirect(url_for("inventory.document", document_id=document.id))
    with unit_of_work(read_only=True) as preview:
        differences = inventory.preview_count(
            site_id=site.id, counts=counts, note=form.note.data or ""
        )
    if preview.error is not None:
        show_error(form, preview.error)
        return render_sheet(form, site, 400)
    _set_expected(form, differences)
    return render_review(form, site, differences)


# --- kits --------------------------------------------------------------------------------


@dataclass
class KitRow:
    kit: Item
    components: str
    at_sites: list[tuple[Site, int, int]]  # (site, kits on hand, kits that can be made)


def _kit_rows(kits: list[Item], sites: list[Site]) -> list[KitRow]:
    """Each kit with its components, and per open site how many it holds and can make."""
    ids = {kit.id for kit in kits} | {c.component_id for kit in kits for c in kit.components}
    on_hand: dict[tuple[int, int], int] = {}
    if ids and sites:
        for level in db.session.scalars(
            select(StockLevel).where(
                StockLevel.item_id.in_(ids), StockLevel.site_id.in_([s.id for s in sites])
            )
        ):
            on_hand[(level.site_id, level.item_id)] = level.on_hand
    rows = []
    for kit in kits:
        at_sites = []
        for site in sites:
            can_make = min(
                (on_hand.get((site.id, c.component_id), 0) // c.quantity for c in kit.components),
                default=0,
            )
            at_sites.append((site, on_hand.get((site.id, kit.id), 0), can_make))
        components = ", ".join(f"{c.quantity} x {c.component.label}" for c in kit.components)
        rows.append(KitRow(kit, components, at_sites))
    return rows


@bp.route("/kits", methods=["GET", "POST"])
@roles_required(*STOCK_KEEPERS)
def kits():
    """Assemble kits from their components at a site, or take kits apart."""
    form = KitForm()
    sites = _open_sites()
    kit_items = list(
        db.session.scalars(
            select(Item)
            .where(Item.is_kit.is_(True))
            .order_by(Item.active.desc(), func.lower(Item.name), Item.size)
        )
    )
    form.site_id.choices = _site_choices(sites)
    form.kit_item_id.choices = [SelectChoice("", "Choose a kit")] + [
        SelectChoice(kit.id, kit.label + ("" if kit.active else " (inactive)")) for kit in kit_items
    ]
    status = 200
    if not form.is_submitted():
        form.site_id.data = _default_site_id(sites)
        if len([kit for kit in kit_items if kit.active]) == 1:
            form.kit_item_id.data = next(kit.id for kit in kit_items if kit.active)
    else:
        status = 400
        valid = form.validate()
        quantity = None
        if not form.quantity.errors:
            quantity, problem = parse_quantity(form.quantity.data or "")
            if problem:
                _add_error(form.quantity, problem)
        if form.action.data not in ("assemble", "disassemble"):
            _add_error(form.action, "Choose assemble or take apart.")
        if valid and quantity is not None and not form.action.errors:
            disassemble = form.action.data == "disassemble"
            with unit_of_work() as work:
                document = inventory.assemble_kits(
                    actor=current_user,
                    site_id=form.site_id.data,
                    kit_item_id=form.kit_item_id.data,
                    quantity=quantity,
                    effective_date=form.effective_date.data,
                    note=form.note.data or "",
                    disassemble=disassemble,
                )
            if isinstance(work.error, inventory.InsufficientStock):
                form.form_errors.append(work.error.message)
                for shortage in work.error.shortages:
                    _add_error(form.quantity, shortage.describe() + ".")
            elif work.error is not None:
                show_domain_error(form, work.error)
            else:
                _remember_site(form.site_id.data)
                verb = "took apart" if disassemble else "assembled"
                flash(
                    f"Recorded {document.number}: {verb} {quantity} x {document.kit_item.label} "
                    f"at {document.site.name}.",
                    "success",
                )
                return redirect(url_for("inventory.document", document_id=document.id))
        elif form.errors and not form.form_errors:
            form.form_errors.append("Please correct the fields marked below.")
    return (
        render_template(
            "movements/kits.html",
            form=form,
            rows=_kit_rows(kit_items, sites),
            sites=sites,
            here="record",
        ),
        status,
    )
