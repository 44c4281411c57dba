"""Pledges: a donor promises goods for a drop-off point; staff receive them as intake."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, select

from donations.extensions import db
from donations.models import (
    DocumentKind,
    Donor,
    IntakeSource,
    Item,
    Pledge,
    PledgeLine,
    PledgeStatus,
    Site,
    SiteKind,
    StockDocument,
    StockEntry,
    User,
    utcnow,
)
from donations.services import donors as donor_service
from donations.services import inventory, privacy
from donations.services.audit import record_audit
from donations.services.campaigns.rules import open_campaign
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.organization import get_organization

PLEDGE_LINES_MAX = 30
PLEDGE_QUANTITY_MAX = 10_000
PLEDGE_AHEAD_MAX_DAYS = 180
NOTE_MAX_LENGTH: int = Pledge.__table__.c.note.type.length
NAME_MAX_LENGTH: int = Donor.__table__.c.name.type.length


@dataclass(frozen=True)
class PledgeRequest:
    """What a donor typed on the public pledge form."""

    name: str
    email: str
    site_id: int | None
    expected_on: date | None
    lines: list[inventory.Line]
    note: str = ""
    campaign_id: int | None = None  # made from a campaign's page


def _donor_for(name: str, email: str) -> Donor:
    donor = db.session.scalar(
        select(Donor)
        .where(Donor.email == email, Donor.merged_into_id.is_(None))
        .order_by(Donor.id)
        .limit(1)
    )
    if donor is None:
        donor = donor_service.create_donor(actor=None, name=name, email=email)
    return donor


def make_pledge(request: PledgeRequest) -> Pledge:
    """Record a donor's pledge from the public needs page, and tell staff."""
    name = " ".join(request.name.split())
    if not name:
        raise InvalidInput("Enter your name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Use at most {NAME_MAX_LENGTH} characters.", field="name")
    # Loaded with the first pledge, not at every start (about 25 ms).
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    try:
        email = validate_email(request.email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(
            "Enter your email address, such as you@example.com.", field="email"
        ) from None
    email = email.lower()
    site = db.session.get(Site, request.site_id) if request.site_id else None
    if site is None or site.kind != SiteKind.DROPOFF or not site.active:
        raise InvalidInput("Choose a drop-off point from the list.", field="site_id")
    today = utcnow().date()
    if request.expected_on is None:
        raise InvalidInput("Say when you plan to bring the items.", field="expected_on")
    if request.expected_on < today - timedelta(days=1):
        raise InvalidInput("Choose today or a later day.", field="expected_on")
    if request.expected_on > today + timedelta(days=PLEDGE_AHEAD_MAX_DAYS):
        raise InvalidInput("Choose a day within the next six months.", field="expected_on")
    note = request.note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"Use at most {NOTE_MAX_LENGTH} characters.", field="note")
    privacy.check_free_text(note, field="note")
    merged: dict[int, int] = defaultdict(int)
    for line in request.lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise InvalidInput("Quantities are whole numbers.", field="lines")
        if not 0 < line.quantity <= PLEDGE_QUANTITY_MAX:
            raise InvalidInput(
                f"Each quantity must be from 1 to {PLEDGE_QUANTITY_MAX:,}.", field="lines"
            )
        merged[line.item_id] += line.quantity
    if not merged:
        raise InvalidInput("Choose at least one item and how many.", field="lines")
    if len(merged) > PLEDGE_LINES_MAX:
        raise InvalidInput(f"Pledge at most {PLEDGE_LINES_MAX} different items.", field="lines")
    items = {
        i.id: i
        for i in db.session.scalars(select(Item).where(Item.id.in_(merged), Item.active.is_(True)))
    }
    if set(items) != set(merged):
        raise InvalidInput("One of the items is not one we collect.", field="lines")
    campaign = open_campaign(request.campaign_id)
    donor = _donor_for(name, email)
    pledge = Pledge(
        donor_id=donor.id,
        site_id=site.id,
        expected_on=request.expected_on,
        note=note,
        campaign_id=campaign.id if campaign is not None else None,
        status=PledgeStatus.OPEN,
    )
    for item_id, quantity in merged.items():
        pledge.lines.append(PledgeLine(item_id=item_id, quantity=quantity))
    db.session.add(pledge)
    db.session.flush()
    record_audit(
        actor=None,
        action="pledge.created",
        object_type="pledge",
        object_id=pledge.id,
        # By id, not name: staff read a pledge's history and may not see an anonymous donor's name.
        summary=f"Donor #{donor.id}: "
        + ", ".join(f"{q} x {items[i].label}" for i, q in merged.items())
        + f" at {site.name} on {request.expected_on:%Y-%m-%d}",
    )
    _queue_pledge_confirmation(pledge, items)
    return pledge


def _org_name() -> str:
    org = get_organization()
    return org.legal_name if org and org.legal_name else "our shelter"


