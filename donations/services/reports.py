"""The treasurer's report for a period: money by month, fund and method, donor
retention against the previous period, and goods received and distributed.

``build_report`` returns plain dataclasses (``donations.pdf.report_content``), so
the page and the PDF (``donations.pdf.report``, through ``report_pdf``) render the
same numbers. Money rows are summed in SQL from the summary tables
(``services/summaries``), kept in the transaction of every gift with the gifts
screen's default status ("received": paid gifts and correcting entries), so each
table's total equals ``gifts.gift_totals`` for the same dates.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from donations.extensions import db
from donations.models import (
    DocumentKind,
    Fund,
    GiftMethod,
    utcnow,
)
from donations.pdf.documents import render_report
from donations.pdf.report_content import GoodsRow, MoneyRow, Report, Retention
from donations.services import summaries
from donations.services.errors import InvalidInput
from donations.services.gifts import GiftFilters
from donations.services.giving import default_currency
from donations.services.receipts import get_receipt_settings

MAX_DAYS = 3_660  # ten years: a longer period is refused
MONTHS_FILLED_MAX = 60  # empty months are shown as zero up to five years


def default_period(today: date | None = None) -> tuple[date, date]:
    """Return this calendar year: 1 January to 31 December."""
    today = today or utcnow().date()
    return date(today.year, 1, 1), date(today.year, 12, 31)


def check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput("The end date is before the start date.", field="date_to")
    if (date_to - date_from).days > MAX_DAYS:
        raise InvalidInput("Choose a period of at most ten years.", field="date_to")


def _whole_years(date_from: date, date_to: date) -> int:
    """How many calendar years the period is, when it is whole years; else 0."""
    if (date_from.month, date_from.day, date_to.month, date_to.day) != (1, 1, 12, 31):
        return 0
    return max(date_to.year - date_from.year + 1, 0)


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """Return the period of the same length just before this one: as many calendar
    years before a period of whole years, else as many days."""
    years = _whole_years(date_from, date_to)
    if years:
        return date(date_from.year - years, 1, 1), date(date_from.year - 1, 12, 31)
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


# --- money ----------------------------------------------------------------------
# Read from ``gift_period_totals`` (services/summaries): a year's report sums a few
# year, month and day rows, however many gifts there are.


def _sums(filters: GiftFilters, *, by: str, largest: str = "y") -> list[tuple]:
    """(key, currency, count, gross, fee, returned, net) of the "received" gifts."""
    if filters.date_from is None or filters.date_to is None:
        raise InvalidInput("Choose the first and the last day.", field="date_from")
    pieces = summaries.cover(filters.date_from, filters.date_to, largest=largest)
    return summaries.money_sums(pieces, by=by)


def _row(label: str, values: tuple) -> MoneyRow:
    _key, currency, count, gross, fee, returned, net = values
    return MoneyRow(label, currency, count, gross, fee, returned, net)


def _month_label(key: str) -> str:
    year, month = (int(part) for part in key.split("-"))
    return date(year, month, 1).strftime("%b %Y")


def _months_between(date_from: date, date_to: date) -> list[str]:
    keys = []
    year, month = date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _by_month(filters: GiftFilters) -> dict[tuple[str, str], list[int]]:
    """Month and day rows folded into months: at most two partial months of days."""
    found: dict[tuple[str, str], list[int]] = {}
    for (_grain, starts), currency, *values in _sums(filters, by="starts", largest="m"):
        sums = found.setdefault((f"{starts:%Y-%m}", currency), [0] * len(values))
        for index, value in enumerate(values):
            sums[index] += value
    return found


def month_rows(filters: GiftFilters, currency: str) -> list[MoneyRow]:
    """Sums per month; months without gifts show as zero in ``currency``."""
    found = {key: values for key, values in _by_month(filters).items() if values[0]}
    keys = {key for key, _cur in found}
    if filters.date_from and filters.date_to:
        months = _months_between(filters.date_from, filters.date_to)
        if len(months) <= MONTHS_FILLED_MAX:
            keys.update(months)
    currencies = sorted({cur for _key, cur in found} | {currency})
    rows = []
    for key in sorted(keys):
        for cur in currencies:
            values = found.get((key, cur))
            if values is None and cur != currency:
                continue
            count, gross, fee, returned, net = values or (0, 0, 0, 0, 0)
            rows.append(MoneyRow(_month_label(key), cur, count, gross, fee, returned, net))
    return rows


def fund_rows(filters: GiftFilters) -> list[MoneyRow]:
    names = {fund_id: name for fund_id, name in db.session.execute(select(Fund.id, Fund.name))}
    rows = [_row(names.get(v[0], f"Fund #{v[0]}"), v) for v in _sums(filters, by="fund_id")]
    return sorted(rows, key=lambda r: (r.currency, -r.gross_cents, r.label))


def method_rows(filters: GiftFilters) -> list[MoneyRow]:
    labels = {m.value: m.label for m in GiftMethod}
    rows = [_row(labels.get(v[0], str(v[0])), v) for v in _sums(filters, by="method")]
    return sorted(rows, key=lambda r: (r.currency, -r.gross_cents, r.label))


def total_rows(filters: GiftFilters) -> list[MoneyRow]:
    return [_row("Total", (None, *v[1:])) for v in _sums(filters, by="currency")]


# --- donors ---------------------------------------------------------------------


def retention(date_from: date, date_to: date) -> Retention:
    """Count new, returning, reactivated and lapsed donors for the period (a gift: paid,
    not a correction, above zero): for a calendar year from the yearly counters, else
    from the donor day and gap counters (``summaries.donor_days``)."""
    before_from, before_to = previous_period(date_from, date_to)
    if _whole_years(date_from, date_to) == 1:  # a calendar year: two counter rows
        year, last_year = summaries.year_counts(date_from.year)
        counts = summaries.DonorCounts(year.donors, last_year.donors, year.new, year.returning)
    else:  # any period: a few sums over the donor day and gap counters
        donors = summaries.donors_in(date_from, date_to)
        previous = summaries.donors_in(before_from, before_to)
        either = summaries.donors_in(before_from, date_to)  # the two periods are adjacent
        counts = summaries.DonorCounts(
            donors, previous, summaries.first_timers(date_from, date_to), donors + previous - either
        )
    return Retention(
        previous_from=before_from,
        previous_to=before_to,
        donors=counts.donors,
        previous_donors=counts.previous_donors,
        new=counts.new,
        returning=counts.returning,
        reactivated=counts.donors - counts.new - counts.returning,
        lapsed=counts.previous_donors - counts.returning,
    )


# --- goods ----------------------------------------------------------------------


def goods_rows(date_from: date, date_to: date) -> list[GoodsRow]:
    """Units received and distributed per category, each net of its reversals."""
    sums: dict[tuple[int, str], dict[str, int]] = {}
    for name, order, doc_kind, units in summaries.goods_sums(date_from, date_to):
        sums.setdefault((order, name), {})[doc_kind] = units
    return [
        GoodsRow(
            category=name,
            received=values.get(DocumentKind.INTAKE, 0),
            distributed=-values.get(DocumentKind.DISTRIBUTION, 0),
        )
        for (_order, name), values in sorted(sums.items())
    ]


# --- the report -----------------------------------------------------------------


def build_report(*, date_from: date, date_to: date) -> Report:
    """Return the report for the days from ``date_from`` to ``date_to``, both included."""
    check_period(date_from, date_to)
    filters = GiftFilters(date_from=date_from, date_to=date_to)
    currency = default_currency()
    return Report(
        date_from=date_from,
        date_to=date_to,
        currency=currency,
        months=month_rows(filters, currency),
        funds=fund_rows(filters),
        methods=method_rows(filters),
        totals=total_rows(filters),
        retention=retention(date_from, date_to),
        goods=goods_rows(date_from, date_to),
    )


def report_pdf(*, report: Report) -> bytes:
    """Render the report as a PDF on the receipts' page size."""
    return render_report(report, page_size=get_receipt_settings().page_size)
