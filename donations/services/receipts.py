"""Receipts: issued with a gap-free number per fiscal year, never edited, voided and reissued.

A number is taken from ``receipt_sequences`` in the same transaction as the
receipt row: the sequence row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's
write lock, taken before reading), so two receipts never share a number, and a
rolled-back issue gives its number back, so there are no gaps.

What a receipt prints is frozen at issue as JSON (``Receipt.content``, a
``donations.pdf.content.ReceiptContent``). A void keeps the number and adds a
VOID mark; a reissue is a new number pointing at the voided receipt.

In payments test mode (see ``making_test_receipts``) a receipt is a test
receipt: ``is_test`` is set, its number comes from a series of its own
("TEST-2026-000001"), and its PDF and mail say "TEST — not a tax receipt".
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from donations.extensions import db
from donations.models import (
    YEARLY_BASES,
    Condition,
    Donor,
    Gift,
    GiftMethod,
    GiftStatus,
    InKindGift,
    Organization,
    Receipt,
    ReceiptKind,
    ReceiptSequence,
    ReceiptSettings,
    ReceiptStatus,
    StatementBasis,
    StockDocument,
    User,
    YearEndRun,
    utcnow,
)
from donations.pdf.content import (
    DonorBlock,
    FundTotal,
    GiftLine,
    GoodsLine,
    OrgBlock,
    ReceiptContent,
    VoidMark,
)
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.links import absolute_url
from donations.services.locking import serialize_writes
from donations.services.periods import (
    day_after,
    fiscal_year_of,
    start_of_day,
    tax_year_label,
    tax_year_period,
)

log = logging.getLogger(__name__)

LOCK_NAME = "receipts"
VOID_REASON_MAX_LENGTH = 500
# IRS: a quid pro quo contribution over $75 needs a written disclosure.
QUID_PRO_QUO_THRESHOLD_CENTS = 7_500
# IRS Form 8283: non-cash contributions over $500 in a year.
FORM_8283_THRESHOLD_CENTS = 50_000
# Printed where the number and verification code go on a statement not issued.
PREVIEW_NUMBER = "PREVIEW"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


# --- settings and the fiscal year ------------------------------------------------


def get_receipt_settings() -> ReceiptSettings:
    """Return the receipt settings, creating the row with defaults on first use."""
    settings = db.session.get(ReceiptSettings, 1)
    if settings is None:
        settings = ReceiptSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings


def _organization() -> Organization:
    org = db.session.get(Organization, 1)
    if org is None or not org.legal_name:
        raise NotAllowed(
            "Fill in the organisation's legal name, EIN and address (Admin, Organisation) "
            "before issuing receipts."
        )
    return org


# --- the basis of a statement: calendar or fiscal year ------------------------------


def parse_basis(value: object) -> StatementBasis:
    """Return the yearly basis named by ``value`` ("calendar" or "fiscal"); refuse anything else."""
    try:
        basis = StatementBasis(str(value).strip().lower())
    except ValueError:
        basis = None
    if basis not in YEARLY_BASES:
        raise InvalidInput(
            f"“{str(value)[:40]}” is not a basis for statements; choose "
            + " or ".join(f"“{b.value}”" for b in YEARLY_BASES)
            + ".",
            field="basis",
        )
    return basis


def bases_coincide(start_month: int) -> bool:
    """True when the fiscal year is the calendar year: both bases give the same period."""
    return start_month == 1


def statement_period(tax_year: int, basis: StatementBasis, start_month: int) -> tuple[date, date]:
    """The first and last day a statement for ``tax_year`` on ``basis`` covers."""
    if basis == StatementBasis.CALENDAR:
        return date(tax_year, 1, 1), date(tax_year, 12, 31)
    return tax_year_period(tax_year, start_month)


def statement_label(tax_year: int, basis: StatementBasis | str, start_month: int) -> str:
    """ "2026", "2026 (January - December)" or "FY 2026 (July 2025 - June 2026)"."""
    if bases_coincide(start_month):
        return str(tax_year)
    if basis == StatementBasis.CALENDAR:
        return f"{tax_year} (January - December)"
    return tax_year_label(tax_year, start_month)


# --- numbers -------------------------------------------------------------------

TEST_PREFIX = "TEST-"


def making_test_receipts() -> bool:
    """True when receipts made now are test receipts (payments test mode, see config)."""
    setting = current_app.config.get("RECEIPTS_TEST_MODE")
    if setting is not None:
        return bool(setting)
    key = str(current_app.config.get("STRIPE_SECRET_KEY") or "")
    return not key.startswith(("sk_live_", "rk_live_"))


def take_number(fiscal_year: int, *, is_test: bool = False) -> tuple[int, str]:
    """Take the next receipt number of a fiscal year; the caller's transaction keeps it.

    Test receipts count in their own series ("TEST-2026-000001"), so a live
    series never holds a test number.
    """
    serialize_writes(LOCK_NAME)
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ReceiptSequence)
        .values(is_test=is_test, fiscal_year=fiscal_year, last_number=0)
        .on_conflict_do_nothing()
    )
    sequence = db.session.scalar(
        select(ReceiptSequence)
        .where(ReceiptSequence.is_test.is_(is_test), ReceiptSequence.fiscal_year == fiscal_year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    sequence.last_number += 1
    db.session.flush()
    prefix = TEST_PREFIX if is_test else ""
    return sequence.last_number, f"{prefix}{fiscal_year}-{sequence.last_number:06d}"


def new_verification_code() -> str:
    """Return a short code that is easy to read aloud: "K7QM-2XPA-9D"."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(code: str) -> str:
    raw = "".join(c for c in code.upper() if c.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 10 else ""


# --- content -------------------------------------------------------------------


def org_block(org: Organization) -> OrgBlock:
    return OrgBlock(
        legal_name=org.legal_name,
        tax_id=org.tax_id,
        address_lines=org.address_lines,
        phone=org.phone,
        email=org.email,
        website=org.website,
        signatory_name=org.signatory_name,
        signatory_title=org.signatory_title,
        footer=org.receipt_footer,
    )


def _donor_block(donor: Donor) -> DonorBlock:
    return DonorBlock(name=donor.name, address_lines=donor.address_lines, email=donor.email or "")


def receipted_cents(gift: Gift) -> int:
    """What a gift's receipt acknowledges: the gift less refunds and lost disputes."""
    return receipted_amount(
        gift.amount_cents, gift.refunded_cents, gift.dispute_cents, gift.dispute_status
    )


def receipted_amount(amount: int, refunded: int, dispute: int, dispute_status: str) -> int:
    """``receipted_cents`` from a gift's columns (for queries that load no Gift objects)."""
    lost = dispute if dispute_status == "lost" else 0
    return max(amount - refunded - lost, 0)


def _method_label(gift: Gift) -> str:
    label = GiftMethod(gift.method).label
    if gift.cheque_number:
        label += f" #{gift.cheque_number}"
    return label


def _gift_line(gift: Gift, *, receipt_number: str = "") -> GiftLine:
    parts = []
    if gift.frequency == "monthly":
        parts.append("Monthly gift")
    if gift.tribute_name:
        word = "In memory of" if gift.tribute_type == "memory" else "In honour of"
        parts.append(f"{word} {gift.tribute_name}")
    if gift.method == GiftMethod.SECURITIES and gift.reference:
        parts.append(gift.reference)
    return GiftLine(
        date=gift.received_at.date().isoformat(),
        amount_cents=receipted_cents(gift),
        currency=gift.currency,
        fund=gift.fund.name,
        method=_method_label(gift),
        description="; ".join(parts),
        receipt_number=receipt_number,
    )


def _goods_lines(document: StockDocument) -> list[GoodsLine]:
    merged: dict[tuple[int, str], int] = defaultdict(int)
    items = {}
    for entry in document.entries:
        if entry.quantity > 0:
            merged[(entry.item_id, entry.condition)] += entry.quantity
            items[entry.item_id] = entry.item
    return [
        GoodsLine(
            description=items[item_id].label,
            quantity=quantity,
            unit=items[item_id].unit,
            condition=Condition(condition).label if condition else "",
        )
        for (item_id, condition), quantity in merged.items()
    ]


def _base_content(
    *,
    kind: ReceiptKind,
    number: str,
    code: str,
    donor: Donor,
    currency: str,
    issued_at: datetime,
    is_test: bool = False,
) -> ReceiptContent:
    org = _organization()
    settings = get_receipt_settings()
    return ReceiptContent(
        kind=kind.value,
        number=number,
        issued_on=issued_at.date().isoformat(),
        verification_code=code,
        verify_url=absolute_url("receipts_public.verify", code=code),
        org=org_block(org),
        donor=_donor_block(donor),
        currency=currency,
        page_size=settings.page_size,
        for_post=not donor.email,
        is_test=is_test,
    )


def _new_receipt(
    *,
    actor: User | None,
    kind: ReceiptKind,
    donor: Donor,
    currency: str,
    amount_cents: int,
    fill,
    replaces: Receipt | None = None,
    issued_at: datetime | None = None,
    **columns,
) -> Receipt:
    org = _organization()
    issued_at = issued_at or utcnow()
    is_test = making_test_receipts() or (replaces is not None and replaces.is_test)
    fiscal_year = fiscal_year_of(issued_at.date(), org.fiscal_year_start_month)
    sequence, number = take_number(fiscal_year, is_test=is_test)
    code = new_verification_code()
    content = _base_content(
        kind=kind,
        number=number,
        code=code,
        donor=donor,
        currency=currency,
        issued_at=issued_at,
        is_test=is_test,
    )
    content = fill(content)
    if replaces is not None:
        content = replace(content, replaces_number=replaces.number)
    receipt = Receipt(
        number=number,
        fiscal_year=fiscal_year,
        sequence_number=sequence,
        kind=kind.value,
        status=ReceiptStatus.VALID.value,
        donor_id=donor.id,
        amount_cents=amount_cents,
        currency=currency,
        verification_code=code,
        content=content.to_json(),
        is_test=is_test,
        issued_at=issued_at,
        issued_by_id=actor.id if actor is not None else None,
        delivery="" if donor.email else "post",
        replaces_id=replaces.id if replaces is not None else None,
        **columns,
    )
    db.session.add(receipt)
    db.session.flush()
    record_audit(
        actor=actor,
        action="receipt.issued",
        object_type="receipt",
        object_id=receipt.id,
        summary=f"{receipt.number} ({kind.label}{', test mode' if is_test else ''}) "
        f"for {donor.name}" + (f", replacing {replaces.number}" if replaces else ""),
    )
    return receipt


# --- lookups -------------------------------------------------------------------


def get_receipt(receipt_id: int) -> Receipt:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("There is no such receipt.")
    return receipt


def content_of(receipt: Receipt) -> ReceiptContent:
    return ReceiptContent.from_json(receipt.content)


def valid_receipt_for_gift(gift_id: int) -> Receipt | None:
    return db.session.scalar(
        select(Receipt).where(Receipt.gift_id == gift_id, Receipt.status == ReceiptStatus.VALID)
    )


def valid_receipt_for_in_kind(in_kind_gift_id: int) -> Receipt | None:
    return db.session.scalar(
        select(Receipt).where(
            Receipt.in_kind_gift_id == in_kind_gift_id, Receipt.status == ReceiptStatus.VALID
        )
    )


def replacement_of(receipt: Receipt) -> Receipt | None:
    return db.session.scalar(select(Receipt).where(Receipt.replaces_id == receipt.id))


def void_mark(receipt: Receipt) -> VoidMark | None:
    if not receipt.is_void:
        return None
    replacement = replacement_of(receipt)
    return VoidMark(
        voided_on=receipt.voided_at.date().isoformat(),
        reason=receipt.void_reason,
        replaced_by=replacement.number if replacement else "",
    )


# --- issuing -------------------------------------------------------------------


def _lock_gift(gift: Gift) -> Gift:
    serialize_writes(LOCK_NAME)
    db.session.refresh(gift, with_for_update=True)
    return gift


def was_corrected(gift_id: int) -> bool:
    """Whether a reversing entry undoes this gift (its replacement is receipted instead)."""
    reversal = select(Gift.id).where(Gift.corrects_gift_id == gift_id, Gift.is_reversal)
    return db.session.scalar(reversal.limit(1)) is not None


def issue_gift_receipt(
    *,
    actor: User | None,
    gift: Gift,
    replaces: Receipt | None = None,
    issued_at: datetime | None = None,
) -> Receipt:
    """Issue the receipt of one paid gift of money (an instalment is one gift).

    ``issued_at`` is now unless given (the demo issues at the gift's moment).
    """
    gift = _lock_gift(gift)
    if gift.is_reversal or gift.status != GiftStatus.PAID:
        state = "a correction entry" if gift.is_reversal else f"{gift.status}, not paid"
        raise NotAllowed(f"Gift #{gift.id} is {state}; only a paid gift gets a receipt.")
    if was_corrected(gift.id):
        raise NotAllowed(
            f"Gift #{gift.id} was corrected; its replacement gets the receipt, not the original."
        )
    existing = valid_receipt_for_gift(gift.id)
    if existing is not None:
        raise NotAllowed(f"Gift #{gift.id} already has receipt {existing.number}.")
    amount = receipted_cents(gift)
    if amount <= 0:
        raise NotAllowed(f"Gift #{gift.id} was refunded in full; there is nothing to receipt.")
    benefit = gift.benefit_cents or 0

    def fill(content: ReceiptContent) -> ReceiptContent:
        return replace(
            content,
            gift=_gift_line(gift),
            benefit_description=gift.benefit_description,
            benefit_cents=benefit,
            deductible_cents=max(amount - benefit, 0),
        )

    return _new_receipt(
        actor=actor,
        kind=ReceiptKind.CASH,
        donor=gift.donor,
        currency=gift.currency,
        amount_cents=amount,
        fill=fill,
        replaces=replaces,
        issued_at=issued_at,
        gift_id=gift.id,
    )


def _intake_reversed(document_id: int) -> bool:
    return (
        db.session.scalar(select(StockDocument.id).where(StockDocument.reverses_id == document_id))
        is not None
    )


def _non_cash_total(donor_id: int, year_start: date, year_end: date) -> int:
    """The donor's own estimates of their goods in a period, for the Form 8283 reminder."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(InKindGift.donor_value_cents), 0)).where(
                InKindGift.donor_id == donor_id,
                InKindGift.received_on >= year_start,
                InKindGift.received_on <= year_end,
            )
        )
        or 0
    )


def issue_in_kind_receipt(
    *,
    actor: User | None,
    in_kind: InKindGift,
    replaces: Receipt | None = None,
    issued_at: datetime | None = None,
) -> Receipt:
    """Acknowledge goods from a donor: items, quantities, condition, date; no value."""
    serialize_writes(LOCK_NAME)
    if _intake_reversed(in_kind.document_id):
        raise NotAllowed("That intake was reversed; there is nothing to acknowledge.")
    existing = valid_receipt_for_in_kind(in_kind.id)
    if existing is not None:
        raise NotAllowed(f"These goods already have acknowledgement {existing.number}.")
    # Form 8283 goes by the donor's own (calendar) tax year.
    start, end = tax_year_period(in_kind.received_on.year, 1)
    over = _non_cash_total(in_kind.donor_id, start, end) > FORM_8283_THRESHOLD_CENTS

    def fill(content: ReceiptContent) -> ReceiptContent:
        return replace(
            content,
            received_on=in_kind.received_on.isoformat(),
            goods=_goods_lines(in_kind.document),
            form_8283_reminder=over,
        )

    return _new_receipt(
        actor=actor,
        kind=ReceiptKind.IN_KIND,
        donor=in_kind.donor,
        currency=in_kind.currency,
        amount_cents=0,
        fill=fill,
        replaces=replaces,
        issued_at=issued_at,
        in_kind_gift_id=in_kind.id,
    )


def statement_gifts(donor_id: int, start: date, end: date) -> list[Gift]:
    """The donor's paid gifts of money in a period, oldest first, corrections left out."""
    after_end = day_after(end)
    reversed_ids = select(Gift.corrects_gift_id).where(
        Gift.is_reversal.is_(True), Gift.corrects_gift_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(Gift)
            .where(
                Gift.donor_id == donor_id,
                Gift.status == GiftStatus.PAID,
                Gift.is_reversal.is_(False),
                Gift.id.not_in(reversed_ids),
                Gift.received_at >= start_of_day(start),
                Gift.received_at < start_of_day(after_end),
            )
            .order_by(Gift.received_at, Gift.id)
        )
    )


