"""Receipts to donors: the email with the PDF, signed download links, and the
donor's own "my gifts" page reached by a link sent to their address.

Links are signed with the app's SECRET_KEY, a salt per purpose and a time
limit: 90 days for a receipt download, 1 hour for the self-service page. A
link that is tampered with, expired or names nothing is simply not found, and
the lookup does the same work either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature
from sqlalchemy import select

from donations.extensions import db
from donations.integrations.mailer import Attachment
from donations.models import (
    Donor,
    Frequency,
    Gift,
    GiftStatus,
    Organization,
    OutboxMessage,
    PlanStatus,
    Receipt,
    ReceiptKind,
    RecurringPlan,
    User,
)
from donations.money import format_money
from donations.services import receipt_files, receipts
from donations.services.accounts import normalize_email
from donations.services.audit import record_audit
from donations.services.donors import resolve_merged
from donations.services.errors import NotAllowed
from donations.services.giving import plan_token
from donations.services.links import absolute_url
from donations.services.locking import serialize_writes
from donations.services.mail import ReceiptPdf, queue_mail
from donations.services.organization import get_organization
from donations.services.signed_links import serializer
from donations.tenancy import current_organization_id

log = logging.getLogger(__name__)

RECEIPT_LINK_SALT = "donations.receipt-link"
DONOR_LINK_SALT = "donations.donor-gifts"
RECEIPT_LINK_MAX_AGE = int(timedelta(days=90).total_seconds())
DONOR_LINK_MAX_AGE = int(timedelta(hours=1).total_seconds())
PDF_TYPE = "application/pdf"
# Gifts a donor sees on their page: money that moved or was tried; not open checkouts.
SHOWN_GIFT_STATUSES = (GiftStatus.PAID, GiftStatus.PROCESSING, GiftStatus.FAILED)
OPEN_PLAN_STATUSES = (PlanStatus.ACTIVE, PlanStatus.PAST_DUE)


# --- signed links ------------------------------------------------------------------


def _max_age(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def receipt_token(receipt: Receipt) -> str:
    """A token for the donor's "download your receipt" link."""
    return serializer(RECEIPT_LINK_SALT).dumps(receipt.id)


def receipt_url(receipt: Receipt) -> str:
    return absolute_url("receipts_public.download", token=receipt_token(receipt))


def receipt_for_token(token: str) -> Receipt | None:
    """Return the receipt a link names, or None when it is tampered, expired or unknown.

    Every branch runs one lookup, so a bad token takes as long as an unknown one.
    """
    receipt_id = 0
    try:
        data = serializer(RECEIPT_LINK_SALT).loads(
            token, max_age=_max_age("RECEIPT_LINK_MAX_AGE", RECEIPT_LINK_MAX_AGE)
        )
    except BadSignature:  # SignatureExpired is one too
        data = None
    if isinstance(data, int) and not isinstance(data, bool) and 0 < data < 2**31:
        receipt_id = data
    return db.session.get(Receipt, receipt_id)


def donor_token(donor_ids: list[int]) -> str:
    """A short-lived token for the self-service page of these (resolved) donor records."""
    return serializer(DONOR_LINK_SALT).dumps(sorted(donor_ids))


def donors_for_token(token: str) -> list[Donor]:
    """Return the donors a self-service link names (merges followed), or [] if not valid."""
    ids: list[int] = []
    try:
        data = serializer(DONOR_LINK_SALT).loads(
            token, max_age=_max_age("DONOR_LINK_MAX_AGE", DONOR_LINK_MAX_AGE)
        )
    except BadSignature:
        data = None
    if isinstance(data, list):
        ids = [i for i in data if isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31]
    rows = db.session.scalars(select(Donor).where(Donor.id.in_(ids or [0]))).all()
    return _resolved(rows)


def _resolved(rows) -> list[Donor]:
    found: dict[int, Donor] = {}
    for donor in rows:
        donor = resolve_merged(donor)
        found[donor.id] = donor
    return [found[i] for i in sorted(found)]


# --- the receipt email -------------------------------------------------------------


def _pdf_attachment(receipt: Receipt) -> ReceiptPdf:
    """The receipt's PDF for a message, rendered when the message is sent."""
    return ReceiptPdf(receipt_id=receipt.id, filename=receipt_files.receipt_filename(receipt))


def pdf_for_mail(receipt_id: int, body_text: str) -> tuple[bytes | None, str]:
    """A receipt's PDF for a message being sent, with the message's text; when the PDF
    cannot be rendered now, (None, the text saying the receipt is ready to download)."""
    receipt = db.session.get(Receipt, receipt_id)
    try:
        if receipt is None:
            raise LookupError(f"receipt {receipt_id} is gone")
        return receipt_files.receipt_pdf(receipt), body_text
    except Exception:  # the mail still carries the download link
        log.exception("receipt %s: the PDF could not be rendered", receipt_id)
    number = receipt.number if receipt is not None else ""
    for attached, ready in (
        (f"{number} is attached", f"{number} is ready"),
        (f"{number}) is attached", f"{number}) is ready"),
        ("You can also download it within", "Download it within"),
    ):
        body_text = body_text.replace(attached, ready)
    return None, body_text


