"""The treasurer's gifts area: filters and totals, offline gifts and corrections,
monthly plans, Stripe events processed again, and `flask stripe replay`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    AuditEvent,
    Donor,
    Frequency,
    Fund,
    Gift,
    GiftMethod,
    GiftSource,
    GiftStatus,
    PlanStatus,
    RecurringPlan,
    StripeEvent,
    StripeEventStatus,
    utcnow,
)
from donations.services import gifts as gift_service
from donations.services import payments, stripe_events
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.gifts import GiftFilters

# --- factories -----------------------------------------------------------------


@pytest.fixture
def funds(app) -> dict[str, Fund]:
    made = {
        "general": Fund(name="General", sort_order=0),
        "shelter": Fund(name="Shelter operations", sort_order=1, is_restricted=True),
    }
    db.session.add_all(made.values())
    db.session.commit()
    return made


@pytest.fixture
def donor(create_donor) -> Donor:
    return create_donor("Eleanor Whitfield", email="eleanor@example.com")


@pytest.fixture
def make_gift(app, funds, donor) -> Callable[..., Gift]:
    """Add a gift straight through the ORM: paid online by default."""

    def make(**fields: Any) -> Gift:
        received = fields.pop("received", date(2025, 3, 10))
        if isinstance(received, date) and not isinstance(received, datetime):
            received = datetime(received.year, received.month, received.day, 12, tzinfo=UTC)
        values: dict[str, Any] = {
            "donor_id": donor.id,
            "fund_id": funds["general"].id,
            "source": GiftSource.ONLINE.value,
            "method": GiftMethod.CARD.value,
            "frequency": Frequency.ONE_TIME.value,
            "status": GiftStatus.PAID.value,
            "currency": "USD",
            "amount_cents": 5000,
            "received_at": received,
        }
        values.update(fields)
        gift = Gift(**values)
        db.session.add(gift)
        db.session.commit()
        return gift

    return make


def ids(filters: GiftFilters) -> set[int]:
    return {gift.id for gift in db.session.scalars(gift_service.gift_query(filters)).unique()}


def gift_count() -> int:
    return db.session.scalar(select(func.count(Gift.id)))


def audit_actions(gift_id: int) -> list[str]:
    query = (
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "gift", AuditEvent.object_id == str(gift_id))
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(query))


def cents(text: str) -> int:
    """'-$1,234.56' -> -123456."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    return sign * int(Decimal(re.sub(r"[^0-9.]", "", text)) * 100)


def older_link(html: str) -> str | None:
    """Return the pager's link to the next, older page, or None on the last page."""
    found = re.search(r'<a href="([^"]+)" rel="next"', html)
    return unescape(found.group(1)) if found else None


def table_rows(html: str, part: str = "tbody") -> list[list[str]]:
    """Return the cells of each row in the first <tbody> or <tfoot> of the page."""
    body = re.search(rf"<{part}>(.*?)</{part}>", html, re.S)
    assert body, f"no <{part}> on the page"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)
        ]
        for r in rows
    ]


# --- filters -------------------------------------------------------------------


def test_filters_by_date_fund_method_donor_and_frequency(make_gift, funds, donor, create_donor):
    other = create_donor("Marcus Johnson")
    march = make_gift(received=date(2025, 3, 1))
    # The last minute of the day still counts: date_to is inclusive in UTC.
    late = make_gift(received=datetime(2025, 3, 31, 23, 59, tzinfo=UTC))
    april = make_gift(received=date(2025, 4, 1), fund_id=funds["shelter"].id)
    cheque = make_gift(source="offline", method="cheque", cheque_number="101", donor_id=other.id)
    monthly = make_gift(frequency="monthly", donor_id=other.id)

    in_march = GiftFilters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31))
    assert ids(in_march) == {march.id, late.id, cheque.id, monthly.id}
    assert ids(GiftFilters(date_from=date(2025, 4, 1))) == {april.id}
    assert ids(GiftFilters(date_to=date(2025, 3, 1))) == {march.id}
    assert ids(GiftFilters(fund_id=funds["shelter"].id)) == {april.id}
    assert ids(GiftFilters(method="cheque")) == {cheque.id}
    assert ids(GiftFilters(donor_id=other.id)) == {cheque.id, monthly.id}
    assert ids(GiftFilters(donor_name="MARCUS")) == {cheque.id, monthly.id}
    assert ids(GiftFilters(donor_name="whit")) == {march.id, late.id, april.id}
    assert ids(GiftFilters(frequency="monthly")) == {monthly.id}
    assert ids(GiftFilters(frequency="monthly", donor_name="Eleanor")) == set()