def existing_statement(donor_id: int, start: date, end: date) -> Receipt | None:
    """The donor's valid statement of exactly this period, whatever basis named it."""
    return db.session.scalar(
        select(Receipt).where(
            Receipt.period_start == start,
            Receipt.period_end == end,
            Receipt.donor_id == donor_id,
            Receipt.kind == ReceiptKind.STATEMENT,
            Receipt.status == ReceiptStatus.VALID,
        )
    )


@dataclass(frozen=True)
class StatementDraft:
    """What a donor's statement of a period would list, before anything is issued."""

    donor: Donor
    start: date
    end: date
    currency: str
    lines: list[GiftLine]
    goods: list[tuple[str, GoodsLine]]  # (date received, line)
    fund_totals: list[FundTotal]  # deductible amounts per fund
    gross_cents: int  # what was given (less refunds)
    benefit_cents: int  # the value of goods or services received in return
    total_cents: int  # the deductible total

    @property
    def for_post(self) -> bool:
        return not self.donor.email


def draft_statement(*, donor: Donor, start: date, end: date, label: str) -> StatementDraft:
    """Gather a donor's gifts of a period as a statement lists them; issue nothing.

    Each gift shows what was given, the fair market value of goods or services
    received in return and the deductible amount (IRS Publication 1771); the
    totals are deductible totals. Refuses a period in which the donor gave nothing.
    """
    org = _organization()
    gifts = [g for g in statement_gifts(donor.id, start, end) if receipted_cents(g) > 0]
    goods = [
        g
        for g in db.session.scalars(
            select(InKindGift)
            .where(
                InKindGift.donor_id == donor.id,
                InKindGift.received_on >= start,
                InKindGift.received_on <= end,
            )
            .order_by(InKindGift.received_on, InKindGift.id)
        )
        if not _intake_reversed(g.document_id)
    ]
    if not gifts and not goods:
        raise InvalidInput(f"{donor.name} gave nothing in {label}; there is no statement to send.")
    currencies = {g.currency for g in gifts} or {org.default_currency}
    if len(currencies) > 1:
        raise NotAllowed(f"{donor.name} gave in several currencies; statements need one.")
    currency = currencies.pop()
    receipts_by_gift = dict(
        db.session.execute(
            select(Receipt.gift_id, Receipt.number).where(
                Receipt.gift_id.in_([g.id for g in gifts]), Receipt.status == ReceiptStatus.VALID
            )
        ).all()
    )
    lines = []
    for gift in gifts:
        line = _gift_line(gift, receipt_number=receipts_by_gift.get(gift.id, ""))
        benefit = min(gift.benefit_cents or 0, line.amount_cents)
        lines.append(
            replace(
                line,
                benefit_cents=benefit,
                benefit_description=gift.benefit_description if benefit else "",
                deductible_cents=line.amount_cents - benefit,
            )
        )
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.fund] += line.deductible_cents
    return StatementDraft(
        donor=donor,
        start=start,
        end=end,
        currency=currency,
        lines=lines,
        goods=[
            (g.received_on.isoformat(), line) for g in goods for line in _goods_lines(g.document)
        ],
        fund_totals=[FundTotal(f, c, currency) for f, c in sorted(totals.items())],
        gross_cents=sum(line.amount_cents for line in lines),
        benefit_cents=sum(line.benefit_cents for line in lines),
        total_cents=sum(line.deductible_cents for line in lines),
    )


