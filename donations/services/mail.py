"""The mail outbox: queue with the change, send after commit, retry, never twice.

``queue_mail`` adds a row in the caller's transaction. After that transaction
commits, the request that queued it hands its own rows to ``deliver_due`` (so a
user never waits on someone else's backlog); ``flask mail work`` sends every due
row, retries included. ``deliver_due`` runs in its own session: it claims rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, plus a status check that makes the
claim safe on SQLite too) and commits the claim before sending, so two workers
never send the same message. A message whose sender died mid-send stays
"sending"; the Outgoing mail page shows it as stuck and an admin may queue it
again, since we cannot know whether it went out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import Select, event, select, update
from sqlalchemy.orm import Session

from donations.extensions import db
from donations.integrations.mailer import Attachment, Email, MailError, MailSettings, deliver
from donations.models import MailStatus, OutboxAttachment, OutboxMessage, User, utcnow
from donations.services.audit import record_audit
from donations.services.errors import NotAllowed

log = logging.getLogger(__name__)

# Session.info keys: ids queued in the open transaction, and ids committed but
# not yet handed to the mailer.
_QUEUED_IDS = "donations.mail_queued"
_READY_IDS = "donations.mail_ready"
STUCK_AFTER = timedelta(minutes=15)


def queue_mail(
    *,
    kind: str,
    to: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    sensitive: bool = False,
    attachments: Iterable[Attachment] = (),
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
        message.attachments.append(
            OutboxAttachment(filename=item.filename, content_type=item.content_type, data=item.data)
        )
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


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def _due_query(
    now: datetime, limit: int, only: Collection[int] | None = None
) -> Select[tuple[int]]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == MailStatus.PENDING)
        .where(OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if only is not None:
        query = query.where(OutboxMessage.id.in_(list(only)))
    return query


def _claim(
    session: Session, now: datetime, limit: int, only: Collection[int] | None = None
) -> list[int]:
    """Mark up to ``limit`` due messages as ours and commit the claim."""
    claimed = []
    for message_id in session.scalars(_due_query(now, limit, only)).all():
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .where(OutboxMessage.status == MailStatus.PENDING)
            .values(status=MailStatus.SENDING, claimed_at=now)
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    session.commit()
    return claimed


def _as_email(message: OutboxMessage, sender: str) -> Email:
    return Email(
        message_id=message.message_id,
        sender=sender,
        to=message.to_addr,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        date=message.created_at,
        attachments=tuple(
            Attachment(filename=a.filename, content_type=a.content_type, data=a.data)
            for a in message.attachments
        ),
    )


def deliver_due(
    *, app: Flask | None = None, limit: int = 50, only: Collection[int] | None = None
) -> DeliveryReport:
    """Send messages that are due, in a session of their own; return counts.

    ``only`` limits the run to these message ids (what one request queued).
    This is a worker, not a request service: it commits each claim and each result.
    """
    app = app or current_app._get_current_object()
    report = DeliveryReport()
    if only is not None and not only:
        return report
    settings = mail_settings(app)
    sender = app.config["MAIL_DEFAULT_SENDER"]
    max_attempts = int(app.config["MAIL_MAX_ATTEMPTS"])
    with Session(db.engine) as session:
        for message_id in _claim(session, utcnow(), limit, only):
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            email = _as_email(message, sender)
            # The claim is as old as this send, so a long batch is not shown as stuck.
            message.claimed_at = utcnow()
            session.commit()
            try:
                where = deliver(email, settings)
            except Exception as exc:
                if not isinstance(exc, MailError):  # a bug: keep it, retry, and go on
                    log.exception("mail %s: unexpected error while sending", message_id)
                    exc = MailError(f"{type(exc).__name__}: {exc}")
                message.attempts += 1
                message.last_error = str(exc)[:2000]
                if exc.permanent or message.attempts >= max_attempts:
                    message.status = MailStatus.FAILED
                    report.failed += 1
                    log.error("mail %s to %s failed for good: %s", message.id, message.to_addr, exc)
                else:
                    message.status = MailStatus.PENDING
                    message.next_attempt_at = utcnow() + backoff(message.attempts)
                    report.retrying += 1
                    log.warning(
                        "mail %s to %s will be retried: %s", message.id, message.to_addr, exc
                    )
            else:
                message.attempts += 1
                message.status = MailStatus.SENT
                message.sent_at = utcnow()
                message.delivered_via = where
                message.last_error = ""
                report.sent += 1
            session.commit()
    return report


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


def register_after_commit_delivery(app: Flask) -> None:
    """Send what a request queued once its transaction has committed."""

    @app.after_request
    def _deliver_after_commit(response):
        ready = db.session.info.pop(_READY_IDS, None)
        if ready and app.config["MAIL_SEND_AFTER_COMMIT"]:
            # After the response has gone out: the answer's timing then says
            # nothing about whether mail was sent (e.g. for a reset request).
            response.call_on_close(lambda: _deliver_in_background_of_response(app, ready))
        return response


def _deliver_in_background_of_response(app: Flask, ids: set[int]) -> None:
    with app.app_context():
        try:
            deliver_due(app=app, only=ids)
        except Exception:  # the request succeeded; the worker retries later
            log.exception("sending mail after commit failed")


@event.listens_for(Session, "after_commit")
def _mark_ready(session: Session) -> None:
    queued = session.info.pop(_QUEUED_IDS, None)
    if queued:
        session.info.setdefault(_READY_IDS, set()).update(queued)


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    session.info.pop(_QUEUED_IDS, None)
