"""The goods documents: intake, distribution, transfer, adjustment, and the reversal of any."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from donations.extensions import db
from donations.models import (
    AdjustmentReason,
    Campaign,
    CampaignStatus,
    DocumentKind,
    Donor,
    InKindGift,
    IntakeSource,
    StockDocument,
    User,
    utcnow,
)
from donations.services import recipients as recipient_service
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.inventory.checks import (
    DRIVE_NAME_MAX_LENGTH,
    OUTGOING_REASONS,
    REASON_LABELS,
    Line,
    active_site,
    check_case_code,
    check_date,
    check_lines,
    check_note,
    get_document,
)
from donations.services.inventory.ledger import (
    LOCK_NAME,
    Move,
    audit_document,
    describe_lines,
    new_document,
    post_document,
)
from donations.services.locking import serialize_writes


def record_intake(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    source: str,
    lines: Iterable[Line],
    donor_id: int | None = None,
    drive_name: str = "",
    pledge_id: int | None = None,
    donor_value_cents: int | None = None,
    currency: str = "USD",
    note: str = "",
    campaign_id: int | None = None,
) -> StockDocument:
    """Receive goods at a site; from a known donor this is also an in-kind gift.

    ``campaign_id``: the campaign the goods were collected for (its goods progress
    counts them).
    """
    site = active_site(site_id)
    if campaign_id is not None:
        # Checked here, not through services.campaigns (whose report reads the stock).
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None or campaign.status == CampaignStatus.DRAFT:
            raise InvalidInput("Choose a campaign from the list.", field="campaign_id")
    day = check_date(effective_date)
    note = check_note(note)
    if source not in {s.value for s in IntakeSource}:
        raise InvalidInput("Say where the goods came from.", field="source")
    donor: Donor | None = None
    drive_name = " ".join(drive_name.split())
    if source == IntakeSource.DONOR:
        donor = db.session.get(Donor, donor_id) if donor_id else None
        if donor is None:
            raise InvalidInput("Choose the donor.", field="donor_id")
        if donor.merged_into_id is not None:
            donor = db.session.get(Donor, donor.merged_into_id)
        drive_name = ""
    elif source == IntakeSource.DRIVE:
        if not drive_name:
            raise InvalidInput(
                "Name the drive, such as Lincoln High coat drive.", field="drive_name"
            )
        if len(drive_name) > DRIVE_NAME_MAX_LENGTH:
            raise InvalidInput(
                f"Use at most {DRIVE_NAME_MAX_LENGTH} characters.", field="drive_name"
            )
    else:
        drive_name = ""
    if donor_value_cents is not None:
        if source != IntakeSource.DONOR:
            donor_value_cents = None
        elif donor_value_cents < 0:
            raise InvalidInput("The donor's estimate cannot be negative.", field="donor_value")
    checked, items = check_lines(lines, with_condition=True)
    document = new_document(
        actor=actor,
        kind=DocumentKind.INTAKE,
        effective_date=day,
        site_id=site.id,
        source=source,
        donor_id=donor.id if donor else None,
        drive_name=drive_name,
        pledge_id=pledge_id,
        campaign_id=campaign_id,
        note=note,
    )
    post_document(
        document,
        [Move(line.item_id, site.id, line.quantity, line.condition) for line in checked],
    )
    if donor is not None:
        db.session.add(
            InKindGift(
                donor_id=donor.id,
                document_id=document.id,
                received_on=day,
                donor_value_cents=donor_value_cents,
                currency=currency,
            )
        )
        db.session.flush()
    origin = donor.name if donor else (drive_name or "anonymous drop-off")
    audit_document(
        actor, document, f"Intake at {site.name} from {origin}: {describe_lines(checked, items)}"
    )
    return document


def record_distribution(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    lines: Iterable[Line],
    recipient_id: int | None = None,
    recipient: str = "",
    case_code: str = "",
    note: str = "",
) -> StockDocument:
    """Give goods out to a program or partner agency, never to a named person.

    The recipient is a record, by id (or by its exact name, for scripts and the
    demo); free text that names no open program or partner is refused.
    """
    site = active_site(site_id)
    day = check_date(effective_date)
    record = recipient_service.find_active_recipient(recipient_id=recipient_id, name=recipient)
    case_code = check_case_code(case_code, pattern=recipient_service.case_code_pattern())
    note = check_note(note)
    checked, items = check_lines(lines, allow_inactive=True)
    document = new_document(
        actor=actor,
        kind=DocumentKind.DISTRIBUTION,
        effective_date=day,
        site_id=site.id,
        recipient_id=record.id,
        case_code=case_code,
        note=note,
    )
    post_document(document, [Move(line.item_id, site.id, -line.quantity) for line in checked])
    audit_document(
        actor,
        document,
        f"Distribution from {site.name} to {record.name}: {describe_lines(checked, items)}",
    )
    return document


def record_transfer(
    *,
    actor: User | None,
    from_site_id: int | None,
    to_site_id: int | None,
    effective_date: date | None,
    lines: Iterable[Line],
    note: str = "",
) -> StockDocument:
    """Move goods from one site to another as one document."""
    source = active_site(from_site_id, field_name="site_id")
    target = active_site(to_site_id, field_name="to_site_id")
    if source.id == target.id:
        raise InvalidInput("Choose two different sites.", field="to_site_id")
    day = check_date(effective_date)
    note = check_note(note)
    checked, items = check_lines(lines, allow_inactive=True)
    document = new_document(
        actor=actor,
        kind=DocumentKind.TRANSFER,
        effective_date=day,
        site_id=source.id,
        to_site_id=target.id,
        note=note,
    )
    moves = []
    for line in checked:
        moves.append(Move(line.item_id, source.id, -line.quantity))
        moves.append(Move(line.item_id, target.id, line.quantity))
    post_document(document, moves)
    audit_document(
        actor,
        document,
        f"Transfer {source.name} → {target.name}: {describe_lines(checked, items)}",
    )
    return document


def record_adjustment(
    *,
    actor: User | None,
    site_id: int | None,
    effective_date: date | None,
    reason: str,
    lines: Iterable[Line],
    direction: str = "",
    note: str = "",
) -> StockDocument:
    """Add or remove stock for a reason: damaged, expired, lost, found or other.

    Damaged, expired and lost remove; found adds; "other" needs a direction
    ("in" or "out") and a note saying why.
    """
    site = active_site(site_id)
    day = check_date(effective_date)
    if reason not in REASON_LABELS:
        raise InvalidInput("Choose a reason.", field="reason")
    if reason in OUTGOING_REASONS:
        direction = "out"
    elif reason == AdjustmentReason.FOUND:
        direction = "in"
    elif direction not in ("in", "out"):
        raise InvalidInput("Say whether stock is added or removed.", field="direction")
    note = check_note(
        note, required=reason == AdjustmentReason.OTHER, label="why (required for other)"
    )
    checked, items = check_lines(lines, allow_inactive=direction == "out")
    sign = 1 if direction == "in" else -1
    document = new_document(
        actor=actor,
        kind=DocumentKind.ADJUSTMENT,
        effective_date=day,
        site_id=site.id,
        reason=reason,
        note=note,
    )
    post_document(document, [Move(line.item_id, site.id, sign * line.quantity) for line in checked])
    word = "added" if sign > 0 else "removed"
    audit_document(
        actor,
        document,
        f"Adjustment at {site.name} ({reason}, {word}): {describe_lines(checked, items)}",
    )
    return document


def reverse_document(*, actor: User | None, document_id: int, note: str) -> StockDocument:
    """Undo a document with a new one that moves every entry back."""
    original = get_document(document_id)
    note = check_note(note, required=True, label="why it is being reversed")
    if original.kind == DocumentKind.REVERSAL:
        raise NotAllowed("A reversal cannot itself be reversed; record the movement again instead.")
    serialize_writes(LOCK_NAME)
    already = db.session.scalar(
        select(StockDocument.id).where(StockDocument.reverses_id == original.id).with_for_update()
    )
    if already is not None:
        raise NotAllowed(f"{original.number} was already reversed.")
    document = new_document(
        actor=actor,
        kind=DocumentKind.REVERSAL,
        effective_date=utcnow().date(),
        site_id=original.site_id,
        to_site_id=original.to_site_id,
        reverses_id=original.id,
        note=note,
    )
    moves = [
        Move(e.item_id, e.site_id, -e.quantity, e.condition) for e in original.entries if e.quantity
    ]
    if not moves:
        raise NotAllowed(f"{original.number} changed no stock, so there is nothing to reverse.")
    post_document(document, moves)
    audit_document(actor, document, f"Reversed {original.number} ({original.kind_label}): {note}")
    return document
