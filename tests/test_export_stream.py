"""The fast CSV paths (gifts, goods ledger): the same bytes as a plain recomputation from
the ORM objects, exact amounts, and responses that stream batch by batch."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select

from donations.extensions import db
from donations.models import (
    Campaign,
    DocumentKind,
    Fund,
    Gift,
    GiftMethod,
    Receipt,
    RecurringPlan,
    Role,
    StockEntry,
)
from donations.money import exponent
from donations.services import campaigns, catalog, exports, inventory, receipts, streaming
from donations.services import donors as donor_service
from donations.services import gifts as gift_service
from donations.services import inventory_files as files
from donations.services.csv_text import csv_line, needs_quotes
from donations.services.exports import gifts as gifts_module
from donations.services.gifts import GiftFilters
from donations.services.inventory_files import exports as ledger_module
from donations.services.inventory_files import safe_cell


def reference_amount(cents: int, digits: int) -> str:
    """Minor units as a decimal string, the slow exact way."""
    return f"{Decimal(cents).scaleb(-digits):.{digits}f}"


def written(rows: list[list]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(rows)
    return out.getvalue()


# --- amounts and lines ------------------------------------------------------------


@pytest.mark.parametrize("cents", [0, 1, 5, 99, 100, 101, 1234, 10**12, 10**12 + 7])
@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD", "EUR"])
def test_amounts_are_exact_at_the_edges(cents, currency):
    digits = exponent(currency)
    for value in (cents, -cents):
        assert exports.plain_amount(value, digits) == reference_amount(value, digits)
    assert exponent("JPY") == 0 and exports.plain_amount(10**12, 0) == "1000000000000"


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from([0, 2, 3]))
def test_amounts_match_decimal_arithmetic(cents, digits):
    assert exports.plain_amount(cents, digits) == reference_amount(cents, digits)


@given(st.lists(st.text(max_size=12), min_size=2, max_size=6))
def test_a_line_joined_by_hand_is_csv_writers_line(cells):
    # The rule both fast paths rely on: without these characters, no cell is quoted.
    if not needs_quotes("".join(cells)):
        assert ",".join(cells) + "\r\n" == csv_line(cells)


# --- gifts ------------------------------------------------------------------------------


@pytest.fixture
def varied_gifts(app, organization, create_donor):
    """Gifts of every kind: refunds, disputes, corrections, anonymous donors, tributes,
    monthly plans, three currencies (JPY has no minor unit, BHD three), receipts valid
    and void, and text that needs quotes or formula escaping."""
    fund = Fund(name='General, "unrestricted"')
    other = Fund(name="=Emergency")
    db.session.add_all([fund, other])
    db.session.commit()
    people = [
        create_donor("Ada Online"),
        create_donor('Lovelace, "Ada"', email="+ada@example.com"),
        create_donor("=cmd|' /C calc'!A0", email=None),
        create_donor("Zoë Ångström", prefers_anonymous=True),
        create_donor("-Minus @Sign"),
    ]
    plan = RecurringPlan(
        donor_id=people[0].id,
        fund_id=fund.id,
        amount_cents=2500,
        currency="USD",
        status="active",
        stripe_subscription_id="sub_123",
    )
    db.session.add(plan)
    db.session.commit()
    n = iter(range(1, 1000))

    def online(amount, currency="USD", donor=0, **extra):
        k = next(n)
        values = {
            "donor_id": people[donor].id,
            "fund_id": fund.id,
            "source": "online",
            "method": "card",
            "status": "paid",
            "currency": currency,
            "amount_cents": amount,
            "fee_cents": amount * 29 // 1000 + 30,
            "received_at": datetime(2026, 3, k % 28 + 1, 23, 59, tzinfo=UTC),
            "stripe_payment_intent_id": f"pi_{k}",
            "stripe_charge_id": f"ch_{k}",
        }
        gift = Gift(**{**values, **extra})
        db.session.add(gift)
        db.session.commit()
        return gift

    online(5000, refunded_cents=1000)
    online(5000, refunded_cents=5000)
    online(1, fee_cents=0)
    online(99, fee_cents=0, donor=1)
    online(100, donor=2)
    online(7500, dispute_status="needs_response", dispute_cents=7500, dispute_fee_cents=1500)
    online(7500, dispute_status="lost", dispute_cents=7500, dispute_fee_cents=1500)
    online(7500, dispute_status="won", dispute_fee_cents=1500)
    online(5000, "JPY", fee_cents=0, donor=3)
    online(1234, "BHD", fee_cents=5)
    online(2000, "EUR", is_anonymous=True, donor=4)
    online(2500, frequency="monthly", plan_id=plan.id, stripe_invoice_id="in_1")
    online(3000, status="failed", fee_cents=0)
    online(3000, status="pending", fee_cents=0, stripe_charge_id=None)
    online(4000, stripe_payment_intent_id='pi_"odd",id')  # quotes even here
    online(2_000_000_000, fee_cents=0, tribute_type="memory", tribute_name="Grandma, Jo")
    drive = campaigns.create_campaign(
        actor=None,
        values=campaigns.CampaignValues(
            name='=Coats, "winter"', slug="coats", starts_on=date(2026, 3, 1)
        ),
    )
    db.session.flush()
    online(4500, campaign_id=drive.id, appeal_code="YE2026")  # a name needing both
    online(4600, appeal_code="SPRING-26")
    cash = gift_service.record_offline_gift(
        actor=None,
        donor_id=people[1].id,
        fund_id=other.id,
        method="cash",
        amount_cents=10_000,
        currency="USD",
        received_on=date(2026, 3, 6),
    )
    cheque = gift_service.record_offline_gift(
        actor=None,
        donor_id=people[4].id,
        fund_id=fund.id,
        method="cheque",
        cheque_number="1042",
        amount_cents=2500,
        currency="USD",
        received_on=date(2026, 3, 7),
    )
    db.session.commit()
    receipts.issue_gift_receipt(actor=None, gift=cash)
    voided = receipts.issue_gift_receipt(actor=None, gift=cheque)
    db.session.commit()
    receipts.void_receipt(actor=None, receipt=voided, reason="Wrong name")
    gift_service.correct_gift(actor=None, gift=cash, reason="Never received", void_only=True)
    db.session.commit()


def reference_gifts(ids: set[int] | None = None) -> str:
    """The gifts file from ORM objects, row by row, with csv.writer."""
    rows: list[list] = [exports.GIFTS_HEADER]
    for gift in db.session.scalars(select(Gift).order_by(Gift.id)):
        if ids is not None and gift.id not in ids:
            continue
        found = list(db.session.scalars(select(Receipt).where(Receipt.gift_id == gift.id)))
        valid = [r.number for r in found if r.status == "valid"]
        digits = exponent(gift.currency)
        fee = gift.fee_cents + gift.dispute_fee_cents
        returned = gift.refunded_cents + gift.dispute_cents

        def money(cents: int, digits: int = digits) -> str:
            return reference_amount(cents, digits)

        rows.append(
            [
                gift.received_at.astimezone(UTC).date().isoformat(),
                gift.id,
                gift.donor_id,
                safe_cell(gift.donor.name),
                safe_cell(gift.donor.email or ""),
                money(gift.amount_cents),
                money(fee),
                money(returned),
                money(gift.amount_cents - fee - returned),
                gift.currency,
                safe_cell(gift.fund.name),
                GiftMethod(gift.method).label,
                {"one_time": "One-time", "monthly": "Monthly"}[gift.frequency],
                gift.display_status,
                gift.stripe_payment_intent_id or "",
                gift.stripe_charge_id or "",
                gift.stripe_invoice_id or "",
                (gift.plan.stripe_subscription_id or "") if gift.plan else "",
                valid[0] if valid else "",
                ("valid" if valid else "void") if found else "",
                "yes" if gift.is_anonymous else "no",
                safe_cell(db.session.get(Campaign, gift.campaign_id).name)
                if gift.campaign_id
                else "",
                gift.appeal_code,
            ]
        )
    return written(rows)


def test_gifts_csv_is_the_plain_recomputation_byte_for_byte(varied_gifts):
    text = "".join(exports.gift_csv(GiftFilters(status="all")))
    expected = reference_gifts()
    assert text == expected
    assert text.count("\r\n") > 18  # every gift made it, quoted lines included
    assert '"General, ""unrestricted"""' in text and "'=Emergency" in text
    assert ",5000,0,0,5000,JPY," in text and ",1.234,0.005,0.000,1.229,BHD," in text


