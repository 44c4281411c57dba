"""Form helpers shared by the blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field

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
