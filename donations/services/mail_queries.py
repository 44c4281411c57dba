"""What the admin mail pages read: the outbox a page at a time, message kinds in words,
and attachment names."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import defer

from donations.extensions import db
from donations.models import OutboxAttachment, OutboxMessage
from donations.services.keyset import KeysetPage, Position, keyset_page

# What each kind of outgoing message is, in words; statements go out as receipts.
MAIL_KINDS = {
    "receipt": "Receipt or statement",
    "gift_thanks": "Thank-you for a gift",
    "goods_thanks": "Thank-you for goods",
    "tribute_notice": "Tribute notice",
    "instalment_failed": "Monthly payment failed",
    "donor_gifts_link": "Link to a donor's gifts",
    "pledge_confirmation": "Pledge confirmation",
    "low_stock": "Low-stock alert",
    "password_reset": "Password reset",
    "goods_request_decision": "Answer to a partner's goods request",
}


def kind_label(kind: str) -> str:
    """A message kind in words, such as "Receipt or statement"."""
    return MAIL_KINDS.get(kind, kind.replace("_", " ").capitalize())


def attachment_names(message_ids: list[int]) -> dict[int, list[str]]:
    """Return each listed message's attachment file names (not their contents)."""
    names: dict[int, list[str]] = defaultdict(list)
    if message_ids:
        rows = db.session.execute(
            select(OutboxAttachment.message_id, OutboxAttachment.filename)
            .where(OutboxAttachment.message_id.in_(message_ids))
            .order_by(OutboxAttachment.id)
        )
        for message_id, filename in rows:
            names[message_id].append(filename)
    return names


def outbox_page(*, status: str | None, position: Position, per_page: int) -> KeysetPage:
    """Return one page of outgoing messages, newest first (keyset paged), of one status or all.

    The bodies are not read: the list shows subjects only.
    """
    query = select(OutboxMessage).options(
        defer(OutboxMessage.body_text), defer(OutboxMessage.body_html)
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    keys = (OutboxMessage.created_at, OutboxMessage.id)
    return keyset_page(query, keys, position=position, per_page=per_page)