@pytest.mark.parametrize(
    "filters",
    [
        GiftFilters(),
        GiftFilters(method="cash"),
        GiftFilters(status="refunded"),
        GiftFilters(donor_name="ada", status="all"),
        GiftFilters(date_from=date(2026, 3, 5), date_to=date(2026, 3, 9), status="all"),
    ],
)
def test_filtered_gifts_csv_matches_the_gifts_screen(varied_gifts, filters):
    ids = {gift.id for gift in db.session.scalars(gift_service.gift_query(filters))}
    assert "".join(exports.gift_csv(filters)) == reference_gifts(ids)


def gift_queries(app) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if "FROM gifts" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    return seen


def test_gifts_response_streams_batch_by_batch(app, varied_gifts, treasurer_client, monkeypatch):
    monkeypatch.setattr(gifts_module, "CHUNK_ROWS", 5)
    seen = gift_queries(app)
    response = treasurer_client.get("/reports/gifts.csv?status=all", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = iter(response.response)
    head = next(chunks)
    assert head == ("\ufeff" + csv_line(exports.GIFTS_HEADER)).encode()
    assert seen == []  # the header went out before the gifts were read
    rest = list(chunks)
    response.close()
    assert len(rest) == 5  # 21 gifts, 5 at a time
    assert (head + b"".join(rest)).decode() == reference_gifts()


# --- the goods ledger -------------------------------------------------------------------


@pytest.fixture
def varied_ledger(goods, stock_in, create_donor):
    """Every kind of document, a reversal, an anonymous donor, text needing quotes."""
    stock_in(goods.shelter, SOCKS_M=10, SOAP=4)
    north = catalog.create_site(
        actor=None, name='North, "annex"', kind="shelter", address_line1="1 North St"
    )
    named = create_donor('=HYPERLINK("http://evil")', email="secret@example.com")
    hidden = create_donor("Quiet, Person", prefers_anonymous=True)
    inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=date(2026, 2, 1),
        source="donor",
        donor_id=named.id,
        lines=[goods.line("BLANKET", 6, "good_used"), goods.line("SOAP", 3, "new")],
    )
    inventory.record_intake(
        actor=None,
        site_id=north.id,
        effective_date=date(2026, 2, 2),
        source="donor",
        donor_id=hidden.id,
        lines=[goods.line("SOCKS-M", 5, "new")],
    )
    inventory.record_intake(
        actor=None,
        site_id=north.id,
        effective_date=date(2026, 2, 3),
        source="drive",
        drive_name="@Winter, coats",
        lines=[goods.line("SOAP", 2, "new")],
    )
    distribution = inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=date(2026, 2, 4),
        recipient="Youth program",
        case_code="C-104",
        lines=[goods.line("SOCKS-M", 3)],
    )
    inventory.record_transfer(
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=north.id,
        effective_date=date(2026, 2, 5),
        lines=[goods.line("BLANKET", 2)],
    )
    inventory.record_adjustment(
        actor=None,
        site_id=north.id,
        effective_date=date(2026, 2, 6),
        reason="damaged",
        lines=[goods.line("SOAP", 1)],
    )
    db.session.commit()
    inventory.reverse_document(actor=None, document_id=distribution.id, note="Entered twice")
    db.session.commit()


