"""The public donation page: form, review, checkout, test payment, thanks, monthly gifts."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, func, select

from donations.extensions import db
from donations.integrations.stripe_gateway import GatewayError
from donations.models import (
    Donor,
    Fund,
    Gift,
    OutboxMessage,
    PlanStatus,
    Receipt,
    RecurringPlan,
    StripeTestObject,
)
from donations.services import funds as fund_service
from donations.services import giving, payments

CALM_MESSAGE = (
    "We could not reach our payment processor. Nothing has been charged. "
    "Please try again in a moment."
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def only_gift() -> Gift:
    return db.session.scalars(select(Gift)).one()


def checkout_sessions() -> list[StripeTestObject]:
    query = select(StripeTestObject).where(StripeTestObject.object_type == "checkout.session")
    return list(db.session.scalars(query))


@pytest.fixture
def funds(app) -> dict[str, Fund]:
    """The three standard funds and the default page settings (2.9 % + 30 cents)."""
    created = giving.ensure_default_funds()
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
    return {fund.name: fund for fund in created}


@pytest.fixture
def no_stripe(monkeypatch):
    """Fail the test if anything asks for the payment gateway."""

    def refuse():
        raise AssertionError("the payment gateway was called")

    monkeypatch.setattr(payments, "get_gateway", refuse)


def give_form(funds: dict[str, Fund], **overrides: Any) -> dict[str, Any]:
    data = {
        "amount": "5000",
        "other_amount": "",
        "frequency": "one_time",
        "fund": str(funds["Shelter operations"].id),
        "tribute_type": "",
        "tribute_name": "",
        "tribute_notify_email": "",
        "name": "Ann Lee",
        "email": "Ann.Lee@Example.com",
        "address_line1": "18 Maple Row",
        "city": "Springfield",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def payload_of(html: str) -> str:
    return re.search(r'name="payload" value="([^"]+)"', html).group(1)


def review(client, funds, **overrides: Any) -> str:
    """Post the donation form; return the signed payload of the review page."""
    response = client.post("/give", data=give_form(funds, **overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Continue to secure payment" in html, html
    return payload_of(html)


def start_checkout(client, funds, **overrides: Any) -> str:
    """Review and continue; return the test checkout page's address."""
    response = client.post("/give/checkout", data={"payload": review(client, funds, **overrides)})
    assert response.status_code == 303
    return response.headers["Location"]


def pay(client, checkout_url: str) -> str:
    """Pay on the test page; return the thank-you page's address."""
    response = client.post(checkout_url, data={"action": "pay"})
    assert response.status_code == 303
    return response.headers["Location"]


# --- the form ------------------------------------------------------------


def test_form_shows_presets_funds_fee_and_impact(client, funds):
    html = client.get("/give").get_data(as_text=True)
    assert "<h1>" in html
    for label in ("$25", "$50", "$100", "$250", "Other amount"):
        assert f">{label}</label>" in html
    for fund in funds.values():
        assert fund.name in html
        assert fund.description in html
    assert "Add 2.9% + $0.30 to cover the card fee so all of my gift reaches survivors" in html
    assert "For a $50 gift that adds $1.80." in html
    assert "From $5 to $25,000." in html
    assert "safe bed" in html  # the default impact note
    assert "In memory of someone" in html
    assert "Don&#39;t show my name publicly" in html
    assert "Test mode" in html  # the site-wide banner
    assert "What we need now" not in html
    # The default fund is the first one, and nothing is charged from this page.
    assert re.search(r'checked id="fund-0"', html)
    assert count(Gift) == 0


def test_pages_have_no_inline_script_or_style(client, funds):
    pages = [client.get("/give").get_data(as_text=True)]
    pages.append(client.post("/give", data=give_form(funds)).get_data(as_text=True))
    checkout_url = start_checkout(client, funds)
    pages.append(client.get(checkout_url).get_data(as_text=True))
    pages.append(client.get(pay(client, checkout_url)).get_data(as_text=True))
    for html in pages:
        assert "<script" not in html
        assert "style=" not in html
        assert "<style" not in html
        assert "<h1>" in html


def test_impact_text_and_needs_link_come_from_the_site(app, client, funds):
    settings = giving.get_giving_settings()
    settings.impact_text = "Forty beds, every night."
    db.session.commit()

    html = client.get("/give").get_data(as_text=True)
    assert "Forty beds, every night." in html
    assert 'Would you rather give goods? <a href="/needs">See what we need now</a>.' in html


