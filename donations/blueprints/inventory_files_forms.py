"""Forms of the goods files pages: the intake list import and the two CSV export filters."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from donations.forms import strip_text
from donations.models import Site, utcnow
from donations.ranges import NO_SUCH_DONOR, BoundedIntegerField, parse_id
from donations.services import inventory
from donations.services import inventory_files as files
from donations.services.errors import InvalidInput

SEARCH_MAX_LENGTH = 100


class ImportForm(FlaskForm):
    """The intake list and what is true of all of it. Posted twice: to check, then to record."""

    csv_file = FileField(
        "The list, as a CSV file",
        description=(
            f"At most {files.ROWS_MAX:,} rows and {files.UPLOAD_MAX_BYTES // 1_000_000} MB. "
            "Columns: code (or item and size), quantity, condition."
        ),
    )
    site_id = SelectField("Received at", validators=[DataRequired(message="Choose the site.")])
    effective_date = DateField(
        "Date received",
        default=lambda: utcnow().date(),
        validators=[InputRequired(message="Enter the date, such as 2026-03-31.")],
    )
    source = SelectField(
        "Where the goods came from",
        choices=[
            SelectChoice("anonymous", inventory.SOURCE_LABELS["anonymous"]),
            SelectChoice("drive", inventory.SOURCE_LABELS["drive"]),
            SelectChoice("donor", inventory.SOURCE_LABELS["donor"] + " (chosen above)"),
        ],
        default="anonymous",
    )
    drive_name = StringField(
        "Name of the drive",
        filters=[strip_text],
        validators=[Length(max=inventory.DRIVE_NAME_MAX_LENGTH)],
        description="For a collection drive only, such as Lincoln High coat drive.",
    )
    donor_id = BoundedIntegerField(
        widget=HiddenInput(), validators=[Optional()], range_message=NO_SUCH_DONOR
    )
    note = TextAreaField(
        "Note", filters=[strip_text], validators=[Length(max=inventory.NOTE_MAX_LENGTH)]
    )
    # The checked list (code, quantity, condition), posted back to record it.
    rows = HiddenField()

    def set_sites(self, sites: list[Site]) -> None:
        """Offer the open sites to receive the goods at."""
        self.site_id.choices = [SelectChoice("", "Choose a site")] + [
            SelectChoice(str(s.id), s.name) for s in sites
        ]

    def header(self) -> files.IntakeHeader:
        """What the form says about the whole intake."""
        return files.IntakeHeader(
            site_id=choice_id(self.site_id.data),
            effective_date=self.effective_date.data,
            source=self.source.data or "",
            drive_name=self.drive_name.data or "",
            donor_id=self.donor_id.data,
            note=self.note.data or "",
        )

    def uploaded_bytes(self) -> bytes:
        """The uploaded file's content (one byte more than allowed, to tell it is too big)."""
        storage = self.csv_file.data
        if storage is None or not getattr(storage, "filename", ""):
            raise InvalidInput("Choose the CSV file to import.", field=files.FILE_FIELD)
        return storage.stream.read(files.UPLOAD_MAX_BYTES + 1)


class DonorSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        "Find the donor by name",
        filters=[strip_text],
        validators=[Length(max=SEARCH_MAX_LENGTH)],
    )


class LedgerExportForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField("Dated from", validators=[Optional()])
    date_to = DateField("Dated to", validators=[Optional()])
    site = SelectField("Site", default="")
    item = StringField(
        "Item code",
        filters=[strip_text],
        validators=[Length(max=40)],
        description="Leave empty for every item, or type or scan a label code such as SOCKS-M.",
    )

    item_id: int | None = None

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def validate_item(self, field: StringField) -> None:
        if field.data:
            found = inventory.find_item_by_code(field.data)
            if found is None:
                raise ValidationError(f"No item has the code {field.data}.")
            self.item_id = found.id


class StockExportForm(FlaskForm):
    class Meta:
        csrf = False

    site = SelectField("Site", default="")


def choice_id(value: Any) -> int | None:
    """The id a select field's text value names, or None."""
    return parse_id(value) if isinstance(value, str) else None


def all_site_choices(sites: list[Site]) -> list[SelectChoice]:
    """The choice of "All sites", then every site (closed ones marked), for an export filter."""
    return [SelectChoice("", "All sites")] + [
        SelectChoice(str(s.id), s.name + ("" if s.active else " (closed)")) for s in sites
    ]
