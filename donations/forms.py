"""Form helpers shared by the blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from donations.services.errors import DomainError


class EmptyForm(FlaskForm):
    """Only the CSRF token, for one-button actions (delete, retry, send)."""


def strip_text(value: str | None) -> str | None:
    """A WTForms filter: trim spaces around typed text."""
    return value.strip() if isinstance(value, str) else value


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a domain error next to its field, or above the form when it has none."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None and isinstance(field, Field):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class QuickSelect(Select):
    """WTForms' ``<select>``, with each plain option written by one f-string.

    The same markup as ``Select`` (attributes in its sorted order), without a call of
    ``html_params`` per option: a filter of a few dozen sites and categories drawn on
    every request of a busy page. An option with extra attributes goes the usual way.
    """

    @classmethod
    def render_option(cls, choice: SelectChoice, **kwargs) -> Markup:
        value = choice.value
        if kwargs or choice.render_kw or isinstance(value, bool) or value is None:
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')  # noqa: S704
