"""Dates and periods: midnight UTC, the day after, fiscal and tax years.

Plain functions with no database access, shared by gifts, receipts, reports,
exports and the year-end run (kept here so none of them imports another for a date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def start_of_day(day: date) -> datetime:
    """Return midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_after(day: date) -> date:
    """Return the day after ``day``."""
    return date.fromordinal(day.toordinal() + 1)


def fiscal_year_of(day: date, start_month: int) -> int:
    """Name the fiscal year a day falls in by the calendar year it ends in.

    With a January start this is the calendar year; with a July start,
    July 2025 to June 2026 is fiscal year 2026.
    """
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def tax_year_period(tax_year: int, start_month: int) -> tuple[date, date]:
    """Return the first and last day of a tax year named as ``fiscal_year_of`` does."""
    if start_month == 1:
        return date(tax_year, 1, 1), date(tax_year, 12, 31)
    start = date(tax_year - 1, start_month, 1)
    end_month = start_month - 1
    end = date(tax_year, end_month + 1, 1) if end_month < 12 else date(tax_year + 1, 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def tax_year_label(tax_year: int, start_month: int) -> str:
    """ "2026", or "FY 2026 (July 2025 - June 2026)" for a fiscal year not on the calendar."""
    if start_month == 1:
        return str(tax_year)
    start, end = tax_year_period(tax_year, start_month)
    return f"FY {tax_year} ({start:%B %Y} - {end:%B %Y})"
