"""The outbox: queued with the change, sent after commit, retried, never twice.

Mail goes through the real SMTP server the ``smtp`` fixture starts on loopback,
or, with no server configured, into .eml files.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from sqlalchemy import func, select

from conftest import free_port, start_smtp
from donations.extensions import db
from donations.integrations.mailer import Attachment
from donations.jobs import mail_worker
from donations.jobs.mail_worker import deliver_due
from donations.models import (
    AuditEvent,
    MailStatus,
    OutboxMessage,
    Role,
    StripeEvent,
    StripeEventStatus,
    utcnow,
)
from donations.services import mail
from donations.services.mail import backoff, queue_mail

PDF_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\r\n\x00end"


def queue(n: int = 1, *, commit: bool = True, **fields) -> list[OutboxMessage]:
    """Queue ``n`` messages (committed unless told otherwise) and return them."""
    messages = []
    for i in range(n):
        values = {
            "kind": "test",
            "to": f"person{i}@example.org",
            "subject": f"Hello {i}",
            "body_text": f"Body number {i}.\n",
        }
        values.update(fields)
        messages.append(queue_mail(**values))
    if commit:
        db.session.commit()
    return messages


def reload(message: OutboxMessage) -> OutboxMessage:
    """Return the row as the database has it now."""
    db.session.expire_all()
    fresh = db.session.get(OutboxMessage, message.id)
    assert fresh is not None
    return fresh


def outbox_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def received_ids(messages: list[Message]) -> Counter[str]:
    return Counter(m["Message-ID"] for m in messages)


def attachment_parts(message: Message) -> list[Message]:
    return [part for part in message.walk() if part.get_filename()]


def make_due(message: OutboxMessage) -> None:
    """Move a message's next try into the past, as if its wait had passed."""
    row = reload(message)
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


# --- queue, commit, send -------------------------------------------------


def test_rolled_back_mail_is_neither_kept_nor_sent(app, smtp):
    queue(commit=False)
    db.session.rollback()

    report = deliver_due(app=app)

    assert report.handled == 0
    assert outbox_count() == 0
    assert smtp.messages == []


def test_committed_mail_is_sent_once_with_headers_body_and_attachment(app, smtp):
    (message,) = queue(
        to="ada@example.org",
        subject="Your receipt",
        body_text="Thank you for your gift.\nHarbor Light\n",
        attachments=[Attachment("receipt-7.pdf", "application/pdf", PDF_BYTES)],
    )
    assert reload(message).status == MailStatus.PENDING

    report = deliver_due(app=app)

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    assert len(smtp.messages) == 1
    got = smtp.messages[0]
    assert got["To"] == "ada@example.org"
    assert got["Subject"] == "Your receipt"
    assert got["Message-ID"] == message.message_id
    assert "giving@harborlight.test" in got["From"]
    text = next(p for p in got.walk() if p.get_content_type() == "text/plain")
    assert "Thank you for your gift." in text.get_payload(decode=True).decode()
    (pdf,) = attachment_parts(got)
    assert pdf.get_filename() == "receipt-7.pdf"
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_payload(decode=True) == PDF_BYTES

    row = reload(message)
    assert row.status == MailStatus.SENT
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.delivered_via == "smtp"
    assert row.last_error == ""

    # Sent means done: running the worker again sends nothing more.
    assert deliver_due(app=app).handled == 0
    assert len(smtp.messages) == 1


def test_html_alternative_is_sent_with_the_text(app, smtp):
    queue(body_text="Plain words", body_html="<p>Rich <b>words</b></p>")
    deliver_due(app=app)

    (got,) = smtp.messages
    types = {part.get_content_type() for part in got.walk()}
    assert {"text/plain", "text/html"} <= types


# --- after commit ----------------------------------------------------------


def test_a_request_sends_its_mail_right_after_commit(app, client, create_user, smtp):
    user = create_user(email="known@example.org")

    response = client.post("/reset-password", data={"email": user.email})

    assert response.status_code == 302
    # Received by the time the response came back, with no worker run.
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == "known@example.org"
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == MailStatus.SENT
    assert row.kind == "password_reset"


def test_without_send_after_commit_mail_waits_for_the_worker(app, client, create_user, smtp):
    app.config["MAIL_SEND_AFTER_COMMIT"] = False
    user = create_user(email="known@example.org")

    client.post("/reset-password", data={"email": user.email})

    assert smtp.messages == []
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == MailStatus.PENDING

    assert deliver_due(app=app).sent == 1
    assert [m["To"] for m in smtp.messages] == ["known@example.org"]
    assert reload(row).status == MailStatus.SENT


