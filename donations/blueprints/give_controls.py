"""Drawing the donation form: its controls as plain values, and their tags.

The donation page is the busiest public page, and WTForms' widgets (a Python call,
keyword sorting and escaping per attribute, per field and per radio button) were most of
its cost. Here each control is a small value object built from what the form class
declares (label, validators, description) plus this site's settings and the visitor's
input, and its ``<input>``/``<select>`` tag is written by one function with the same
attributes, in the same (alphabetical) order, that WTForms writes; ``give/index.html``
lays the controls out. The blank form needs no WTForms object at all; a submitted or
refilled form is read through ``form_values``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from flask import current_app
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField
from wtforms.validators import Length

from donations.blueprints.give_forms import (
    FREQUENCY_CHOICES,
    OTHER,
    TRIBUTE_CHOICES,
    DonationForm,
    fee_rate,
    form_defaults,
)
from donations.money import format_money
from donations.services import giving
from donations.services.funds import format_short

_TYPES = {
    StringField: "text",
    EmailField: "email",
    BooleanField: "checkbox",
    SelectField: "select",
    RadioField: "radio",
}
# The page's own attributes of its fields.
_PRESENTATION: dict[str, dict[str, Any]] = {
    "other_amount": {"inputmode": "decimal", "autocomplete": "off", "size": 12},
    "tribute_name": {"autocomplete": "off"},
    "tribute_notify_email": {"autocomplete": "off"},
    "name": {"autocomplete": "name"},
    "email": {"autocomplete": "email"},
    "address_line1": {"autocomplete": "address-line1"},
    "address_line2": {"autocomplete": "address-line2"},
    "city": {"autocomplete": "address-level2"},
    "region": {"autocomplete": "address-level1"},
    "postal_code": {"autocomplete": "postal-code"},
    "country": {"autocomplete": "country-name"},
}
_ADDRESS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")


def _attrs(attrs: dict[str, Any]) -> str:
    """Write attributes as WTForms does: sorted, True as a bare name, None/False left out."""
    parts = []
    for key in sorted(attrs):
        value = attrs[key]
        if value is True:
            parts.append(f" {key}")
        elif value is not None and value is not False:
            parts.append(f' {key}="{escape(value)}"')
    return "".join(parts)


class Option(NamedTuple):
    """One radio button or select option."""

    id: str
    value: str
    label: str
    checked: bool
    hint: str
    tag: Markup  # the <input> and its <label>, or the <option>


class Control(NamedTuple):
    """One form control as give/index.html lays it out."""

    id: str
    label: str
    type: str  # an <input> type, "select" or "radio" (a fieldset of radio buttons)
    required: bool  # the star after the label
    hint: str  # shown under the control (its description, or the page's own hint)
    errors: tuple[str, ...]
    options: tuple[Option, ...]
    tag: Markup  # the <input> or <select> (for a checkbox, with its <label>)

    @property
    def css(self) -> str:
        kind = "field field-check" if self.type == "checkbox" else "field"
        return f"{kind} has-error" if self.errors else kind


@dataclass(frozen=True, slots=True)
class _Declared:
    """What the form class declares about a field."""

    label: str
    type: str
    required: bool
    description: str
    autocomplete: str  # the one fixed attribute that sorts before "checked"
    attrs: str  # the fixed attributes after it: id, name, required, type and the like


def _declared(name: str) -> _Declared:
    unbound = getattr(DonationForm, name)
    validators = unbound.kwargs.get("validators", ())
    kind = _TYPES[unbound.field_class]
    lengths = [v.max for v in validators if isinstance(v, Length) and v.max and v.max > 0]
    required = any(getattr(v, "field_flags", {}).get("required") for v in validators)
    fixed = {"id": name, "name": name, "required": required, **_PRESENTATION.get(name, {})}
    if kind in ("text", "email", "checkbox"):
        fixed["type"] = kind
    if lengths and kind in ("text", "email"):
        fixed["maxlength"] = lengths[-1]
    autocomplete = fixed.pop("autocomplete", None)
    return _Declared(
        label=unbound.args[0],
        type=kind,
        required=required,
        description=unbound.kwargs.get("description", ""),
        autocomplete=_attrs({"autocomplete": autocomplete}),
        attrs=_attrs(fixed),
    )


FIELDS = (
    "amount",
    "other_amount",
    "frequency",
    "fund",
    "cover_fee",
    "tribute_type",
    "tribute_name",
    "tribute_notify_email",
    "is_anonymous",
    "name",
    "email",
    *_ADDRESS,
)
_DECLARED = {name: _declared(name) for name in FIELDS}


@dataclass(frozen=True, slots=True)
class Section:
    """A fieldset of the form: a group of radio buttons, or a legend over some fields."""

    legend: str
    controls: tuple[Control, ...] = ()
    radio: Control | None = None
    hint: str = ""


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """The box above a refused form: its own messages, and a link to each wrong field."""

    messages: tuple[str, ...]
    wrong: tuple[Control, ...]


def blank_values(page: giving.DonationPage) -> dict[str, Any]:
    """The values of an untouched form (what a GET shows)."""
    return form_defaults(page)


def draw_fields(controls: dict[str, Control], *, compact: bool = False) -> Markup:
    """The form's fieldsets as HTML (give/_fields.html): no token, message or session in it;
    ``compact``: only the amount and how often (a campaign's embed)."""
    template = current_app.jinja_env.get_template("give/_fields.html")
    drawn = compact_sections(controls) if compact else sections(controls)
    return Markup(template.render(sections=drawn))  # noqa: S704 -- autoescaped


_BLANK_FIELDS = "donations.give_blank_fields"


def blank_fields(page: giving.DonationPage) -> Markup:
    """The blank form's fieldsets, drawn once per version of ``page`` (what the settings,
    funds and organisation say) and kept: they are the same for every visitor.

    The visitor's own parts (CSRF token, flashed messages, the header for a signed-in
    user) are drawn around them on every request, by give/index.html and base.html.
    """
    kept: dict[giving.DonationPage, Markup] = current_app.extensions.setdefault(_BLANK_FIELDS, {})
    fields = kept.get(page)
    if fields is None:
        fields = draw_fields(donation_controls(page, blank_values(page)))
        if len(kept) >= 16:  # a handful of versions ever; never more than a few kept
            kept.clear()
        kept[page] = fields
    return fields


def form_values(form: DonationForm) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The values and errors of a submitted or refilled form, as its widgets would show them."""
    values: dict[str, Any] = {}
    for name, declared in _DECLARED.items():
        field = form[name]
        if declared.type in ("radio", "select"):
            values[name] = field.data
        elif declared.type == "checkbox":
            values[name] = (bool(field.data), field._value())
        else:
            values[name] = field._value()
    return values, {name: list(form[name].errors) for name in FIELDS if form[name].errors}


def error_summary(form: DonationForm, controls: dict[str, Control]) -> ErrorSummary | None:
    if not (form.form_errors or form.errors):
        return None
    messages = tuple(dict.fromkeys(form.form_errors))
    return ErrorSummary(messages, tuple(c for c in controls.values() if c.errors))


def _fund_hint(fund: giving.FundChoice) -> str:
    if fund.is_restricted:
        return f"{fund.description} Used only for this purpose.".strip()
    return fund.description


@lru_cache(maxsize=64)
def _amount_labels(
    presets: str, low: int, high: int, percent_bp: int, fixed: int, currency: str
) -> tuple[tuple[_Choice, ...], str, str, str]:
    """The settings' amounts, limits and card fee as the form words them.

    A pure function of the settings, so its answers are kept (a handful of settings ever).
    """
    settings = giving.PageSettings(presets, low, high, percent_bp, fixed, "", None)
    amounts = settings.preset_list
    choices = tuple(_Choice(str(c), format_short(c, currency)) for c in amounts)
    limits = f"From {format_short(low, currency)} to {format_short(high, currency)}."
    example = amounts[(len(amounts) - 1) // 2] if amounts else low
    cover = giving.fee_cover(example, cover=True, settings=settings)
    fee_hint = (
        f"For a {format_short(example, currency)} gift that adds "
        f"{format_money(cover.covered_cents, currency)}. "
        "You will see the exact total before you pay."
    )
    label = (
        f"Add {fee_rate(settings, currency)} to cover the card fee "
        "so all of my gift reaches survivors"
    )
    return (*choices, _Choice(OTHER, "Other amount")), limits, label, fee_hint


def _aria(described: str, invalid: bool) -> str:
    # Only ids made from field names go in here: nothing to escape.
    head = f' aria-describedby="{described}"' if described else ""
    return head + ' aria-invalid="true"' if invalid else head


def _options(
    name: str,
    choices: list,
    value: Any,
    *,
    radio: bool,
    group: str,
    errors: bool,
    required: bool,
    hints: dict[str, str],
) -> tuple[Option, ...]:
    options = []
    tail = f' name="{name}"{" required" if required else ""} type="radio"'
    for i, choice in enumerate(choices):
        option_id = f"{name}-{i}"
        hint = hints.get(choice.value, "")
        checked = choice.value == value
        label, option_value = escape(choice.label), escape(choice.value)
        if radio:
            aria = _aria(f"{group} {option_id}-hint".strip() if hint else group, errors)
            tag = (
                f'<input{aria}{" checked" if checked else ""} id="{option_id}"{tail}'
                f' value="{option_value}"> <label for="{option_id}">{label}</label>'
            )
        else:
            tag = f'<option{" selected" if checked else ""} value="{option_value}">{label}</option>'
        options.append(Option(option_id, choice.value, choice.label, checked, hint, Markup(tag)))  # noqa: S704 -- escaped above
    return tuple(options)


def donation_controls(
    page: giving.DonationPage,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Control]:
    """Return every control of the donation form, filled with ``values`` and ``errors``."""
    settings, currency = page.settings, page.currency
    amounts, limits, fee_label, fee_hint = _amount_labels(
        settings.preset_amounts,
        settings.min_amount_cents,
        settings.max_amount_cents,
        settings.fee_percent_bp,
        settings.fee_fixed_cents,
        currency,
    )
    choices = {
        "frequency": FREQUENCY_CHOICES,
        "tribute_type": TRIBUTE_CHOICES,
        "amount": amounts,
        "fund": [_Choice(str(fund.id), fund.name) for fund in page.funds],
    }
    fund_hints = {str(fund.id): _fund_hint(fund) for fund in page.funds}
    labels = {
        "other_amount": f"Your own amount ({currency})",
        "cover_fee": fee_label,
    }
    hints = {"other_amount": limits, "cover_fee": fee_hint}
    errors = errors or {}
    controls = {}
    for name, declared in _DECLARED.items():
        value = values.get(name)
        wrong = tuple(errors.get(name, ()))
        hint = hints.get(name) or declared.description
        if hint:
            described = f"{name}-hint {name}-error" if wrong else f"{name}-hint"
        else:
            described = f"{name}-error" if wrong else ""
        label = labels.get(name, declared.label)
        options: tuple[Option, ...] = ()
        if name in choices:
            options = _options(
                name,
                choices[name],
                value,
                radio=declared.type == "radio",
                group=described,
                errors=bool(wrong),
                required=declared.required,
                hints=fund_hints if name == "fund" else {},
            )
        aria = _aria(described, bool(wrong))
        if declared.type == "radio":
            tag = ""
        elif declared.type == "select":
            inner = "".join(option.tag for option in options)
            tag = f"<select{aria}{declared.attrs}>{inner}</select>"
        elif declared.type == "checkbox":
            checked, raw = value if isinstance(value, tuple) else (bool(value), "y")
            box = " checked" if checked else ""
            tag = (
                f'<input{aria}{declared.autocomplete}{box}{declared.attrs} value="{escape(raw)}">'
                f' <label for="{name}">{escape(label)}</label>'
            )
        else:
            text = escape(value or "")
            tag = f'<input{aria}{declared.autocomplete}{declared.attrs} value="{text}">'
        controls[name] = Control(
            id=name,
            label=label,
            type=declared.type,
            required=declared.required or name == "amount",
            hint=hint,
            errors=wrong,
            options=options,
            tag=Markup(tag),  # noqa: S704 -- every value in it is escaped above
        )
    return controls


class _Choice(NamedTuple):
    value: str
    label: str


def compact_sections(controls: dict[str, Control]) -> tuple[Section, ...]:
    """The embed's fieldsets: the amount (tiles and your own) and how often."""
    c = controls
    return (
        Section("", (c["other_amount"],), radio=c["amount"]),
        Section("", radio=c["frequency"]),
    )


def sections(controls: dict[str, Control]) -> tuple[Section, ...]:
    """The form's fieldsets, in page order."""
    c = controls
    return (
        Section("", (c["other_amount"],), radio=c["amount"]),
        Section("", radio=c["frequency"]),
        Section("", radio=c["fund"]),
        Section("Card fee", (c["cover_fee"],)),
        Section(
            "Dedicate your gift (optional)",
            (c["tribute_type"], c["tribute_name"], c["tribute_notify_email"]),
        ),
        Section("About you", (c["name"], c["email"], c["is_anonymous"])),
        Section(
            "Postal address (optional)",
            tuple(c[name] for name in _ADDRESS),
            hint="Only if you would like your receipt by post as well.",
        ),
    )
