"""Receipts on the treasurer's screens: the PDF and its file name, the list and
its filters, what a gift or in-kind gift has been given, the printing settings
and a sample receipt.

The rules of issuing, voiding and reissuing live in ``donations.services.receipts``;
this module only reads receipts, renders them, and edits ``ReceiptSettings``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import (
    MAX_ROW_ID,
    AuditEvent,
    Donor,
    Gift,
    GiftStatus,
    InKindGift,
    Receipt,
    ReceiptKind,
    ReceiptSettings,
    ReceiptStatus,
    User,
    utcnow,
)
from donations.pdf.content import Branding, DonorBlock, GiftLine, ReceiptContent
from donations.pdf.documents import render_receipt
from donations.services import audit, receipts
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.links import absolute_url
from donations.services.organization import get_organization
from donations.services.text import like_pattern

LOGO_MAX_BYTES = 512 * 1024
# What Pillow calls a format -> the content type stored with the logo.
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
PAGE_SIZES = {"letter": "Letter (US)", "a4": "A4"}
ACCOUNT_FIELDS = {
    "account_bank": "Bank account",
    "account_clearing": "Stripe clearing account",
    "account_fees": "Processing fees expense",
    "account_income": "Contributions income",
    "account_in_kind": "In-kind contributions",
    "account_refunds": "Refunds and disputes",
}
ACCOUNT_MAX_LENGTH = 100
SEARCH_MAX_LENGTH = 200
FILENAME_PREFIX = {
    ReceiptKind.CASH: "receipt",
    ReceiptKind.IN_KIND: "acknowledgement",
    ReceiptKind.STATEMENT: "statement",
}
SAMPLE_NUMBER = "SAMPLE"
MAX_ID = MAX_ROW_ID


# --- the PDF ---------------------------------------------------------------------


def branding() -> Branding:
    """What is printed on every document besides its snapshot: the current logo."""
    return Branding(logo=receipts.get_receipt_settings().logo)


def render(content: ReceiptContent, *, void=None) -> bytes:
    """Render a receipt's content as PDF bytes."""
    return render_receipt(content, void=void, branding=branding())


def receipt_pdf(receipt: Receipt) -> bytes:
    """Return the PDF of an issued receipt, marked VOID when it is void."""
    return render(receipts.content_of(receipt), void=receipts.void_mark(receipt))


def receipt_filename(receipt: Receipt) -> str:
    """Return the download name: "receipt-2026-000042.pdf", "statement-2026-000043.pdf"."""
    return f"{FILENAME_PREFIX.get(receipt.kind, 'receipt')}-{receipt.number}.pdf"


# --- the list ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptFilters:
    """What the receipts list is narrowed to; None or blank means any."""

    kind: str | None = None
    status: str | None = None
    fiscal_year: int | None = None
    donor_name: str = ""
    number: str = ""


def download_name(receipt: Receipt) -> str:
    """The PDF's file name to save it under; a void one ends in -VOID.pdf (as in the ZIP)."""
    name = receipt_filename(receipt)
    return name.removesuffix(".pdf") + "-VOID.pdf" if receipt.is_void else name


def receipts_query(filters: ReceiptFilters) -> Select[tuple[Receipt]]:
    """Return the receipts matching ``filters``, newest first."""
    query = select(Receipt).options(joinedload(Receipt.donor))
    if filters.kind:
        if filters.kind not in {k.value for k in ReceiptKind}:
            raise InvalidInput("Choose a kind from the list.", field="kind")
        query = query.where(Receipt.kind == filters.kind)
    if filters.status:
        if filters.status not in {s.value for s in ReceiptStatus}:
            raise InvalidInput("Choose a status from the list.", field="status")
        query = query.where(Receipt.status == filters.status)
    if filters.fiscal_year is not None:
        query = query.where(Receipt.fiscal_year == filters.fiscal_year)
    name = filters.donor_name.strip()
    if name:
        named = select(Donor.id).where(Donor.name.ilike(like_pattern(name), escape="\\"))
        query = query.where(Receipt.donor_id.in_(named))
    number = filters.number.strip()
    if number:
        query = query.where(Receipt.number.ilike(like_pattern(number), escape="\\"))
    return query.order_by(Receipt.issued_at.desc(), Receipt.id.desc())


def fiscal_years() -> list[int]:
    """Return the fiscal years that have receipts, newest first."""
    return list(
        db.session.scalars(
            select(Receipt.fiscal_year).distinct().order_by(Receipt.fiscal_year.desc())
        )
    )


def get_receipt(receipt_id: int) -> Receipt:
    """Return the receipt with this id or raise NotFound."""
    return receipts.get_receipt(receipt_id if 0 < receipt_id <= MAX_ID else 0)


def get_in_kind_gift(in_kind_id: int) -> InKindGift:
    """The in-kind gift to acknowledge; NotFound if there is none."""
    in_kind = db.session.get(InKindGift, in_kind_id) if 0 < in_kind_id <= MAX_ID else None
    if in_kind is None:
        raise NotFound("There is no such gift of goods.")
    return in_kind


def receipt_history(receipt: Receipt, *, limit: int = 50) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            audit.audit_query(object_type="receipt", object_id=receipt.id).limit(limit)
        )
    )


# --- what a gift or an in-kind gift was given --------------------------------------


@dataclass(frozen=True)
class GiftReceipts:
    """A gift's receipts, newest first, and whether one may be issued now."""

    receipts: list[Receipt]
    valid: Receipt | None
    can_issue: bool
    per_gift_receipts: bool


