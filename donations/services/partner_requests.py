"""Partner agencies ask for goods: their requests, and staff fulfilling or declining them.

A partner agency's login (``Role.PARTNER``) sees the catalog's active items only as
*available* or *not available now* (never a quantity, never a site), asks for some, and
may withdraw an open request. Staff fulfil a request, wholly or in part, with one
distribution to that agency through ``inventory.record_distribution`` (so the ledger, the
stock levels and the summaries move as for any distribution, and stock never goes
negative), or decline it with a reason. A decision is recorded once and never rewritten;
the agency's logins are told by email, with a link on PUBLIC_BASE_URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, case, func, select

from donations.extensions import db
from donations.models import (
    GoodsRequest,
    GoodsRequestLine,
    GoodsRequestStatus,
    Item,
    ItemCategory,
    Membership,
    Recipient,
    RecipientKind,
    Role,
    Site,
    StockLevel,
    User,
    utcnow,
)
from donations.services import accounts, inventory, privacy
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.keyset import KeysetPage, Position, keyset_page
from donations.services.links import absolute_url
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.organization import get_organization

NOTE_MAX_LENGTH: int = GoodsRequest.__table__.c.note.type.length
REASON_MAX_LENGTH: int = GoodsRequest.__table__.c.decline_reason.type.length
REQUEST_LINES_MAX = 50
QUANTITY_MAX = 10_000  # per line: more is a typing mistake
NEEDED_BY_AHEAD_MAX_DAYS = 366
OPEN_SHOWN_MAX = 200  # open requests listed at once on the staff page
# A date in a note could be someone's birth date: dates go in the needed-by field.
_DATE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
DATE_MESSAGE = (
    f"{privacy.SCREEN_MESSAGE} This looks like a date, which could be a birth date; "
    "put when you need the goods in the needed-by field."
)


@dataclass(frozen=True)
class CatalogChoice:
    """An item a partner may ask for: its label and whether any is on hand, nothing more."""

    item_id: int
    label: str
    category: str
    available: bool


@dataclass(frozen=True)
class AskedLine:
    """One item a partner asks for."""

    item_id: int
    quantity: int


# --- reading ----------------------------------------------------------------------------


def partner_agency(actor: User) -> Recipient:
    """The agency a partner login belongs to; refuse anyone else."""
    if actor.role != Role.PARTNER or actor.recipient is None:
        raise NotAllowed("Only a partner agency's login asks for goods.")
    return actor.recipient


def catalog_for_partner() -> list[CatalogChoice]:
    """Active items by category and name, each only "available" or not (any open site)."""
    on_hand = (
        select(StockLevel.item_id, func.sum(StockLevel.on_hand).label("on_hand"))
        .join(Site, Site.id == StockLevel.site_id)
        .where(Site.active.is_(True))
        .group_by(StockLevel.item_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Item, ItemCategory.name, func.coalesce(on_hand.c.on_hand, 0))
        .join(ItemCategory, ItemCategory.id == Item.category_id)
        .outerjoin(on_hand, on_hand.c.item_id == Item.id)
        .where(Item.active.is_(True))
        .order_by(
            ItemCategory.sort_order,
            func.lower(ItemCategory.name),
            func.lower(Item.name),
            Item.size,
            Item.id,
        )
    ).all()
    return [
        CatalogChoice(item.id, item.label, category, total > 0) for item, category, total in rows
    ]


def on_hand_by_site(item_ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
    """For staff: each item's stock at each open site holding some, by site name."""
    held: dict[int, list[tuple[str, int]]] = {}
    ids = list(item_ids)
    if not ids:
        return held
    rows = db.session.execute(
        select(StockLevel.item_id, Site.name, StockLevel.on_hand)
        .join(Site, Site.id == StockLevel.site_id)
        .where(StockLevel.item_id.in_(ids), StockLevel.on_hand > 0, Site.active.is_(True))
        .order_by(func.lower(Site.name))
    )
    for item_id, site_name, on_hand in rows:
        held.setdefault(item_id, []).append((site_name, on_hand))
    return held


def get_request(request_id: int | None) -> GoodsRequest:
    found = db.session.get(GoodsRequest, request_id) if request_id else None
    if found is None:
        raise NotFound("There is no such request.")
    return found


def get_own_request(*, actor: User, request_id: int | None) -> GoodsRequest:
    """A request of the actor's own agency; another agency's is as if it did not exist."""
    agency = partner_agency(actor)
    found = get_request(request_id)
    if found.recipient_id != agency.id:
        raise NotFound("There is no such request.")
    return found


def own_requests_page(*, actor: User, position: Position, per_page: int) -> KeysetPage:
    """The actor's agency's requests, newest first, a page at a time."""
    agency = partner_agency(actor)
    query = select(GoodsRequest).where(GoodsRequest.recipient_id == agency.id)
    return keyset_page(query, [GoodsRequest.id], position=position, per_page=per_page)