def _email_of(donor: Donor) -> str:
    return donor.email or resolve_merged(donor).email or ""


def manage_plan_line(gift: Gift | None) -> list[str]:
    """For an instalment of a monthly gift: how to change or stop it."""
    if gift is None or gift.frequency != Frequency.MONTHLY or gift.plan is None:
        return []
    link = absolute_url("give.manage_plan", token=plan_token(gift.plan))
    return [
        "",
        "This is one instalment of your monthly gift. To change your card or stop the "
        f"monthly gift at any time, open: {link}",
    ]


def download_lines(receipt: Receipt, *, attached: bool) -> list[str]:
    days = _max_age("RECEIPT_LINK_MAX_AGE", RECEIPT_LINK_MAX_AGE) // 86400
    intro = "You can also download it" if attached else "Download it"
    return [f"{intro} within {days} days from: {receipt_url(receipt)}"]


TEST_MAIL_LINES = [
    "TEST — NOT A TAX RECEIPT. This message was made in test mode, while the site was",
    "being tried out; no money changed hands and it cannot be used for taxes.",
    "",
]


def test_subject(subject: str, *, is_test: bool) -> str:
    """A test-mode message says so in its subject line first."""
    return f"[TEST — not a tax receipt] {subject}" if is_test else subject


def _receipt_mail(receipt: Receipt, *, attached: bool) -> tuple[str, str]:
    content = receipts.content_of(receipt)
    org_name = content.org.legal_name
    name = receipt.donor.name
    what = "is attached" if attached else "is ready"
    if receipt.kind == ReceiptKind.CASH:
        line = content.gift
        amount = format_money(line.amount_cents, line.currency)
        subject = f"Your receipt {receipt.number} from {org_name}"
        body = [
            f"Thank you for your gift of {amount} to {org_name} ({line.fund}), "
            f"received on {_long_date(line.date)}.",
            "",
            f"Your receipt {receipt.number} {what}.",
        ]
    elif receipt.kind == ReceiptKind.IN_KIND:
        subject = f"Your acknowledgement {receipt.number} from {org_name}"
        body = [
            f"Thank you for the goods you gave to {org_name}, received on "
            f"{_long_date(content.received_on)}.",
            "",
            f"Your acknowledgement {receipt.number} {what}. It lists what you gave; "
            "as the law asks, it does not state a value.",
        ]
    else:
        total = format_money(receipt.amount_cents, receipt.currency)
        # Statements since deductible amounts are listed total what is deductible.
        in_all = "deductible in all" if content.deductible_listed else "in all"
        if content.basis == "range":  # one donor's statement over any dates
            subject = f"Your statement of giving from {org_name}, {content.tax_year}"
            when = which = f"from {content.tax_year}"
        else:
            subject = f"Your {content.tax_year} statement of giving from {org_name}"
            when, which = f"in {content.tax_year}", f"for {content.tax_year}"
        body = [
            f"Thank you for your support of {org_name} {when}.",
            "",
            f"Your statement {which} ({receipt.number}) {what}. "
            f"It lists your gifts, {total} {in_all}.",
        ]
    if content.replaces_number:
        subject = f"Corrected: {subject}"
        body += [
            "",
            f"It replaces {content.replaces_number}, which is void: please keep this one "
            "for your records instead.",
        ]
    body += ["", *download_lines(receipt, attached=attached)]
    if receipt.kind == ReceiptKind.CASH:
        body += manage_plan_line(receipt.gift)
    lines = [f"Dear {name},", "", *body, "", f"With gratitude,\n{org_name}"]
    if receipt.is_test:
        lines = [*TEST_MAIL_LINES, *lines]
    return test_subject(subject, is_test=receipt.is_test), "\n".join(lines) + "\n"


def _long_date(iso: str) -> str:
    try:
        return f"{date.fromisoformat(iso):%B %-d, %Y}"
    except (TypeError, ValueError):
        return iso


def mark_delivered(receipt: Receipt, message: OutboxMessage | None) -> None:
    """Record how the receipt reached its donor: in ``message``, or by post."""
    receipt.delivery = "email" if message is not None else "post"
    if message is not None:
        receipt.mail_message_id = message.id
    db.session.flush()


def _lock(receipt: Receipt) -> Receipt:
    db.session.flush()
    serialize_writes(receipts.LOCK_NAME)
    db.session.refresh(receipt, with_for_update=True)
    return receipt


