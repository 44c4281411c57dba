"""Report counters (migration 0020): each donor's giving years and the yearly retention
counters, the donor day and gap counters (retention over any period), stock at each
month's end and stock per category. After gifts, refunds,
voids, corrections, backdated entries, a merge, stock moves, reversals and an item
changing category, each must equal a computation from scratch; ``verify`` must catch
a tampered row and ``flask reports rebuild`` must repair it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from donations.extensions import db
from donations.models import (
    DonorGiftGap,
    DonorRetentionYear,
    Fund,
    Gift,
    GiftStatus,
    Item,
    ItemCategory,
    StockEntry,
    StockMonthClosing,
)
from donations.services import catalog, donors, inventory, reports, summaries
from donations.services import gifts as gift_service

TODAY = date.today()


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def giving(app, organization, create_donor):
    """Gifts over five years, some backdated after later ones, a refund, a failure that
    clears, a void and a correction, and a merge of two donors."""
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    people = [create_donor(name) for name in ("Ada", "Bo", "Cy", "Di", "Ed", "Flo")]
    year = TODAY.year

    def gift(donor, day, amount=1000, **values):
        values.setdefault("status", "paid")
        row = Gift(
            donor_id=donor.id,
            fund_id=fund.id,
            source="online",
            method="card",
            currency="USD",
            amount_cents=amount,
            received_at=at(day),
            **values,
        )
        db.session.add(row)
        db.session.commit()
        return row

    ada, bo, cy, di, ed, flo = people
    gift(ada, date(year - 1, 3, 1))
    gift(ada, date(year, 2, 1))
    gift(ada, date(year - 4, 6, 1))  # backdated: Ada's first year moves back
    gift(bo, date(year - 2, 12, 31))
    gift(bo, date(year, 1, 1))
    refunded = gift(cy, date(year - 1, 7, 7))
    refunded.refunded_cents = 1000  # a refund: still a gift given
    db.session.commit()
    cleared = gift(di, date(year, 5, 5), status="processing")
    gift(di, date(year - 3, 5, 5), status="failed")
    cleared.status = GiftStatus.PAID
    db.session.commit()
    gift(ed, date(year - 1, 9, 9))
    cheque = gift_service.record_offline_gift(
        actor=None,
        donor_id=flo.id,
        fund_id=fund.id,
        method="cheque",
        cheque_number="12",
        amount_cents=5000,
        currency="USD",
        received_on=date(year - 1, 4, 4),
    )
    db.session.commit()
    gift_service.correct_gift(actor=None, gift=cheque, reason="Typo", amount_cents=4000)
    db.session.commit()
    wrong = gift_service.record_offline_gift(
        actor=None,
        donor_id=cy.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=700,
        currency="USD",
        received_on=date(year, 3, 3),
    )
    db.session.commit()
    gift_service.correct_gift(actor=None, gift=wrong, reason="Not ours", void_only=True)
    db.session.commit()
    donors.merge_donors(actor=None, source=ed, target=cy)
    db.session.commit()
    return people


def giving_years() -> dict[int, set[int]]:
    """Donor -> the calendar years of their gifts (paid, not a correction, above zero)."""
    years: dict[int, set[int]] = defaultdict(set)
    for g in db.session.scalars(select(Gift)):
        if g.status == GiftStatus.PAID and not g.is_reversal and g.amount_cents > 0:
            years[g.donor_id].add(g.received_at.astimezone(UTC).year)
    return years


def test_giving_years_and_year_counters_equal_the_gifts(giving):
    years = giving_years()
    gaps = {
        (row.donor_id, row.year): row.previous_year
        for row in db.session.scalars(select(DonorGiftGap))
    }
    expected = {}
    for donor_id, given in years.items():
        previous = None
        for year in sorted(given):
            expected[(donor_id, year)] = previous
            previous = year
    assert gaps == expected
    counters = {
        row.year: (row.donors, row.first_time, row.retained)
        for row in db.session.scalars(select(DonorRetentionYear))
        if row.donors
    }
    by_year = {}
    for year in {y for given in years.values() for y in given}:
        donors_then = [d for d, given in years.items() if year in given]
        by_year[year] = (
            len(donors_then),
            sum(1 for d in donors_then if min(years[d]) == year),
            sum(1 for d in donors_then if year - 1 in years[d]),
        )
    assert counters == by_year


@pytest.mark.parametrize("back", [0, 1, 2, 3, 4, 5])
def test_a_calendar_year_s_retention_reads_the_counters_and_equals_the_gifts(giving, back):
    year = TODAY.year - back
    result = reports.retention(date(year, 1, 1), date(year, 12, 31))
    years = giving_years()
    now = {d for d, given in years.items() if year in given}
    before = {d for d, given in years.items() if year - 1 in given}
    first = {d for d in now if min(years[d]) == year}
    assert (result.previous_from, result.previous_to) == (
        date(year - 1, 1, 1),
        date(year - 1, 12, 31),
    )
    assert (result.donors, result.previous_donors) == (len(now), len(before))
    assert (result.new, result.returning) == (len(first), len(now & before))
    assert result.lapsed == len(before - now)
    assert result.reactivated == len(now - first - before)


def gift_days() -> dict[int, set[date]]:
    days: dict[int, set[date]] = defaultdict(set)
    for g in db.session.scalars(select(Gift)):
        if g.status == GiftStatus.PAID and not g.is_reversal and g.amount_cents > 0:
            days[g.donor_id].add(g.received_at.astimezone(UTC).date())
    return days


SPANS = [(0, 0), (0, 40), (3, 400), (31, 31), (59, 700), (365, 365), (366, 1100), (700, 1)]


@pytest.mark.parametrize(("back", "length"), SPANS)
def test_retention_over_any_period_reads_the_day_counters_and_equals_the_gifts(
    giving, back, length
):
    year = TODAY.year
    for start in (date(year, 1, 1), date(year - 1, 12, 31), date(year - 2, 5, 5), TODAY):
        first = start - timedelta(days=back)
        last = first + timedelta(days=length)
        result = reports.retention(first, last)
        days = gift_days()
        before_first, before_last = result.previous_from, result.previous_to
        assert before_last == first - timedelta(days=1)

        def gave_in(lo, hi, days=days):
            return {d for d, given in days.items() if any(lo <= day <= hi for day in given)}

        now, before = gave_in(first, last), gave_in(before_first, before_last)
        earlier = gave_in(date(1900, 1, 1), first - timedelta(days=1))
        assert (result.donors, result.previous_donors) == (len(now), len(before))
        assert (result.new, result.returning) == (len(now - earlier), len(now & before))


@pytest.fixture
def stock(goods):
    """Moves over a year, some entered after later ones, a reversal, and an
    item that changes category afterwards."""

    def day(n: int) -> date:
        return TODAY - timedelta(days=n)

    def intake(site, when, **lines):
        return inventory.record_intake(
            actor=None,
            site_id=site.id,
            effective_date=when,
            source="anonymous",
            lines=[goods.line(c.replace("_", "-"), q, "new") for c, q in lines.items()],
        )

    intake(goods.warehouse, day(360), SOAP=30, SOCKS_M=12)
    intake(goods.warehouse, day(30), SOAP=5)
    intake(goods.warehouse, day(250), SOAP=8)  # backdated behind a later month
    inventory.record_transfer(
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=goods.shelter.id,
        effective_date=day(200),
        lines=[goods.line("SOAP", 10), goods.line("SOCKS-M", 4)],
    )
    out = inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=day(61),
        recipient="Street outreach",
        lines=[goods.line("SOAP", 3)],
    )
    db.session.flush()
    inventory.reverse_document(actor=None, document_id=out.id, note="Entered twice")
    inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=day(2),
        recipient="Street outreach",
        lines=[goods.line("SOCKS-M", 1)],
    )
    db.session.commit()
    soap = goods.items["SOAP"]
    other = db.session.scalar(
        select(ItemCategory.id).where(ItemCategory.id != soap.category_id).limit(1)
    )
    catalog.update_item(actor=None, item=soap, category_id=other)
    db.session.commit()
    return goods


def test_stock_counters_equal_the_ledger(stock):
    assert summaries.verify_stock() == []
    entries = list(db.session.scalars(select(StockEntry)))
    closings = {
        (c.site_id, c.item_id, c.month): c.quantity
        for c in db.session.scalars(select(StockMonthClosing))
    }
    months = {(e.site_id, e.item_id, e.effective_date.replace(day=1)) for e in entries}
    assert set(closings) == months
    for (site_id, item_id, month), quantity in closings.items():
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        assert quantity == sum(
            e.quantity
            for e in entries
            if (e.site_id, e.item_id) == (site_id, item_id) and e.effective_date < following
        )
    for back in range(0, 370, 5):
        day = TODAY - timedelta(days=back)
        for site in (stock.warehouse, stock.shelter):
            held: dict[str, int] = defaultdict(int)
            for e in entries:
                if e.site_id == site.id and e.effective_date <= day:
                    held[e.item.code] += e.quantity
            shown = {i.code: n for i, n in inventory.stock_as_of(site_id=site.id, day=day)}
            assert shown == {code: n for code, n in held.items() if n}


def test_goods_per_category_follow_an_item_that_changed_category(stock):
    first, last = TODAY - timedelta(days=400), TODAY
    categories = dict(
        db.session.execute(select(Item.id, ItemCategory.name).join(ItemCategory)).all()
    )
    received: dict[str, int] = defaultdict(int)
    for e in db.session.scalars(select(StockEntry)):
        if e.document.kind == "intake":
            received[categories[e.item_id]] += e.quantity
    rows = {r.category: r.received for r in reports.goods_rows(first, last)}
    assert {name: n for name, n in rows.items() if n} == dict(received)


TAMPER = [
    ("donor_gift_gaps", "UPDATE donor_gift_gaps SET previous_year = NULL", "reports"),
    ("donor_retention_years", "UPDATE donor_retention_years SET retained = 9", "reports"),
    ("donor_day_counts", "UPDATE donor_day_counts SET first_days = 7", "reports"),
    ("donor_gap_counts", "DELETE FROM donor_gap_counts WHERE prev_grain = 'd'", "reports"),
    ("stock_month_closings", "UPDATE stock_month_closings SET quantity = 99", "inventory"),
    ("stock_category_totals", "DELETE FROM stock_category_totals WHERE grain = 'm'", "inventory"),
]


@pytest.mark.parametrize(("table", "statement", "group"), TAMPER)
def test_verify_finds_a_tampered_counter_and_rebuild_repairs_it(
    app, giving, stock, table, statement, group
):
    runner = app.test_cli_runner()
    assert runner.invoke(args=[group, "verify"]).exit_code == 0
    db.session.execute(text(statement))
    db.session.commit()
    problems = summaries.verify_money() + summaries.verify_stock()
    assert problems and {p.table for p in problems} == {table}
    result = runner.invoke(args=[group, "verify"])
    assert result.exit_code == 1
    assert f"{table} (" in result.output
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert summaries.verify_money() == [] and summaries.verify_stock() == []
    assert runner.invoke(args=[group, "verify"]).exit_code == 0
