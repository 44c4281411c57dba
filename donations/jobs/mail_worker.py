"""The mail worker: claim due outbox rows, send them, record each result, never twice.

``deliver_due`` runs in its own session: it claims rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, plus a status check that makes the claim safe on SQLite too) and commits the claim
before sending, so two workers never send the same message. It is a worker, not a request
service: it commits each claim and each result. ``drain`` empties the outbox now, ``work`` is
the ``flask mail work`` loop, and ``register_after_commit_delivery`` hands what a request queued
to ``deliver_due`` once the response has gone out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from flask import Flask, current_app
from huey import crontab
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from donations.extensions import db
from donations.integrations.mailer import Attachment, Email, MailError, deliver
from donations.models import MailStatus, Organization, OutboxMessage, utcnow
from donations.queue import add_after_job_commit, periodic_job
from donations.services import receipt_delivery, stripe_events
from donations.services.mail import backoff, mail_settings, pop_ready_ids
from donations.tenancy import ALL_ORGANIZATIONS

log = logging.getLogger("donations.services.mail")

# A burst: as many Stripe events waiting as a run processes per transaction.
PAYMENTS_BURST = 25
MAIL_WAITS_FOR_PAYMENTS = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def _due_query(
    now: datetime,
    limit: int,
    only: Collection[int] | None = None,
    queued_before: datetime | None = None,
) -> Select[tuple[int]]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == MailStatus.PENDING)
        .where(OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # Sending is the deployment's work, for every organisation's mail at once.
        .execution_options(**{ALL_ORGANIZATIONS: True})
    )
    if only is not None:
        query = query.where(OutboxMessage.id.in_(list(only)))
    if queued_before is not None:
        query = query.where(OutboxMessage.created_at < queued_before)
    return query


def _claim(
    session: Session,
    now: datetime,
    limit: int,
    only: Collection[int] | None = None,
    queued_before: datetime | None = None,
) -> list[int]:
    """Mark up to ``limit`` due messages as ours and commit the claim."""
    claimed = []
    for message_id in session.scalars(_due_query(now, limit, only, queued_before)).all():
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .where(OutboxMessage.status == MailStatus.PENDING)
            .values(status=MailStatus.SENDING, claimed_at=now)
            .execution_options(**{ALL_ORGANIZATIONS: True})
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    session.commit()
    return claimed


class Senders:
    """Each organisation's mail goes out in its name: the display name is its legal name
    (the address stays MAIL_DEFAULT_SENDER, which the server may send from), and replies
    go to its contact email when it has one. Read once per organisation per batch."""

    def __init__(self, session: Session, default: str) -> None:
        self.session = session
        self.default = default
        self.address = parseaddr(default)[1] or default
        self.known: dict[int, tuple[str, str | None]] = {}

    def of(self, organization_id: int) -> tuple[str, str | None]:
        if organization_id not in self.known:
            row = self.session.execute(
                select(Organization.legal_name, Organization.email).where(
                    Organization.id == organization_id
                )
            ).first()
            name, contact = row if row is not None else ("", "")
            sender = formataddr((name, self.address)) if name else self.default
            self.known[organization_id] = (sender, contact or None)
        return self.known[organization_id]


def _as_email(message: OutboxMessage, sender: str, reply_to: str | None = None) -> Email:
    body_text, files = message.body_text, []
    for stored in message.attachments:
        data: bytes | None = stored.data
        if stored.receipt_id is not None:  # rendered now, not in the receipt's transaction
            data, body_text = receipt_delivery.pdf_for_mail(stored.receipt_id, body_text)
        if data is not None:
            files.append(Attachment(stored.filename, stored.content_type, data))
    return Email(
        message_id=message.message_id,
        sender=sender,
        to=message.to_addr,
        subject=message.subject,
        body_text=body_text,
        body_html=message.body_html,
        date=message.created_at,
        attachments=tuple(files),
        reply_to=reply_to,
    )


def deliver_due(
    *,
    app: Flask | None = None,
    limit: int = 50,
    only: Collection[int] | None = None,
    queued_before: datetime | None = None,
) -> DeliveryReport:
    """Send messages that are due, in a session of their own; return counts.

    ``only`` limits the run to these message ids (what one request queued), and
    ``queued_before`` to messages queued before then (``payments_first``).
    This is a worker, not a request service: it commits each claim and each result.
    """
    app = app or current_app._get_current_object()
    report = DeliveryReport()
    if only is not None and not only:
        return report
    settings = mail_settings(app)
    max_attempts = int(app.config["MAIL_MAX_ATTEMPTS"])
    with Session(db.engine) as session:
        senders = Senders(session, app.config["MAIL_DEFAULT_SENDER"])
        for message_id in _claim(session, utcnow(), limit, only, queued_before):
            message = session.get(
                OutboxMessage, message_id, execution_options={ALL_ORGANIZATIONS: True}
            )
            assert message is not None
            # The claim is as old as this send, so a long batch is not shown as stuck.
            message.claimed_at = utcnow()
            session.commit()
            try:
                sender, reply_to = senders.of(message.organization_id)
                where = deliver(_as_email(message, sender, reply_to), settings)
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


def register_after_commit_delivery(app: Flask) -> None:
    """Send what a request queued once its transaction has committed."""

    @app.after_request
    def _deliver_after_commit(response):
        ready = pop_ready_ids()
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


def payments_first() -> datetime | None:
    """While a burst of Stripe events waits to be processed, background jobs send only
    mail queued more than MAIL_WAITS_FOR_PAYMENTS ago (the time returned); else None.

    A receipt's PDF is rendered when its message is sent, on the CPUs that record the
    payments: a burst (a campaign's last hour) is recorded first, and its thank-you
    mail goes out right after it, or once it has waited that long."""
    if stripe_events.waiting_everywhere() < PAYMENTS_BURST:
        return None
    return utcnow() - MAIL_WAITS_FOR_PAYMENTS


def drain(app: Flask, *, limit: int = 200, yield_to_payments: bool = False) -> int:
    """Send everything that is due now, ``limit`` messages at a time; return how many went.
    With ``yield_to_payments`` (the queue's jobs), fresh mail waits out a burst of
    payments (``payments_first``), looked at before each round."""
    sent = 0
    while True:
        queued_before = payments_first() if yield_to_payments else None
        report = deliver_due(app=app, limit=limit, queued_before=queued_before)
        if not report.handled:
            return sent
        sent += report.sent


def work(
    app: Flask,
    *,
    once: bool,
    interval: float,
    report_to: Callable[[DeliveryReport], object],
) -> None:
    """Send queued mail and retry failures, polling every ``interval`` seconds while idle.

    ``report_to`` is told of every round that handled something (and of the one round
    when ``once``). Several workers may run at once: each claims its own messages.
    """
    while True:
        report = deliver_due(app=app)
        if report.handled or once:
            report_to(report)
        if once:
            return
        if not report.handled:
            time.sleep(interval)


def deliver_after_job(app: Flask) -> None:
    """Send what a background job queued, once the job has committed."""
    ready = pop_ready_ids()
    if ready and app.config["MAIL_SEND_AFTER_COMMIT"]:
        try:  # during a burst of payments, the minute's job sends it (``payments_first``)
            deliver_due(app=app, only=ready, queued_before=payments_first())
        except Exception:  # the job's work is kept; the mail worker retries later
            log.exception("sending mail after a job failed")


add_after_job_commit(deliver_after_job)


@periodic_job(crontab(minute="*"))
def send_due_mail() -> None:
    """Every minute on the consumer: send what is due, retries included (each message backs
    off 1, 2, 4 ... minutes), fresh mail waiting out a burst of payments (``payments_first``).
    ``flask mail work`` sends from a command line, without waiting."""
    drain(current_app._get_current_object(), yield_to_payments=True)  # type: ignore[attr-defined]