def send_receipt(
    receipt: Receipt, *, actor: User | None = None, pdf: bytes | None = None
) -> OutboxMessage | None:
    """Email a receipt with its PDF, once; a donor without an email gets it by post.

    ``pdf`` is the document already rendered (the year-end run renders in a
    pool of processes); without it the PDF is rendered here.
    Returns the queued message, or None when it was already sent or goes by post.
    """
    receipt = _lock(receipt)
    if receipt.mail_message_id is not None:
        return None
    if receipt.is_void:
        raise NotAllowed(f"Receipt {receipt.number} is void; send the receipt that replaced it.")
    to = _email_of(receipt.donor)
    if not to:
        if receipt.delivery != "post":
            mark_delivered(receipt, None)
        return None
    attachment: Attachment | ReceiptPdf = (
        _pdf_attachment(receipt)
        if pdf is None
        else Attachment(receipt_files.receipt_filename(receipt), PDF_TYPE, pdf)
    )
    subject, text = _receipt_mail(receipt, attached=True)
    message = queue_mail(
        kind="receipt",
        to=to,
        subject=subject,
        body_text=text,
        attachments=[attachment],
    )
    mark_delivered(receipt, message)
    record_audit(
        actor=actor,
        action="receipt.emailed",
        object_type="receipt",
        object_id=receipt.id,
        summary=f"{receipt.number} emailed to {to}",
    )
    return message


def thank_you_receipt(
    gift: Gift, *, issued_at: datetime | None = None, locked: bool = False
) -> tuple[Receipt, ReceiptPdf] | None:
    """Issue a gift's receipt for its thank-you note, when per-gift receipts are on.

    Returns the receipt and its PDF (rendered when the mail is sent), or None when
    no receipt is issued: the setting is off, the organisation has no legal name
    yet, the gift already has one or there is nothing to receipt. ``locked``: the
    caller read the gift with its row lock in this transaction.
    """
    if not receipts.get_receipt_settings().per_gift_receipts:
        return None
    org = db.session.get(Organization, current_organization_id())
    if org is None or not org.legal_name:
        return None
    if gift.is_reversal or gift.status != GiftStatus.PAID or receipts.receipted_cents(gift) <= 0:
        return None
    db.session.flush()
    receipt = receipts.issue_first_gift_receipt(gift=gift, issued_at=issued_at, locked=locked)
    return (receipt, _pdf_attachment(receipt)) if receipt is not None else None


# --- the donor's own page ----------------------------------------------------------


def request_gifts_link(*, email: str) -> None:
    """Email a link to the donor's gifts if any donor has this address; say nothing either way."""
    address = normalize_email(email)
    rows = db.session.scalars(select(Donor).where(Donor.email == address)).all() if address else []
    donors = _resolved(rows)
    if not donors:
        log.info("gifts link asked for an unknown email")
        return
    minutes = _max_age("DONOR_LINK_MAX_AGE", DONOR_LINK_MAX_AGE) // 60
    link = absolute_url("receipts_public.my_gifts", token=donor_token([d.id for d in donors]))
    org = get_organization()
    org_name = org.legal_name if org and org.legal_name else "our shelter"
    queue_mail(
        kind="donor_gifts_link",
        to=address,
        subject=f"Your gifts to {org_name}",
        body_text=(
            f"Hello {donors[0].name},\n\n"
            f"Someone (we hope you) asked to see the gifts and receipts for {address}.\n"
            f"Open this link within {minutes} minutes:\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: nothing changes.\n\n"
            f"{org_name}\n"
        ),
        sensitive=True,
    )


@dataclass(frozen=True)
class DonorGifts:
    """What a donor sees on their page: only their own records."""

    donors: list[Donor]
    gifts: list[Gift]
    receipts: list[Receipt]
    plans: list[RecurringPlan]

    @property
    def name(self) -> str:
        return self.donors[0].name if self.donors else ""


def donor_gifts(donors: list[Donor]) -> DonorGifts:
    """Return the gifts, receipts and open monthly plans of these donor records."""
    ids = [d.id for d in donors] or [0]
    gifts = db.session.scalars(
        select(Gift)
        .where(
            Gift.donor_id.in_(ids),
            Gift.is_reversal.is_(False),
            Gift.status.in_(SHOWN_GIFT_STATUSES),
            Gift.id.not_in(
                select(Gift.corrects_gift_id).where(
                    Gift.is_reversal.is_(True), Gift.corrects_gift_id.is_not(None)
                )
            ),
        )
        .order_by(Gift.received_at.desc(), Gift.id.desc())
    ).all()
    rows = db.session.scalars(
        select(Receipt)
        .where(Receipt.donor_id.in_(ids))
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
    ).all()
    plans = db.session.scalars(
        select(RecurringPlan)
        .where(RecurringPlan.donor_id.in_(ids), RecurringPlan.status.in_(OPEN_PLAN_STATUSES))
        .order_by(RecurringPlan.id)
    ).all()
    return DonorGifts(donors=donors, gifts=list(gifts), receipts=list(rows), plans=list(plans))
