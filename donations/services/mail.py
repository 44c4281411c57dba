"""The mail outbox: queue with the change, send after commit, retry, never twice.

``queue_mail`` adds a row in the caller's transaction. After that transaction
commits, the request that queued it hands its own rows (``pop_ready_ids``) to the
mail worker, ``jobs/mail_worker.deliver_due`` (so a user never waits on someone
else's backlog); ``flask mail work`` sends every due row, retries included. The
worker claims rows and commits the claim before sending, so two workers never
send the same message. A message whose sender died mid-send stays
"sending"; the Outgoing mail page shows it as stuck and an admin may queue it
again, since we cannot know whether it went out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session

from donations.extensions import committed_for_good, db
from donations.integrations.mailer import Attachment, MailSettings
from donations.models import MailStatus, OutboxAttachment, OutboxMessage, User, utcnow
from donations.services.audit import record_audit
from donations.services.errors import NotAllowed

log = logging.getLogger(__name__)

# Session.info keys: ids queued in the open transaction, and ids committed but
# not yet handed to the mailer.
_QUEUED_IDS = "donations.mail_queued"
_READY_IDS = "donations.mail_ready"
STUCK_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class ReceiptPdf:
    """A receipt's PDF, attached by reference and rendered when the message is sent: the
    transaction that issues a receipt (a Stripe event's, say) does not wait for ReportLab."""

    receipt_id: int
    filename: str
    content_type: str = "application/pdf"


def queue_mail(
    *,
    kind: str,
    to: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    sensitive: bool = False,
    attachments: Iterable[Attachment | ReceiptPdf] = (),
) -> OutboxMessage:
    """Add a message to the outbox in the current transaction."""
    message = OutboxMessage(
        kind=kind,
        to_addr=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        is_sensitive=sensitive,
        message_id=f"<{uuid.uuid4().hex}@donations.invalid>",
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    for item in attachments:
        if isinstance(item, ReceiptPdf):
            stored = OutboxAttachment(data=b"", receipt_id=item.receipt_id)
        else:
            stored = OutboxAttachment(data=item.data)
        stored.filename, stored.content_type = item.filename, item.content_type
        message.attachments.append(stored)
    db.session.add(message)
    db.session.flush()
    _remember_queued(message)
    return message


def _remember_queued(message: OutboxMessage) -> None:
    db.session.info.setdefault(_QUEUED_IDS, set()).add(message.id)


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next try: 1, 2, 4 ... minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def mail_settings(app: Flask | None = None) -> MailSettings:
    config = (app or current_app).config
    return MailSettings(
        server=config.get("MAIL_SERVER") or None,
        port=int(config["MAIL_PORT"]),
        use_tls=bool(config["MAIL_USE_TLS"]),
        use_ssl=bool(config["MAIL_USE_SSL"]),
        username=config.get("MAIL_USERNAME") or None,
        password=config.get("MAIL_PASSWORD") or None,
        timeout=float(config["MAIL_TIMEOUT"]),
        eml_dir=config["MAIL_EML_DIR"],
    )


def is_stuck(message: OutboxMessage, *, now: datetime | None = None) -> bool:
    """True when a claim is old enough that its sender has probably died."""
    if message.status != MailStatus.SENDING or message.claimed_at is None:
        return False
    return (now or utcnow()) - message.claimed_at > STUCK_AFTER


def requeue_message(*, actor: User | None, message: OutboxMessage) -> OutboxMessage:
    """Queue a failed or stuck message for another try."""
    if message.status != MailStatus.FAILED and not is_stuck(message):
        raise NotAllowed("Only a failed or stuck message can be sent again.")
    previous = message.status
    message.status = MailStatus.PENDING
    message.next_attempt_at = utcnow()
    message.claimed_at = None
    db.session.flush()
    _remember_queued(message)
    record_audit(
        actor=actor,
        action="mail.requeue",
        object_type="mail",
        object_id=message.id,
        summary=f"status: {previous} -> pending",
    )
    return message


def outbox_query(*, status: str | None = None) -> Select[tuple[OutboxMessage]]:
    """Return outbox messages, newest first, optionally of one status."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    return query


def pop_ready_ids() -> set[int] | None:
    """The ids of messages this session queued and has since committed (once; then forgotten)."""
    if not db.session.registry.has():  # no session this request (a plain page): none queued
        return None
    return db.session.info.pop(_READY_IDS, None)


@event.listens_for(Session, "after_commit")
def _mark_ready(session: Session) -> None:
    if not committed_for_good(session):
        return
    queued = session.info.pop(_QUEUED_IDS, None)
    if queued:
        session.info.setdefault(_READY_IDS, set()).update(queued)


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    session.info.pop(_QUEUED_IDS, None)