def test_a_request_sends_only_its_own_mail(app, client, create_user, smtp):
    """The backlog (retries, other senders) is the worker's, not a user's request's."""
    (backlog,) = queue(to="backlog@example.org")
    user = create_user(email="known@example.org")

    client.post("/reset-password", data={"email": user.email})

    assert [m["To"] for m in smtp.messages] == ["known@example.org"]
    assert reload(backlog).status == MailStatus.PENDING


def test_a_request_that_fails_to_send_still_succeeds_and_keeps_the_mail(
    app, client, create_user, smtp
):
    smtp.refuse_with = "451 4.3.0 try later"
    user = create_user(email="known@example.org")

    response = client.post("/reset-password", data={"email": user.email})

    assert response.status_code == 302
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == MailStatus.PENDING
    assert row.attempts == 1


# --- retry and backoff --------------------------------------------------


def test_backoff_doubles_from_one_minute_up_to_six_hours():
    assert [backoff(n) for n in range(1, 6)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert backoff(9) == timedelta(minutes=256)
    assert backoff(10) == timedelta(hours=6)
    assert backoff(500) == timedelta(hours=6)


def test_temporary_refusal_is_retried_later_and_sent_once(app, smtp):
    smtp.refuse_with = "451 4.3.0 try later"
    (message,) = queue()

    before = utcnow()
    report = deliver_due(app=app)
    after = utcnow()

    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    assert smtp.messages == []
    row = reload(message)
    assert row.status == MailStatus.PENDING
    assert row.attempts == 1
    assert "451" in row.last_error
    assert before + timedelta(minutes=1) <= row.next_attempt_at <= after + timedelta(minutes=1)
    assert row.sent_at is None

    # Not due yet: even with the server happy again, nothing goes out.
    smtp.refuse_with = None
    assert deliver_due(app=app).handled == 0
    assert smtp.messages == []
    assert reload(message).attempts == 1

    make_due(message)
    report = deliver_due(app=app)

    assert report.sent == 1
    assert received_ids(smtp.messages) == {message.message_id: 1}
    row = reload(message)
    assert row.status == MailStatus.SENT
    assert row.attempts == 2
    assert row.last_error == ""
    assert deliver_due(app=app).handled == 0
    assert len(smtp.messages) == 1


def test_second_failure_waits_longer(app, smtp):
    smtp.refuse_with = "451 4.3.0 try later"
    (message,) = queue()
    deliver_due(app=app)
    make_due(message)

    before = utcnow()
    deliver_due(app=app)

    row = reload(message)
    assert row.attempts == 2
    assert row.status == MailStatus.PENDING
    assert row.next_attempt_at >= before + timedelta(minutes=2)
    assert row.next_attempt_at < before + timedelta(minutes=3)


def test_permanent_refusal_fails_at_once(app, smtp):
    smtp.refuse_with = "550 5.1.1 no such mailbox"
    (message,) = queue()

    report = deliver_due(app=app)

    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    row = reload(message)
    assert row.status == MailStatus.FAILED
    assert row.attempts == 1
    assert "550" in row.last_error
    make_due(message)
    smtp.refuse_with = None
    assert deliver_due(app=app).handled == 0
    assert smtp.messages == []


def test_giving_up_after_max_attempts(app, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    smtp.refuse_with = "451 4.3.0 try later"
    (message,) = queue()

    for expected_attempts in (1, 2):
        assert deliver_due(app=app).retrying == 1
        row = reload(message)
        assert (row.status, row.attempts) == (MailStatus.PENDING, expected_attempts)
        make_due(message)

    report = deliver_due(app=app)

    assert report.failed == 1
    row = reload(message)
    assert (row.status, row.attempts) == (MailStatus.FAILED, 3)
    assert "451" in row.last_error


def test_unreachable_server_is_a_temporary_failure(app, smtp):
    app.config["MAIL_PORT"] = free_port()
    (message,) = queue()
    report = deliver_due(app=app)

    assert report.retrying == 1
    row = reload(message)
    assert row.status == MailStatus.PENDING
    assert row.attempts == 1
    assert row.last_error


class RcptRefuser:
    """An SMTP handler that refuses every recipient with a fixed reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.data_seen = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return self.reply

    async def handle_DATA(self, server, session, envelope) -> str:
        self.data_seen += 1
        return "250 OK"


@pytest.fixture
def rcpt_refusing_server(app):
    """Start a second loopback server that refuses recipients; yield its handler."""
    handler = RcptRefuser("550 5.1.1 no such user")
    controller = start_smtp(handler)
    try:
        app.config["MAIL_SERVER"] = "127.0.0.1"
        app.config["MAIL_PORT"] = controller.port
        yield handler
    finally:
        controller.stop()


def test_greylisted_recipient_is_retried_not_failed(app, rcpt_refusing_server):
    rcpt_refusing_server.reply = "450 4.2.0 greylisted, come back later"
    (message,) = queue()

    report = deliver_due(app=app)

    assert report.retrying == 1
    row = reload(message)
    assert (row.status, row.attempts) == (MailStatus.PENDING, 1)
    assert "450" in row.last_error


def test_unknown_recipient_fails_for_good(app, rcpt_refusing_server):
    (message,) = queue()

    report = deliver_due(app=app)

    assert report.failed == 1
    row = reload(message)
    assert row.status == MailStatus.FAILED
    assert "550" in row.last_error
    assert rcpt_refusing_server.data_seen == 0


def test_a_message_that_cannot_be_built_does_not_strand_the_others(app, smtp):
    # A line break in a header makes the email library refuse the message.
    (bad,) = queue(subject="Broken\r\nBcc: everyone@example.org")
    good = queue(2)

    report = deliver_due(app=app)

    assert report.sent == 2
    assert report.failed == 1
    assert reload(bad).status == MailStatus.FAILED
    assert reload(bad).last_error
    assert all(reload(m).status == MailStatus.SENT for m in good)
    assert sorted(received_ids(smtp.messages)) == sorted(m.message_id for m in good)
    assert (
        db.session.scalar(select(func.count()).where(OutboxMessage.status == MailStatus.SENDING))
        == 0
    )


# --- never twice ---------------------------------------------------------


def test_concurrent_workers_never_send_a_message_twice(app, smtp):
    messages = queue(40)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                # Small batches so the workers keep contending for rows.
                while deliver_due(app=app, limit=3).handled:
                    pass
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    counts = received_ids(smtp.messages)
    assert counts == {m.message_id: 1 for m in messages}
    db.session.expire_all()
    statuses = db.session.scalars(select(OutboxMessage.status)).all()
    assert statuses == [MailStatus.SENT] * 40
    assert all(reload(m).attempts == 1 for m in messages)


def test_a_claimed_message_is_not_picked_up_again(app, smtp):
    (claimed,) = queue()
    row = reload(claimed)
    row.status = MailStatus.SENDING.value
    row.claimed_at = utcnow()
    db.session.commit()

    assert deliver_due(app=app).handled == 0
    assert smtp.messages == []
    assert reload(claimed).status == MailStatus.SENDING


def test_the_claim_checks_the_status_again(app, smtp, monkeypatch):
    """On SQLite there is no row lock: the claim's own status check must hold."""
    (claimed,) = queue()
    (free,) = queue()
    row = reload(claimed)
    row.status = MailStatus.SENDING.value
    row.claimed_at = utcnow()
    db.session.commit()
    # As if another worker claimed the row between our select and our update.
    monkeypatch.setattr(
        mail_worker, "_due_query", lambda *args: select(OutboxMessage.id).order_by(OutboxMessage.id)
    )

    report = deliver_due(app=app)

    assert report.sent == 1
    assert received_ids(smtp.messages) == {free.message_id: 1}
    assert reload(claimed).status == MailStatus.SENDING


# --- no SMTP server: .eml files -----------------------------------------


def test_during_a_burst_of_payments_the_queue_sends_only_mail_that_has_waited(app, smtp):
    """A receipt's PDF is rendered as its mail is sent: while a burst of Stripe events
    waits, the queue's mail jobs leave fresh mail until the burst is recorded (or the mail
    has waited five minutes); the command line and requests send as always."""
    fresh, old = queue(2)
    reload(old).created_at = utcnow() - timedelta(minutes=6)
    burst = [
        StripeEvent(
            event_id=f"evt_burst_{n}", type="charge.succeeded", payload="{}", status="received"
        )
        for n in range(mail_worker.PAYMENTS_BURST)
    ]
    db.session.add_all(burst)
    db.session.commit()

    assert mail_worker.drain(app, yield_to_payments=True) == 1
    assert received_ids(smtp.messages) == {old.message_id: 1}
    assert reload(fresh).status == MailStatus.PENDING

    burst[0].status = StripeEventStatus.PROCESSED  # the burst is down to a batch's worth
    db.session.commit()
    assert mail_worker.drain(app, yield_to_payments=True) == 1
    assert received_ids(smtp.messages) == {old.message_id: 1, fresh.message_id: 1}


def test_the_command_line_drain_sends_fresh_mail_even_during_a_burst(app, smtp):
    (fresh,) = queue()
    db.session.add_all(
        StripeEvent(event_id=f"evt_b_{n}", type="charge.succeeded", payload="{}", status="received")
        for n in range(mail_worker.PAYMENTS_BURST + 5)
    )
    db.session.commit()
    assert mail_worker.drain(app) == 1
    assert received_ids(smtp.messages) == {fresh.message_id: 1}


def test_without_smtp_server_mail_is_written_as_eml(app):
    assert app.config["MAIL_SERVER"] is None
    (message,) = queue(
        subject="Receipt for your gift",
        body_text="Thank you.\n",
        attachments=[Attachment("receipt.pdf", "application/pdf", PDF_BYTES)],
    )

    report = deliver_due(app=app)

    assert report.sent == 1
    row = reload(message)
    assert row.status == MailStatus.SENT
    path = row.delivered_via
    eml_dir = os.path.realpath(app.config["MAIL_EML_DIR"])
    assert os.path.realpath(path).startswith(eml_dir + os.sep)
    assert path.endswith(".eml")
    assert os.listdir(eml_dir) == [os.path.basename(path)]
    with open(path, "rb") as fh:
        parsed = message_from_bytes(fh.read())
    assert parsed["Subject"] == "Receipt for your gift"
    assert parsed["To"] == "person0@example.org"
    assert parsed["Message-ID"] == message.message_id
    (pdf,) = attachment_parts(parsed)
    assert pdf.get_payload(decode=True) == PDF_BYTES


def test_an_unwritable_eml_dir_is_a_temporary_failure(app, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the mail folder should be")
    app.config["MAIL_EML_DIR"] = str(blocker / "mail")
    (message,) = queue()

    report = deliver_due(app=app)

    assert report.retrying == 1
    row = reload(message)
    assert (row.status, row.attempts) == (MailStatus.PENDING, 1)
    assert row.last_error


# --- flask mail work ------------------------------------------------------


def test_mail_work_once_sends_due_mail_and_prints_counts(app, smtp):
    sent = queue(2)
    (later,) = queue(subject="Later")
    row = reload(later)
    row.next_attempt_at = utcnow() + timedelta(hours=1)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["mail", "work", "--once"])

    assert result.exit_code == 0, result.output
    assert "sent 2, will retry 0, failed 0" in result.output
    assert received_ids(smtp.messages) == {m.message_id: 1 for m in sent}
    assert reload(later).status == MailStatus.PENDING


def test_mail_work_once_reports_retries_and_failures(app, smtp):
    smtp.refuse_with = "451 4.3.0 try later"
    queue()

    result = app.test_cli_runner().invoke(args=["mail", "work", "--once"])

    assert result.exit_code == 0, result.output
    assert "sent 0, will retry 1, failed 0" in result.output


# --- the Outgoing mail page -------------------------------------------------


def reset_token_in(body: str) -> str:
    match = re.search(r"/reset-password/([A-Za-z0-9_.\-]+)", body)
    assert match, body
    return match.group(1)


def test_outgoing_mail_lists_messages_with_status_and_filters(app, admin_client):
    rows = {}
    for state in (MailStatus.SENT, MailStatus.FAILED, MailStatus.PENDING):
        (message,) = queue(subject=f"Subject {state}")
        message.status = state.value
        rows[state] = message
    db.session.commit()

    page = admin_client.get("/admin/mail").get_data(as_text=True)
    for state in rows:
        assert f"Subject {state}" in page
        assert f'status-{state}">{state}<' in page

    only_failed = admin_client.get("/admin/mail?status=failed").get_data(as_text=True)
    assert "Subject failed" in only_failed
    assert "Subject sent" not in only_failed
    assert "Subject pending" not in only_failed

    bogus = admin_client.get("/admin/mail?status=bogus")
    assert bogus.status_code == 200
    assert "Subject sent" in bogus.get_data(as_text=True)


def test_message_page_shows_a_normal_body(app, admin_client):
    (message,) = queue(body_text="Thank you for the blankets.")

    response = admin_client.get(f"/admin/mail/{message.id}")

    assert response.status_code == 200
    assert "Thank you for the blankets." in response.get_data(as_text=True)


def test_reset_token_never_shows_on_the_admin_pages(app, client, admin_client, create_user, smtp):
    user = create_user(email="known@example.org")
    client.post("/reset-password", data={"email": user.email})
    row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == user.email)).one()
    assert row.is_sensitive
    token = reset_token_in(row.body_text)
    assert token in smtp.messages[0].get_payload(decode=True).decode()

    pages = [
        admin_client.get("/admin/mail"),
        admin_client.get("/admin/mail?status=sent"),
        admin_client.get(f"/admin/mail/{row.id}"),
    ]

    for response in pages:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert token not in html
        assert "reset-password/" not in html
    assert "Reset your password" in pages[2].get_data(as_text=True)
    assert "not shown" in pages[2].get_data(as_text=True)


