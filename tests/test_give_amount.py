"""The donation form does what the donor typed: a typed amount wins over a chosen tile."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Donor, Gift
from donations.services import funds as fund_service
from donations.services import giving


@pytest.fixture
def fund_id(app) -> int:
    funds = giving.ensure_default_funds()
    fund_service.update_giving_settings(
        actor=None,
        preset_amounts=[2500, 5000, 10000, 25000],
        min_amount_cents=500,
        max_amount_cents=2_500_000,
        fee_percent_bp=290,
        fee_fixed_cents=30,
        impact_text="",
        default_fund_id=None,
    )
    db.session.commit()
    return funds[0].id


def post(client, fund_id: int, **fields: Any) -> str:
    data = {
        "frequency": "one_time",
        "fund": str(fund_id),
        "name": "Ann Lee",
        "email": "ann@example.com",
        **fields,
    }
    response = client.post("/give", data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def gifts() -> int:
    return db.session.scalar(select(func.count()).select_from(Gift))


def test_with_50_chosen_and_75_typed_the_review_uses_75_and_says_so(client, fund_id):
    html = post(client, fund_id, amount="5000", other_amount="75")
    assert "Check your gift" in html
    assert "You give $75.00 once" in html
    assert "You give $50" not in html
    assert "You typed $75, so we used $75 rather than the $50 chosen above." in html
    assert gifts() == 0


def test_what_is_signed_for_checkout_is_the_typed_amount(client, fund_id):
    html = post(client, fund_id, amount="5000", other_amount="75")
    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 303
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.amount_cents, gift.covered_fee_cents) == (7500, 0)


def test_the_typed_amount_is_grossed_up_when_the_fee_is_covered(client, fund_id):
    html = post(client, fund_id, amount="2500", other_amount="35", cover_fee="y")
    assert "You give $36.35 once" in html
    assert "$36.35 = your $35.00 gift + $1.35 to cover the card fee" in html
    assert "You typed $35, so we used $35" in html


def test_typed_and_chosen_the_same_needs_no_note(client, fund_id):
    html = post(client, fund_id, amount="5000", other_amount="50.00")
    assert "You give $50.00 once" in html
    assert "You typed" not in html


def test_a_chosen_amount_alone_needs_no_note(client, fund_id):
    html = post(client, fund_id, amount="10000", other_amount="")
    assert "You give $100.00 once" in html
    assert "You typed" not in html


def test_other_chosen_and_typed_needs_no_note(client, fund_id):
    html = post(client, fund_id, amount="other", other_amount="75")
    assert "You give $75.00 once" in html
    assert "You typed" not in html


def test_a_bad_typed_amount_is_refused_next_to_it_even_with_a_tile_chosen(client, fund_id):
    html = post(client, fund_id, amount="5000", other_amount="seventy")
    assert "Check your gift" not in html
    error = re.search(r'<p class="error" id="other_amount-error">([^<]*)</p>', html)
    assert error, html
    assert "Enter the amount as a number" in error.group(1)
    assert 'value="seventy"' in html
    assert gifts() == 0
    assert db.session.scalar(select(func.count()).select_from(Donor)) == 0


def test_a_typed_amount_over_the_limit_is_refused_next_to_it(client, fund_id):
    html = post(client, fund_id, amount="5000", other_amount="30000")
    assert "Check your gift" not in html
    error = re.search(r'<p class="error" id="other_amount-error">([^<]*)</p>', html)
    assert error and "For gifts over $25,000.00" in error.group(1), html
    assert gifts() == 0


def test_the_form_says_a_typed_amount_is_the_one_used(client, fund_id):
    html = client.get("/give").get_data(as_text=True)
    assert "a typed amount is the one we use" in html


def test_editing_a_typed_gift_brings_back_the_typed_amount(client, fund_id):
    html = post(client, fund_id, amount="5000", other_amount="75")
    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    html = client.post("/give", data={"payload": payload, "edit": "1"}).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="other_amount"[^>]*value="75', html), html
    assert not re.search(r'checked[^>]*value="5000"|value="5000"[^>]*checked', html)
