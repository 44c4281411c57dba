"""The needs pages' forms: the public pledge form, and receiving or cancelling a pledge."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from donations.forms import strip_text
from donations.models import Condition, Pledge, Site, utcnow
from donations.ranges import IdSelectField, parse_id
from donations.services import catalog, inventory, pledges
from donations.services import needs as needs_service

PLEDGE_ROWS = 5  # rows on a blank pledge form
MORE_ROWS = 5  # rows "Add more rows" adds
CANCEL_REASON_MAX = 500
CONDITION_CHOICES = [SelectChoice(c.value, c.label) for c in Condition]
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,9}")


def today() -> date:
    return utcnow().date()


def parse_quantity(raw: str) -> int | None:
    """A typed quantity as an int, or None when it is not a whole number."""
    raw = raw.replace(",", "").strip()
    return int(raw) if WHOLE_NUMBER.fullmatch(raw) else None


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
    # The campaign page the donor came from (its address): the pledge counts towards it.
    campaign = HiddenField(validators=[Length(max=60)])
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
            quantity = parse_quantity(raw) if raw else None
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
        default=today,
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


class SettingsForm(FlaskForm):
    """The CSRF token; the per-item choices are read by the view."""


# --- building and reading the forms ------------------------------------------------


def item_choices() -> list[SelectChoice]:
    """Needed items first, then every other active item that is not a kit."""
    needed, others = needs_service.pledgeable_items()
    return [
        SelectChoice("", "Choose an item"),
        *(SelectChoice(str(n.item_id), n.label, optgroup="Needed now") for n in needed),
        *(SelectChoice(str(i.id), i.label, optgroup="Other items we collect") for i in others),
    ]


def prepare_pledge_form(form: PledgeForm, dropoffs: list[Site]) -> None:
    """Offer the drop-off points and items, and name each row for screen readers."""
    form.site_id.choices = [SelectChoice("", "Choose a drop-off point")] + [
        SelectChoice(str(s.id), s.name) for s in dropoffs
    ]
    choices = item_choices()
    for number, entry in enumerate(form.lines.entries, start=1):
        entry.item.choices = choices
        entry.item.label.text = f"Item {number}"
        # Five rows of "How many" sound alike to a screen reader: say which row.
        entry.quantity.label.text = Markup(
            'How many<span class="visually-hidden"> of item {}</span>'
        ).format(number)


def add_pledge_rows(form: PledgeForm) -> None:
    """Add blank rows, up to the most a pledge may list."""
    for _ in range(MORE_ROWS):
        if len(form.lines.entries) < pledges.PLEDGE_LINES_MAX:
            form.lines.append_entry()


def site_choices(pledge: Pledge) -> list[SelectChoice]:
    """The open sites goods can arrive at (and the pledge's own)."""
    sites = catalog.list_sites(include_inactive=False)
    return [SelectChoice("", "Choose a site")] + [
        SelectChoice(str(s.id), f"{s.name} ({s.kind_label.lower()})")
        for s in sites
        if s.active or s.id == pledge.site_id
    ]


def outstanding_values(found: Pledge, received: Mapping[int, int]) -> dict[int, dict[str, str]]:
    """The receive form's rows at first: what is still to come of each line, as new."""
    return {
        line.id: {
            "quantity": str(max(line.quantity - received.get(line.item_id, 0), 0) or ""),
            "condition": Condition.NEW.value,
        }
        for line in found.lines
    }


def read_arrived(
    found: Pledge, formdata: Mapping[str, str]
) -> tuple[list[inventory.Line], dict[int, dict[str, str]], dict[int, str]]:
    """Read one quantity and condition per pledge line; blank or 0 means it did not come."""
    lines: list[inventory.Line] = []
    values: dict[int, dict[str, str]] = {}
    errors: dict[int, str] = {}
    conditions = {c.value for c in Condition}
    for line in found.lines:
        raw = (formdata.get(f"quantity-{line.id}") or "").strip()
        condition = formdata.get(f"condition-{line.id}") or Condition.NEW.value
        values[line.id] = {"quantity": raw[:12], "condition": condition}
        if not raw:
            continue
        quantity = parse_quantity(raw)
        if quantity is None or quantity < 0:
            errors[line.id] = "Enter a whole number, such as 3, or 0 if none came."
        elif quantity > inventory.QUANTITY_MAX:
            errors[line.id] = f"Enter at most {inventory.QUANTITY_MAX:,}."
        elif condition not in conditions:
            errors[line.id] = "Choose the condition: new or good used."
        elif quantity:
            lines.append(inventory.Line(line.item_id, quantity, condition))
    return lines, values, errors


def visibility_choices(formdata: Mapping[str, str]) -> dict[int, str]:
    """Read the posted ``visibility-<item id>`` fields of the needs settings."""
    choices: dict[int, str] = {}
    for key, value in formdata.items():
        prefix, _, item_id = key.partition("-")
        if prefix == "visibility" and item_id.isdigit():
            choices[int(item_id)] = value
    return choices
