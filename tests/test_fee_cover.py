"""Covering the card fee is exact: charge the least total that still nets the whole gift."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from donations.extensions import db
from donations.integrations.local_gateway import OfflineStripe
from donations.models import Gift, GivingSettings
from donations.money import gross_up, processing_fee
from donations.services import funds as fund_service
from donations.services import giving
from fakes.stripe import LocalStripe

MAX_AMOUNT_CENTS = GivingSettings.__table__.c.max_amount_cents.default.arg  # $25,000
PERCENT_BP = GivingSettings.__table__.c.fee_percent_bp.default.arg  # 2.9 %
FIXED_CENTS = GivingSettings.__table__.c.fee_fixed_cents.default.arg  # 30c


def net(total: int, percent_bp: int = PERCENT_BP, fixed_cents: int = FIXED_CENTS) -> int:
    return total - processing_fee(total, percent_bp=percent_bp, fixed_cents=fixed_cents)


def assert_exact(gift: int, percent_bp: int = PERCENT_BP, fixed_cents: int = FIXED_CENTS) -> None:
    total = gross_up(gift, percent_bp=percent_bp, fixed_cents=fixed_cents)
    assert net(total, percent_bp, fixed_cents) >= gift, (gift, total)
    assert net(total - 1, percent_bp, fixed_cents) < gift, (gift, total)  # and the least


def test_thirty_five_dollars_charges_36_35_and_nets_exactly_35():
    total = gross_up(3500, percent_bp=290, fixed_cents=30)
    assert total == 3635  # not $36.36, which nets $35.01
    assert processing_fee(3635, percent_bp=290, fixed_cents=30) == 135  # 105.415 -> 105, + 30
    assert net(3635) == 3500
    assert net(3634) == 3499


@pytest.mark.parametrize(
    ("gift", "total"), [(100, 134), (500, 546), (2500, 2606), (5000, 5180), (10000, 10330)]
)
def test_known_totals_at_the_default_rates(gift, total):
    assert gross_up(gift, percent_bp=290, fixed_cents=30) == total
    assert_exact(gift)


def test_every_amount_from_one_dollar_to_two_hundred_is_exact():
    for gift in range(100, 20_001):
        assert_exact(gift)


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=100, max_value=MAX_AMOUNT_CENTS))
def test_any_amount_up_to_the_maximum_is_exact_at_the_default_rates(gift):
    assert_exact(gift)


@settings(max_examples=1000, deadline=None)
@given(
    gift=st.integers(min_value=1, max_value=MAX_AMOUNT_CENTS),
    percent_bp=st.integers(min_value=0, max_value=9_999),
    fixed_cents=st.integers(min_value=0, max_value=10_000),
)
def test_any_amount_is_exact_at_any_rates_an_admin_may_set(gift, percent_bp, fixed_cents):
    assert_exact(gift, percent_bp, fixed_cents)


@settings(max_examples=500, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=10 * MAX_AMOUNT_CENTS),
    percent_bp=st.integers(min_value=0, max_value=9_999),
    fixed_cents=st.integers(min_value=0, max_value=1_000),
)
def test_the_fee_rule_is_the_one_the_local_stripe_charges(total, percent_bp, fixed_cents):
    expected = processing_fee(total, percent_bp=percent_bp, fixed_cents=fixed_cents)
    stripe = LocalStripe(None, fee_percent_bp=percent_bp, fee_fixed_cents=fixed_cents)
    assert stripe.processing_fee(total) == expected
    test_mode = OfflineStripe(None, fee_percent_bp=percent_bp, fee_fixed_cents=fixed_cents)
    assert test_mode.processing_fee(total) == expected


def test_no_fee_means_no_extra():
    assert gross_up(3500, percent_bp=0, fixed_cents=0) == 3500


@pytest.mark.parametrize("bad", [0, -1, -3500])
def test_a_gift_of_nothing_or_less_is_refused(bad):
    with pytest.raises(ValueError):
        gross_up(bad, percent_bp=290, fixed_cents=30)


def test_fee_cover_charges_the_exact_total(app):
    page = GivingSettings(fee_percent_bp=290, fee_fixed_cents=30)
    cover = giving.fee_cover(3500, cover=True, settings=page)
    assert (cover.gift_cents, cover.total_cents, cover.covered_cents) == (3500, 3635, 135)
    plain = giving.fee_cover(3500, cover=False, settings=page)
    assert (plain.total_cents, plain.covered_cents) == (3500, 0)


@pytest.fixture
def page_settings(app):
    """The standard funds and the default page settings (2.9 % + 30 cents)."""
    funds = giving.ensure_default_funds()
    fund_service.update_giving_settings(
        actor=None,
        preset_amounts=[2500, 5000, 10000, 25000],
        min_amount_cents=500,
        max_amount_cents=MAX_AMOUNT_CENTS,
        fee_percent_bp=290,
        fee_fixed_cents=30,
        impact_text="",
        default_fund_id=None,
    )
    db.session.commit()
    return funds


def test_a_35_dollar_gift_with_the_fee_covered_is_charged_36_35_and_nets_35(client, page_settings):
    form = {
        "amount": "other",
        "other_amount": "35",
        "frequency": "one_time",
        "fund": str(page_settings[0].id),
        "cover_fee": "y",
        "name": "Ann Lee",
        "email": "ann@example.com",
    }
    html = client.post("/give", data=form).get_data(as_text=True)
    assert "You give $36.35 once" in html
    assert "$36.35 = your $35.00 gift + $1.35 to cover the card fee" in html
    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    checkout = client.post("/give/checkout", data={"payload": payload})
    assert checkout.status_code == 303
    paid = client.post(checkout.headers["Location"], data={"action": "pay"})
    assert paid.status_code == 303

    gift = db.session.scalars(select(Gift)).one()
    assert (gift.status, gift.amount_cents, gift.covered_fee_cents) == ("paid", 3635, 135)
    assert gift.fee_cents == 135  # what the (local) Stripe took
    assert gift.net_cents == 3500  # the whole gift reaches the shelter, not a cent more