def test_without_funds_the_page_says_donations_are_not_open(client):
    for response in (client.get("/give"), client.post("/give", data={"amount": "5000"})):
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Donations are not open yet" in html
        assert "Review my gift" not in html
    assert count(Gift) == 0


def test_inactive_funds_are_not_offered(client, funds):
    funds["Survivor services"].active = False
    db.session.commit()
    html = client.get("/give").get_data(as_text=True)
    assert "Survivor services" not in html
    assert "Shelter operations" in html


def test_the_page_works_before_any_settings_are_saved(client):
    giving.ensure_default_funds()
    db.session.commit()
    html = client.get("/give").get_data(as_text=True)
    assert ">$25</label>" in html
    assert "Add 2.9% + $0.30" in html


# --- bad input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "other", "message"),
    [
        ("other", "abc", "Enter the amount as a number, such as 50 or 50.00."),
        ("other", "-5", "Enter an amount greater than zero."),
        ("other", "10.123", "Use at most 2 decimal places."),
        ("other", "4.99", "The smallest gift we can take online is $5.00."),
        ("other", "25000.01", "For gifts over $25,000.00, please contact us"),
        ("other", "", "Choose an amount or type your own."),
        ("", "", "Choose an amount or type your own."),
        ("1234", "", "Choose one of the amounts shown."),
    ],
)
def test_bad_amounts_are_refused_with_input_kept(client, funds, no_stripe, amount, other, message):
    response = client.post("/give", data=give_form(funds, amount=amount, other_amount=other))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert "Continue to secure payment" not in html
    if other:
        assert f'value="{other}"' in html
    assert 'value="Ann Lee"' in html
    assert 'value="18 Maple Row"' in html
    assert count(Gift) == 0
    assert count(Donor) == 0


