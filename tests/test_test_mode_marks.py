"""Test mode cannot pass for real: test receipts have their own series and say so everywhere."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from donations.extensions import db
from donations.models import Fund, Gift, OutboxMessage, Receipt, ReceiptSequence, utcnow
from donations.services import gifts as gift_service
from donations.services import notifications, receipt_delivery, receipts
from donations.tenancy import HOME_ORGANIZATION_ID as HOME

THIS_YEAR = utcnow().year
MARK = "TEST \u2014 not a tax receipt"


@pytest.fixture
def fund(app):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def gift(app, organization, fund, create_donor):
    def make(amount_cents: int = 5000) -> Gift:
        gift = gift_service.record_offline_gift(
            actor=None,
            donor_id=create_donor("Ada Test").id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount_cents,
            currency="USD",
            received_on=utcnow().date(),
        )
        db.session.commit()
        return gift

    return make


def set_mode(app, test_mode: bool | None, key: str | None = None) -> None:
    app.config["RECEIPTS_TEST_MODE"] = test_mode
    app.config["STRIPE_SECRET_KEY"] = key


def text_of(pdf: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def issue(gift) -> Receipt:
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift())
    db.session.commit()
    return receipt


@pytest.mark.parametrize(
    ("setting", "key", "expected"),
    [
        (None, None, True),  # no Stripe key: the local test payment page
        (None, "sk_test_abc", True),  # Stripe's own test mode
        (None, "sk_live_abc", False),
        (None, "rk_live_abc", False),
        (True, "sk_live_abc", True),  # decided outright
        (False, None, False),
    ],
)
def test_test_mode_follows_the_stripe_key_unless_set(app, setting, key, expected):
    set_mode(app, setting, key)
    assert receipts.making_test_receipts() is expected


def test_test_receipts_have_a_series_of_their_own(app, gift):
    set_mode(app, False)
    live = issue(gift)
    set_mode(app, None)  # no key: test mode
    test_one, test_two = issue(gift), issue(gift)
    set_mode(app, False)
    live_again = issue(gift)

    assert (live.number, live_again.number) == (f"{THIS_YEAR}-000001", f"{THIS_YEAR}-000002")
    assert (test_one.number, test_two.number) == (
        f"TEST-{THIS_YEAR}-000001",
        f"TEST-{THIS_YEAR}-000002",
    )
    assert [r.is_test for r in (live, test_one, test_two, live_again)] == [
        False,
        True,
        True,
        False,
    ]
    assert (test_one.fiscal_year, test_one.sequence_number) == (THIS_YEAR, 1)
    assert db.session.get(ReceiptSequence, (HOME, False, THIS_YEAR)).last_number == 2
    assert db.session.get(ReceiptSequence, (HOME, True, THIS_YEAR)).last_number == 2
    # No live number was ever given to a test receipt.
    live_numbers = db.session.scalars(select(Receipt.number).where(Receipt.is_test.is_(False)))
    assert all(not n.startswith("TEST-") for n in live_numbers)


def test_a_test_receipts_pdf_is_marked_on_every_page(app, gift):
    set_mode(app, None)
    receipt = issue(gift)
    content = receipts.content_of(receipt)
    assert content.is_test
    from donations.pdf.render import render_receipt

    pages = text_of(render_receipt(content))
    assert MARK.upper() in pages[0]  # the band across the top
    assert f"{MARK}: made in test mode" in pages[0]  # and in the header
    assert all("TEST" in page for page in pages)

    set_mode(app, False)
    live = text_of(render_receipt(receipts.content_of(issue(gift))))
    assert not any("TEST" in page or "not a tax receipt" in page for page in live)


def test_a_long_test_statement_carries_the_mark_on_each_page():
    from dataclasses import replace

    from test_pdf_render import statement

    from donations.pdf.render import render_receipt

    pages = text_of(render_receipt(replace(statement(gifts=120), is_test=True)))
    assert len(pages) > 1
    assert all(MARK.upper() in page for page in pages)


def test_the_thank_you_and_receipt_mail_say_test(app, gift):
    set_mode(app, None)
    first = gift()
    notifications.thank_donor(first)
    db.session.commit()
    thanks = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "gift_thanks"))
    message = thanks.one()
    assert message.subject.startswith(f"[{MARK}] Thank you for your gift")
    assert message.body_text.startswith("TEST \u2014 NOT A TAX RECEIPT.")
    assert "TEST-" in message.body_text

    receipt = issue(gift)
    sent = receipt_delivery.send_receipt(receipt)
    db.session.commit()
    assert sent.subject == f"[{MARK}] Your receipt {receipt.number} from Harbor Light Shelter, Inc."
    assert "NOT A TAX RECEIPT" in sent.body_text


def test_live_mail_has_no_test_mark(app, gift):
    set_mode(app, False)
    notifications.thank_donor(gift())
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert "TEST" not in message.subject
    assert "TEST" not in message.body_text


def test_verify_shows_a_test_receipt_as_a_test(app, client, gift):
    set_mode(app, None)
    test = issue(gift)
    set_mode(app, False)
    live = issue(gift)

    page = client.get(f"/verify?code={test.verification_code}").get_data(as_text=True)
    assert f"Test</span> Receipt {test.number}" in page
    assert "not a tax receipt" in page
    assert ">Valid<" not in page

    page = client.get(f"/verify?code={live.verification_code}").get_data(as_text=True)
    assert ">Valid<" in page
    assert "not a tax receipt" not in page


def test_a_reissued_test_receipt_stays_a_test(app, gift):
    set_mode(app, None)
    receipt = issue(gift)
    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong name")
    set_mode(app, False)  # a live key added since
    again = receipts.reissue_receipt(actor=None, receipt=receipt)
    db.session.commit()
    assert again.is_test
    assert again.number == f"TEST-{THIS_YEAR}-000002"


def test_staff_pages_show_the_test_badge(app, gift, treasurer_client):
    set_mode(app, None)
    receipt = issue(gift)
    listing = treasurer_client.get("/receipts/").get_data(as_text=True)
    assert receipt.number in listing and ">Test<" in listing
    detail = treasurer_client.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert "TEST — not a tax receipt" in detail


def test_the_donors_own_page_marks_a_test_receipt(app, client, gift):
    set_mode(app, None)
    receipt = issue(gift)
    token = receipt_delivery.donor_token([receipt.donor_id])
    page = client.get(f"/my-gifts/{token}").get_data(as_text=True)
    assert receipt.number in page
    assert "Test — not a tax receipt" in page
