"""Correcting what a donor received in return for an offline gift (IRS Pub 1771):
the correction form shows and checks the benefit as the offline gift form does, the
replacement carries it, and the receipt reissued for the correction states it."""

from __future__ import annotations

import html
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import AuditEvent, Fund, Gift, Receipt
from donations.services import gifts as gift_service
from donations.services import receipts
from donations.services.errors import InvalidInput

RECEIVED = date(2025, 3, 10)


@pytest.fixture
def fund(app) -> Fund:
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def cheque(organization, fund, create_donor):
    """A $100 cheque (optionally with a benefit), recorded and receipted, committed."""

    def make(**benefit) -> tuple[Gift, Receipt]:
        gift = gift_service.record_offline_gift(
            actor=None,
            donor_id=create_donor("Eleanor Whitfield").id,
            fund_id=fund.id,
            method="cheque",
            amount_cents=10_000,
            currency="USD",
            received_on=RECEIVED,
            cheque_number="555",
            **benefit,
        )
        receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
        db.session.commit()
        return gift, receipt

    return make


def correction_form(gift: Gift, **overrides: str) -> dict[str, str]:
    """The correction form as the page pre-fills it for ``gift``, with ``overrides``."""
    data = {
        "donor_id": str(gift.donor_id),
        "fund_id": str(gift.fund_id),
        "method": gift.method,
        "amount": "100.00",
        "received_on": gift.received_at.date().isoformat(),
        "cheque_number": gift.cheque_number,
        "reference": "",
        "memo": "",
        "benefit_description": gift.benefit_description,
        "benefit_value": (
            f"{gift.benefit_cents // 100}.{gift.benefit_cents % 100:02d}"
            if gift.benefit_cents
            else ""
        ),
        "reason": "Forgot the gala dinner",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int, int]:
    """Gifts, receipts and valid receipts."""
    return (
        db.session.scalar(select(func.count()).select_from(Gift)),
        db.session.scalar(select(func.count()).select_from(Receipt)),
        db.session.scalar(
            select(func.count()).select_from(Receipt).where(Receipt.status == "valid")
        ),
    )


def corrected(original: Gift) -> tuple[Gift, Gift]:
    reversal, replacement = db.session.scalars(
        select(Gift).where(Gift.corrects_gift_id == original.id).order_by(Gift.id)
    ).all()
    assert reversal.is_reversal and not replacement.is_reversal
    return reversal, replacement


