"""The catalog's forms: the catalog filter, items, categories, kit components and sites."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from donations.forms import strip_text
from donations.models import Item, ItemCategory, Site, SiteKind
from donations.money import AmountError, format_plain, parse_amount
from donations.ranges import BoundedIntegerField, IdSelectField, parse_id
from donations.services import catalog as catalog_service
from donations.services import inventory

SEARCH_MAX_LENGTH = 100
# Kit component rows: blank rows shown under the filled ones, and the most a kit may list.
BLANK_COMPONENT_ROWS = 3
COMPONENT_ROWS_MAX = 60
SORT_ORDER_MAX = 9999
WHOLE_NUMBER_RE = re.compile(r"^\d+$")


def _limit(model: Any, column: str) -> int:
    return model.__table__.c[column].type.length


def _max_length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


def category_choices(first: str) -> list[SelectChoice]:
    """A blank choice named ``first``, then every category."""
    return [SelectChoice("", first)] + [
        SelectChoice(str(c.id), c.name) for c in catalog_service.list_categories()
    ]


class CatalogFilterForm(FlaskForm):
    """The filters above the catalog: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(
        "Item name or code", filters=[strip_text], validators=[Length(max=SEARCH_MAX_LENGTH)]
    )
    category = SelectField("Category", default="")
    show = SelectField(
        "Show",
        choices=[
            SelectChoice("", "Active and inactive items"),
            SelectChoice("active", "Only active items"),
            SelectChoice("inactive", "Only inactive items"),
        ],
        default="",
    )


class ItemForm(FlaskForm):
    category_id = SelectField(
        "Category", validators=[DataRequired(message="Choose a category.")], default=""
    )
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter the item's name."),
            _max_length(_limit(Item, "name")),
        ],
        description="What staff call it, such as “Coat, adult” or “Toothbrush”.",
    )
    size = StringField(
        "Size",
        filters=[strip_text],
        validators=[_max_length(_limit(Item, "size"))],
        description="Optional. Such as XS, S, M, L, XL or XXL, or “6-12 months”. "
        "Each size is its own item with its own code.",
    )
    unit = StringField(
        "Unit",
        filters=[strip_text],
        default="each",
        validators=[_max_length(_limit(Item, "unit"))],
        description="How it is counted: each, pair, pack, box, can…",
    )
    code = StringField(
        "Label code",
        filters=[strip_text, lambda v: v.upper() if isinstance(v, str) else v],
        validators=[
            DataRequired(message="Enter a short code for the label, such as SOCKS-M."),
            _max_length(_limit(Item, "code")),
        ],
        description="Printed on the item's QR label and scanned into forms. "
        "Capital letters, digits and dashes, such as COAT-A-M.",
    )
    fair_value = StringField(
        "Fair value per unit",
        filters=[strip_text],
        validators=[Length(max=30)],
        description="Optional. For internal reports only, never printed for donors.",
    )
    is_kit = BooleanField(
        "This is a kit",
        description="Made up of other items and assembled from stock. "
        "After saving, list what one kit holds.",
    )
    active = BooleanField(
        "Active",
        default=True,
        description="Inactive items leave the movement forms and the needs list; "
        "their history stays.",
    )
    needs_pinned = BooleanField(
        "Always show on the public needs list",
        description="Even when every site is at par. Admins only.",
    )
    needs_hidden = BooleanField(
        "Never show on the public needs list",
        description="Even when a site is under par, such as for items you cannot accept "
        "second-hand. Admins only.",
    )

    # Set by the view: the currency the fair value is read in.
    currency = "USD"
    fair_value_cents: int | None = None

    def validate_fair_value(self, field: StringField) -> None:
        self.fair_value_cents = None
        if not field.data:
            return
        try:
            self.fair_value_cents = parse_amount(field.data, self.currency)
        except AmountError as error:
            raise ValidationError(str(error)) from None

    def item_values(self) -> dict[str, Any]:
        """Return the submitted values as the catalog service takes them.

        The needs-list fields are included only while the form has them (admins).
        """
        values: dict[str, Any] = {
            "category_id": int(self.category_id.data),
            "name": self.name.data or "",
            "size": self.size.data or "",
            "unit": self.unit.data or "",
            "code": self.code.data or "",
            "fair_value_cents": self.fair_value_cents,
            "is_kit": bool(self.is_kit.data),
            "active": bool(self.active.data),
        }
        for name in ("needs_pinned", "needs_hidden"):
            if name in self:
                values[name] = bool(self[name].data)
        return values


class CategoryForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[
            DataRequired(message="Enter the category's name."),
            _max_length(_limit(ItemCategory, "name")),
        ],
        description="Such as Coats, Toiletries or Baby supplies.",
    )
    sort_order = BoundedIntegerField(
        "Order in lists",
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=SORT_ORDER_MAX, message="Enter a whole number, 0 or more."),
        ],
        description="Lower numbers come first. Leave 0 to sort by name.",
    )


class ComponentRow(Form):
    """One row of a kit: an item and how many of it one kit holds."""

    item = IdSelectField("Component", default="")
    quantity = StringField("Quantity per kit", filters=[strip_text])


class KitComponentsForm(FlaskForm):
    rows = FieldList(FormField(ComponentRow), max_entries=COMPONENT_ROWS_MAX)


def _site_text(label: str, column: str, **kwargs: Any) -> StringField:
    field_class = kwargs.pop("field_class", StringField)
    return field_class(
        label,
        filters=[strip_text],
        validators=[*kwargs.pop("validators", []), _max_length(_limit(Site, column))],
        **kwargs,
    )