def test_requeue_a_failed_message_sends_it_and_is_audited(app, admin_client, smtp):
    smtp.refuse_with = "550 5.7.1 refused"
    (message,) = queue()
    deliver_due(app=app)
    assert reload(message).status == MailStatus.FAILED
    smtp.refuse_with = None

    response = admin_client.post(f"/admin/mail/{message.id}/requeue", follow_redirects=True)

    assert response.status_code == 200
    assert "queued again" in response.get_data(as_text=True)
    # The requeue request sent it right after its commit.
    assert received_ids(smtp.messages) == {message.message_id: 1}
    assert reload(message).status == MailStatus.SENT
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mail.requeue")).one()
    assert event.object_type == "mail"
    assert event.object_id == str(message.id)
    assert event.actor_id == admin_client.user.id
    assert "failed -> pending" in event.summary


def test_requeue_a_stuck_message(app, admin_client, smtp):
    app.config["MAIL_SEND_AFTER_COMMIT"] = False
    (message,) = queue()
    row = reload(message)
    row.status = MailStatus.SENDING.value
    row.claimed_at = utcnow() - mail.STUCK_AFTER - timedelta(minutes=1)
    db.session.commit()
    assert "stuck" in admin_client.get(f"/admin/mail/{message.id}").get_data(as_text=True)

    admin_client.post(f"/admin/mail/{message.id}/requeue")

    row = reload(message)
    assert row.status == MailStatus.PENDING
    assert row.claimed_at is None
    assert deliver_due(app=app).sent == 1