def _fill_statement(
    content: ReceiptContent, draft: StatementDraft, *, label: str, basis: str
) -> ReceiptContent:
    return replace(
        content,
        tax_year=label,
        basis=basis,
        period_start=draft.start.isoformat(),
        period_end=draft.end.isoformat(),
        gifts=draft.lines,
        fund_totals=draft.fund_totals,
        total_cents=draft.total_cents,
        goods_received=draft.goods,
        deductible_listed=True,
        gross_cents=draft.gross_cents,
        benefit_cents_total=draft.benefit_cents,
    )


def preview_statement_content(
    draft: StatementDraft, *, label: str, basis: StatementBasis | str
) -> ReceiptContent:
    """The content of a statement not issued: no number taken, nothing stored."""
    content = replace(
        _base_content(
            kind=ReceiptKind.STATEMENT,
            number=PREVIEW_NUMBER,
            code=PREVIEW_NUMBER,
            donor=draft.donor,
            currency=draft.currency,
            issued_at=utcnow(),
            is_test=making_test_receipts(),
        ),
        verify_url=absolute_url("receipts_public.verify"),
    )
    return _fill_statement(content, draft, label=label, basis=StatementBasis(basis).value)


def issue_statement(
    *,
    actor: User | None,
    donor: Donor,
    tax_year: int,
    basis: StatementBasis | str = StatementBasis.FISCAL,
    run: YearEndRun | None = None,
    replaces: Receipt | None = None,
) -> Receipt:
    """Issue a donor's year-end statement: every gift of the period, totals per fund.

    The period is the tax year on ``basis`` (calendar or fiscal year); a run's
    statements cover the run's period, and a reissue covers the voided one's.
    """
    org = _organization()
    if replaces is not None and replaces.basis == StatementBasis.RANGE:
        return issue_range_statement(
            actor=actor,
            donor=donor,
            start=replaces.period_start,
            end=replaces.period_end,
            replaces=replaces,
        )
    if replaces is not None and replaces.period_start is not None:
        tax_year, basis = replaces.tax_year, parse_basis(replaces.basis or StatementBasis.FISCAL)
        start, end = replaces.period_start, replaces.period_end
    elif run is not None:
        tax_year, basis = run.tax_year, parse_basis(run.basis)
        start, end = run.period_start, run.period_end
    else:
        basis = parse_basis(basis)
        start, end = statement_period(tax_year, basis, org.fiscal_year_start_month)
    label = statement_label(tax_year, basis, org.fiscal_year_start_month)
    serialize_writes(LOCK_NAME)
    existing = existing_statement(donor.id, start, end)
    if existing is not None:
        raise NotAllowed(f"{donor.name} already has statement {existing.number} for {label}.")
    draft = draft_statement(donor=donor, start=start, end=end, label=label)

    return _new_receipt(
        actor=actor,
        kind=ReceiptKind.STATEMENT,
        donor=donor,
        currency=draft.currency,
        amount_cents=draft.total_cents,
        fill=lambda content: _fill_statement(content, draft, label=label, basis=basis.value),
        replaces=replaces,
        tax_year=tax_year,
        basis=basis.value,
        period_start=start,
        period_end=end,
        year_end_run_id=run.id if run is not None else None,
    )