def pdf_text(client, receipt: Receipt) -> str:
    response = client.get(f"/receipts/{receipt.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return html.unescape(response.get_data(as_text=True))


def test_adding_a_dinner_to_a_cheque_reissues_the_receipt_with_the_deductible_part(
    treasurer_client, cheque
):
    original, old_receipt = cheque()
    form = page(treasurer_client, f"/gifts/{original.id}/correct")
    assert 'name="benefit_description"' in form and 'name="benefit_value"' in form
    assert "<dt>Given in return</dt><dd>Nothing</dd>" in form

    response = treasurer_client.post(
        f"/gifts/{original.id}/correct",
        data=correction_form(
            original, benefit_description="Gala dinner for one", benefit_value="30"
        ),
    )
    assert response.status_code == 302
    reversal, replacement = corrected(original)
    assert response.headers["Location"].endswith(f"/gifts/{replacement.id}")

    db.session.refresh(original)
    assert (original.benefit_description, original.benefit_cents) == ("", 0)
    assert reversal.amount_cents == -10_000 and reversal.benefit_cents == 0
    assert replacement.amount_cents == 10_000 and replacement.cheque_number == "555"
    assert (replacement.benefit_description, replacement.benefit_cents) == (
        "Gala dinner for one",
        3_000,
    )

    db.session.refresh(old_receipt)
    assert old_receipt.is_void and "Forgot the gala dinner" in old_receipt.void_reason
    new_receipt = receipts.valid_receipt_for_gift(replacement.id)
    assert new_receipt.replaces_id == old_receipt.id and new_receipt.amount_cents == 10_000
    content = receipts.content_of(new_receipt)
    assert (content.benefit_description, content.benefit_cents) == ("Gala dinner for one", 3_000)
    assert content.deductible_cents == 7_000
    text = pdf_text(treasurer_client, new_receipt)
    assert (
        "In exchange for this contribution you received Gala dinner for one, with an "
        "estimated fair market value of $30.00. Only the amount of your contribution above "
        "that value, $70.00, is deductible"
    ) in text
    assert old_receipt.number in text  # the new receipt names the one it replaces
    assert "No goods or services were provided" not in text

    summary = db.session.scalar(
        select(AuditEvent.summary).where(
            AuditEvent.action == "gift.replace", AuditEvent.object_id == str(replacement.id)
        )
    )
    assert "benefit_cents: 0 -> 3000" in summary

    detail = page(treasurer_client, f"/gifts/{replacement.id}")
    assert "Given in return: Gala dinner for one, valued at $30.00" in detail
    assert new_receipt.number in detail
    listing = page(treasurer_client, "/gifts/?status=all")
    assert listing.count("$30.00 given in return") == 1  # the replacement's row only
    old = page(treasurer_client, f"/gifts/{original.id}")
    assert "Issue receipt" not in old and f"gift #{replacement.id}</a>, does" in old
    assert "Void receipts: " in old and old_receipt.number in old
    assert "Given in return" not in old


def test_removing_a_benefit_makes_the_whole_gift_deductible(treasurer_client, cheque):
    original, old_receipt = cheque(benefit_description="Dinner for two", benefit_cents=3_000)
    assert receipts.content_of(old_receipt).deductible_cents == 7_000
    form = page(treasurer_client, f"/gifts/{original.id}/correct")
    assert 'value="Dinner for two"' in form and 'value="30.00"' in form
    assert "Dinner for two, valued at $30.00" in form  # as recorded

    response = treasurer_client.post(
        f"/gifts/{original.id}/correct",
        data=correction_form(
            original,
            benefit_description="",
            benefit_value="",
            reason="The donor did not come to the dinner",
        ),
    )
    assert response.status_code == 302
    _reversal, replacement = corrected(original)
    assert (replacement.benefit_description, replacement.benefit_cents) == ("", 0)
    assert replacement.amount_cents == 10_000
    db.session.refresh(old_receipt)
    assert old_receipt.is_void
    new_receipt = receipts.valid_receipt_for_gift(replacement.id)
    content = receipts.content_of(new_receipt)
    assert content.benefit_cents == 0 and content.deductible_cents == 10_000
    text = pdf_text(treasurer_client, new_receipt)
    assert "No goods or services were provided" in text and "In exchange" not in text

    assert "Given in return" not in page(treasurer_client, f"/gifts/{replacement.id}")
    assert "given in return" not in page(treasurer_client, f"/gifts/{replacement.id}")
    old = page(treasurer_client, f"/gifts/{original.id}")
    assert "Given in return: Dinner for two, valued at $30.00, as first recorded" in old


def test_changing_the_estimate_only_is_a_correction(treasurer_client, cheque):
    original, _old = cheque(benefit_description="Dinner", benefit_cents=3_000)
    response = treasurer_client.post(
        f"/gifts/{original.id}/correct",
        data=correction_form(original, benefit_value="45.50", reason="Caterer's invoice"),
    )
    assert response.status_code == 302
    _reversal, replacement = corrected(original)
    assert (replacement.benefit_description, replacement.benefit_cents) == ("Dinner", 4_550)
    content = receipts.content_of(receipts.valid_receipt_for_gift(replacement.id))
    assert content.deductible_cents == 5_450


def test_an_unchanged_benefit_is_still_nothing_changed(treasurer_client, cheque):
    original, _receipt = cheque(benefit_description="Dinner", benefit_cents=3_000)
    before = counts()
    response = treasurer_client.post(
        f"/gifts/{original.id}/correct", data=correction_form(original, reason="Oops")
    )
    assert response.status_code == 200
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert counts() == before


def test_the_service_keeps_the_benefit_when_it_is_not_given(cheque):
    """Callers other than the form (which always sends it) correct other values only."""
    original, _receipt = cheque(benefit_description="Dinner", benefit_cents=3_000)
    _reversal, replacement = gift_service.correct_gift(
        actor=None, gift=original, reason="Wrong amount", amount_cents=20_000
    )
    db.session.commit()
    assert (replacement.benefit_description, replacement.benefit_cents) == ("Dinner", 3_000)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"benefit_value": "150"}, "benefit_value", "cannot be worth more than the gift"),
        ({"benefit_value": "-30"}, "benefit_value", "Enter an amount greater than zero."),
        ({"benefit_value": "0"}, "benefit_value", "Enter an amount greater than zero."),
        ({"benefit_value": "thirty"}, "benefit_value", "Enter the amount as a number"),
        ({"benefit_value": "30.005"}, "benefit_value", "Use at most 2 decimal places."),
        ({"benefit_value": "1e400"}, "benefit_value", "cannot be worth more than the gift"),
        ({"benefit_value": "x" * 31}, "benefit_value", "Field cannot be longer than 30"),
        (
            {"benefit_description": "", "benefit_value": "30"},
            "benefit_description",
            "Describe the goods or services",
        ),
        ({"benefit_value": ""}, "benefit_value", "Enter a good-faith estimate"),
        (
            {"benefit_description": "d" * 301},
            "benefit_description",
            "Field cannot be longer than 300 characters.",
        ),
        # The benefit is fine, but no longer fits the corrected amount.
        ({"amount": "20.00", "benefit_value": "30"}, "benefit_value", "($20.00)"),
    ],
)
def test_bad_benefit_is_refused_next_to_its_field_and_changes_nothing(
    treasurer_client, cheque, overrides, field, message
):
    original, receipt = cheque()
    data = correction_form(original, **{"benefit_description": "Gala dinner", **overrides})
    before = counts()
    response = treasurer_client.post(f"/gifts/{original.id}/correct", data=data)
    assert response.status_code == 200
    body = html.unescape(response.get_data(as_text=True))
    error = body.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no error next to {field}"
    assert message in error[1].split("</p>", 1)[0]
    assert f'value="{data[field]}"' in body  # the input is kept
    assert f'value="{data["amount"]}"' in body
    assert counts() == before
    db.session.refresh(receipt)
    assert not receipt.is_void
    assert gift_service.correction_problem(original) is None  # still correctable