def test_status_filters(make_gift):
    plain = make_gift()
    refunded = make_gift(refunded_cents=5000)
    partly = make_gift(refunded_cents=1000)
    disputed = make_gift(dispute_status="needs_response", dispute_cents=5000)
    won = make_gift(dispute_status="won")
    reversal = make_gift(source="offline", method="cash", amount_cents=-5000, is_reversal=True)
    pending = make_gift(status="pending")
    processing = make_gift(status="processing")
    failed = make_gift(status="failed")
    expired = make_gift(status="expired")

    received = {plain.id, refunded.id, partly.id, disputed.id, won.id, reversal.id}
    assert ids(GiftFilters()) == received
    assert ids(GiftFilters(status="received")) == received
    assert ids(GiftFilters(status="paid")) == {plain.id, won.id}
    assert ids(GiftFilters(status="refunded")) == {refunded.id, partly.id}
    assert ids(GiftFilters(status="disputed")) == {disputed.id, won.id}
    assert ids(GiftFilters(status="pending")) == {pending.id}
    assert ids(GiftFilters(status="processing")) == {processing.id}
    assert ids(GiftFilters(status="failed")) == {failed.id}
    assert ids(GiftFilters(status="expired")) == {expired.id}
    assert ids(GiftFilters(status="all")) == received | {
        pending.id,
        processing.id,
        failed.id,
        expired.id,
    }
    with pytest.raises(InvalidInput):
        gift_service.gift_query(GiftFilters(status="bogus"))


def test_gifts_page_filters_from_the_query_string(treasurer_client, make_gift, funds):
    make_gift(fund_id=funds["general"].id, amount_cents=1111)
    make_gift(fund_id=funds["shelter"].id, amount_cents=2222, method="cash", source="offline")
    make_gift(amount_cents=4444, status="failed")

    html = treasurer_client.get("/gifts/").get_data(as_text=True)
    assert "$11.11" in html and "$22.22" in html
    assert "$44.44" not in html  # failed: not received

    html = treasurer_client.get(
        f"/gifts/?fund={funds['shelter'].id}&method=cash&date_from=2025-03-01&date_to=2025-03-31"
    ).get_data(as_text=True)
    assert "$22.22" in html and "$11.11" not in html

    html = treasurer_client.get("/gifts/?status=failed").get_data(as_text=True)
    assert "$44.44" in html and "$11.11" not in html

    # Nonsense in the query string is ignored, not a crash.
    response = treasurer_client.get("/gifts/?date_from=soon&fund=abc&status=x&donor_id=y")
    assert response.status_code == 200
    assert "$11.11" in response.get_data(as_text=True)


def test_gifts_page_for_one_donor_links_back_to_all(treasurer_client, make_gift, create_donor):
    other = create_donor("Marcus Johnson")
    make_gift(amount_cents=1111)
    make_gift(amount_cents=2222, donor_id=other.id, is_anonymous=True)
    html = treasurer_client.get(f"/gifts/?donor_id={other.id}").get_data(as_text=True)
    assert "$22.22" in html and "$11.11" not in html
    assert "Showing only gifts from" in html
    assert "(anonymous)" in html
    assert f'href="/donors/{other.id}"' in html


# --- totals ----------------------------------------------------------------------


