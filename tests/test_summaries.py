"""Summary tables (services/summaries): the reports, the dashboard and stock on a past
date read them, so each figure they show must equal a plain recomputation from the
gift and ledger rows, and ``flask reports verify`` / ``flask inventory verify`` must
catch a summary row that drifted."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from donations.extensions import db
from donations.models import (
    DocumentKind,
    Fund,
    Gift,
    GiftStatus,
    Item,
    ItemCategory,
    StockDocument,
    StockEntry,
)
from donations.services import dashboard, donors, inventory, reports, summaries
from donations.services import gifts as gift_service
from donations.services.gifts import GiftFilters
from donations.services.summaries.periods import cover

TODAY = date.today()
THIS_YEAR = (date(TODAY.year, 1, 1), date(TODAY.year, 12, 31))
PERIODS = [
    (date(2026, 1, 1), date(2026, 12, 31)),  # a whole year: year rows
    (date(2025, 11, 17), date(2026, 8, 9)),  # ragged ends: days, months and a year
    (date(2026, 3, 1), date(2026, 3, 31)),  # one month
    (date(2026, 2, 27), date(2026, 3, 2)),  # days only, across a month end
    (date(2024, 1, 1), date(2027, 12, 31)),  # years
    THIS_YEAR,
]


def at(day: str | date, hour: int = 12) -> datetime:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def money(app, organization, create_donor):
    """Gifts across funds, methods, currencies and years: refunds, disputes, corrections,
    pending and failed ones, status changes after the fact and a donor merge."""
    general, beds = Fund(name="General"), Fund(name="Shelter beds")
    db.session.add_all([general, beds])
    db.session.commit()
    ada, bo, cy, di, ed = (create_donor(n) for n in ("Ada", "Bo", "Cy", "Di", "Ed"))

    def online(donor, when, amount, **values):
        values.setdefault("status", "paid")
        gift = Gift(
            donor_id=donor.id,
            fund_id=values.pop("fund", general).id,
            source="online",
            method="card",
            currency=values.pop("currency", "USD"),
            amount_cents=amount,
            received_at=at(when, values.pop("hour", 12)),
            **values,
        )
        db.session.add(gift)
        db.session.commit()
        return gift

    online(ada, "2024-06-01", 1000)
    online(ada, "2025-12-31", 2500, hour=23)  # late on New Year's Eve, UTC
    online(ada, "2026-01-01", 3000, hour=0, fee_cents=120)
    online(bo, "2025-11-20", 5000, fund=beds, fee_cents=175, refunded_cents=500)
    online(bo, "2026-03-01", 7000, currency="EUR", fee_cents=200)
    online(cy, "2026-02-28", 4000, dispute_cents=4000, dispute_fee_cents=1500)
    online(cy, "2026-03-02", 999, status="pending")
    online(di, "2026-08-09", 12_000, status="failed")
    online(di, TODAY, 4200, fund=beds)
    online(ed, TODAY, 800, currency="EUR")
    later = online(ed, "2026-05-05", 6000, status="processing")
    later.status = GiftStatus.PAID  # a bank debit that cleared
    db.session.commit()
    refunded = online(di, "2026-07-14", 9000, fee_cents=300)
    db.session.expire_all()  # a change to a row not loaded since the commit
    refunded.refunded_cents = 9000
    db.session.commit()
    cheque = gift_service.record_offline_gift(
        actor=None,
        donor_id=bo.id,
        fund_id=beds.id,
        method="cheque",
        cheque_number="7",
        amount_cents=2500,
        currency="USD",
        received_on=date(2026, 4, 30),
    )
    db.session.commit()
    gift_service.correct_gift(actor=None, gift=cheque, reason="Typo", amount_cents=2000)
    db.session.commit()
    donors.merge_donors(actor=None, source=ed, target=ada)
    db.session.commit()


def received(gift: Gift) -> bool:
    return gift.status == GiftStatus.PAID or gift.is_reversal


def gave(gift: Gift) -> bool:
    return gift.status == GiftStatus.PAID and not gift.is_reversal and gift.amount_cents > 0


def in_period(gift: Gift, first: date, last: date) -> bool:
    return first <= gift.received_at.astimezone(UTC).date() <= last


def sums_from_rows(first: date, last: date, key) -> dict:
    found: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    for gift in db.session.scalars(select(Gift)):
        if received(gift) and in_period(gift, first, last):
            sums = found[(key(gift), gift.currency)]
            for index, value in enumerate(
                (1, gift.amount_cents, gift.total_fee_cents, gift.returned_cents, gift.net_cents)
            ):
                sums[index] += value
    return dict(found)


def as_dict(rows, key) -> dict:
    return {
        (key(r), r.currency): [r.count, r.gross_cents, r.fee_cents, r.returned_cents, r.net_cents]
        for r in rows
        if r.count
    }


@pytest.mark.parametrize("period", PERIODS)
def test_report_money_equals_the_gift_rows(money, period):
    report = reports.build_report(date_from=period[0], date_to=period[1])
    funds = dict(db.session.execute(select(Fund.id, Fund.name)).all())
    assert as_dict(report.funds, lambda r: r.label) == sums_from_rows(
        *period, lambda g: funds[g.fund_id]
    )
    assert as_dict(report.methods, lambda r: r.label) == sums_from_rows(
        *period, lambda g: "Online (Stripe)" if g.method == "card" else "Cheque"
    )
    assert as_dict(report.totals, lambda r: r.label) == sums_from_rows(*period, lambda g: "Total")
    months = sums_from_rows(*period, lambda g: g.received_at.astimezone(UTC).strftime("%b %Y"))
    assert as_dict(report.months, lambda r: r.label) == months
    assert [(t.currency, t.count, t.gross_cents, t.net_cents) for t in report.totals] == [
        (t.currency, t.count, t.gross_cents, t.net_cents)
        for t in gift_service.gift_totals(GiftFilters(date_from=period[0], date_to=period[1]))
    ]


@pytest.mark.parametrize("period", PERIODS)
def test_retention_equals_the_gift_rows(money, period):
    first, last = period
    before_first, before_last = reports.previous_period(first, last)
    gifts = [g for g in db.session.scalars(select(Gift)) if gave(g)]
    now = {g.donor_id for g in gifts if in_period(g, first, last)}
    before = {g.donor_id for g in gifts if in_period(g, before_first, before_last)}
    earlier = {g.donor_id for g in gifts if g.received_at.astimezone(UTC).date() < first}
    result = reports.retention(first, last)
    assert (result.donors, result.previous_donors) == (len(now), len(before))
    assert result.new == len(now - earlier)
    assert result.returning == len(now & before)
    assert result.reactivated == len(now - (now - earlier) - before)
    assert result.lapsed == len(before - now)


def test_the_dashboard_total_equals_the_gifts_screen(money):
    overview = dashboard.money_overview()
    expected = gift_service.gift_totals(GiftFilters(date_from=THIS_YEAR[0], date_to=THIS_YEAR[1]))
    assert overview.totals == expected
    assert {t.currency for t in overview.totals} == {"USD", "EUR"}


def test_money_summaries_verify_and_a_broken_row_is_found(app, money):
    assert summaries.verify_money() == []
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "verify"])
    assert result.exit_code == 0, result.output
    db.session.execute(
        text("UPDATE gift_period_totals SET gross_cents = gross_cents + 1 WHERE grain = 'm'")
    )
    db.session.execute(text("DELETE FROM donor_gift_periods WHERE grain = 'y'"))
    db.session.commit()
    problems = summaries.verify_money()
    assert {p.table for p in problems} == {"gift_period_totals", "donor_gift_periods"}
    assert all(p.key[0] in ("m", "y") for p in problems)
    result = runner.invoke(args=["reports", "verify"])
    assert result.exit_code == 1
    assert "differ from the rows they sum" in result.output
    assert "gift_period_totals (m, " in result.output


# --- goods ------------------------------------------------------------------------


@pytest.fixture
def moved(goods):
    """Intakes, distributions, transfers, an adjustment and reversals over 200 days."""
    shelter, warehouse = goods.shelter, goods.warehouse

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

    def give_out(site, when, **lines):
        return inventory.record_distribution(
            actor=None,
            site_id=site.id,
            effective_date=when,
            recipient="Street outreach",
            lines=[goods.line(c.replace("_", "-"), q) for c, q in lines.items()],
        )

    intake(warehouse, day(200), SOAP=50, SOCKS_M=40)
    intake(shelter, day(120), SOAP=10)
    inventory.record_transfer(
        actor=None,
        from_site_id=warehouse.id,
        to_site_id=shelter.id,
        effective_date=day(95),
        lines=[goods.line("SOAP", 20), goods.line("SOCKS-M", 15)],
    )
    wrong = intake(shelter, day(40), SOCKS_M=7)
    give_out(shelter, day(33), SOAP=6, SOCKS_M=4)
    oops = give_out(shelter, day(20), SOAP=3)
    give_out(warehouse, day(3), SOCKS_M=5)
    inventory.record_adjustment(
        actor=None,
        site_id=shelter.id,
        effective_date=day(10),
        reason="damaged",
        lines=[goods.line("SOAP", 2)],
    )
    db.session.flush()
    inventory.reverse_document(actor=None, document_id=oops.id, note="Entered twice")
    inventory.reverse_document(actor=None, document_id=wrong.id, note="Wrong site")
    give_out(shelter, TODAY, SOCKS_M=1)
    db.session.commit()
    return goods


def entries() -> list[tuple[StockEntry, str]]:
    """Each ledger entry with the kind it counts under (a reversal: what it undoes)."""
    kinds = dict(db.session.execute(select(StockDocument.id, StockDocument.kind)).all())
    undoes = dict(db.session.execute(select(StockDocument.id, StockDocument.reverses_id)).all())
    return [
        (e, str(kinds[undoes[e.document_id]] if undoes[e.document_id] else kinds[e.document_id]))
        for e in db.session.scalars(select(StockEntry))
    ]


@pytest.mark.parametrize("back", [0, 1, 3, 20, 33, 40, 95, 150, 200, 201, 400])
def test_stock_as_of_equals_the_ledger(moved, back):
    day = TODAY - timedelta(days=back)
    for site in (moved.shelter, moved.warehouse):
        held: dict[str, int] = defaultdict(int)
        for entry, _kind in entries():
            if entry.site_id == site.id and entry.effective_date <= day:
                held[entry.item.code] += entry.quantity
        expected = {code: n for code, n in held.items() if n}
        shown = {item.code: n for item, n in inventory.stock_as_of(site_id=site.id, day=day)}
        assert shown == expected


def test_goods_figures_equal_the_ledger(moved):
    first, last = TODAY - timedelta(days=100), TODAY - timedelta(days=5)
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    categories = dict(
        db.session.execute(select(Item.id, ItemCategory.name).join(ItemCategory)).all()
    )
    for entry, kind in entries():
        if first <= entry.effective_date <= last:
            sums[categories[entry.item_id]][kind] += entry.quantity
    expected = {
        name: (by_kind.get("intake", 0), -by_kind.get("distribution", 0))
        for name, by_kind in sums.items()
        if "intake" in by_kind or "distribution" in by_kind
    }
    rows = reports.goods_rows(first, last)
    assert {r.category: (r.received, r.distributed) for r in rows} == expected

    given: dict[str, int] = defaultdict(int)
    for entry, kind in entries():
        if kind == DocumentKind.DISTRIBUTION and entry.effective_date >= TODAY - timedelta(30):
            given[entry.item.code] -= entry.quantity
    top = {item.code: n for item, n in inventory.top_distributed(days=30, limit=10)}
    assert top == {code: n for code, n in given.items() if n > 0}

    soap = moved.items["SOAP"]
    for site_id in (None, moved.shelter.id):
        series = inventory.stock_series(item_id=soap.id, site_id=site_id, days=90)
        for day, level in series:
            assert level == sum(
                e.quantity
                for e, _k in entries()
                if e.item_id == soap.id
                and e.effective_date <= day
                and (site_id is None or e.site_id == site_id)
            )


def test_stock_summaries_verify_and_a_broken_row_is_found(app, moved):
    assert summaries.verify_stock() == []
    runner = app.test_cli_runner()
    result = runner.invoke(args=["inventory", "verify"])
    assert result.exit_code == 0, result.output
    assert "Every stock summary matches the ledger." in result.output
    db.session.execute(
        text("UPDATE stock_period_totals SET quantity = quantity + 1 WHERE grain = 'd'")
    )
    db.session.commit()
    problems = summaries.verify_stock()
    assert problems and all(p.table == "stock_period_totals" for p in problems)
    result = runner.invoke(args=["inventory", "verify"])
    assert result.exit_code == 1
    assert "All " in result.output  # the balances themselves still match
    assert "stock_period_totals (" in result.output


def test_cover_is_exact_and_small():
    first = date(2023, 12, 30)
    for length in (0, 1, 2, 31, 40, 365, 400, 1200):
        last = first + timedelta(days=length)
        days = set()
        for grain, lo, hi in cover(first, last):
            start = lo
            while start <= hi:
                end = {
                    "d": start,
                    "m": (start.replace(day=28) + timedelta(days=4)).replace(day=1)
                    - timedelta(days=1),
                    "y": date(start.year, 12, 31),
                }[grain]
                days.update(start + timedelta(n) for n in range((end - start).days + 1))
                start = end + timedelta(days=1)
        assert days == {first + timedelta(n) for n in range(length + 1)}
    assert len(cover(date(2020, 1, 1), date(2029, 12, 31))) == 1
