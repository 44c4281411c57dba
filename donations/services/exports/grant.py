"""The grant report as CSV: the same figures as the page and the PDF, one section after
another (a "Section" column says which), with the total row of each. Money as plain
decimals from integer cents, time in whole minutes (exact) and hours ("12 h 30 min");
text through ``safe_text`` so no cell runs as a formula."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from donations.money import exponent
from donations.pdf.grant_content import GrantReport
from donations.pdf.volunteer_content import format_minutes
from donations.services.exports.common import plain_amount, safe_text

GRANT_HEADER = [
    "Section",
    "Group",
    "Detail",
    "Count",
    "Units",
    "Minutes",
    "Hours",
    "Gross",
    "Refunded or disputed",
    "Value or net",
    "Currency",
]


def _money(cents: int | None, currency: str) -> str:
    return "" if cents is None else plain_amount(cents, exponent(currency))


def _row(
    section: str,
    group: str = "",
    detail: str = "",
    *,
    count: int | str = "",
    units: int | str = "",
    minutes: int | None = None,
    gross: str = "",
    returned: str = "",
    value: str = "",
    currency: str = "",
) -> list[Any]:
    """One line in GRANT_HEADER's order; time as whole minutes and as hours, when given."""
    time = ["", ""] if minutes is None else [minutes, format_minutes(minutes)]
    return [section, group, detail, count, units, *time, gross, returned, value, currency]


def grant_rows(report: GrantReport) -> Iterator[list[Any]]:
    """Yield the header, then every section's rows and totals."""
    cur = report.currency
    yield GRANT_HEADER
    yield _row("Period", report.date_from.isoformat(), report.date_to.isoformat())
    yield _row("Program", safe_text(report.program or "All programs"))
    funds = [("Cash gifts by fund", row) for row in report.funds]
    funds += [("Cash gifts by restriction", row) for row in report.restriction_totals()]
    funds += [("Cash gifts total", row) for row in report.fund_totals()]
    for section, row in funds:
        by_fund = section == "Cash gifts by fund"
        yield _row(
            section,
            safe_text(row.fund) if by_fund else row.fund,
            ("Restricted" if row.restricted else "Unrestricted") if by_fund else "",
            count=row.count,
            gross=_money(row.gross_cents, row.currency),
            returned=_money(row.returned_cents, row.currency),
            value=_money(row.net_cents, row.currency),
            currency=row.currency,
        )
    for row in report.in_kind:
        yield _row(
            "Gifts in kind",
            safe_text(row.category),
            safe_text(row.method),
            units=row.units,
            value=_money(row.value_cents, cur),
            currency=cur,
        )
    yield _row(
        "Gifts in kind total",
        "Total",
        units=report.in_kind_units,
        value=_money(report.in_kind_cents, cur),
        currency=cur,
    )
    for row in report.distributed:
        yield _row(
            "Goods distributed",
            safe_text(row.recipient),
            safe_text(row.category),
            units=row.units,
            value=_money(row.value_cents, cur),
            currency=cur,
        )
    yield _row(
        "Goods distributed total",
        "Total",
        units=report.distributed_units,
        value=_money(report.distributed_cents, cur),
        currency=cur,
    )
    at_rate = f"at {_money(report.hour_value_cents, cur) or 'not set'} an hour"
    for row in report.hours:
        yield _row(
            "Volunteer hours",
            safe_text(row.skill),
            at_rate,
            count=row.volunteers,
            minutes=row.minutes,
            value=_money(row.value_cents, cur),
            currency=cur,
        )
    yield _row(
        "Volunteer hours total",
        "Total",
        at_rate,
        count=report.volunteers,
        minutes=report.hours_minutes,
        value=_money(report.hours_cents, cur),
        currency=cur,
    )
    for row in report.services:
        yield _row(
            "Professional services",
            safe_text(row.service_type),
            "at their fair rates",
            count=row.services,
            minutes=row.minutes,
            value=_money(row.value_cents, cur),
            currency=cur,
        )
    yield _row(
        "Professional services total",
        "Total",
        count=report.services_count,
        minutes=report.services_minutes,
        value=_money(report.services_cents, cur),
        currency=cur,
    )
    for row in report.months:
        yield _row(
            "By month",
            row.label,
            "hours given; goods received at fair value",
            minutes=row.minutes,
            value=_money(row.in_kind_cents, cur),
            currency=cur,
        )