def test_totals_equal_the_sum_of_every_listed_row_across_pages(app, treasurer_client, make_gift):
    app.config["GIFTS_PER_PAGE"] = 2
    make_gift(amount_cents=10_000, fee_cents=320, received=date(2025, 3, 1))
    make_gift(amount_cents=5_150, covered_fee_cents=150, fee_cents=179, refunded_cents=2_000,
              received=date(2025, 3, 2))  # fmt: skip
    make_gift(amount_cents=2_500, fee_cents=103, dispute_status="lost", dispute_cents=2_500,
              dispute_fee_cents=1_500, received=date(2025, 3, 3))  # fmt: skip
    make_gift(amount_cents=7_700, source="offline", method="cash", received=date(2025, 3, 4))
    make_gift(amount_cents=-7_700, source="offline", method="cash", is_reversal=True,
              received=date(2025, 3, 4))  # fmt: skip
    make_gift(amount_cents=999_999, status="failed", received=date(2025, 3, 5))

    listed = []
    url = "/gifts/"
    for number in (1, 2, 3):  # the first page, then each "Older" link in turn
        html = treasurer_client.get(url).get_data(as_text=True)
        rows = table_rows(html)
        assert len(rows) == (1 if number == 3 else 2)
        url = older_link(html)
        listed += [[cents(cell) for cell in row[-4:]] for row in rows]
        footer = table_rows(html, "tfoot")
        assert len(footer) == 1
        assert "5 gifts" in footer[0][0]
        assert "Totals cover all 5 gifts matching the filters" in html
    assert len(listed) == 5
    assert url is None  # the third page is the oldest

    gross, fee, returned, net = (sum(row[i] for row in listed) for i in range(4))
    assert [cents(cell) for cell in footer[0][-4:]] == [gross, fee, returned, net]
    assert (gross, fee, returned, net) == (
        10_000 + 5_150 + 2_500,
        320 + 179 + 103 + 1_500,
        2_000 + 2_500,
        17_650 - 2_102 - 4_500,
    )
    for row in listed:
        assert row[0] - row[1] - row[2] == row[3]

    (totals,) = gift_service.gift_totals(GiftFilters())
    assert (totals.count, totals.gross_cents, totals.fee_cents) == (5, gross, fee)
    assert (totals.returned_cents, totals.net_cents) == (returned, net)


def test_totals_are_per_currency(treasurer_client, make_gift):
    make_gift(amount_cents=1_000, currency="USD")
    make_gift(amount_cents=2_000, currency="CAD", fee_cents=100)
    make_gift(amount_cents=3_000, currency="CAD")

    totals = {t.currency: t for t in gift_service.gift_totals(GiftFilters())}
    assert totals["USD"].gross_cents == 1_000 and totals["USD"].count == 1
    assert totals["CAD"].gross_cents == 5_000 and totals["CAD"].net_cents == 4_900

    footer = table_rows(treasurer_client.get("/gifts/").get_data(as_text=True), "tfoot")
    assert [row[0] for row in footer] == ["Total in CAD, 2 gifts", "Total in USD, 1 gift"]
    assert footer[0][-1] == "CA$49.00"


def test_empty_states(treasurer_client, make_gift):
    html = treasurer_client.get("/gifts/").get_data(as_text=True)
    assert "No gifts received yet" in html
    assert 'href="/gifts/new"' in html
    make_gift()
    html = treasurer_client.get("/gifts/?method=securities").get_data(as_text=True)
    assert "No gifts match these filters" in html
    assert "<tfoot>" not in html


# --- offline gifts ---------------------------------------------------------------


def offline_form(donor_id: int, fund_id: int, **overrides: str) -> dict[str, str]:
    data = {
        "donor_id": str(donor_id),
        "fund_id": str(fund_id),
        "method": "cash",
        "amount": "120.50",
        "received_on": "2025-03-10",
        "cheque_number": "",
        "reference": "",
        "memo": "",
    }
    data.update(overrides)
    return data