def gift_receipts(gift: Gift) -> GiftReceipts:
    """Return the receipts of one gift and whether the "Issue receipt" button applies."""
    rows = list(
        db.session.scalars(
            select(Receipt)
            .where(Receipt.gift_id == gift.id)
            .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
        )
    )
    valid = next((r for r in rows if not r.is_void), None)
    can_issue = (
        valid is None
        and not gift.is_reversal
        and gift.status == GiftStatus.PAID
        and receipts.receipted_cents(gift) > 0
        and not receipts.was_corrected(gift.id)
    )
    return GiftReceipts(
        receipts=rows,
        valid=valid,
        can_issue=can_issue,
        per_gift_receipts=receipts.get_receipt_settings().per_gift_receipts,
    )


def in_kind_receipts(in_kind_ids: list[int]) -> dict[int, Receipt]:
    """Return the valid acknowledgement of each in-kind gift that has one."""
    if not in_kind_ids:
        return {}
    rows = db.session.scalars(
        select(Receipt).where(
            Receipt.in_kind_gift_id.in_(in_kind_ids), Receipt.status == ReceiptStatus.VALID
        )
    )
    return {r.in_kind_gift_id: r for r in rows}


# --- settings ----------------------------------------------------------------------


def check_logo(data: bytes) -> str:
    """Return the content type of a PNG or JPEG logo; raise InvalidInput otherwise."""
    if not data:
        raise InvalidInput("The logo file is empty.", field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput(
            f"The logo is {len(data) // 1024} KB; use a PNG or JPEG of at most "
            f"{LOGO_MAX_BYTES // 1024} KB.",
            field="logo",
        )
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 -- loaded with the first logo

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput("That file is not a PNG or JPEG image.", field="logo") from None
    if kind not in LOGO_TYPES:
        raise InvalidInput(f"The logo is a {kind} image; use a PNG or JPEG.", field="logo")
    return LOGO_TYPES[kind]


def update_receipt_settings(
    *,
    actor: User | None,
    per_gift_receipts: bool,
    page_size: str,
    logo: bytes | None = None,
    remove_logo: bool = False,
    **accounts: str,
) -> ReceiptSettings:
    """Save how receipts are issued and printed, and the journal's account names."""
    if set(accounts) != set(ACCOUNT_FIELDS):
        raise TypeError(f"name every account: {sorted(ACCOUNT_FIELDS)}")
    if page_size not in PAGE_SIZES:
        raise InvalidInput("Choose Letter or A4.", field="page_size")
    cleaned: dict[str, str] = {}
    for name, label in ACCOUNT_FIELDS.items():
        value = " ".join((accounts[name] or "").split())
        if not value:
            raise InvalidInput(f"Enter the name of the {label.lower()} account.", field=name)
        if len(value) > ACCOUNT_MAX_LENGTH:
            raise InvalidInput(f"Use at most {ACCOUNT_MAX_LENGTH} characters.", field=name)
        cleaned[name] = value
    if logo is not None and remove_logo:
        raise InvalidInput(
            "Either upload a new logo or tick “remove the logo”, not both.", field="logo"
        )
    content_type = check_logo(logo) if logo is not None else None

    settings = receipts.get_receipt_settings()
    fields = ("per_gift_receipts", "page_size", *ACCOUNT_FIELDS)
    before = audit.snapshot(settings, fields)
    settings.per_gift_receipts = bool(per_gift_receipts)
    settings.page_size = page_size
    for name, value in cleaned.items():
        setattr(settings, name, value)
    changes = [audit.describe_changes(before, audit.snapshot(settings, fields))]
    if content_type is not None:
        settings.logo = logo
        settings.logo_content_type = content_type
        changes.append(f"new logo ({content_type}, {len(logo) // 1024 or 1} KB)")
    elif remove_logo and settings.logo is not None:
        settings.logo = None
        settings.logo_content_type = ""
        changes.append("logo removed")
    summary = "; ".join(c for c in changes if c)
    db.session.flush()
    if summary:
        audit.record_audit(
            actor=actor,
            action="receipts.settings",
            object_type="receipt_settings",
            object_id=settings.id,
            summary=summary,
        )
    return settings


def settings_values(settings: ReceiptSettings) -> dict[str, Any]:
    """Return the settings as the settings form shows them."""
    return {
        "per_gift_receipts": settings.per_gift_receipts,
        "page_size": settings.page_size,
        **{name: getattr(settings, name) for name in ACCOUNT_FIELDS},
    }


# --- a sample ----------------------------------------------------------------------


def sample_content() -> ReceiptContent:
    """A receipt from the organisation profile to a made-up donor: nothing stored, no number."""
    org = get_organization()
    if org is None or not org.legal_name:
        raise NotAllowed(
            "Fill in the organisation's legal name, EIN and address (Admin, Organisation) "
            "to see a sample receipt."
        )
    currency = org.default_currency or "USD"
    today = utcnow().date().isoformat()
    amount = 25_000
    benefit = 6_000
    return ReceiptContent(
        kind=ReceiptKind.CASH.value,
        number=SAMPLE_NUMBER,
        issued_on=today,
        verification_code="SAMP-LE00-00",
        verify_url=absolute_url("receipts_public.verify"),
        org=receipts.org_block(org),
        donor=DonorBlock(
            name="Sample Donor",
            address_lines=["100 Example Street", "Springfield, IL 62701"],
            email="sample.donor@example.com",
        ),
        currency=currency,
        page_size=receipts.get_receipt_settings().page_size,
        gift=GiftLine(
            date=today,
            amount_cents=amount,
            currency=currency,
            fund="General",
            method="Cheque #1001",
            description="A sample gift",
        ),
        benefit_description="Two tickets to the spring dinner",
        benefit_cents=benefit,
        deductible_cents=amount - benefit,
    )


def sample_pdf() -> bytes:
    """Render the sample receipt with the current settings and logo."""
    return render(sample_content())