def range_label(start: date, end: date) -> str:
    """ "March 1, 2026 to June 30, 2026": what a one-donor statement covers."""
    return f"{start:%B} {start.day}, {start.year} to {end:%B} {end.day}, {end.year}"


def check_statement_range(start: date | None, end: date | None) -> tuple[date, date]:
    """Refuse a missing date, a range that ends before it starts, or one in the future."""
    if start is None:
        raise InvalidInput("Give the first day of the period.", field="start")
    if end is None:
        raise InvalidInput("Give the last day of the period.", field="end")
    if end < start:
        raise InvalidInput(
            "The last day is before the first day; swap them or pick another range.", field="end"
        )
    if start > utcnow().date():
        raise InvalidInput(
            "The period starts in the future; no gifts are there yet.", field="start"
        )
    return start, end


def draft_range_statement(*, donor: Donor, start: date | None, end: date | None) -> StatementDraft:
    """A one-donor statement over any dates, as it would be issued; refuses an empty range."""
    start, end = check_statement_range(start, end)
    label = range_label(start, end)
    try:
        return draft_statement(donor=donor, start=start, end=end, label=label)
    except InvalidInput as error:
        raise InvalidInput(
            f"{donor.name} gave no money or goods from {label}; choose another range.",
            field="start",
        ) from error