def test_record_offline_cheque(treasurer_client, donor, funds):
    response = treasurer_client.post(
        "/gifts/new",
        data=offline_form(
            donor.id, funds["shelter"].id, method="cheque", cheque_number=" 1047 ", memo="Thanks"
        ),
    )
    assert response.status_code == 302
    gift = db.session.scalars(select(Gift)).one()
    assert response.headers["Location"].endswith(f"/gifts/{gift.id}")
    assert (gift.source, gift.method, gift.status) == ("offline", "cheque", "paid")
    assert (gift.amount_cents, gift.currency, gift.fee_cents) == (12_050, "USD", 0)
    assert gift.cheque_number == "1047" and gift.memo == "Thanks"
    assert gift.frequency == "one_time" and gift.fund_id == funds["shelter"].id
    assert gift.received_at == datetime(2025, 3, 10, tzinfo=UTC)
    assert gift.created_by_id == treasurer_client.user.id
    assert audit_actions(gift.id) == ["gift.record_offline"]

    html = treasurer_client.get(f"/gifts/{gift.id}").get_data(as_text=True)
    assert "Cheque #1047" in html and "$120.50" in html
    assert "Correct this gift" in html
    # A cheque has a day, not a time, and no card fee or dispute rows that can only be zero.
    received = html.split("<dt>Received</dt>", 1)[1].split("</dd>", 1)[0]
    assert "2025-03-10" in received and "UTC" not in received
    assert "Less Stripe fee" not in html and "dispute" not in html.lower()


def test_cheque_without_number_is_refused_and_input_kept(treasurer_client, donor, funds):
    response = treasurer_client.post(
        "/gifts/new",
        data=offline_form(
            donor.id, funds["general"].id, method="cheque", amount="75.25", memo="Gala night"
        ),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Enter the cheque number." in html
    assert 'value="75.25"' in html and "Gala night" in html
    assert donor.name in html
    assert gift_count() == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "Use at most 2 decimal places."),
        ("0", "Enter an amount greater than zero."),
        ("twelve", "Enter the amount as a number, such as 50 or 50.00."),
        ("", "Enter an amount."),
    ],
)
def test_bad_amounts_are_refused(treasurer_client, donor, funds, amount, message):
    response = treasurer_client.post(
        "/gifts/new", data=offline_form(donor.id, funds["general"].id, amount=amount)
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert gift_count() == 0


def test_future_date_is_refused(treasurer_client, donor, funds):
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    response = treasurer_client.post(
        "/gifts/new", data=offline_form(donor.id, funds["general"].id, received_on=tomorrow)
    )
    assert "The date received cannot be in the future." in response.get_data(as_text=True)
    assert gift_count() == 0


def test_offline_gift_rules(app, donor, funds, create_donor):
    def record(**overrides: Any) -> Gift:
        values: dict[str, Any] = {
            "actor": None,
            "donor_id": donor.id,
            "fund_id": funds["general"].id,
            "method": "cash",
            "amount_cents": 1000,
            "currency": "USD",
            "received_on": date(2025, 3, 1),
        }
        values.update(overrides)
        return gift_service.record_offline_gift(**values)

    cases = [
        ({"method": "securities"}, "reference"),
        ({"method": "card"}, "method"),
        ({"amount_cents": 0}, "amount"),
        ({"amount_cents": -5}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"fund_id": 9999}, "fund_id"),
        ({"donor_id": 9999}, "donor_id"),
        ({"cheque_number": "12"}, "cheque_number"),
        ({"memo": "x" * 2001}, "memo"),
    ]
    for overrides, field in cases:
        with pytest.raises(InvalidInput) as caught:
            record(**overrides)
        assert caught.value.field == field, overrides

    duplicate = create_donor("Eleanor W.")
    duplicate.merged_into_id = donor.id
    db.session.commit()
    with pytest.raises(InvalidInput, match="merged"):
        record(donor_id=duplicate.id)

    gift = record(method="securities", reference="10 shares of ACME Corp", is_anonymous=True)
    assert gift.reference == "10 shares of ACME Corp" and gift.is_anonymous
    assert record(method="bank_transfer", reference="").method == "bank_transfer"


