"""Professional services given without charge (pro bono): logged by staff, acknowledged.

A professional is a volunteer record. Staff log a service (type, description, date,
hours, the program served and a fair hourly rate kept for the books only); logging takes
the next number of the organisation's "PB" series (``receipts.numbers``: gap-free,
unique, the same lock as receipts) and the acknowledgement is that number with its
letter. The letter names the service, its date and hours and never a value: contributed
services are not deductible. A void keeps the number and nothing is deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from donations.extensions import db
from donations.integrations.mailer import Attachment
from donations.models import (
    ContributedService,
    Recipient,
    RecipientKind,
    ServiceType,
    User,
    VolunteerStatus,
    utcnow,
)
from donations.pdf.documents import render_service_letter
from donations.pdf.pro_bono_content import ServiceLetter
from donations.pdf.volunteer_content import format_minutes
from donations.services import privacy
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.giving import default_currency
from donations.services.mail import queue_mail
from donations.services.organization import get_organization, letterhead
from donations.services.receipts.numbers import take_series_number
from donations.services.volunteers.hours import BACKDATE_MAX_DAYS, check_day, parse_hours
from donations.services.volunteers.records import get_volunteer

SERIES = "PB"
DESCRIPTION_MAX = 500
REASON_MAX = 300
RATE_MAX_CENTS = 100_000_00  # an hourly rate above this is a typing mistake
MAIL_KIND = "pro_bono_acknowledgement"
PDF_TYPE = "application/pdf"


def service_types() -> list[ServiceType]:
    return list(ServiceType)


def program_choices() -> list[Recipient]:
    """The open programs a service may be logged for, by name."""
    return list(
        db.session.scalars(
            select(Recipient)
            .where(Recipient.kind == RecipientKind.PROGRAM, Recipient.active.is_(True))
            .order_by(func.lower(Recipient.name))
        )
    )


def _program(program_id: int | None) -> Recipient | None:
    if not program_id:
        return None
    program = db.session.get(Recipient, program_id)
    if program is None or program.kind != RecipientKind.PROGRAM or not program.active:
        raise InvalidInput("Choose one of the open programs.", field="program_id")
    return program


def log_service(
    *,
    actor: User | None,
    volunteer_id: int,
    service_type: str,
    service_date: date | None,
    hours: str,
    description: str,
    program_id: int | None,
    fair_rate_cents: int | None,
    today: date | None = None,
    now: datetime | None = None,
) -> ContributedService:
    """Log a professional's service and number its acknowledgement."""
    volunteer = get_volunteer(volunteer_id)
    if volunteer.status != VolunteerStatus.APPROVED:
        raise NotAllowed(
            f"{volunteer.name} is not an approved volunteer ({volunteer.status_label.lower()}): "
            "approve them before logging a service."
        )
    try:
        kind = ServiceType(service_type)
    except ValueError:
        raise InvalidInput("Choose the type of service.", field="service_type") from None
    now = now or utcnow()
    today = today or now.date()
    if service_date is None:
        raise InvalidInput("Enter the date of the service.", field="service_date")
    if service_date > today:
        raise InvalidInput("The date is in the future.", field="service_date")
    if (today - service_date).days > BACKDATE_MAX_DAYS:
        raise InvalidInput("The date is more than a year ago.", field="service_date")
    minutes = parse_hours(hours)
    description = " ".join((description or "").split())
    if not description:
        raise InvalidInput("Say briefly what was done.", field="description")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"Use at most {DESCRIPTION_MAX} characters.", field="description")
    privacy.check_free_text(description, field="description")
    if fair_rate_cents is None:
        raise InvalidInput("Enter the fair hourly rate (for the books only).", field="fair_rate")
    if not 0 <= fair_rate_cents <= RATE_MAX_CENTS:
        raise InvalidInput("Enter a rate of zero or more, per hour.", field="fair_rate")
    program = _program(program_id)
    check_day(volunteer.id, service_date, minutes)
    _sequence, number = take_series_number(SERIES, now.year)
    service = ContributedService(
        volunteer_id=volunteer.id,
        service_type=kind,
        description=description,
        service_date=service_date,
        minutes=minutes,
        recipient_id=program.id if program else None,
        fair_rate_cents=fair_rate_cents,
        currency=default_currency(),
        number=number,
        issued_at=now,
        recorded_by_id=actor.id if actor is not None else None,
    )
    db.session.add(service)
    db.session.flush()
    record_audit(
        actor=actor,
        action="pro_bono.log",
        object_type="volunteer",
        object_id=volunteer.id,
        summary=f"{number}: {kind.value}, {service_date:%Y-%m-%d}, {minutes} min",
    )
    return service


