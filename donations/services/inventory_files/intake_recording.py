"""Recording a checked intake list: the form's header checked, then one intake document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from donations.extensions import db
from donations.models import Donor, IntakeSource, StockDocument, User
from donations.services import donors as donor_service
from donations.services import inventory, privacy
from donations.services.errors import InvalidInput, NotFound
from donations.services.inventory.checks import active_site, check_date
from donations.services.inventory_files.intake_list import FILE_FIELD, IntakeList


@dataclass(frozen=True)
class IntakeHeader:
    """What the form says about the whole intake."""

    site_id: int | None
    effective_date: date | None
    source: str
    drive_name: str = ""
    donor_id: int | None = None
    note: str = ""


def check_intake_header(header: IntakeHeader) -> None:
    """Refuse a header the intake would refuse, so the preview can say so before saving.

    ``inventory.record_intake`` checks everything again when the list is recorded.
    """
    active_site(header.site_id)
    check_date(header.effective_date)
    if header.source not in {s.value for s in IntakeSource}:
        raise InvalidInput("Say where the goods came from.", field="source")
    if header.source == IntakeSource.DONOR:
        donor = db.session.get(Donor, header.donor_id) if header.donor_id else None
        if donor is None:
            raise InvalidInput("Choose the donor.", field="donor_id")
    if header.source == IntakeSource.DRIVE:
        name = " ".join(header.drive_name.split())
        if not name:
            raise InvalidInput(
                "Name the drive, such as Lincoln High coat drive.", field="drive_name"
            )
        if len(name) > inventory.DRIVE_NAME_MAX_LENGTH:
            raise InvalidInput(
                f"Use at most {inventory.DRIVE_NAME_MAX_LENGTH} characters.", field="drive_name"
            )
    if len(header.note.strip()) > inventory.NOTE_MAX_LENGTH:
        raise InvalidInput(f"Use at most {inventory.NOTE_MAX_LENGTH} characters.", field="note")
    privacy.check_free_text(header.note, field="note")


def record_intake_list(
    *, actor: User | None, header: IntakeHeader, intake: IntakeList
) -> StockDocument:
    """Record a checked intake list as one intake document with its merged lines."""
    if not intake.ok:
        raise InvalidInput(
            "The list has rows that need fixing; nothing was saved.", field=FILE_FIELD
        )
    return inventory.record_intake(
        actor=actor,
        site_id=header.site_id,
        effective_date=header.effective_date,
        source=header.source,
        lines=intake.lines,
        donor_id=header.donor_id if header.source == IntakeSource.DONOR else None,
        drive_name=header.drive_name,
        note=header.note,
    )


def intake_donor(donor_id: int | None) -> Donor | None:
    """The donor an intake is for (the surviving record of a merged one), or None."""
    if not donor_id:
        return None
    try:
        donor = donor_service.get_donor(donor_id)
    except NotFound:
        return None
    if donor.merged_into_id is not None:
        return db.session.get(Donor, donor.merged_into_id)
    return donor