def reference_ledger(*, show_names: bool) -> str:
    """The ledger file from ORM objects, every cell through safe_cell, with csv.writer."""
    hidden = set() if show_names else donor_service.anonymous_donor_ids()
    rows: list[list] = [files.LEDGER_HEADER]
    for entry in db.session.scalars(select(StockEntry).order_by(StockEntry.id)):
        doc = entry.document
        donor = doc.donor.name if doc.donor else ""
        if doc.donor_id in hidden:
            donor = donor_service.anonymous_label(doc.donor_id)
        row = [
            doc.number,
            DocumentKind(doc.kind).label,
            entry.effective_date.isoformat(),
            doc.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            entry.site.name,
            entry.item.code,
            entry.item.label,
            entry.quantity,
            ledger_module._CONDITION_LABELS.get(entry.condition, entry.condition),
            inventory.SOURCE_LABELS.get(doc.source, doc.source),
            donor,
            doc.drive_name,
            doc.recipient_record.name if doc.recipient_record else "",
            doc.case_code,
            inventory.REASON_LABELS.get(doc.reason, doc.reason),
            doc.reverses.number if doc.reverses else "",
        ]
        rows.append([safe_cell(cell) for cell in row])
    return written(rows)


@pytest.mark.parametrize("show_names", [True, False])
def test_ledger_csv_is_the_plain_recomputation_byte_for_byte(varied_ledger, show_names):
    text = "".join(files.ledger_csv(show_names=show_names))
    assert text == reference_ledger(show_names=show_names)
    assert '"North, ""annex"""' in text and '"\'@Winter, coats"' in text
    assert ("Quiet, Person" in text) is show_names


def test_ledger_response_streams_batch_by_batch(varied_ledger, login, monkeypatch):
    monkeypatch.setattr(ledger_module, "EXPORT_BATCH", 4)
    response = login(Role.STAFF).get("/inventory/export/ledger.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = list(response.response)
    response.close()
    entries = db.session.scalar(select(db.func.count()).select_from(StockEntry))
    assert len(chunks) == 1 + -(-entries // 4)  # the header, then one chunk per 4 entries
    assert b"".join(chunks).decode() == reference_ledger(show_names=False)


def _connection_settings() -> object:
    """SQLite: the connection's page cache (KiB, negative); PostgreSQL: every setting the
    session itself changed."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql("PRAGMA cache_size").scalar()
    sql = "SELECT name, setting FROM pg_settings WHERE source = 'session' ORDER BY name"
    return connection.exec_driver_sql(sql).all()


@pytest.mark.parametrize("export", ["gifts", "ledger"])
def test_an_export_reads_with_a_small_page_cache_and_puts_the_large_one_back(
    export, varied_gifts, varied_ledger
):
    """On SQLite, while a CSV streams, its connection keeps a small page cache
    (memory does not grow with the file); the connection's own cache is put back after,
    also when the reader stops half way. PostgreSQL's session settings are left alone."""
    sqlite = db.engine.dialect.name == "sqlite"
    kept = _connection_settings()
    if sqlite:
        assert kept == -32768
    for stop_early in (False, True):
        chunks = (
            exports.gift_csv(GiftFilters(status="all"), batch=1)
            if export == "gifts"
            else files.ledger_csv(batch=1)
        )
        next(chunks)  # the header
        next(chunks)  # the first batch: the statement is running
        assert _connection_settings() == (-streaming.EXPORT_CACHE_KIB if sqlite else kept)
        if stop_early:
            chunks.close()
        else:
            for _ in chunks:
                pass
        assert _connection_settings() == kept