@pytest.mark.parametrize(
    ("benefit", "field"),
    [
        ({"benefit_cents": 10_001, "benefit_description": "Dinner"}, "benefit_value"),
        ({"benefit_cents": -1, "benefit_description": "Dinner"}, "benefit_value"),
        ({"benefit_cents": True, "benefit_description": "Dinner"}, "benefit_value"),
        ({"benefit_cents": 3_000, "benefit_description": " "}, "benefit_description"),
    ],
)
def test_the_service_checks_a_corrected_benefit(cheque, benefit, field):
    original, _receipt = cheque()
    before = counts()
    with pytest.raises(InvalidInput) as raised:
        gift_service.correct_gift(actor=None, gift=original, reason="Dinner", **benefit)
    assert raised.value.field == field
    db.session.rollback()
    assert counts() == before


@pytest.mark.parametrize(
    ("amount", "value"), [("1e400", "1e300"), ("99999999999999999999", "30"), ("1e30", "")]
)
def test_amounts_too_large_to_store_are_refused_not_a_server_error(
    treasurer_client, cheque, amount, value
):
    original, receipt = cheque()
    before = counts()
    data = correction_form(original, amount=amount, benefit_description="D" if value else "")
    response = treasurer_client.post(
        f"/gifts/{original.id}/correct", data={**data, "benefit_value": value}
    )
    assert response.status_code == 200
    assert "Enter an amount of at most $21,474,836.47." in response.get_data(as_text=True)
    assert counts() == before
    db.session.refresh(receipt)
    assert not receipt.is_void


def test_recording_an_amount_too_large_to_store_is_refused(
    treasurer_client, organization, fund, create_donor
):
    donor = create_donor()
    before = counts()
    response = treasurer_client.post(
        "/gifts/new",
        data={
            "donor_id": str(donor.id),
            "fund_id": str(fund.id),
            "method": "cash",
            "amount": "99999999999999999999",
            "received_on": RECEIVED.isoformat(),
            "benefit_description": "Dinner",
            "benefit_value": "30",
        },
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="amount-error">Enter an amount of at most $21,474,836.47.' in body
    assert counts() == before


def test_a_corrected_original_cannot_be_receipted_again(cheque) -> None:
    """The replacement carries the receipt; the reversed original is refused another."""
    from donations.services.errors import NotAllowed

    original, first = cheque()
    _reversal, replacement = gift_service.correct_gift(
        actor=None, gift=original, reason="Cheque was for $90", amount_cents=9_000
    )
    db.session.commit()
    assert db.session.get(Receipt, first.id).is_void
    assert receipts.valid_receipt_for_gift(replacement.id) is not None
    before = counts()
    with pytest.raises(NotAllowed, match="was corrected"):
        receipts.issue_gift_receipt(actor=None, gift=db.session.get(Gift, original.id))
    db.session.rollback()
    assert counts() == before
