"""The basis of a statement: the calendar or the fiscal year, its period and its label."""

from __future__ import annotations

from datetime import date

from donations.models import YEARLY_BASES, StatementBasis
from donations.services.errors import InvalidInput
from donations.services.periods import tax_year_label, tax_year_period


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