def test_new_offline_gift_chooses_the_donor_without_javascript(treasurer_client, donor, funds):
    html = treasurer_client.get("/gifts/new").get_data(as_text=True)
    assert "Find the donor by name or email" in html
    assert "Record gift</button>" not in html

    html = treasurer_client.get("/gifts/new?q=whitf").get_data(as_text=True)
    assert f'href="/gifts/new?donor_id={donor.id}"' in html

    html = treasurer_client.get(f"/gifts/new?donor_id={donor.id}").get_data(as_text=True)
    assert "Eleanor Whitfield" in html
    assert "Record gift</button>" in html
    assert f'value="{utcnow().date().isoformat()}"' in html  # received today by default
    assert "Choose another donor" in html


# --- corrections -----------------------------------------------------------------


@pytest.fixture
def offline_gift(app, donor, funds) -> Gift:
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=funds["general"].id,
        method="cheque",
        amount_cents=10_000,
        currency="USD",
        received_on=date(2025, 3, 10),
        cheque_number="555",
    )
    db.session.commit()
    return gift


def test_correction_reverses_and_replaces(treasurer_client, offline_gift, funds):
    original = offline_gift
    before = {c.name: getattr(original, c.name) for c in Gift.__table__.columns}
    page = treasurer_client.get(f"/gifts/{original.id}/correct").get_data(as_text=True)
    assert 'value="100.00"' in page and 'value="555"' in page
    assert "-$100.00" in page  # says what the reversing entry will be

    response = treasurer_client.post(
        f"/gifts/{original.id}/correct",
        data=offline_form(
            original.donor_id,
            funds["shelter"].id,
            method="cheque",
            cheque_number="555",
            amount="1,000.00",
            received_on="2025-03-10",
            reason="Typed 100 instead of 1,000",
        ),
    )
    assert response.status_code == 302
    reversal, replacement = db.session.scalars(
        select(Gift).where(Gift.corrects_gift_id == original.id).order_by(Gift.id)
    ).all()
    assert response.headers["Location"].endswith(f"/gifts/{replacement.id}")

    db.session.refresh(original)
    assert {c.name: getattr(original, c.name) for c in Gift.__table__.columns} == before

    assert reversal.is_reversal and reversal.amount_cents == -10_000
    assert reversal.fee_cents == 0 and reversal.fund_id == original.fund_id
    assert reversal.received_at == original.received_at and reversal.method == "cheque"
    assert "Typed 100 instead of 1,000" in reversal.memo
    assert not replacement.is_reversal and replacement.amount_cents == 100_000
    assert replacement.fund_id == funds["shelter"].id and replacement.status == "paid"

    (totals,) = gift_service.gift_totals(GiftFilters(date_from=date(2025, 3, 10)))
    assert (totals.count, totals.gross_cents, totals.net_cents) == (3, 100_000, 100_000)

    assert audit_actions(original.id) == ["gift.record_offline", "gift.correct"]
    assert audit_actions(reversal.id) == ["gift.reverse"]
    assert audit_actions(replacement.id) == ["gift.replace"]

    html = treasurer_client.get(f"/gifts/{original.id}").get_data(as_text=True)
    assert f'href="/gifts/{reversal.id}"' in html and f'href="/gifts/{replacement.id}"' in html
    assert "Correct this gift" not in html
    html = treasurer_client.get(f"/gifts/{replacement.id}").get_data(as_text=True)
    assert f'replaces <a href="/gifts/{original.id}"' in html


