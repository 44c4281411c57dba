"""Stale pledges expire: goods promised for a day long past and never (all) brought.

An open pledge whose expected day is more than ``PLEDGE_EXPIRY_DAYS`` (default 14) days
ago expires: what is still outstanding is no longer expected, what did arrive stays
exactly as recorded (its intake documents and the pledge's lines are not touched; the
ledger is append-only anyway). Each expiry is an audit event on the pledge naming the
remainder and what was kept; with ``PLEDGE_EXPIRY_MAIL`` (default on) the pledger gets a
short, kind note. Received and cancelled pledges are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from donations.extensions import db
from donations.models import Pledge, PledgeLine, PledgeStatus
from donations.services import inventory
from donations.services.audit import record_audit
from donations.services.links import absolute_url
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.organization import get_organization
from donations.services.pledges import received_quantities

DEFAULT_EXPIRY_DAYS = 14
EXPIRY_DAYS_MAX = 365


class BadSetting(ValueError):
    """A setting the job cannot work with; the message says which and what is allowed."""


def expiry_days(value: Any = None) -> int:
    """``PLEDGE_EXPIRY_DAYS`` as a whole number of days from 1 to 365 (else ``BadSetting``)."""
    if value is None:
        value = current_app.config.get("PLEDGE_EXPIRY_DAYS", DEFAULT_EXPIRY_DAYS)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= EXPIRY_DAYS_MAX:
        raise BadSetting(
            f"PLEDGE_EXPIRY_DAYS must be a whole number of days from 1 to {EXPIRY_DAYS_MAX}, "
            f"not {value!r}."
        )
    return value


@dataclass(frozen=True)
class Expiry:
    """One pledge expired: what no longer comes and what had arrived, per item id."""

    pledge: Pledge
    remainder: dict[int, int]
    received: dict[int, int]


def stale_pledges(*, today: date, days: int) -> list[Pledge]:
    """Open pledges expected more than ``days`` days before ``today``, oldest first."""
    return list(
        db.session.scalars(
            select(Pledge)
            .options(selectinload(Pledge.lines).joinedload(PledgeLine.item))
            .where(
                Pledge.status == PledgeStatus.OPEN,
                Pledge.expected_on < today - timedelta(days=days),
            )
            .order_by(Pledge.expected_on, Pledge.id)
        )
    )


def _describe(pledge: Pledge, quantities: dict[int, int]) -> str:
    labels = {line.item_id: line.item.label for line in pledge.lines}
    shown = [f"{q} x {labels.get(i, f'item #{i}')}" for i, q in sorted(quantities.items()) if q > 0]
    return ", ".join(shown) or "nothing"


def expire_pledge(pledge: Pledge, *, days: int, now: datetime) -> Expiry | None:
    """Expire one stale open pledge (locked and looked at again first); None if it is not."""
    db.session.execute(select(Pledge.id).where(Pledge.id == pledge.id).with_for_update())
    db.session.refresh(pledge)
    if pledge.status != PledgeStatus.OPEN or pledge.expected_on >= now.date() - timedelta(
        days=days
    ):
        return None
    received = received_quantities(pledge)
    remainder = {
        line.item_id: line.quantity - received.get(line.item_id, 0)
        for line in pledge.lines
        if line.quantity > received.get(line.item_id, 0)
    }
    pledge.status = PledgeStatus.EXPIRED
    pledge.closed_at = now
    record_audit(
        actor=None,
        action="pledge.expired",
        object_type="pledge",
        object_id=pledge.id,
        summary=f"Not delivered within {days} days of {pledge.expected_on:%Y-%m-%d}: "
        f"no longer expected {_describe(pledge, remainder)}; "
        f"received and kept {_describe(pledge, received)}",
    )
    return Expiry(pledge, remainder, received)


def _org_name() -> str:
    org = get_organization()
    return org.legal_name if org and org.legal_name else "our shelter"


def _tell_pledger(expiry: Expiry) -> None:
    pledge = expiry.pledge
    donor = pledge.donor
    if not donor.email:
        return
    partly = any(q > 0 for q in expiry.received.values())
    lines = [
        f"Dear {donor.name},",
        "",
        f"Thank you for offering goods for {pledge.site.name} on {pledge.expected_on:%B %-d, %Y}. "
        + (
            "We received part of them — thank you! We no longer expect the rest:"
            if partly
            else "We have not seen them arrive, so we no longer expect them:"
        ),
        "",
        *(
            f"- {q} x {line.item.label}"
            for line in pledge.lines
            if (q := expiry.remainder.get(line.item_id, 0))
        ),
        "",
        "There is nothing you need to do. If you would still like to give, what we need now "
        f"is listed here: {absolute_url('needs.index')}",
        "",
        f"With gratitude,\n{_org_name()}",
    ]
    queue_mail(
        kind="pledge_expired",
        to=donor.email,
        subject=f"Your pledge to {_org_name()} is closed",
        body_text="\n".join(lines) + "\n",
    )


def expire_stale_pledges(*, now: datetime, days: int | None = None) -> list[Expiry]:
    """Expire every stale open pledge; mail each pledger when ``PLEDGE_EXPIRY_MAIL`` is on."""
    days = expiry_days(days)
    mail = bool(current_app.config.get("PLEDGE_EXPIRY_MAIL", True))
    # Receiving a pledge takes the same lock: a pledge being received is expired after, or not.
    serialize_writes(inventory.LOCK_NAME)
    expired = []
    for pledge in stale_pledges(today=now.date(), days=days):
        expiry = expire_pledge(pledge, days=days, now=now)
        if expiry is None:
            continue
        if mail:
            _tell_pledger(expiry)
        expired.append(expiry)
    return expired