def _queue_pledge_confirmation(pledge: Pledge, items: dict[int, Item]) -> None:
    site = pledge.site
    lines = [
        f"Dear {pledge.donor.name},",
        "",
        f"Thank you for offering to bring these items to {site.name} "
        f"on {pledge.expected_on:%A, %B %-d}:",
        "",
        *(f"- {line.quantity} x {items[line.item_id].label}" for line in pledge.lines),
        "",
    ]
    address = site.public_address_lines
    if address:
        lines += ["Where: " + ", ".join(address)]
    if site.public_hours:
        lines += ["When we are open: " + site.public_hours]
    lines += ["", f"With gratitude,\n{_org_name()}"]
    queue_mail(
        kind="pledge_confirmation",
        to=pledge.donor.email,
        subject=f"Your pledge to {_org_name()}",
        body_text="\n".join(lines) + "\n",
    )


def get_pledge(pledge_id: int) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound("There is no such pledge.")
    return pledge


def pledges_query(status: str | None = PledgeStatus.OPEN.value) -> Select[tuple[Pledge]]:
    """Pledges by expected date (open ones), or newest first."""
    query = select(Pledge)
    if status:
        query = query.where(Pledge.status == status)
    if status == PledgeStatus.OPEN:
        return query.order_by(Pledge.expected_on, Pledge.id)
    return query.order_by(Pledge.id.desc())


def received_quantities(pledge: Pledge) -> dict[int, int]:
    """What has arrived so far for a pledge, per item (reversed intakes left out)."""
    reversed_ids = select(StockDocument.reverses_id).where(
        StockDocument.kind == DocumentKind.REVERSAL, StockDocument.reverses_id.is_not(None)
    )
    rows = db.session.execute(
        select(StockEntry.item_id, func.sum(StockEntry.quantity))
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .where(StockDocument.pledge_id == pledge.id, StockDocument.id.not_in(reversed_ids))
        .group_by(StockEntry.item_id)
    ).all()
    return {item_id: int(total) for item_id, total in rows}


def outstanding(pledge: Pledge) -> dict[int, int]:
    """What is still to come per pledged item."""
    received = received_quantities(pledge)
    return {
        line.item_id: max(line.quantity - received.get(line.item_id, 0), 0) for line in pledge.lines
    }


def receive_pledge(
    *,
    actor: User | None,
    pledge: Pledge,
    effective_date: date | None,
    lines: Iterable[inventory.Line],
    site_id: int | None = None,
    close: bool = False,
    note: str = "",
) -> StockDocument:
    """Turn what arrived for a pledge into an intake from its donor.

    Part of the pledge may arrive; the pledge stays open until everything has
    come or staff close it. The donor is thanked by email.
    """
    # Two people receiving the same pledge at once: the second waits, then sees it as it is.
    serialize_writes(inventory.LOCK_NAME)
    db.session.refresh(pledge, with_for_update=True)
    if pledge.status != PledgeStatus.OPEN:
        raise NotAllowed("This pledge is closed; record any goods as an ordinary intake.")
    lines = list(lines)
    document = inventory.record_intake(
        actor=actor,
        site_id=site_id or pledge.site_id,
        effective_date=effective_date,
        source=IntakeSource.DONOR.value,
        donor_id=pledge.donor_id,
        pledge_id=pledge.id,
        campaign_id=pledge.campaign_id,
        lines=lines,
        note=note or f"Pledge #{pledge.id}",
    )
    if close or not any(outstanding(pledge).values()):
        pledge.status = PledgeStatus.RECEIVED
        pledge.closed_at = utcnow()
    record_audit(
        actor=actor,
        action="pledge.received",
        object_type="pledge",
        object_id=pledge.id,
        summary=f"{document.number}; pledge {pledge.status}",
    )
    _queue_goods_thanks(pledge, document)
    return document


def _queue_goods_thanks(pledge: Pledge, document: StockDocument) -> None:
    donor = pledge.donor
    if not donor.email:
        return
    received = [e for e in document.entries if e.quantity > 0]
    lines = [
        f"Dear {donor.name},",
        "",
        f"Your items arrived at {pledge.site.name} on {document.effective_date:%B %-d, %Y}. "
        "Thank you! We received:",
        "",
        *(f"- {e.quantity} x {e.item.label}" for e in received),
        "",
        "They go straight to survivors of human trafficking in our care and to the partners "
        "who support them.",
        "",
        f"With gratitude,\n{_org_name()}",
    ]
    queue_mail(
        kind="goods_thanks",
        to=donor.email,
        subject=f"Thank you for your gift of goods to {_org_name()}",
        body_text="\n".join(lines) + "\n",
    )


def cancel_pledge(*, actor: User | None, pledge: Pledge, reason: str = "") -> Pledge:
    """Close a pledge that will not come; what already arrived stays recorded."""
    if pledge.status != PledgeStatus.OPEN:
        raise NotAllowed("This pledge is already closed.")
    privacy.check_free_text(reason, field="reason")
    pledge.status = PledgeStatus.CANCELLED
    pledge.closed_at = utcnow()
    record_audit(
        actor=actor,
        action="pledge.cancelled",
        object_type="pledge",
        object_id=pledge.id,
        summary=reason.strip()[:500],
    )
    return pledge
