"""The treasurer's report for a period: money by month, fund and method, donor
retention against the previous period, and goods received and distributed.

``build_report`` returns plain dataclasses (``donations.pdf.report_content``), so
the page and the PDF (``donations.pdf.report``, through ``report_pdf``) render the
same numbers. Money rows are summed in SQL over ``gifts.gift_conditions`` with the
gifts screen's default status ("received": paid gifts and correcting entries), so
each table's total equals ``gifts.gift_totals`` for the same dates.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from donations.extensions import db
from donations.models import (
    DocumentKind,
    Fund,
    Gift,
    GiftMethod,
    GiftStatus,
    Item,
    ItemCategory,
    StockDocument,
    StockEntry,
    utcnow,
)
from donations.pdf.documents import render_report
from donations.pdf.report_content import GoodsRow, MoneyRow, Report, Retention
from donations.services.errors import InvalidInput
from donations.services.gifts import GiftFilters, gift_conditions
from donations.services.giving import default_currency
from donations.services.periods import start_of_day
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


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """Return the period of the same length just before this one."""
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


# --- money ----------------------------------------------------------------------


def _month_key():
    """SQL for "YYYY-MM" of a gift's received_at, in UTC, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Gift.received_at), "YYYY-MM")
    return func.substr(Gift.received_at, 1, 7)


def _sums(key, filters: GiftFilters) -> list[tuple[object, str, int, int, int, int, int]]:
    query = (
        select(
            key,
            Gift.currency,
            func.count(Gift.id),
            func.coalesce(func.sum(Gift.amount_cents), 0),
            func.coalesce(func.sum(Gift.total_fee_cents), 0),
            func.coalesce(func.sum(Gift.returned_cents), 0),
            func.coalesce(func.sum(Gift.net_cents), 0),
        )
        .where(*gift_conditions(filters))
        .group_by(key, Gift.currency)
        .order_by(key, Gift.currency)
    )
    return [
        (k, currency, int(n), int(g), int(f), int(r), int(net))
        for k, currency, n, g, f, r, net in db.session.execute(query)
    ]


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


def month_rows(filters: GiftFilters, currency: str) -> list[MoneyRow]:
    """Sums per month; months without gifts show as zero in ``currency``."""
    found = {(str(key), cur): values for key, cur, *values in _sums(_month_key(), filters)}
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
    rows = [_row(names.get(v[0], f"Fund #{v[0]}"), v) for v in _sums(Gift.fund_id, filters)]
    return sorted(rows, key=lambda r: (r.currency, -r.gross_cents, r.label))


def method_rows(filters: GiftFilters) -> list[MoneyRow]:
    labels = {m.value: m.label for m in GiftMethod}
    rows = [_row(labels.get(v[0], str(v[0])), v) for v in _sums(Gift.method, filters)]
    return sorted(rows, key=lambda r: (r.currency, -r.gross_cents, r.label))


def total_rows(filters: GiftFilters) -> list[MoneyRow]:
    return [_row("Total", (None, *v[1:])) for v in _sums(Gift.currency, filters)]


# --- donors ---------------------------------------------------------------------


def _gave() -> list:
    return [
        Gift.status == GiftStatus.PAID,
        Gift.is_reversal.is_(False),
        Gift.amount_cents > 0,
    ]


def _donors_between(date_from: date, date_to: date) -> set[int]:
    query = (
        select(Gift.donor_id)
        .where(
            *_gave(),
            Gift.received_at >= start_of_day(date_from),
            Gift.received_at < start_of_day(date_to + timedelta(days=1)),
        )
        .distinct()
    )
    return set(db.session.scalars(query))


def retention(date_from: date, date_to: date) -> Retention:
    """Count new, returning, reactivated and lapsed donors for the period."""
    before_from, before_to = previous_period(date_from, date_to)
    now = _donors_between(date_from, date_to)
    before = _donors_between(before_from, before_to)
    first_gift = (
        select(Gift.donor_id)
        .where(*_gave())
        .group_by(Gift.donor_id)
        .having(func.min(Gift.received_at) >= start_of_day(date_from))
    )
    first_ever = set(db.session.scalars(first_gift)) & now
    returning = now & before
    return Retention(
        previous_from=before_from,
        previous_to=before_to,
        donors=len(now),
        previous_donors=len(before),
        new=len(first_ever),
        returning=len(returning),
        reactivated=len(now - first_ever - before),
        lapsed=len(before - now),
    )


# --- goods ----------------------------------------------------------------------


def goods_rows(date_from: date, date_to: date) -> list[GoodsRow]:
    """Units received and distributed per category, each net of its reversals."""
    reversed_doc = aliased(StockDocument)
    kind = func.coalesce(reversed_doc.kind, StockDocument.kind)
    query = (
        select(ItemCategory.name, ItemCategory.sort_order, kind, func.sum(StockEntry.quantity))
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .outerjoin(reversed_doc, reversed_doc.id == StockDocument.reverses_id)
        .join(Item, Item.id == StockEntry.item_id)
        .join(ItemCategory, ItemCategory.id == Item.category_id)
        .where(
            StockEntry.effective_date >= date_from,
            StockEntry.effective_date <= date_to,
            kind.in_([DocumentKind.INTAKE, DocumentKind.DISTRIBUTION]),
        )
        .group_by(ItemCategory.name, ItemCategory.sort_order, kind)
    )
    sums: dict[tuple[int, str], dict[str, int]] = {}
    for name, order, doc_kind, units in db.session.execute(query):
        sums.setdefault((order, name), {})[doc_kind] = int(units or 0)
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
