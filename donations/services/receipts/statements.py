"""Statements: a donor's gifts of a period (a tax year on a basis, or any range), drafted,
previewed and issued as one numbered receipt of kind statement."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select

from donations.extensions import db
from donations.models import (
    Donor,
    Gift,
    GiftStatus,
    InKindGift,
    Receipt,
    ReceiptKind,
    ReceiptStatus,
    StatementBasis,
    User,
    YearEndRun,
    utcnow,
)
from donations.pdf.content import FundTotal, GiftLine, GoodsLine, ReceiptContent
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.links import absolute_url
from donations.services.locking import serialize_writes
from donations.services.periods import day_after, start_of_day
from donations.services.receipts.basis import parse_basis, statement_label, statement_period
from donations.services.receipts.content import (
    base_content,
    gift_line,
    goods_lines,
    new_receipt,
    organization,
    receipted_cents,
)
from donations.services.receipts.lookups import intake_reversed
from donations.services.receipts.numbers import LOCK_NAME, making_test_receipts

# Printed where the number and verification code go on a statement not issued.
PREVIEW_NUMBER = "PREVIEW"


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
    org = organization()
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
        if not intake_reversed(g.document_id)
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
        line = gift_line(gift, receipt_number=receipts_by_gift.get(gift.id, ""))
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
            (g.received_on.isoformat(), line) for g in goods for line in goods_lines(g.document)
        ],
        fund_totals=[FundTotal(f, c, currency) for f, c in sorted(totals.items())],
        gross_cents=sum(line.amount_cents for line in lines),
        benefit_cents=sum(line.benefit_cents for line in lines),
        total_cents=sum(line.deductible_cents for line in lines),
    )


def fill_statement(
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
        base_content(
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
    return fill_statement(content, draft, label=label, basis=StatementBasis(basis).value)


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
    org = organization()
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

    return new_receipt(
        actor=actor,
        kind=ReceiptKind.STATEMENT,
        donor=donor,
        currency=draft.currency,
        amount_cents=draft.total_cents,
        fill=lambda content: fill_statement(content, draft, label=label, basis=basis.value),
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
    return new_receipt(
        actor=actor,
        kind=ReceiptKind.STATEMENT,
        donor=donor,
        currency=draft.currency,
        amount_cents=draft.total_cents,
        fill=lambda content: fill_statement(
            content, draft, label=label, basis=StatementBasis.RANGE.value
        ),
        replaces=replaces,
        basis=StatementBasis.RANGE.value,
        period_start=start,
        period_end=end,
    )