def issue_range_statement(
    *,
    actor: User | None,
    donor: Donor,
    start: date | None,
    end: date | None,
    replaces: Receipt | None = None,
) -> Receipt:
    """Issue one donor's numbered statement over any range of dates (a receipt of kind
    statement with the basis "range"), numbered like every other receipt."""
    start, end = check_statement_range(start, end)
    label = range_label(start, end)
    serialize_writes(LOCK_NAME)
    existing = existing_statement(donor.id, start, end)
    if existing is not None:
        raise NotAllowed(
            f"{donor.name} already has statement {existing.number} for {label}.", field="start"
        )
    draft = draft_range_statement(donor=donor, start=start, end=end)
    return _new_receipt(
        actor=actor,
        kind=ReceiptKind.STATEMENT,
        donor=donor,
        currency=draft.currency,
        amount_cents=draft.total_cents,
        fill=lambda content: _fill_statement(
            content, draft, label=label, basis=StatementBasis.RANGE.value
        ),
        replaces=replaces,
        basis=StatementBasis.RANGE.value,
        period_start=start,
        period_end=end,
    )


# --- void and reissue ------------------------------------------------------------


def void_receipt(*, actor: User | None, receipt: Receipt, reason: str) -> Receipt:
    """Void a receipt: it keeps its number, and its PDF says VOID."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("Say why the receipt is void.", field="reason")
    if len(reason) > VOID_REASON_MAX_LENGTH:
        raise InvalidInput(f"Use at most {VOID_REASON_MAX_LENGTH} characters.", field="reason")
    serialize_writes(LOCK_NAME)
    db.session.refresh(receipt, with_for_update=True)
    if receipt.is_void:
        raise NotAllowed(f"Receipt {receipt.number} is already void.")
    receipt.status = ReceiptStatus.VOID.value
    receipt.voided_at = utcnow()
    receipt.voided_by_id = actor.id if actor is not None else None
    receipt.void_reason = reason
    db.session.flush()
    record_audit(
        actor=actor,
        action="receipt.voided",
        object_type="receipt",
        object_id=receipt.id,
        summary=f"{receipt.number}: {reason}",
    )
    return receipt


def reissue_receipt(*, actor: User | None, receipt: Receipt) -> Receipt:
    """Issue a new receipt, with a new number, in place of a voided one."""
    if not receipt.is_void:
        raise NotAllowed(
            f"Receipt {receipt.number} is valid; void it first, saying why, then reissue."
        )
    replacement = replacement_of(receipt)
    if replacement is not None:
        raise NotAllowed(f"Receipt {receipt.number} was already reissued as {replacement.number}.")
    if receipt.kind == ReceiptKind.CASH:
        return issue_gift_receipt(actor=actor, gift=receipt.gift, replaces=receipt)
    if receipt.kind == ReceiptKind.IN_KIND:
        return issue_in_kind_receipt(actor=actor, in_kind=receipt.in_kind_gift, replaces=receipt)
    return issue_statement(
        actor=actor, donor=receipt.donor, tax_year=receipt.tax_year, replaces=receipt
    )


def sync_gift_receipt(gift: Gift) -> Receipt | None:
    """After a refund or a lost dispute: void the receipt and reissue it for what is left.

    Returns the new receipt, if one was issued: the caller sends it to the donor
    (``receipt_delivery.send_receipt``). Called
    by the Stripe event code whenever a gift's refunded or disputed amounts
    change; safe to call twice. If the reissue cannot be made (the organisation
    profile was emptied), the void stands and the treasurer reissues by hand
    from the receipt's page: the refund itself is never held up.
    """
    receipt = valid_receipt_for_gift(gift.id)
    if receipt is None or receipt.amount_cents == receipted_cents(gift):
        return None
    left = receipted_cents(gift)
    reason = "Refunded in full" if left == 0 else "Part of the gift was refunded"
    void_receipt(actor=None, receipt=receipt, reason=reason)
    if left == 0:
        return None
    try:
        with db.session.begin_nested():
            new = issue_gift_receipt(actor=None, gift=gift, replaces=receipt)
    except NotAllowed as error:
        log.warning("receipt %s voided but not reissued: %s", receipt.number, error.message)
        return None
    return new


def correct_gift_receipt(
    *, actor: User | None, gift: Gift, replacement: Gift | None, reason: str
) -> Receipt | None:
    """An offline gift was corrected: void its receipt; receipt the replacement instead.

    Returns the replacement's receipt, which points at the voided one, if the
    gift had a receipt and a replacement was recorded: the caller sends it.
    """
    receipt = valid_receipt_for_gift(gift.id)
    if receipt is None:
        return None
    void_receipt(actor=actor, receipt=receipt, reason=f"Gift corrected: {reason}"[:500])
    if replacement is None:
        return None
    return issue_gift_receipt(actor=actor, gift=replacement, replaces=receipt)


# --- public verification -----------------------------------------------------------


def verify_code(code: str) -> dict[str, object] | None:
    """What /verify may show for a code: number, date, amount, status. None if unknown."""
    # The same single lookup for malformed, unknown and known codes.
    normalized = normalize_code(code) or "-"
    receipt = db.session.scalar(select(Receipt).where(Receipt.verification_code == normalized))
    if receipt is None:
        return None
    return {
        "number": receipt.number,
        "issued_on": receipt.issued_at.date(),
        "amount_cents": receipt.amount_cents,
        "currency": receipt.currency,
        "is_goods": receipt.kind == ReceiptKind.IN_KIND,
        "status": receipt.status,
        "is_test": receipt.is_test,
    }