class SiteForm(FlaskForm):
    name = _site_text(
        "Name",
        "name",
        validators=[DataRequired(message="Enter the site's name.")],
        description="What staff call it. Donors see the name of a drop-off point.",
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Choose…")] + [SelectChoice(k.value, k.label) for k in SiteKind],
        validators=[DataRequired(message="Choose what kind of site it is.")],
        default="",
    )
    is_confidential = BooleanField(
        "Confidential location",
        description="Its address never appears on a public page, a receipt or a donor "
        "export. Shelters usually are. A drop-off point cannot be.",
    )
    address_line1 = _site_text("Address", "address_line1")
    address_line2 = _site_text("Address, line 2", "address_line2")
    city = _site_text("City", "city")
    region = _site_text("State or region", "region")
    postal_code = _site_text("Postal code", "postal_code")
    public_hours = _site_text(
        "Drop-off hours",
        "public_hours",
        field_class=TextAreaField,
        description="Drop-off points only: when donors may bring goods, shown on the "
        "pledge form. Such as Mon-Fri 9-5.",
    )
    contact_email = _site_text(
        "Contact email",
        "contact_email",
        field_class=EmailField,
        description="Gets one low-stock email when an item falls under its par level here "
        "(and another only after it is back at par and falls again). Leave blank for none.",
    )
    active = BooleanField(
        "Active",
        default=True,
        description="Closed sites leave the movement forms; their history stays.",
    )

    def site_values(self) -> dict[str, Any]:
        return {name: self[name].data for name in catalog_service.SITE_FIELDS}


# --- building and reading the forms ------------------------------------------------


def item_form(item: Item | None, *, category_id: int | None, is_admin: bool) -> ItemForm:
    """The item form, filled from ``item`` (or a new item in ``category_id``)."""
    data: dict[str, Any] = {}
    if item is not None:
        data = {
            "category_id": str(item.category_id),
            "fair_value": (
                format_plain(item.fair_value_cents, item.fair_value_currency)
                if item.fair_value_cents is not None
                else ""
            ),
        }
    elif category_id:
        data["category_id"] = str(category_id)
    form = ItemForm(obj=item, data=data)
    form.category_id.choices = category_choices("Choose a category")
    form.currency = (
        item.fair_value_currency
        if item is not None
        else Item.__table__.c.fair_value_currency.default.arg
    )
    if not is_admin:
        # Pinning and hiding on the public needs list are for admins: the fields are not
        # shown, and whatever a staff member's browser sends for them is ignored.
        del form.needs_pinned
        del form.needs_hidden
    return form


def kit_components_form(kit: Item) -> KitComponentsForm:
    """The kit's components as form rows, to show before any change."""
    return KitComponentsForm(
        data={
            "rows": [
                {"item": str(c.component_id), "quantity": str(c.quantity)} for c in kit.components
            ]
        }
    )


def add_blank_rows(form: KitComponentsForm, *, count: int = BLANK_COMPONENT_ROWS) -> None:
    """Add ``count`` blank component rows, up to the most a kit may list."""
    for _ in range(count):
        if len(form.rows) < COMPONENT_ROWS_MAX:
            form.rows.append_entry()


def prepare_kit_form(form: KitComponentsForm, kit: Item) -> None:
    """Pad the rows with blank ones and offer the items a kit may hold in each."""
    filled = sum(1 for row in form.rows if row.item.data or row.quantity.data)
    while len(form.rows) < min(filled + BLANK_COMPONENT_ROWS, COMPONENT_ROWS_MAX):
        form.rows.append_entry()
    choices = [SelectChoice("", "Choose an item")] + [
        SelectChoice(str(i.id), f"{i.label} — {i.code}" + ("" if i.active else " (inactive)"))
        for i in catalog_service.component_candidates(kit)
    ]
    for row in form.rows:
        row.item.choices = choices


def parse_components(form: KitComponentsForm) -> dict[int, int] | None:
    """Return {component id: quantity} from the filled rows, or None after marking bad rows."""
    components: dict[int, int] = {}
    ok = True
    for row in form.rows:
        item, quantity = row.item.data or "", row.quantity.data or ""
        if not item and not quantity:
            continue  # a blank row
        if parse_id(item) is None:
            row.item.errors = ["Choose the item, or clear the quantity."]
            ok = False
            continue
        if not quantity:
            row.quantity.errors = ["Enter how many one kit holds."]
            ok = False
            continue
        if not WHOLE_NUMBER_RE.match(quantity):
            row.quantity.errors = ["Enter a whole number, such as 1."]
            ok = False
            continue
        if int(item) in components:
            row.item.errors = ["This item is listed twice: put the total on one row."]
            ok = False
            continue
        components[int(item)] = int(quantity)
    return components if ok else None


def parse_par_levels(
    formdata: Mapping[str, str],
) -> tuple[dict[int, str], dict[int, int], dict[int, str]]:
    """Read the posted ``par-<item id>`` fields: (typed values, levels, errors by item)."""
    values: dict[int, str] = {}
    levels: dict[int, int] = {}
    errors: dict[int, str] = {}
    for key, raw in formdata.items():
        if not key.startswith("par-") or not key[4:].isdigit():
            continue
        item_id, text = int(key[4:]), raw.strip()
        values[item_id] = text
        if not text:
            levels[item_id] = 0  # blank means no par level
        elif not WHOLE_NUMBER_RE.match(text):
            errors[item_id] = "Enter a whole number, 0 or more."
        elif int(text) > inventory.QUANTITY_MAX:
            errors[item_id] = f"Enter at most {inventory.QUANTITY_MAX:,}."
        else:
            levels[item_id] = int(text)
    return values, levels, errors
