"""The preview of a year-end run: what it would issue, to whom, and a sample PDF; nothing stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    MAX_ROW_ID,
    Donor,
    Gift,
    GiftStatus,
    InKindGift,
    Organization,
    StatementBasis,
    StockDocument,
)
from donations.pdf.content import Branding
from donations.pdf.documents import render_receipt
from donations.services import receipts
from donations.services.errors import DomainError, InvalidInput, NotFound
from donations.services.periods import day_after, start_of_day
from donations.services.year_end.donors import (
    BATCH_SIZE,
    count_done,
    count_donors,
    donor_ids_with_gifts,
    next_donors,
    with_statement,
)
from donations.services.year_end.years import is_open, period_of
from donations.tenancy import current_organization_id

PREVIEW_ROWS = 500  # donors listed on the preview page; the counts cover them all


@dataclass(frozen=True)
class PreviewRow:
    donor_id: int
    name: str
    email: str  # "" when the statement goes by post
    gifts: int
    goods: int
    gross_cents: int
    benefit_cents: int
    deductible_cents: int
    problem: str = ""  # why no statement would be issued


@dataclass
class YearEndPreview:
    """The donors a run would send statements to, with counts and totals; nothing issued."""

    tax_year: int
    basis: str
    label: str
    start: date
    end: date
    is_open: bool
    currency: str
    rows: list[PreviewRow] = field(default_factory=list)
    already_done: int = 0  # donors who already have a statement for the period
    count: int = 0  # statements a run would issue
    by_email: int = 0
    by_post: int = 0
    gross_cents: int = 0
    benefit_cents: int = 0
    deductible_cents: int = 0
    problems: int = 0

    @property
    def more(self) -> int:
        """Donors counted but not listed."""
        return self.count + self.problems - len(self.rows)

    @property
    def sample_donor_id(self) -> int | None:
        return next((r.donor_id for r in self.rows if not r.problem), None)


def preview_run(
    *, tax_year: int, basis: StatementBasis | str = StatementBasis.FISCAL, open_confirmed: bool
) -> YearEndPreview:
    """What starting this year would do: the donors, the count, the totals, who gets mail
    and who post. Issues nothing, takes no number, stores nothing."""
    basis, label, start, end = period_of(tax_year, basis, open_confirmed=open_confirmed)
    org = db.session.get(Organization, current_organization_id())
    preview = YearEndPreview(
        tax_year=tax_year,
        basis=basis.value,
        label=label,
        start=start,
        end=end,
        is_open=is_open(end),
        currency=org.default_currency,
    )
    if count_donors(start, end) == 0:
        raise InvalidInput(
            f"No gifts of money or goods were recorded in {label}, so there are no "
            "statements to send. Choose another year.",
            field="tax_year",
        )
    preview.already_done = count_done(start, end)
    preview_totals(preview)
    preview.rows.sort(key=lambda r: (r.name.lower(), r.donor_id))
    return preview


def preview_totals(preview: YearEndPreview) -> None:
    """Count and total what each donor still without a statement would get, in a few
    queries (a run of thousands of donors is previewed in one request). The same rules
    as ``receipts.draft_statement``: paid gifts, corrections left out, less refunds and
    lost disputes, less the value received; goods whose intake was not reversed."""
    start, end = preview.start, preview.end
    ids = donor_ids_with_gifts(start, end)
    pending = select(ids.c.donor_id).where(ids.c.donor_id.not_in(with_statement(start, end)))
    corrected = select(Gift.corrects_gift_id).where(
        Gift.is_reversal.is_(True), Gift.corrects_gift_id.is_not(None)
    )
    gifts: dict[int, list[tuple[str, int, int]]] = {}
    for donor_id, currency, amount, refunded, dispute, status, benefit in db.session.execute(
        select(
            Gift.donor_id,
            Gift.currency,
            Gift.amount_cents,
            Gift.refunded_cents,
            Gift.dispute_cents,
            Gift.dispute_status,
            Gift.benefit_cents,
        ).where(
            Gift.donor_id.in_(pending),
            Gift.status == GiftStatus.PAID,
            Gift.is_reversal.is_(False),
            Gift.id.not_in(corrected),
            Gift.received_at >= start_of_day(start),
            Gift.received_at < start_of_day(day_after(end)),
        )
    ):
        given = receipts.receipted_amount(amount, refunded, dispute, status)
        if given > 0:
            gifts.setdefault(donor_id, []).append((currency, given, min(benefit or 0, given)))
    reversed_intakes = select(StockDocument.reverses_id).where(
        StockDocument.reverses_id.is_not(None)
    )
    goods = dict(
        db.session.execute(
            select(InKindGift.donor_id, func.count())
            .where(
                InKindGift.donor_id.in_(pending),
                InKindGift.received_on >= start,
                InKindGift.received_on <= end,
                InKindGift.document_id.not_in(reversed_intakes),
            )
            .group_by(InKindGift.donor_id)
        ).all()
    )
    for donor_id, name, email in db.session.execute(
        select(Donor.id, Donor.name, Donor.email).where(Donor.id.in_(pending))
    ):
        lines = gifts.get(donor_id, [])
        if not lines and not goods.get(donor_id):
            continue  # every gift refunded or reversed: nothing to state
        if len({currency for currency, _, _ in lines}) > 1:
            preview.problems += 1
            if len(preview.rows) < PREVIEW_ROWS:
                problem = f"{name} gave in several currencies; statements need one."
                preview.rows.append(PreviewRow(donor_id, name, email or "", 0, 0, 0, 0, 0, problem))
            continue
        gross = sum(given for _, given, _ in lines)
        benefit = sum(value for _, _, value in lines)
        preview.count += 1
        if email:
            preview.by_email += 1
        else:
            preview.by_post += 1
        preview.gross_cents += gross
        preview.benefit_cents += benefit
        preview.deductible_cents += gross - benefit
        if len(preview.rows) < PREVIEW_ROWS:
            preview.rows.append(
                PreviewRow(
                    donor_id=donor_id,
                    name=name,
                    email=email or "",
                    gifts=len(lines),
                    goods=goods.get(donor_id, 0),
                    gross_cents=gross,
                    benefit_cents=benefit,
                    deductible_cents=gross - benefit,
                )
            )


def sample_statement_pdf(
    *,
    tax_year: int,
    basis: StatementBasis | str = StatementBasis.FISCAL,
    open_confirmed: bool,
    donor_id: int | None = None,
) -> tuple[str, bytes]:
    """One donor's statement of the year as it would be issued, marked "PREVIEW — not
    issued": no number taken, nothing stored. The first donor to get one unless named.

    Returns the donor's name and the PDF.
    """
    basis, label, start, end = period_of(tax_year, basis, open_confirmed=open_confirmed)
    if donor_id is None:
        candidates = next_donors(start, end, 0, BATCH_SIZE)
    else:
        candidates = [donor_id] if 0 < donor_id <= MAX_ROW_ID else []
    for candidate in candidates:
        donor = db.session.get(Donor, candidate)
        if donor is None:
            continue
        try:
            draft = receipts.draft_statement(donor=donor, start=start, end=end, label=label)
        except DomainError:
            continue
        content = receipts.preview_statement_content(draft, label=label, basis=basis)
        logo = receipts.get_receipt_settings().logo
        return donor.name, render_receipt(content, branding=Branding(logo=logo), preview=True)
    raise NotFound(f"No donor has a statement to preview for {label}.")