def test_a_typed_amount_wins_when_other_is_chosen_and_no_preset_is(client, funds):
    html = client.post(
        "/give", data=give_form(funds, amount=None, other_amount="$1,234.50")
    ).get_data(as_text=True)
    assert "You give $1,234.50 once" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fund": "999999"}, "Choose one of the funds listed."),
        ({"fund": "abc"}, "Choose one of the funds listed."),
        ({"fund": None}, "Choose where your gift should go."),
        ({"email": "not-an-email"}, "Enter your email address, like name@example.com."),
        ({"email": ""}, "Enter your email: your receipt goes there."),
        ({"name": "  "}, "Enter your name."),
        ({"frequency": "weekly"}, "Not a valid choice."),
        (
            {"tribute_type": "memory", "tribute_name": ""},
            "Enter the name of the person you are honouring.",
        ),
        ({"tribute_type": "birthday", "tribute_name": "Bob"}, "Choose in honour or in memory."),
        ({"tribute_name": "Bob"}, "Choose in honour or in memory above, or clear this name."),
        ({"tribute_notify_email": "kid@example.com"}, "Choose in honour or in memory first."),
        (
            {"tribute_type": "honor", "tribute_name": "Bob", "tribute_notify_email": "nope"},
            "Enter their email address, like name@example.com.",
        ),
    ],
)
def test_bad_details_are_refused_with_input_kept(client, funds, no_stripe, overrides, message):
    response = client.post("/give", data=give_form(funds, **overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message.replace("'", "&#39;") in html
    assert "Continue to secure payment" not in html
    assert 'value="18 Maple Row"' in html
    assert count(Gift) == 0


def test_an_inactive_fund_is_refused(client, funds, no_stripe):
    funds["Survivor services"].active = False
    db.session.commit()
    fund_id = str(funds["Survivor services"].id)
    html = client.post("/give", data=give_form(funds, fund=fund_id)).get_data(as_text=True)
    assert "Choose one of the funds listed." in html
    assert count(Gift) == 0


def test_too_long_input_is_refused(client, funds, no_stripe):
    html = client.post("/give", data=give_form(funds, name="x" * 201)).get_data(as_text=True)
    assert "Field cannot be longer than 200 characters." in html
    assert count(Gift) == 0


# --- review --------------------------------------------------------------


def test_review_shows_the_exact_grossed_up_total_and_writes_nothing(client, funds, no_stripe):
    html = client.post(
        "/give",
        data=give_form(
            funds,
            cover_fee="y",
            tribute_type="memory",
            tribute_name="Rosa Parks",
            tribute_notify_email="family@example.com",
            is_anonymous="y",
        ),
    ).get_data(as_text=True)
    assert "You give $51.80 once" in html
    assert "$51.80 = your $50.00 gift + $1.80 to cover the card fee" in html
    assert "Shelter operations" in html
    assert "In memory of Rosa Parks; we will let family@example.com know" in html
    assert "Not shown: your gift stays anonymous" in html
    assert "Ann.Lee@Example.com" in html
    assert "18 Maple Row" in html
    assert 'action="/give/checkout"' in html
    assert count(Gift) == 0
    assert count(Donor) == 0


def test_review_of_a_monthly_gift_without_fee_cover(client, funds):
    html = client.post(
        "/give", data=give_form(funds, amount="other", other_amount="20", frequency="monthly")
    ).get_data(as_text=True)
    assert "You give $20.00 every month" in html
    assert "to cover the card fee" not in html
    assert "Every month, until you stop it" in html


def test_each_review_is_a_new_attempt(client, funds):
    first = review(client, funds)
    second = review(client, funds)
    assert first != second


def test_edit_refills_the_form_from_the_review(client, funds):
    payload = review(
        client,
        funds,
        amount="other",
        other_amount="20",
        frequency="monthly",
        fund=str(funds["General"].id),
        cover_fee="y",
        is_anonymous="y",
    )
    response = client.post("/give", data={"payload": payload, "edit": "1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Review my gift" in html
    assert re.search(r'checked id="amount-\d" name="amount" type="radio" value="other"', html)
    assert 'name="other_amount"' in html and 'value="20"' in html
    assert re.search(r'checked id="frequency-1"', html)
    assert re.search(r'checked id="fund-0"', html)
    assert re.search(r'checked id="cover_fee"', html)
    assert re.search(r'checked id="is_anonymous"', html)
    assert 'value="Ann Lee"' in html
    assert 'value="18 Maple Row"' in html
    assert count(Gift) == 0


def test_edit_of_a_preset_amount_chooses_that_preset(client, funds):
    payload = review(client, funds, amount="10000")
    html = client.post("/give", data={"payload": payload, "edit": "1"}).get_data(as_text=True)
    assert re.search(r'checked id="amount-2" name="amount" type="radio" value="10000"', html)


def test_a_forged_payload_is_refused(client, funds):
    payload = review(client, funds)
    forged = payload[:-3] + ("abc" if not payload.endswith("abc") else "xyz")
    assert client.post("/give/checkout", data={"payload": forged}).status_code == 400
    assert client.post("/give/checkout", data={}).status_code == 400
    assert client.post("/give", data={"payload": forged, "edit": "1"}).status_code == 400
    assert count(Gift) == 0


def test_checkout_needs_the_csrf_token(make_app, funds):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    html = client.get("/give").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/give", data={**give_form(funds), "csrf_token": token})
    payload = payload_of(response.get_data(as_text=True))

    assert client.post("/give/checkout", data={"payload": payload}).status_code == 400
    assert count(Gift) == 0
    response = client.post("/give/checkout", data={"payload": payload, "csrf_token": token})
    assert response.status_code == 303
    assert count(Gift) == 1


# --- checkout ------------------------------------------------------------


def test_checkout_makes_one_pending_gift_and_goes_to_the_test_page(client, funds):
    payload = review(client, funds, cover_fee="y")
    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 303
    location = response.headers["Location"]
    match = re.search(r"/give/test-checkout/(cs_test_\w+)$", location)
    assert match, location

    gift = only_gift()
    assert gift.status == "pending"
    assert gift.amount_cents == 5180
    assert gift.covered_fee_cents == 180
    assert gift.stripe_checkout_session_id == match.group(1)
    assert gift.fund.name == "Shelter operations"
    assert gift.donor.name == "Ann Lee"
    assert gift.donor.email == "ann.lee@example.com"


def test_a_double_click_makes_one_gift_and_one_session(client, funds):
    payload = review(client, funds)
    first = client.post("/give/checkout", data={"payload": payload})
    second = client.post("/give/checkout", data={"payload": payload})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Gift) == 1
    assert len(checkout_sessions()) == 1
    assert count(Donor) == 1


def test_the_test_checkout_page_shows_what_is_paid(client, funds):
    checkout_url = start_checkout(client, funds, cover_fee="y")
    response = client.get(checkout_url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Test payment — no real money" in html
    assert "$51.80, one time" in html
    assert "ann.lee@example.com" in html
    assert "Pay $51.80 (test)" in html
    assert "Cancel and go back" in html
    assert "4242 4242 4242 4242" in html


def test_paying_in_test_mode_confirms_the_gift_through_the_webhook_path(client, funds):
    checkout_url = start_checkout(
        client,
        funds,
        cover_fee="y",
        tribute_type="honor",
        tribute_name="Grandma Jo",
        tribute_notify_email="jo@example.com",
    )
    thanks_url = pay(client, checkout_url)
    assert "/give/thanks/" in thanks_url

    gift = only_gift()
    assert gift.status == "paid"
    assert gift.amount_cents == 5180
    assert gift.fee_cents == 180  # round-half-up(5180 * 2.9 %) + 30
    assert gift.net_cents == 5000  # exactly the gift: not a cent short, not a cent over
    assert gift.stripe_payment_intent_id
    donor = db.session.scalars(select(Donor)).one()
    assert (donor.name, donor.email, donor.address_line1) == (
        "Ann Lee",
        "ann.lee@example.com",
        "18 Maple Row",
    )
    kinds = {(m.kind, m.to_addr) for m in db.session.scalars(select(OutboxMessage))}
    assert ("gift_thanks", "ann.lee@example.com") in kinds
    assert ("tribute_notice", "jo@example.com") in kinds

    response = client.get(thanks_url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Thank you — your gift of $51.80 to Shelter operations is confirmed." in html
    assert "Manage your monthly gift" not in html
    assert "Refresh" not in response.headers


def test_a_late_double_click_after_paying_goes_to_the_thanks_page(client, funds):
    payload = review(client, funds)
    checkout_url = client.post("/give/checkout", data={"payload": payload}).headers["Location"]
    pay(client, checkout_url)
    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 303
    assert "/give/thanks/" in response.headers["Location"]
    assert count(Gift) == 1
    assert len(checkout_sessions()) == 1


def test_the_thanks_page_waits_for_stripe_while_pending(client, funds):
    start_checkout(client, funds)
    gift = only_gift()
    response = client.get(f"/give/thanks/{giving.gift_token(gift)}")
    assert response.status_code == 200
    assert response.headers["Refresh"] == "5"
    html = response.get_data(as_text=True)
    assert "We are confirming your payment" in html
    assert "this page updates when Stripe tells us" in html
    assert ">Refresh</a>" in html


def test_cancelling_on_the_test_page_charges_nothing(client, funds):
    payload = review(client, funds)
    checkout_url = client.post("/give/checkout", data={"payload": payload}).headers["Location"]
    response = client.post(checkout_url, data={"action": "cancel"})
    assert response.status_code == 303
    assert "/give/cancelled/" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No payment was made" in html
    assert 'href="/give"' in html
    gift = only_gift()
    assert gift.status == "expired"
    assert count(OutboxMessage) == 0

    # The finished test page offers no second payment.
    html = client.get(checkout_url).get_data(as_text=True)
    assert "already finished" in html
    assert "Pay $" not in html

    # Going back and continuing again starts a new attempt, after saying so.
    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Your earlier payment was not completed, so nothing was charged." in html
    fresh = payload_of(html)
    assert fresh != payload
    response = client.post("/give/checkout", data={"payload": fresh})
    assert response.status_code == 303
    assert response.headers["Location"] != checkout_url
    assert count(Gift) == 2


def test_a_fund_closed_after_the_review_sends_the_donor_back_to_the_form(client, funds):
    payload = review(client, funds)
    funds["Shelter operations"].active = False
    db.session.commit()
    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Choose one of the funds listed." in html
    assert "Review my gift" in html
    assert 'value="Ann Lee"' in html
    assert count(Gift) == 0


@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("processing", "Your payment is on its way"),
        ("failed", "Your payment did not go through"),
        ("expired", "Your payment did not go through"),
    ],
)
def test_the_thanks_page_says_where_an_unpaid_gift_stands(client, funds, status, text):
    start_checkout(client, funds)
    gift = only_gift()
    gift.status = status
    db.session.commit()
    response = client.get(f"/give/thanks/{giving.gift_token(gift)}")
    assert text in response.get_data(as_text=True)
    assert "is confirmed" not in response.get_data(as_text=True)
    assert "Refresh" not in response.headers


def test_a_test_page_without_a_choice_stays_put(client, funds):
    checkout_url = start_checkout(client, funds)
    response = client.post(checkout_url, data={"action": "steal"})
    assert response.status_code == 200
    assert "Choose pay or cancel." in response.get_data(as_text=True)
    assert only_gift().status == "pending"


def test_unknown_tokens_and_sessions_are_not_found(client, funds):
    assert client.get("/give/thanks/nope").status_code == 404
    assert client.get("/give/cancelled/nope").status_code == 404
    assert client.get("/give/test-checkout/cs_test_nope").status_code == 404
    assert client.get("/give/test-portal/cus_nope").status_code == 404
    response = client.get("/give/manage/nope")
    assert response.status_code == 404
    assert "This link is not valid." in response.get_data(as_text=True)


def test_test_pages_do_not_exist_with_stripe_keys(app, client, funds):
    checkout_url = start_checkout(client, funds)
    app.config["STRIPE_SECRET_KEY"] = "sk_test_configured"
    assert client.get("/give/test-checkout/x").status_code == 404
    assert client.get(checkout_url).status_code == 404
    assert client.post(checkout_url, data={"action": "pay"}).status_code == 404
    assert client.get("/give/test-portal/x").status_code == 404
    assert only_gift().status == "pending"


def test_starting_checkouts_is_rate_limited_per_address(app, client, funds):
    app.config["GIVE_CHECKOUT_RATE_LIMIT"] = "2 per minute"
    payload = review(client, funds)
    for _ in range(2):
        assert client.post("/give/checkout", data={"payload": payload}).status_code == 303
    assert client.post("/give/checkout", data={"payload": payload}).status_code == 429
    other = app.test_client()
    response = other.post(
        "/give/checkout", data={"payload": payload}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert response.status_code == 303
    assert count(Gift) == 1


# --- when Stripe cannot be reached -----------------------------------------


class BrokenGateway:
    test_mode = False

    def __init__(self) -> None:
        self.calls = 0

    def create_checkout_session(self, request):
        self.calls += 1
        raise GatewayError("boom")

    def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        self.calls += 1
        raise GatewayError("boom")


def test_a_gateway_failure_keeps_the_gift_and_a_retry_reuses_it(client, funds, monkeypatch):
    payload = review(client, funds, cover_fee="y")
    broken = BrokenGateway()
    with monkeypatch.context() as patch:
        patch.setattr(payments, "get_gateway", lambda: broken)
        response = client.post("/give/checkout", data={"payload": payload})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert CALM_MESSAGE in html
        assert "$51.80 = your $50.00 gift + $1.80 to cover the card fee" in html
        assert payload_of(html) == payload  # the same attempt when trying again
        response = client.post("/give/checkout", data={"payload": payload})
        assert CALM_MESSAGE in response.get_data(as_text=True)
    assert broken.calls == 2

    gift = only_gift()
    assert gift.status == "pending"
    assert gift.stripe_checkout_session_id is None
    attempt = gift.checkout_attempt_id

    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 303
    assert "/give/test-checkout/" in response.headers["Location"]
    gift = only_gift()
    assert gift.checkout_attempt_id == attempt
    assert gift.stripe_checkout_session_id
    assert len(checkout_sessions()) == 1


# --- monthly gifts -----------------------------------------------------------


def test_a_monthly_gift_starts_a_plan_that_the_donor_can_cancel(client, funds):
    checkout_url = start_checkout(
        client, funds, amount="other", other_amount="20", frequency="monthly", cover_fee="y"
    )
    assert "every month" in client.get(checkout_url).get_data(as_text=True)
    thanks_url = pay(client, checkout_url)

    plan = db.session.scalars(select(RecurringPlan)).one()
    assert plan.status == PlanStatus.ACTIVE.value
    assert plan.amount_cents == 2091  # (2000 + 30) / (1 - 2.9 %), rounded up
    assert plan.stripe_customer_id
    gift = only_gift()
    assert (gift.status, gift.plan_id, gift.frequency) == ("paid", plan.id, "monthly")
    assert gift.amount_cents == 2091
    assert gift.stripe_invoice_id

    html = client.get(thanks_url).get_data(as_text=True)
    assert "Thank you — your gift of $20.91 every month to Shelter operations is confirmed." in html
    manage_url = f"/give/manage/{giving.plan_token(plan)}"
    assert f'href="{manage_url}"' in html
    assert "Manage your monthly gift" in html

    response = client.get(manage_url)
    assert response.status_code == 303
    portal_url = response.headers["Location"]
    assert portal_url.endswith(f"/give/test-portal/{plan.stripe_customer_id}")

    html = client.get(portal_url).get_data(as_text=True)
    assert "$20.91 every month to Shelter operations" in html
    assert "Cancel my monthly gift (test)" in html

    response = client.post(portal_url)
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your monthly gift is cancelled." in html
    assert "Cancel my monthly gift (test)" not in html
    plan = db.session.get(RecurringPlan, plan.id, populate_existing=True)
    assert plan.status == PlanStatus.CANCELLED.value
    assert plan.cancelled_at is not None

    response = client.post(portal_url)  # a second click changes nothing
    assert response.status_code == 303
    assert "already cancelled" in client.get(portal_url).get_data(as_text=True)

    html = client.get(thanks_url).get_data(as_text=True)
    assert "Your monthly gift has been stopped." in html


def test_managing_a_plan_not_yet_set_up_explains_why(client, funds):
    start_checkout(client, funds, frequency="monthly")
    plan = db.session.scalars(select(RecurringPlan)).one()
    response = client.get(f"/give/manage/{giving.plan_token(plan)}")
    assert response.status_code == 200
    assert "still being set up" in response.get_data(as_text=True)


def test_managing_a_plan_when_stripe_is_down_is_a_calm_page(client, funds, monkeypatch):
    pay(client, start_checkout(client, funds, frequency="monthly"))
    plan = db.session.scalars(select(RecurringPlan)).one()
    monkeypatch.setattr(payments, "get_gateway", BrokenGateway)
    response = client.get(f"/give/manage/{giving.plan_token(plan)}")
    assert response.status_code == 503
    assert "Please try again in a moment." in response.get_data(as_text=True)


# --- the blank form: a token of each visitor's own --------------------------------------------


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_the_blank_form_carries_each_visitors_own_working_token(make_app, funds):
    app = make_app(WTF_CSRF_ENABLED=True)
    first, second = app.test_client(), app.test_client()
    page_one = first.get("/give").get_data(as_text=True)
    page_two = second.get("/give").get_data(as_text=True)
    token_one, token_two = _csrf(page_one), _csrf(page_two)
    assert token_one != token_two
    assert page_one.replace(token_one, "") == page_two.replace(token_two, "")
    fund_id = str(next(iter(funds.values())).id)
    form = {
        "csrf_token": token_two,
        "amount": "5000",
        "frequency": "one_time",
        "fund": fund_id,
        "name": "Ada",
        "email": "ada@example.com",
    }
    response = second.post("/give", data=form)
    assert response.status_code == 200
    assert "Check your gift" in response.get_data(as_text=True)
    # the other visitor's token does not work here
    assert second.post("/give", data={**form, "csrf_token": token_one}).status_code == 400


def test_the_blank_form_follows_changes_to_funds(app, client, funds):
    assert "Winter coats" not in client.get("/give").get_data(as_text=True)
    fund_service.create_fund(
        actor=None, name="Winter coats", description="Coats for the cold months."
    )
    db.session.commit()
    assert "Winter coats" in client.get("/give").get_data(as_text=True)


def test_signed_in_users_do_not_get_the_strangers_page(app, funds, treasurer_client):
    html = treasurer_client.get("/give").get_data(as_text=True)
    assert treasurer_client.user.name in html and "Sign out" in html


def test_with_the_organisation_profile_the_thanks_page_offers_the_receipt(
    client, funds, organization
):
    payload = review(client, funds)
    checkout_url = client.post("/give/checkout", data={"payload": payload}).headers["Location"]
    thanks_url = pay(client, checkout_url)
    html = client.get(thanks_url).get_data(as_text=True)
    gift = only_gift()
    receipt = db.session.scalar(select(Receipt).where(Receipt.gift_id == gift.id))
    assert f"Your official receipt, {receipt.number}" in html
    link = re.search(r'href="([^"]+)" download>Download your receipt', html).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


# --- the blank form: one query, its fieldsets kept per version of the settings ------------


def test_a_strangers_blank_form_reads_the_database_once(make_app, funds):
    """One connection from the pool, one statement on it, no ORM or Core statement."""
    app = make_app()
    core_statements: list[str] = []
    checkouts: list[object] = []
    sqlite_statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        core_statements.append(statement)

    def checked_out(dbapi_connection, record, proxy) -> None:
        checkouts.append(dbapi_connection)
        if isinstance(dbapi_connection, sqlite3.Connection):  # its own trace of statements
            dbapi_connection.set_trace_callback(sqlite_statements.append)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine.pool, "checkout", checked_out)
    try:
        response = app.test_client().get("/give")
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine.pool, "checkout", checked_out)
        for connection in checkouts:
            if isinstance(connection, sqlite3.Connection):
                connection.set_trace_callback(None)
    assert response.status_code == 200
    assert "Review my gift" in response.get_data(as_text=True)
    assert core_statements == []
    assert len(checkouts) == 1
    if isinstance(checkouts[0], sqlite3.Connection):
        assert [sql.split()[0] for sql in sqlite_statements] == ["SELECT"], sqlite_statements


def test_the_blank_form_is_the_same_read_in_a_transaction_or_alone(app, client, funds):
    alone = client.get("/give").get_data(as_text=True)
    with app.test_request_context("/give"):
        db.session.connection()  # a transaction already at work: the page reads in it
        assert db.session().in_transaction()
        in_transaction = giving.donation_page()
        db.session.rollback()
    with app.test_request_context("/give"):
        assert giving.donation_page() == in_transaction
    assert in_transaction.org_name in alone
    assert [fund.name for fund in in_transaction.funds] == [
        "General",
        "Shelter operations",
        "Survivor services",
    ]


def test_the_blank_form_shows_changed_settings_at_once(client, funds):
    before = client.get("/give").get_data(as_text=True)
    assert 'id="amount-0" name="amount" type="radio" value="2500"' in before
    fund_service.update_giving_settings(
        actor=None,
        preset_amounts=[1000, 7700],
        min_amount_cents=500,
        max_amount_cents=2_500_000,
        fee_percent_bp=290,
        fee_fixed_cents=30,
        impact_text="Warm beds tonight.",
        default_fund_id=None,
    )
    db.session.commit()
    after = client.get("/give").get_data(as_text=True)
    assert 'id="amount-1" name="amount" type="radio" value="7700"' in after
    assert 'value="2500"' not in after
    assert "Warm beds tonight." in after


def test_a_flashed_message_shows_above_the_kept_fieldsets(client, funds):
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message <for> you")]
    html = client.get("/give").get_data(as_text=True)
    assert '<p class="flash flash-info" role="status">A message &lt;for&gt; you</p>' in html
    assert html.index("A message") < html.index('id="amount-0"')
    assert "A message" not in client.get("/give").get_data(as_text=True)


def test_a_refused_form_keeps_what_was_typed_escaped_with_each_error_linked(client, funds):
    fund_id = str(next(iter(funds.values())).id)
    html = client.post(
        "/give",
        data={
            "amount": "other",
            "other_amount": "12.x",
            "frequency": "monthly",
            "fund": fund_id,
            "tribute_type": "memory",
            "tribute_name": "A <b>",
            "tribute_notify_email": "bad",
            "name": "",
            "email": "x@",
        },
    ).get_data(as_text=True)
    assert 'value="A &lt;b&gt;"' in html and "<b>" not in html
    assert '<option selected value="memory">In memory of someone</option>' in html
    assert 'checked id="frequency-1" name="frequency" required type="radio"' in html
    for field in ("other_amount", "tribute_notify_email", "name", "email"):
        assert f'<a href="#{field}">' in html
        tag = rf'<input aria-describedby="[^"]*{field}-error" aria-invalid="true"[^>]* id="{field}"'
        assert re.search(tag, html), field
        assert f'<p class="error" id="{field}-error">' in html