def open_requests(*, limit: int = OPEN_SHOWN_MAX) -> list[GoodsRequest]:
    """Open requests, the soonest needed first, then the oldest (they have waited longest)."""
    no_date_last = case((GoodsRequest.needed_by.is_(None), 1), else_=0)
    return list(
        db.session.scalars(
            select(GoodsRequest)
            .where(GoodsRequest.status == GoodsRequestStatus.OPEN)
            .order_by(no_date_last, GoodsRequest.needed_by, GoodsRequest.id)
            .limit(limit)
        )
    )


def count_open_requests() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(GoodsRequest)
        .where(GoodsRequest.status == GoodsRequestStatus.OPEN)
    )


def decided_requests_query() -> Select[tuple[GoodsRequest]]:
    return select(GoodsRequest).where(GoodsRequest.status != GoodsRequestStatus.OPEN)


def decided_requests_page(*, position: Position, per_page: int) -> KeysetPage:
    """Requests already decided or withdrawn, newest first, a page at a time."""
    return keyset_page(
        decided_requests_query(), [GoodsRequest.id], position=position, per_page=per_page
    )


# --- checks -----------------------------------------------------------------------------


def check_request_text(text: str, *, field: str, max_length: int, label: str) -> str:
    """Screened free text: no person's name, contact details or date (a birth date)."""
    text = (text or "").strip()
    if len(text) > max_length:
        raise InvalidInput(f"Use at most {max_length} characters for {label}.", field=field)
    privacy.check_free_text(text, field=field)
    if _DATE_RE.search(text):
        raise InvalidInput(DATE_MESSAGE, field=field)
    return text


def _check_needed_by(day: date | None) -> date | None:
    if day is None:
        return None
    today = utcnow().date()
    if day < today:
        raise InvalidInput(
            "The needed-by date has passed; choose today or later.", field="needed_by"
        )
    if day > today + timedelta(days=NEEDED_BY_AHEAD_MAX_DAYS):
        raise InvalidInput("Choose a needed-by date within a year.", field="needed_by")
    return day


def _check_asked(lines: Iterable[AskedLine]) -> dict[int, int]:
    """Items (active, each once) and quantities asked for, by item id."""
    asked: dict[int, int] = {}
    for line in lines:
        if not 0 < line.quantity <= QUANTITY_MAX:
            raise InvalidInput(f"Ask for 1 to {QUANTITY_MAX:,} of an item.", field="lines")
        if line.item_id in asked:
            raise InvalidInput("Ask for each item once.", field="lines")
        asked[line.item_id] = line.quantity
    if not asked:
        raise InvalidInput("Enter how many you need of at least one item.", field="lines")
    if len(asked) > REQUEST_LINES_MAX:
        raise InvalidInput(f"Ask for at most {REQUEST_LINES_MAX} items at once.", field="lines")
    found = set(
        db.session.scalars(select(Item.id).where(Item.id.in_(asked), Item.active.is_(True)))
    )
    if found != set(asked):
        raise InvalidInput(
            "One of the items is no longer offered; choose from the list again.", field="lines"
        )
    return asked


def _must_be_open(goods_request: GoodsRequest) -> None:
    if not goods_request.is_open:
        raise NotAllowed(
            f"Request {goods_request.number} is already {goods_request.status_label.lower()}."
        )


def _decide(
    goods_request: GoodsRequest, *, actor: User, status: GoodsRequestStatus, **fields
) -> None:
    """Set the decision, to be written in one UPDATE.

    Everything is read before anything is set: reading an expired actor's id loads it and
    may flush, and a request flushed as decided takes no second UPDATE (models.py).
    """
    decided_by_id, decided_at = actor.id, utcnow()
    goods_request.status = status
    for name, value in fields.items():
        setattr(goods_request, name, value)
    goods_request.decided_at = decided_at
    goods_request.decided_by_id = decided_by_id


def _locked(request_id: int | None) -> GoodsRequest:
    """The request, read after taking the write lock, so two decisions cannot both land."""
    serialize_writes("goods_request")
    found = get_request(request_id)
    db.session.refresh(found, with_for_update=True)
    return found


# --- the partner's side -----------------------------------------------------------------


def create_request(
    *,
    actor: User,
    lines: Iterable[AskedLine],
    needed_by: date | None = None,
    note: str = "",
) -> GoodsRequest:
    """Record a partner agency's request for goods."""
    agency = partner_agency(actor)
    if not agency.active or agency.kind != RecipientKind.PARTNER:
        raise NotAllowed(f"{agency.name} is archived: ask the organisation to reopen it.")
    asked = _check_asked(lines)
    needed_by = _check_needed_by(needed_by)
    note = check_request_text(note, field="note", max_length=NOTE_MAX_LENGTH, label="the note")
    goods_request = GoodsRequest(
        recipient_id=agency.id,
        status=GoodsRequestStatus.OPEN,
        note=note,
        needed_by=needed_by,
        created_by_id=actor.id,
        lines=[GoodsRequestLine(item_id=i, quantity=q) for i, q in asked.items()],
    )
    db.session.add(goods_request)
    db.session.flush()
    units = sum(asked.values())
    record_audit(
        actor=actor,
        action="goods_request.create",
        object_type="goods_request",
        object_id=goods_request.id,
        summary=f"{agency.name} asked for {units} unit(s) of {len(asked)} item(s)",
    )
    return goods_request