@pytest.mark.parametrize("state", [MailStatus.SENT, MailStatus.PENDING, MailStatus.SENDING])
def test_requeue_is_refused_unless_failed_or_stuck(app, admin_client, smtp, state):
    (message,) = queue()
    row = reload(message)
    row.status = state.value
    row.claimed_at = utcnow() if state == MailStatus.SENDING else None
    db.session.commit()

    response = admin_client.post(f"/admin/mail/{message.id}/requeue", follow_redirects=True)

    assert response.status_code == 200
    assert "Only a failed or stuck message can be sent again." in response.get_data(as_text=True)
    assert reload(message).status == state
    assert smtp.messages == []
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "mail.requeue")) == 0


def test_requeue_of_a_missing_message_is_404(app, admin_client):
    assert admin_client.post("/admin/mail/999/requeue").status_code == 404
    assert admin_client.get("/admin/mail/999").status_code == 404


def test_outgoing_mail_is_for_admins_and_treasurers(app, login):
    """Treasurers follow receipt and statement mail there; staff never see it."""
    (message,) = queue()
    reload(message).status = MailStatus.FAILED.value
    db.session.commit()
    assert login(Role.TREASURER).get("/admin/mail").status_code == 200
    client = login(Role.STAFF)

    assert client.get("/admin/mail").status_code == 403
    assert client.get(f"/admin/mail/{message.id}").status_code == 403
    assert client.post(f"/admin/mail/{message.id}/requeue").status_code == 403
    assert reload(message).status == MailStatus.FAILED


def test_outgoing_mail_needs_sign_in(app, client):
    response = client.get("/admin/mail")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_each_organisations_mail_goes_out_in_its_name(app, smtp):
    from donations.services import organizations
    from donations.services.organization import update_organization
    from donations.tenancy import use_organization

    update_organization(actor=None, legal_name="Harbor Light Shelter, Inc.")
    db.session.commit()
    north = organizations.create_organization(
        actor=None, slug="north", legal_name="North Star Refuge"
    )
    db.session.commit()
    with use_organization(north.id):
        update_organization(actor=None, legal_name="North Star Refuge", email="hello@north.example")
        queue_mail(kind="test", to="a@example.org", subject="From north", body_text="Hi")
        db.session.commit()
    queue(to="b@example.org", subject="From home")

    deliver_due(app=app)

    by_subject = {m["Subject"]: m for m in smtp.messages}
    assert by_subject["From north"]["From"].startswith("North Star Refuge <")
    assert "giving@harborlight.test" in by_subject["From north"]["From"]
    assert by_subject["From north"]["Reply-To"] == "hello@north.example"
    assert by_subject["From home"]["From"].startswith('"Harbor Light Shelter, Inc." <')
    assert by_subject["From home"]["Reply-To"] is None