def test_correcting_twice_is_refused(treasurer_client, offline_gift):
    gift_service.correct_gift(actor=None, gift=offline_gift, reason="Duplicate", void_only=True)
    db.session.commit()
    with pytest.raises(NotAllowed, match="already been corrected"):
        gift_service.correct_gift(actor=None, gift=offline_gift, reason="Again", amount_cents=5)
    db.session.rollback()

    response = treasurer_client.get(f"/gifts/{offline_gift.id}/correct")
    assert response.status_code == 302
    response = treasurer_client.post(
        f"/gifts/{offline_gift.id}/correct",
        data=offline_form(offline_gift.donor_id, offline_gift.fund_id, reason="Again"),
        follow_redirects=True,
    )
    assert "already been corrected" in response.get_data(as_text=True)
    assert gift_count() == 2


def test_void_only_leaves_nothing_in_the_totals(treasurer_client, offline_gift):
    response = treasurer_client.post(
        f"/gifts/{offline_gift.id}/correct",
        data=offline_form(
            offline_gift.donor_id,
            offline_gift.fund_id,
            method="cheque",
            cheque_number="555",
            amount="100",
            reason="Cheque bounced",
            void_only="y",
        ),
    )
    assert response.status_code == 302
    (reversal,) = db.session.scalars(select(Gift).where(Gift.is_reversal.is_(True))).all()
    assert response.headers["Location"].endswith(f"/gifts/{reversal.id}")
    (totals,) = gift_service.gift_totals(GiftFilters())
    assert (totals.count, totals.gross_cents, totals.net_cents) == (2, 0, 0)


def test_correction_needs_a_reason_and_a_change(treasurer_client, offline_gift):
    unchanged = offline_form(
        offline_gift.donor_id,
        offline_gift.fund_id,
        method="cheque",
        cheque_number="555",
        amount="100.00",
    )
    response = treasurer_client.post(f"/gifts/{offline_gift.id}/correct", data=unchanged)
    assert "Say why the gift is being corrected." in response.get_data(as_text=True)
    response = treasurer_client.post(
        f"/gifts/{offline_gift.id}/correct", data={**unchanged, "reason": "Oops"}
    )
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert gift_count() == 1


def test_only_offline_paid_gifts_can_be_corrected(treasurer_client, make_gift):
    online = make_gift()
    failed = make_gift(source="offline", method="cash", status="failed")
    for gift in (online, failed):
        with pytest.raises(NotAllowed):
            gift_service.correct_gift(actor=None, gift=gift, reason="x", void_only=True)
        db.session.rollback()
        assert "Correct this gift" not in treasurer_client.get(f"/gifts/{gift.id}").get_data(
            as_text=True
        )
    reversal, _ = gift_service.correct_gift(
        actor=None, gift=make_gift(source="offline", method="cash"), reason="x", void_only=True
    )
    with pytest.raises(NotAllowed, match="reversing entry"):
        gift_service.correct_gift(actor=None, gift=reversal, reason="x", void_only=True)


# --- one gift --------------------------------------------------------------------


def test_detail_shows_money_breakdown_and_stripe_events(treasurer_client, make_gift):
    gift = make_gift(
        amount_cents=5_150,
        covered_fee_cents=150,
        fee_cents=179,
        refunded_cents=1_000,
        stripe_payment_intent_id="pi_123",
        stripe_charge_id="ch_123",
    )
    db.session.add_all(
        [
            StripeEvent(
                event_id="evt_linked",
                type="charge.succeeded",
                payload="{}",
                status="processed",
                gift_id=gift.id,
                attempts=1,
            ),
            StripeEvent(
                event_id="evt_parked",
                type="charge.refunded",
                payload="{}",
                status="parked",
                object_id="ch_123",
                last_error="no gift has charge ch_123 yet",
            ),
            StripeEvent(
                event_id="evt_other", type="charge.refunded", payload="{}", status="failed"
            ),
        ]
    )
    db.session.commit()
    html = treasurer_client.get(f"/gifts/{gift.id}").get_data(as_text=True)
    for text in ("$51.50", "$1.50", "-$1.79", "-$10.00", "$39.71", "pi_123", "ch_123"):
        assert text in html, text
    assert "charge.succeeded" in html and "no gift has charge ch_123 yet" in html
    assert "evt_other" not in html
    assert "partially refunded" in html
    assert treasurer_client.get("/gifts/999999").status_code == 404