def withdraw_request(*, actor: User, request_id: int | None) -> GoodsRequest:
    """Take back an open request of the actor's own agency."""
    get_own_request(actor=actor, request_id=request_id)
    goods_request = _locked(request_id)
    _must_be_open(goods_request)
    _decide(goods_request, actor=actor, status=GoodsRequestStatus.WITHDRAWN)
    db.session.flush()
    record_audit(
        actor=actor,
        action="goods_request.withdraw",
        object_type="goods_request",
        object_id=goods_request.id,
        summary=f"{goods_request.recipient.name} withdrew {goods_request.number}",
    )
    return goods_request


# --- the staff's side -------------------------------------------------------------------


def fulfil_request(
    *,
    actor: User,
    request_id: int | None,
    site_id: int | None,
    effective_date: date | None,
    given: Mapping[int, int],
) -> GoodsRequest:
    """Give what is given of an open request (by line id) as one distribution to its agency.

    Each quantity is 0 up to what was asked; at least one must be above 0. The
    distribution goes through the inventory service, which refuses it whole if any
    balance would go below zero.
    """
    goods_request = _locked(request_id)
    _must_be_open(goods_request)
    quantities: dict[int, int] = {}
    for line in goods_request.lines:
        quantity = given.get(line.id, 0)
        if not 0 <= quantity <= line.quantity:
            raise InvalidInput(
                f"Give 0 to {line.quantity} of {line.item.label}: no more than was asked.",
                field="lines",
            )
        quantities[line.id] = quantity
    if not any(quantities.values()):
        raise InvalidInput(
            "Give at least one item, or decline the request with a reason.", field="lines"
        )
    document = inventory.record_distribution(
        actor=actor,
        site_id=site_id,
        effective_date=effective_date,
        lines=[
            inventory.Line(line.item_id, quantities[line.id])
            for line in goods_request.lines
            if quantities[line.id]
        ],
        recipient_id=goods_request.recipient_id,
        note=f"Partner request {goods_request.number}",
    )
    whole = all(quantities[line.id] == line.quantity for line in goods_request.lines)
    for line in goods_request.lines:
        line.quantity_given = quantities[line.id]
    _decide(
        goods_request,
        actor=actor,
        status=GoodsRequestStatus.FULFILLED if whole else GoodsRequestStatus.PARTLY_FULFILLED,
        distribution_id=document.id,
    )
    db.session.flush()
    record_audit(
        actor=actor,
        action="goods_request.fulfil",
        object_type="goods_request",
        object_id=goods_request.id,
        summary=(
            f"{goods_request.number} {goods_request.status_label.lower()} "
            f"with {document.number} to {goods_request.recipient.name}"
        ),
    )
    _tell_partner(goods_request)
    return goods_request


def decline_request(*, actor: User, request_id: int | None, reason: str) -> GoodsRequest:
    """Decline an open request, saying why (screened like every note)."""
    reason = check_request_text(
        reason, field="reason", max_length=REASON_MAX_LENGTH, label="the reason"
    )
    if not reason:
        raise InvalidInput("Say why the request is declined.", field="reason")
    goods_request = _locked(request_id)
    _must_be_open(goods_request)
    _decide(goods_request, actor=actor, status=GoodsRequestStatus.DECLINED, decline_reason=reason)
    db.session.flush()
    record_audit(
        actor=actor,
        action="goods_request.decline",
        object_type="goods_request",
        object_id=goods_request.id,
        summary=f"{goods_request.number} of {goods_request.recipient.name} declined",
    )
    _tell_partner(goods_request)
    return goods_request


def _tell_partner(goods_request: GoodsRequest) -> None:
    """Email the agency's active logins what was decided, in the organisation's name."""
    org = get_organization()
    org_name = org.legal_name if org is not None and org.legal_name else "our shelter"
    link = absolute_url("partner_requests.detail", request_id=goods_request.id)
    if goods_request.status == GoodsRequestStatus.DECLINED:
        subject = f"{org_name}: your request {goods_request.number} was declined"
        what = [f"We could not fulfil it this time. Our reason: {goods_request.decline_reason}"]
    else:
        given = [line for line in goods_request.lines if line.quantity_given]
        subject = (
            f"{org_name}: your request {goods_request.number} was "
            f"{goods_request.status_label.lower()}"
        )
        what = ["The goods given:"] + [
            f"- {line.quantity_given} x {line.item.label}" for line in given
        ]
    logins = db.session.scalars(
        accounts.active_members(Role.PARTNER).where(
            Membership.recipient_id == goods_request.recipient_id
        )
    )
    for login in logins:
        lines = [
            f"Hello {login.name},",
            "",
            f"{org_name} has answered {goods_request.recipient.name}'s request "
            f"{goods_request.number}, made on {goods_request.created_at:%Y-%m-%d}.",
            "",
            *what,
            "",
            f"See the request: {link}",
            "",
            f"With thanks for your work,\n{org_name}",
        ]
        queue_mail(
            kind="goods_request_decision",
            to=login.email,
            subject=subject,
            body_text="\n".join(lines) + "\n",
        )
