"""The reports page and PDF (services/reports.py, pdf/report.py, /reports/)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from donations.extensions import db
from donations.models import Fund, Gift
from donations.money import format_money
from donations.services import gifts as gift_service
from donations.services import inventory, reports
from donations.services.gifts import GiftFilters
from donations.services.report_charts import month_bars_svg

PERIOD = (date(2026, 1, 1), date(2026, 6, 30))


@pytest.fixture
def funds(app):
    general, shelter = Fund(name="General"), Fund(name="Shelter beds")
    db.session.add_all([general, shelter])
    db.session.commit()
    return general, shelter


@pytest.fixture
def give(app, funds, create_donor):
    """give(donor, "2026-02-01", 5000, online=False, status="paid", fund=0, fee=0, refunded=0)."""

    def make(donor, day, amount, *, online=False, status="paid", fund=0, fee=0, refunded=0):
        if donor is None:
            donor = create_donor()
        received = date.fromisoformat(day)
        if online or status != "paid":
            gift = Gift(
                donor_id=donor.id,
                fund_id=funds[fund].id,
                source="online",
                method="card",
                status=status,
                currency="USD",
                amount_cents=amount,
                fee_cents=fee,
                refunded_cents=refunded,
                received_at=datetime.combine(received, datetime.min.time(), tzinfo=UTC),
            )
            db.session.add(gift)
        else:
            gift = gift_service.record_offline_gift(
                actor=None,
                donor_id=donor.id,
                fund_id=funds[fund].id,
                method="cheque",
                cheque_number="101",
                amount_cents=amount,
                currency="USD",
                received_on=received,
            )
        db.session.commit()
        return gift

    return make


def test_totals_equal_rows_and_the_gifts_screen(app, organization, give, create_donor):
    ada = create_donor("Ada")
    give(ada, "2026-01-15", 5000, online=True, fee=175, refunded=500)
    give(ada, "2026-03-02", 12_000, fund=1)
    cash = give(None, "2026-03-20", 2500)
    gift_service.correct_gift(actor=None, gift=cash, reason="Typo", amount_cents=2000)
    db.session.commit()
    give(None, "2026-04-01", 9999, status="pending")
    give(None, "2025-12-31", 7000)  # before the period
    give(None, "2026-07-01", 7000)  # after it

    report = reports.build_report(date_from=PERIOD[0], date_to=PERIOD[1])
    [expected] = gift_service.gift_totals(GiftFilters(date_from=PERIOD[0], date_to=PERIOD[1]))
    [total] = report.totals
    assert (total.count, total.gross_cents, total.fee_cents, total.returned_cents) == (
        expected.count,
        expected.gross_cents,
        expected.fee_cents,
        expected.returned_cents,
    )
    assert total.net_cents == expected.net_cents
    assert total.gross_cents == 5000 + 12_000 + 2500 - 2500 + 2000
    for rows in (report.months, report.funds, report.methods):
        assert sum(r.count for r in rows) == total.count
        assert sum(r.gross_cents for r in rows) == total.gross_cents
        assert sum(r.fee_cents for r in rows) == total.fee_cents
        assert sum(r.returned_cents for r in rows) == total.returned_cents
        assert sum(r.net_cents for r in rows) == total.net_cents
    assert [r.label for r in report.months] == [
        "Jan 2026",
        "Feb 2026",
        "Mar 2026",
        "Apr 2026",
        "May 2026",
        "Jun 2026",
    ]
    january = report.months[0]
    assert (january.gross_cents, january.fee_cents, january.net_cents) == (5000, 175, 4325)
    assert {r.label for r in report.funds} == {"General", "Shelter beds"}
    assert {r.label for r in report.methods} == {"Online (Stripe)", "Cheque"}


def test_retention_counts_new_returning_reactivated_and_lapsed(app, give, create_donor):
    returning, lapsed, new, back, old, unpaid = (create_donor() for _ in range(6))
    give(returning, "2025-08-01", 1000)
    give(returning, "2026-02-01", 1000)
    give(lapsed, "2025-09-01", 1000)
    give(new, "2026-03-01", 1000)
    give(new, "2026-05-01", 1000)
    give(back, "2024-01-10", 1000)
    give(back, "2026-04-01", 1000)
    give(old, "2024-02-01", 1000)
    give(unpaid, "2026-04-01", 1000, status="failed")

    result = reports.retention(*PERIOD)
    assert (result.previous_from, result.previous_to) == (date(2025, 7, 4), date(2025, 12, 31))
    assert result.donors == 3
    assert result.previous_donors == 2
    assert (result.new, result.returning, result.reactivated, result.lapsed) == (1, 1, 1, 1)
    assert result.retention_percent == 50


def test_goods_received_and_distributed_net_of_reversals(app, goods):
    today = date.today()
    inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=today,
        source="anonymous",
        lines=[goods.line("SOAP", 10, "new"), goods.line("SOCKS-M", 4, "new")],
    )
    inventory.record_distribution(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=today,
        recipient="Outreach program",
        lines=[goods.line("SOAP", 3)],
    )
    mistake = inventory.record_distribution(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=today,
        recipient="Outreach program",
        lines=[goods.line("SOAP", 2)],
    )
    inventory.reverse_document(actor=None, document_id=mistake.id, note="Recorded twice")
    inventory.record_transfer(
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=goods.shelter.id,
        effective_date=today,
        lines=[goods.line("SOCKS-M", 1)],
    )
    db.session.commit()
    rows = {r.category: r for r in reports.goods_rows(today, today)}
    soap = goods.items["SOAP"].category.name
    socks = goods.items["SOCKS-M"].category.name
    if soap == socks:
        assert (rows[soap].received, rows[soap].distributed) == (14, 3)
    else:
        assert (rows[soap].received, rows[soap].distributed) == (10, 3)
        assert (rows[socks].received, rows[socks].distributed) == (4, 0)


def test_report_page_shows_tables_chart_and_defaults_to_this_year(
    treasurer_client, organization, give
):
    today = date.today()
    give(None, today.isoformat(), 4200)
    page = treasurer_client.get("/reports/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'value="{today.year}-01-01"' in text and f'value="{today.year}-12-31"' in text
    assert "<svg" in text and "Gross and net gifts per month" in text
    assert "$42.00" in text
    assert "By fund" in text and "Donors" in text and "Goods received and distributed" in text


def test_report_page_refuses_a_backwards_period(treasurer_client):
    page = treasurer_client.get("/reports/?date_from=2026-05-01&date_to=2026-01-01")
    assert page.status_code == 400
    assert "The end date is before the start date." in page.get_data(as_text=True)
    assert treasurer_client.get("/reports/?date_from=nonsense").status_code == 400
    assert treasurer_client.get("/reports/report.pdf?date_to=1999-01-01").status_code == 400


def test_report_pdf_carries_the_totals(treasurer_client, organization, give, create_donor):
    give(create_donor("Zoë Ångström"), "2026-02-14", 123_456, online=True, fee=3610)
    give(None, "2026-03-01", 5000, fund=1)
    response = treasurer_client.get("/reports/report.pdf?date_from=2026-01-01&date_to=2026-06-30")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    data = response.get_data()
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Giving report" in text
    assert format_money(128_456, "USD") in text  # gross total
    assert format_money(128_456 - 3610, "USD") in text  # net total
    assert "Shelter beds" in text and "Online (Stripe)" in text


def test_bar_chart_escapes_and_describes_months():
    rows = [
        reports.MoneyRow("Jan 2026", "USD", 1, 5000, 100, 0, 4900),
        reports.MoneyRow("Feb 2026", "USD", 1, -2000, 0, 0, -2000),
    ]
    svg = str(month_bars_svg(rows, title="<Gifts>"))
    assert "&lt;Gifts&gt;" in svg and "<Gifts>" not in svg
    assert "Jan 2026: gross $50.00, net $49.00" in svg
    assert svg.count("<rect") >= 4
    empty = str(month_bars_svg([], title="Gifts"))
    assert "No gifts in this period" in empty
