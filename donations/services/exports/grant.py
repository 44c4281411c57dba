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


def grant_rows(report: GrantReport) -> Iterator[list[Any]]:
    """Yield the header, then every section's rows and totals."""
    cur = report.currency
    yield GRANT_HEADER
    yield [
        "Period",
        report.date_from.isoformat(),
        report.date_to.isoformat(),
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    yield ["Program", safe_text(report.program or "All programs"), "", *[""] * 8]
    for row in report.funds:
        yield [
            "Cash gifts by fund",
            safe_text(row.fund),
            "Restricted" if row.restricted else "Unrestricted",
            row.count,
            "",
            "",
            "",
            _money(row.gross_cents, row.currency),
            _money(row.returned_cents, row.currency),
            _money(row.net_cents, row.currency),
            row.currency,
        ]
    for label, rows in (
        ("Cash gifts by restriction", report.restriction_totals()),
        ("Cash gifts total", report.fund_totals()),
    ):
        for row in rows:
            yield [
                label,
                row.fund,
                "",
                row.count,
                "",
                "",
                "",
                _money(row.gross_cents, row.currency),
                _money(row.returned_cents, row.currency),
                _money(row.net_cents, row.currency),
                row.currency,
            ]
    for row in report.in_kind:
        yield [
            "Gifts in kind",
            safe_text(row.category),
            safe_text(row.method),
            "",
            row.units,
            *[""] * 4,
            _money(row.value_cents, cur),
            cur,
        ]
    yield [
        "Gifts in kind total",
        "Total",
        "",
        "",
        report.in_kind_units,
        *[""] * 4,
        _money(report.in_kind_cents, cur),
        cur,
    ]
    for row in report.distributed:
        yield [
            "Goods distributed",
            safe_text(row.recipient),
            safe_text(row.category),
            "",
            row.units,
            *[""] * 4,
            _money(row.value_cents, cur),
            cur,
        ]
    yield [
        "Goods distributed total",
        "Total",
        "",
        "",
        report.distributed_units,
        *[""] * 4,
        _money(report.distributed_cents, cur),
        cur,
    ]
    rate = _money(report.hour_value_cents, cur) or "not set"
    for row in report.hours:
        yield [
            "Volunteer hours",
            safe_text(row.skill),
            f"at {rate} an hour",
            row.volunteers,
            "",
            row.minutes,
            format_minutes(row.minutes),
            "",
            "",
            _money(row.value_cents, cur),
            cur,
        ]
    yield [
        "Volunteer hours total",
        "Total",
        f"at {rate} an hour",
        report.volunteers,
        "",
        report.hours_minutes,
        format_minutes(report.hours_minutes),
        "",
        "",
        _money(report.hours_cents, cur),
        cur,
    ]
    for row in report.services:
        yield [
            "Professional services",
            safe_text(row.service_type),
            "at their fair rates",
            row.services,
            "",
            row.minutes,
            format_minutes(row.minutes),
            "",
            "",
            _money(row.value_cents, cur),
            cur,
        ]
    yield [
        "Professional services total",
        "Total",
        "",
        report.services_count,
        "",
        report.services_minutes,
        format_minutes(report.services_minutes),
        "",
        "",
        _money(report.services_cents, cur),
        cur,
    ]
    for row in report.months:
        yield [
            "By month",
            row.label,
            "hours given; goods received at fair value",
            "",
            "",
            row.minutes,
            format_minutes(row.minutes),
            "",
            "",
            _money(row.in_kind_cents, cur),
            cur,
        ]
