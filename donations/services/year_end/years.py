"""The tax years of year-end statements: which years had gifts, their periods and labels."""

from __future__ import annotations

from datetime import date

from sqlalchemy import extract, select, union

from donations.extensions import db
from donations.models import (
    Gift,
    GiftStatus,
    InKindGift,
    Organization,
    StatementBasis,
    YearEndRun,
    utcnow,
)
from donations.services import receipts
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.periods import fiscal_year_of, tax_year_period
from donations.tenancy import current_organization_id

FIRST_TAX_YEAR = 2000
LAST_TAX_YEAR = 2100


def start_month() -> int:
    org = db.session.get(Organization, current_organization_id())
    if org is None or not org.legal_name:
        raise NotAllowed(
            "Fill in the organisation's legal name, EIN and address (Admin, Organisation) "
            "before sending year-end statements."
        )
    return org.fiscal_year_start_month


def years_with_gifts(basis: StatementBasis | None = None) -> list[int]:
    """The tax years in which money or goods were received, newest first.

    On a basis, the years named as that basis names them; with none, the years of
    either basis (the screen offers one list of years beside the basis).
    """
    month = start_month_or_default()
    gift_months = select(
        extract("year", Gift.received_at).label("y"), extract("month", Gift.received_at).label("m")
    ).where(Gift.status == GiftStatus.PAID, Gift.is_reversal.is_(False))
    goods_months = select(
        extract("year", InKindGift.received_on).label("y"),
        extract("month", InKindGift.received_on).label("m"),
    ).where(InKindGift.donor_id.is_not(None))
    months = [(int(y), int(m)) for y, m in db.session.execute(union(gift_months, goods_months))]
    years: set[int] = set()
    if basis in (None, StatementBasis.FISCAL):
        years |= {fiscal_year_of(date(y, m, 1), month) for y, m in months}
    if basis in (None, StatementBasis.CALENDAR):
        years |= {y for y, _ in months}
    return sorted(years, reverse=True)


def start_month_or_default() -> int:
    org = db.session.get(Organization, current_organization_id())
    return org.fiscal_year_start_month if org is not None else 1


def default_tax_year(
    today: date | None = None, basis: StatementBasis = StatementBasis.FISCAL
) -> int:
    """The year a treasurer most likely means: the last one that has ended."""
    return last_closed_year(basis, today)


def tax_year_label(tax_year: int, basis: StatementBasis | str = StatementBasis.FISCAL) -> str:
    return receipts.statement_label(tax_year, basis, start_month_or_default())


def bases_coincide() -> bool:
    """True when the fiscal year is the calendar year, so there is no basis to choose."""
    return receipts.bases_coincide(start_month_or_default())


def run_label(run: YearEndRun) -> str:
    """What a run covers, from its own (frozen) period: "FY 2026 (July 2025 - June 2026)"."""
    if run.basis == StatementBasis.CALENDAR:
        return tax_year_label(run.tax_year, StatementBasis.CALENDAR)
    if (run.period_start.month, run.period_start.day) == (1, 1):
        return str(run.tax_year)
    return f"FY {run.tax_year} ({run.period_start:%B %Y} - {run.period_end:%B %Y})"


def period_of(
    tax_year: int, basis: StatementBasis | str, *, open_confirmed: bool
) -> tuple[StatementBasis, str, date, date]:
    """The basis, label, first and last day of a tax year; refuses a bad year, an unknown
    basis, and a period still open (ending after today) unless that was confirmed."""
    if not isinstance(tax_year, int) or not FIRST_TAX_YEAR <= tax_year <= LAST_TAX_YEAR:
        raise InvalidInput(
            f"Enter a year between {FIRST_TAX_YEAR} and {LAST_TAX_YEAR}.", field="tax_year"
        )
    basis = receipts.parse_basis(basis)
    month = start_month()
    label = receipts.statement_label(tax_year, basis, month)
    start, end = receipts.statement_period(tax_year, basis, month)
    if is_open(end) and not open_confirmed:
        raise InvalidInput(
            f"{label} is not over yet: it ends on {end:%B} {end.day}, {end.year}. Gifts still "
            "to come would be left off the statements. Tick the box to send them anyway, or "
            "choose a year that has ended.",
            field="confirm_open",
        )
    return basis, label, start, end


def is_open(end: date, today: date | None = None) -> bool:
    """True while a period has not ended: gifts may still come in."""
    return end >= (today or utcnow().date())


def last_closed_year(
    basis: StatementBasis = StatementBasis.FISCAL, today: date | None = None
) -> int:
    """The newest tax year on ``basis`` that has ended."""
    today = today or utcnow().date()
    month = 1 if basis == StatementBasis.CALENDAR else start_month_or_default()
    return fiscal_year_of(today, month) - 1


def default_zip_period() -> tuple[date, date]:
    """The period the ZIP of receipts offers first: the last fiscal year that has ended."""
    return tax_year_period(default_tax_year(), start_month_or_default())


def fiscal_example() -> str:
    """ "Fiscal year 2026 is July 1, 2025 to June 30, 2026." for the form's hint."""
    year = default_tax_year()
    start, end = tax_year_period(year, start_month_or_default())
    first = f"{start:%B} {start.day}, {start.year}"
    return f"Fiscal year {year} is {first} to {end:%B} {end.day}, {end.year}."


def organization_ready() -> bool:
    """True once the organisation profile names the legal name statements need."""
    org = db.session.get(Organization, current_organization_id())
    return org is not None and bool(org.legal_name)