def list_services(*, volunteer_id: int) -> list[ContributedService]:
    """A professional's services, newest first."""
    return list(
        db.session.scalars(
            select(ContributedService)
            .where(ContributedService.volunteer_id == volunteer_id)
            .order_by(ContributedService.service_date.desc(), ContributedService.id.desc())
        )
    )


def get_service(*, volunteer_id: int, service_id: int) -> ContributedService:
    service = db.session.get(ContributedService, service_id)
    if service is None or service.volunteer_id != volunteer_id:
        raise NotFound("No such service.")
    return service


def void_service(
    *, actor: User | None, volunteer_id: int, service_id: int, reason: str
) -> ContributedService:
    """Void an acknowledgement: it keeps its number and leaves the report's figures."""
    service = get_service(volunteer_id=volunteer_id, service_id=service_id)
    if service.voided:
        raise NotAllowed(f"{service.number} is already void.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Say why it is voided.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Use at most {REASON_MAX} characters.", field="reason")
    privacy.check_free_text(reason, field="reason")
    service.voided_at = utcnow()
    service.void_reason = reason
    service.voided_by_id = actor.id if actor is not None else None
    db.session.flush()
    record_audit(
        actor=actor,
        action="pro_bono.void",
        object_type="volunteer",
        object_id=service.volunteer_id,
        summary=service.number,
    )
    return service


def letter_filename(service: ContributedService) -> str:
    return f"acknowledgement-{service.number}.pdf"


def service_letter_pdf(*, service: ContributedService) -> bytes:
    """The acknowledgement letter: the organisation's own address (never a site's),
    the professional, the number, date, type, description and hours; no value."""
    org = get_organization()
    letter = ServiceLetter(
        **letterhead(),
        organization_tax_id=org.tax_id if org else "",
        professional_name=service.volunteer.name,
        number=service.number,
        issued_on=service.issued_at.date(),
        service_date=service.service_date,
        service_type=service.type_label,
        description=service.description,
        hours_text=format_minutes(service.minutes),
        program=service.program.name if service.program is not None else "",
        voided=service.voided,
    )
    return render_service_letter(letter)


def mail_service_letter(
    *, actor: User | None, volunteer_id: int, service_id: int
) -> ContributedService:
    """Queue the acknowledgement to the professional, the letter attached."""
    service = get_service(volunteer_id=volunteer_id, service_id=service_id)
    if service.voided:
        raise NotAllowed(f"{service.number} is void: it is not sent.")
    org = get_organization()
    name = org.legal_name if org and org.legal_name else "our organisation"
    body = (
        f"Dear {service.volunteer.name},\n\n"
        f"Thank you for the {service.type_label.lower()} service you gave {name} on "
        f"{service.service_date:%d %B %Y} ({format_minutes(service.minutes)}). "
        f"Our acknowledgement {service.number} is attached.\n\n"
        "The value of contributed services is not tax-deductible, so it states none.\n"
    )
    queue_mail(
        kind=MAIL_KIND,
        to=service.volunteer.email,
        subject=f"Acknowledgement {service.number} of your service to {name}",
        body_text=body,
        attachments=[
            Attachment(letter_filename(service), PDF_TYPE, service_letter_pdf(service=service))
        ],
    )
    record_audit(
        actor=actor,
        action="pro_bono.emailed",
        object_type="volunteer",
        object_id=service.volunteer_id,
        summary=service.number,
    )
    return service
