"""The one mailer: sends an Email over SMTP, or writes it as an .eml file.

Takes plain dataclasses, knows nothing of the database; the outbox worker in
``donations.services.mail`` decides what to send and when to retry.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Email:
    message_id: str
    sender: str
    to: str
    subject: str
    body_text: str
    date: datetime
    body_html: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    reply_to: str | None = None


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes: an SMTP server, or .eml files in ``eml_dir`` when no server."""

    server: str | None
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 20
    eml_dir: str = "mail"


class MailError(Exception):
    """Sending failed. ``permanent`` means retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def build_message(email: Email) -> EmailMessage:
    """Return the MIME message for an Email."""
    msg = EmailMessage()
    msg["From"] = email.sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(email.date)
    msg["Message-ID"] = email.message_id
    if email.reply_to:
        msg["Reply-To"] = email.reply_to
    msg.set_content(email.body_text)
    if email.body_html:
        msg.add_alternative(email.body_html, subtype="html")
    for item in email.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(
            item.data, maintype=maintype, subtype=subtype or "octet-stream", filename=item.filename
        )
    return msg


def deliver(email: Email, settings: MailSettings) -> str:
    """Send the email and return where it went ("smtp" or the .eml path).

    Raises MailError, with ``permanent`` set when retrying cannot help: the
    server refused for good, or the message itself cannot be built.
    """
    try:
        message = build_message(email)
    except (ValueError, TypeError) as exc:  # e.g. a line break in a header
        raise MailError(f"cannot build the message: {exc}", permanent=True) from exc
    if not settings.server:
        try:
            return _write_eml(message, email, settings.eml_dir)
        except OSError as exc:
            raise MailError(f"cannot write the .eml file: {exc}") from exc
    try:
        _send_smtp(message, settings)
    except smtplib.SMTPRecipientsRefused as exc:
        # 4xx at RCPT (greylisting, a full mailbox) is worth another try.
        codes = [code for code, _reply in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        raise MailError(f"recipient refused: {exc.recipients}", permanent=permanent) from exc
    except smtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.smtp_code < 600
        detail = exc.smtp_error
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        raise MailError(f"SMTP {exc.smtp_code}: {detail}", permanent=permanent) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
    return "smtp"


def _send_smtp(message: EmailMessage, settings: MailSettings) -> None:
    context = ssl.create_default_context()
    if settings.use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.server, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.use_tls and not settings.use_ssl:
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def _write_eml(message: EmailMessage, email: Email, directory: str) -> str:
    os.makedirs(directory, exist_ok=True)
    stamp = email.date.strftime("%Y%m%dT%H%M%S")
    safe_id = "".join(c for c in email.message_id if c.isalnum())[:40]
    path = os.path.join(directory, f"{stamp}-{safe_id}.eml")
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(message.as_bytes())
    os.replace(tmp, path)
    return path
