"""CSV exports: gifts, in-kind gifts and the journal (services/exports.py, /reports/*.csv)."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from donations.extensions import db
from donations.models import Fund, Gift, GiftAdjustment, InKindGift
from donations.services import exports, inventory, receipts
from donations.services import gifts as gift_service
from donations.services.gifts import GiftFilters


@pytest.fixture
def fund(app):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def online_gift(app, fund, create_donor):
    def make(amount=5000, *, fee=175, refunded=0, day=date(2026, 3, 5), donor=None, **extra):
        values = {
            "donor_id": (donor or create_donor("Ada Online")).id,
            "fund_id": fund.id,
            "source": "online",
            "method": "card",
            "status": "paid",
            "currency": "USD",
            "amount_cents": amount,
            "fee_cents": fee,
            "refunded_cents": refunded,
            "received_at": datetime.combine(day, datetime.min.time(), tzinfo=UTC),
            "stripe_payment_intent_id": f"pi_{amount}_{fee}_{refunded}",
            "stripe_charge_id": f"ch_{amount}_{fee}_{refunded}",
        }
        gift = Gift(**{**values, **extra})
        db.session.add(gift)
        db.session.commit()
        return gift

    return make


@pytest.fixture
def offline_gift(app, fund, create_donor):
    def make(amount=10_000, *, day=date(2026, 3, 6), donor=None):
        gift = gift_service.record_offline_gift(
            actor=None,
            donor_id=(donor or create_donor("Bo Cash")).id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount,
            currency="USD",
            received_on=day,
        )
        db.session.commit()
        return gift

    return make


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def csv_of(rows) -> list[list[str]]:
    return read_csv("".join(exports.csv_chunks(rows)))


def gifts_of(filters: GiftFilters) -> list[list[str]]:
    return read_csv("".join(exports.gift_csv(filters)))


# --- formatting -------------------------------------------------------------------


def test_amounts_are_plain_decimal_strings():
    assert exports.plain_amount(5000) == "50.00"
    assert exports.plain_amount(5) == "0.05"
    assert exports.plain_amount(-1250) == "-12.50"
    assert exports.plain_amount(0) == "0.00"
    assert exports.plain_amount(1234, 0) == "1234"
    assert exports.plain_amount(-1234, 3) == "-1.234"


def test_chunks_are_small_and_start_with_a_bom():
    rows = [["a", i] for i in range(2500)]
    chunks = list(exports.csv_chunks(rows, batch=1000))
    assert len(chunks) == 3
    assert chunks[0].startswith("\ufeffa,0\r\n")
    assert len(read_csv("".join(chunks))) == 2500


# --- gifts ----------------------------------------------------------------------


def test_gifts_csv_has_header_rows_and_streams(treasurer_client, online_gift, offline_gift):
    online_gift(5000, fee=175, refunded=1000)
    offline_gift(10_000)
    response = treasurer_client.get("/reports/gifts.csv", buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(b"".join(response.response).decode())
    response.close()
    assert rows[0] == exports.GIFTS_HEADER
    assert len(rows) == 3
    by_id = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    online = next(r for r in by_id.values() if r["Method"] == "Online (Stripe)")
    assert online["Date"] == "2026-03-05"
    assert (online["Gross"], online["Fee"], online["Refunded or disputed"], online["Net"]) == (
        "50.00",
        "1.75",
        "10.00",
        "38.25",
    )
    assert online["Status"] == "partially refunded"
    assert online["Stripe payment intent"].startswith("pi_")
    assert online["Fund"] == "General"
    assert online["Anonymous"] == "no"
    cash = next(r for r in by_id.values() if r["Method"] == "Cash")
    assert (cash["Gross"], cash["Net"], cash["Donor"]) == ("100.00", "100.00", "Bo Cash")


def test_gifts_csv_filters_like_the_gifts_screen(treasurer_client, online_gift, offline_gift):
    online_gift(5000, day=date(2026, 1, 10))
    offline_gift(10_000, day=date(2026, 2, 10))
    rows = read_csv(
        treasurer_client.get(
            "/reports/gifts.csv?date_from=2026-02-01&date_to=2026-02-28&method=cash"
        ).get_data(as_text=True)
    )
    assert [r[0] for r in rows[1:]] == ["2026-02-10"]
    assert len(read_csv(treasurer_client.get("/reports/gifts.csv?method=card").text)) == 2


def test_gifts_csv_bad_filters_show_the_page_with_errors(treasurer_client):
    response = treasurer_client.get("/reports/gifts.csv?date_from=2026-02-01&date_to=2026-01-01")
    assert response.status_code == 400
    assert "The end date is before the start date." in response.get_data(as_text=True)
    assert treasurer_client.get("/reports/gifts.csv?status=nonsense").status_code == 400
    assert treasurer_client.get("/reports/gifts.csv?fund=999999").status_code == 400
    assert treasurer_client.get("/reports/journal.csv?date_from=yesterday").status_code == 400


def test_formula_cells_are_escaped_but_negative_amounts_are_not(
    app, organization, fund, create_donor, offline_gift
):
    donor = create_donor('=HYPERLINK("http://evil")', email="+cmd@example.com")
    gift = offline_gift(2000, donor=donor)
    gift_service.correct_gift(actor=None, gift=gift, reason="Never received", void_only=True)
    db.session.commit()
    rows = gifts_of(GiftFilters())
    header, original, reversal = rows[0], rows[1], rows[2]
    record = dict(zip(header, original, strict=True))
    assert record["Donor"] == '\'=HYPERLINK("http://evil")'
    assert record["Email"] == "'+cmd@example.com"
    back = dict(zip(header, reversal, strict=True))
    assert back["Gross"] == "-20.00"
    assert back["Status"] == "reversal"


def test_gifts_csv_names_the_valid_receipt(app, organization, offline_gift):
    gift = offline_gift(3000)
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    db.session.commit()
    rows = gifts_of(GiftFilters())
    record = dict(zip(rows[0], rows[1], strict=True))
    assert (record["Receipt number"], record["Receipt status"]) == (receipt.number, "valid")
    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong name")
    db.session.commit()
    record = dict(zip(*gifts_of(GiftFilters()), strict=True))
    assert (record["Receipt number"], record["Receipt status"]) == ("", "void")


# --- journal --------------------------------------------------------------------


def journals(rows: list[list[str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows[1:]:
        grouped[row[0]].append(dict(zip(rows[0], row, strict=True)))
    return grouped


def triples(lines: list[dict[str, str]]) -> set[tuple[str, str, str]]:
    return {(line["Account"], line["Debit"], line["Credit"]) for line in lines}


def cents(text: str) -> int:
    if not text:
        return 0
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-").split(".")
    return sign * (int(whole) * 100 + int(frac))


def test_journal_is_balanced_per_gift_with_accounts_from_settings(
    treasurer_client, organization, online_gift, offline_gift
):
    settings = receipts.get_receipt_settings()
    settings.account_clearing = "1210 Stripe"
    settings.account_bank = "1000 Bank"
    settings.account_income = "4000 Donations"
    settings.account_fees = "6100 Fees"
    settings.account_refunds = "4090 Refunds"
    db.session.commit()
    online = online_gift(5000, fee=175, refunded=1000)
    refund = GiftAdjustment(
        gift_id=online.id,
        kind="refund",
        delta_cents=1000,
        occurred_at=datetime(2026, 4, 10, 15, 0, tzinfo=UTC),
    )
    db.session.add(refund)
    cash = offline_gift(10_000)
    gift_service.correct_gift(actor=None, gift=cash, reason="Wrong amount", amount_cents=9000)
    db.session.commit()
    pending = online_gift(7000, fee=0, status="pending", stripe_payment_intent_id="pi_pending")

    response = treasurer_client.get("/reports/journal.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    rows = read_csv(b"".join(response.response).decode())
    response.close()
    assert rows[0] == exports.JOURNAL_HEADER
    grouped = journals(rows)
    assert f"gift-{pending.id}" not in grouped
    assert len(grouped) == 5  # online, cash, its reversal, its replacement, the refund
    for number, lines in grouped.items():
        debit = sum(cents(line["Debit"]) for line in lines)
        credit = sum(cents(line["Credit"]) for line in lines)
        assert debit == credit, number
        assert all(bool(line["Debit"]) != bool(line["Credit"]) for line in lines)
    assert triples(grouped[f"gift-{online.id}"]) == {
        ("1210 Stripe", "50.00", ""),
        ("4000 Donations", "", "50.00"),
        ("6100 Fees", "1.75", ""),
        ("1210 Stripe", "", "1.75"),
    }
    # The refund is its own entry, on the day it was made, not the gift's day.
    assert triples(grouped[f"adj-{refund.id}"]) == {
        ("4090 Refunds", "10.00", ""),
        ("1210 Stripe", "", "10.00"),
    }
    assert {line["Date"] for line in grouped[f"adj-{refund.id}"]} == {"2026-04-10"}
    march = journals(
        read_csv(
            b"".join(
                treasurer_client.get(
                    "/reports/journal.csv?date_from=2026-03-01&date_to=2026-03-31"
                ).response
            ).decode()
        )
    )
    assert f"gift-{online.id}" in march and f"adj-{refund.id}" not in march
    april = journals(
        read_csv(
            b"".join(
                treasurer_client.get(
                    "/reports/journal.csv?date_from=2026-04-01&date_to=2026-04-30"
                ).response
            ).decode()
        )
    )
    assert f"adj-{refund.id}" in april and f"gift-{online.id}" not in april
    assert triples(grouped[f"gift-{cash.id}"]) == {
        ("1000 Bank", "100.00", ""),
        ("4000 Donations", "", "100.00"),
    }
    reversal = db.session.scalar(
        db.select(Gift).where(Gift.corrects_gift_id == cash.id, Gift.is_reversal.is_(True))
    )
    assert triples(grouped[f"gift-{reversal.id}"]) == {
        ("1000 Bank", "", "100.00"),
        ("4000 Donations", "100.00", ""),
    }
    assert all(line["Fund"] == "General" for line in grouped[f"gift-{cash.id}"])


def test_journal_lines_mirror_for_negative_amounts():
    accounts = exports.Accounts("Bank", "Clearing", "Fees", "Income", "Refunds")
    forward = exports.journal_lines(
        accounts=accounts, online=True, gross_cents=5000, fee_cents=100, returned_cents=0
    )
    backward = exports.journal_lines(
        accounts=accounts, online=True, gross_cents=-5000, fee_cents=-100, returned_cents=0
    )
    assert [(x.account, x.credit_cents, x.debit_cents) for x in forward] == [
        (x.account, x.debit_cents, x.credit_cents) for x in backward
    ]


def test_export_page_lists_the_three_files(treasurer_client):
    page = treasurer_client.get("/reports/exports")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for url in ("/reports/gifts.csv", "/reports/journal.csv", "/reports/in-kind.csv"):
        assert url in text
    assert "QuickBooks Online" in text and "Xero" in text
    assert "Goods are not in the journal" in text


# --- in-kind --------------------------------------------------------------------


def test_in_kind_csv_never_shows_a_confidential_site(treasurer_client, goods, create_donor):
    donor = create_donor("Cleo Coats", email="cleo@example.com")
    hidden = inventory.record_intake(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date.today(),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("SOCKS-M", 4, "new"), goods.line("SOAP", 2, "new")],
        donor_value_cents=4500,
    )
    inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=date.today(),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("SOAP", 3, "new")],
    )
    db.session.commit()
    response = treasurer_client.get("/reports/in-kind.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    text = b"".join(response.response).decode()
    response.close()
    assert "Harbor House" not in text and "Hidden Lane" not in text
    assert "400 Dock Rd" not in text
    rows = read_csv(text)
    assert rows[0] == exports.IN_KIND_HEADER
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(records) == 3
    shelter_rows = [r for r in records if r["Document"] == hidden.number]
    assert [r["Site"] for r in shelter_rows] == ["", ""]
    # The estimate is given once per gift, so a column sum counts it once.
    assert [r["Donor's own estimate (internal)"] for r in shelter_rows] == ["45.00", ""]
    assert {r["Site"] for r in records if r["Document"] != hidden.number} == {"Main warehouse"}
    assert {r["Donor"] for r in records} == {"Cleo Coats"}
    gift = db.session.scalar(db.select(InKindGift).where(InKindGift.document_id == hidden.id))
    assert all(r["In-kind gift ID"] == str(gift.id) for r in shelter_rows)


def test_the_gifts_screen_link_exports_what_the_screen_shows(treasurer_client, app):
    from donations.models import Fund, utcnow
    from donations.services import donors
    from donations.services import gifts as gift_service

    fund = Fund(name="Link fund")
    db.session.add(fund)
    db.session.flush()
    ann = donors.create_donor(actor=None, name="Ann Linked", email="ann@example.com")
    bob = donors.create_donor(actor=None, name="Bob Other", email="bob@example.com")
    for donor in (ann, bob):
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=1000,
            currency="USD",
            received_on=utcnow().date(),
        )
    db.session.commit()
    page = treasurer_client.get(f"/gifts/?donor_id={ann.id}").get_data(as_text=True)
    link = re.search(r'href="([^"]*gifts\.csv[^"]*)"', page).group(1).replace("&amp;", "&")
    body = b"".join(treasurer_client.get(link).response).decode("utf-8-sig")
    assert "Ann Linked" in body
    assert "Bob Other" not in body