# --- monthly plans ---------------------------------------------------------------


def test_plans_page_shows_instalments_and_next_date(treasurer_client, make_gift, donor, funds):
    active = RecurringPlan(
        donor_id=donor.id,
        fund_id=funds["general"].id,
        amount_cents=2_500,
        currency="USD",
        status=PlanStatus.ACTIVE.value,
        started_at=datetime(2025, 1, 5, tzinfo=UTC),
        next_payment_at=datetime(2025, 4, 5, tzinfo=UTC),
    )
    cancelled = RecurringPlan(
        donor_id=donor.id,
        fund_id=funds["shelter"].id,
        amount_cents=4_200,
        currency="USD",
        status=PlanStatus.CANCELLED.value,
        started_at=datetime(2024, 6, 1, tzinfo=UTC),
        cancelled_at=datetime(2024, 9, 2, tzinfo=UTC),
        next_payment_at=datetime(2024, 10, 1, tzinfo=UTC),
    )
    db.session.add_all([active, cancelled])
    db.session.commit()
    for _ in range(3):
        make_gift(plan_id=active.id, frequency="monthly", amount_cents=2_500)
    make_gift(plan_id=active.id, frequency="monthly", status="failed")
    make_gift(plan_id=cancelled.id, frequency="monthly", amount_cents=4_200)

    html = treasurer_client.get("/gifts/plans").get_data(as_text=True)
    rows = {row[1]: row for row in table_rows(html)}
    assert rows["$25.00"][3:6] == ["active", "3", "2025-04-05"]
    assert rows["$42.00"][3:] == ["cancelled", "1", "—", "2024-06-01", "2024-09-02"]

    html = treasurer_client.get("/gifts/plans?status=past_due").get_data(as_text=True)
    assert "No past due monthly plans" in html


# --- Stripe events ---------------------------------------------------------------


@pytest.fixture
def failed_event(app) -> StripeEvent:
    event = StripeEvent(
        event_id="evt_failed_1",
        type="test.replayable",
        payload=json.dumps({"data": {"object": {"id": "obj_1"}}}),
        status=StripeEventStatus.FAILED.value,
        attempts=1,
        last_error="RuntimeError: database was busy",
    )
    db.session.add(event)
    db.session.add(
        StripeEvent(event_id="evt_done", type="charge.succeeded", payload="{}", status="processed")
    )
    db.session.commit()
    return event


@pytest.fixture
def working_handler(monkeypatch) -> list[dict]:
    """Make the failed event's type succeed now, through a stub gateway."""
    seen: list[dict] = []
    gateway = object()

    def handler(obj: dict, run: stripe_events.Run) -> None:
        assert run.gateway is gateway
        seen.append(obj)

    monkeypatch.setattr(payments, "get_gateway", lambda: gateway)
    monkeypatch.setitem(stripe_events.HANDLERS, "test.replayable", handler)
    return seen


