"""The reports blueprint's forms: the report period and the filters of each CSV export.

All are GET forms (no CSRF token). Three export forms share one page, so each
can give its fields ids of their own.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from donations.models import GiftMethod
from donations.services import gifts as gift_service


class DatesForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def ids(self, prefix: str) -> None:
        """Give the fields ids of their own: three forms share one page."""
        for name in self._fields:
            self[name].id = self[name].label.field_id = f"{prefix}-{name}"


class PeriodForm(DatesForm):
    pass


class GiftsExportForm(DatesForm):
    fund = SelectField("Fund", choices=[SelectChoice("", "All funds")], default="")
    method = SelectField(
        "Method",
        choices=[
            SelectChoice("", "All methods"),
            *(SelectChoice(m.value, m.label) for m in GiftMethod),
        ],
        default="",
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice(v, label) for v, label in gift_service.STATUS_FILTERS.items()],
        default=gift_service.DEFAULT_STATUS,
    )


class JournalExportForm(DatesForm):
    fund = SelectField("Fund", choices=[SelectChoice("", "All funds")], default="")
    method = GiftsExportForm.method


class InKindExportForm(DatesForm):
    pass


class GrantForm(DatesForm):
    program = SelectField(
        "Program", choices=[SelectChoice("", "All programs")], default="", validate_choice=False
    )

    def program_id(self) -> int | None:
        value = self.program.data or ""
        return int(value) if value.isdigit() and len(value) < 10 else None

    def validate_program(self, field: SelectField) -> None:
        if field.data and self.program_id() is None:
            raise ValidationError("Choose a program from the list.")
