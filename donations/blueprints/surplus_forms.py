"""The forms of the surplus exchange: offering goods, asking for some of another member's
offer, and declining a request."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from donations.blueprints.movements_forms import coerce_id, site_field
from donations.forms import strip_text
from donations.models import Condition, Item
from donations.ranges import BoundedIntegerField
from donations.services import surplus

NOTE_HINT = (
    "Optional: the other members read it. Describe the goods (sizes, packaging, best "
    "before); never a client's name or contact details."
)


def quantity_field(label: str) -> BoundedIntegerField:
    return BoundedIntegerField(
        label,
        minimum=1,
        maximum=surplus.QUANTITY_MAX,
        range_message=f"Enter a whole number from 1 to {surplus.QUANTITY_MAX:,}.",
        validators=[InputRequired(message="Enter how many, as a whole number.")],
    )


def item_field(label: str, *, required: bool, description: str = "") -> SelectField:
    validators = [InputRequired(message="Choose an item.")] if required else [Optional()]
    return SelectField(
        label,
        coerce=coerce_id,
        validate_choice=False,
        validators=validators,
        description=description,
    )


def item_choices(items: list[Item], first: str = "Choose an item") -> list[SelectChoice]:
    """Active items as a select's choices, after a blank first choice."""
    return [SelectChoice("", first)] + [
        SelectChoice(item.id, f"{item.label} ({item.code})") for item in items
    ]


def note_field() -> TextAreaField:
    return TextAreaField(
        "Note (optional)",
        filters=[strip_text],
        validators=[Length(max=surplus.NOTE_MAX_LENGTH)],
        description=NOTE_HINT,
    )


class OfferForm(FlaskForm):
    item_id = item_field("Item", required=True)
    site_id = site_field("Ships from", "Choose the site the goods leave from.")
    quantity = quantity_field("Quantity offered")
    condition = SelectField(
        "Condition",
        choices=[SelectChoice(c.value, c.label) for c in Condition],
        default=Condition.NEW.value,
    )
    note = note_field()
    submit = SubmitField("Offer to the other members")


class RequestForm(FlaskForm):
    quantity = quantity_field("Quantity wanted")
    site_id = site_field("Deliver to our site", "Choose the site the goods should go to.")
    item_id = item_field(
        "Record as our item",
        required=False,
        description="The item of our catalog these goods are counted as.",
    )
    note = note_field()
    submit = SubmitField("Send the request")


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        filters=[strip_text],
        validators=[Length(max=surplus.REASON_MAX_LENGTH)],
        description="The member who asked sees it.",
    )
    submit = SubmitField("Decline")