def test_events_page_lists_failed_events_and_processes_them_again(
    treasurer_client, failed_event, working_handler
):
    html = treasurer_client.get("/gifts/events").get_data(as_text=True)
    assert "evt_failed_1" in html and "database was busy" in html
    assert "evt_done" not in html  # processed: not shown by default
    assert "Process again" in html
    assert "evt_done" in treasurer_client.get("/gifts/events?status=all").get_data(as_text=True)
    assert "1 Stripe event has failed" in treasurer_client.get("/gifts/").get_data(as_text=True)

    response = treasurer_client.post(
        f"/gifts/events/{failed_event.id}/replay", data={"status": "attention"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/gifts/events?status=attention")
    event = db.session.get(StripeEvent, failed_event.id)
    assert event.status == "processed" and event.attempts == 2 and event.last_error == ""
    assert working_handler == [{"id": "obj_1"}]
    html = treasurer_client.get("/gifts/events").get_data(as_text=True)
    assert "now processed" in html
    assert "Nothing needs attention" in html

    # Once processed there is nothing to redo: the handler is not run again.
    response = treasurer_client.post(
        f"/gifts/events/{failed_event.id}/replay", follow_redirects=True
    )
    assert "there is nothing to redo" in response.get_data(as_text=True)
    assert len(working_handler) == 1
    assert treasurer_client.post("/gifts/events/999999/replay").status_code == 404


def test_flask_stripe_replay(app, failed_event, working_handler):
    parked = StripeEvent(
        event_id="evt_parked_1",
        type="test.unknown_type",
        payload="{}",
        status=StripeEventStatus.PARKED.value,
    )
    db.session.add(parked)
    db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["stripe", "replay", "--event", str(failed_event.id)])
    assert result.exit_code == 0, result.output
    assert "Processed 1 event again: processed 1." in result.output
    assert db.session.get(StripeEvent, parked.id, populate_existing=True).status == "parked"

    result = runner.invoke(args=["stripe", "replay"])
    assert result.exit_code == 0, result.output
    assert "Processed 1 event again: ignored 1." in result.output

    result = runner.invoke(args=["stripe", "replay"])
    assert "No failed or parked events to process." in result.output


# --- access ----------------------------------------------------------------------

GIFT_ROUTES = [
    ("GET", "/gifts/"),
    ("GET", "/gifts/{gift_id}"),
    ("GET", "/gifts/new"),
    ("POST", "/gifts/new"),
    ("GET", "/gifts/{gift_id}/correct"),
    ("POST", "/gifts/{gift_id}/correct"),
    ("GET", "/gifts/plans"),
    ("GET", "/gifts/events"),
    ("POST", "/gifts/events/{event_id}/replay"),
]


def test_staff_are_refused_every_gifts_route(app, staff_client, make_gift, failed_event):
    gift = make_gift(source="offline", method="cash")
    gifts_rules = {
        rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("gifts.")
    }
    assert len(gifts_rules) == 7
    for method, path in GIFT_ROUTES:
        url = path.format(gift_id=gift.id, event_id=failed_event.id)
        response = staff_client.open(url, method=method, data={})
        assert response.status_code == 403, f"staff reached {method} {url}"
        anonymous = app.test_client().open(url, method=method, data={})
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert db.session.get(StripeEvent, failed_event.id).status == "failed"
    assert gift_count() == 1


def test_admins_reach_the_gifts_pages(admin_client, make_gift, failed_event):
    gift = make_gift()
    for path in ("/gifts/", f"/gifts/{gift.id}", "/gifts/new", "/gifts/plans", "/gifts/events"):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert "<h1>" in response.get_data(as_text=True)


def test_correction_can_move_the_gift_to_another_donor(
    treasurer_client, offline_gift, create_donor
):
    other = create_donor("Marcus Johnson")
    html = treasurer_client.get(f"/gifts/{offline_gift.id}/correct?change_donor=1&q=marcus")
    assert f'href="/gifts/{offline_gift.id}/correct?donor_id={other.id}"' in html.get_data(
        as_text=True
    )
    html = treasurer_client.get(f"/gifts/{offline_gift.id}/correct?donor_id={other.id}")
    assert "Marcus Johnson" in html.get_data(as_text=True)
    response = treasurer_client.post(
        f"/gifts/{offline_gift.id}/correct?donor_id={other.id}",
        data=offline_form(
            other.id,
            offline_gift.fund_id,
            method="cheque",
            cheque_number="555",
            amount="100.00",
            reason="Wrong donor picked",
        ),
    )
    assert response.status_code == 302
    replacement = db.session.scalar(
        select(Gift).where(Gift.corrects_gift_id == offline_gift.id, Gift.is_reversal.is_(False))
    )
    assert replacement.donor_id == other.id and replacement.amount_cents == 10_000
    reversal = db.session.scalar(select(Gift).where(Gift.is_reversal.is_(True)))
    assert reversal.donor_id == offline_gift.donor_id
