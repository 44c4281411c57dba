"""Receipt numbers, void and reissue, statements: the rules of services/receipts.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Fund, Gift, InKindGift, Receipt, ReceiptSequence, utcnow
from donations.services import gifts as gift_service
from donations.services import inventory, receipts
from donations.services.errors import DomainError, InvalidInput, NotAllowed
from donations.tenancy import HOME_ORGANIZATION_ID as HOME

THIS_YEAR = utcnow().year


@pytest.fixture
def fund(app):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def gift(app, organization, fund, create_donor):
    def make(amount_cents=5000, *, donor=None, received=None, **extra) -> Gift:
        gift = gift_service.record_offline_gift(
            actor=None,
            donor_id=(donor or create_donor("Zoë Ångström")).id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount_cents,
            currency="USD",
            received_on=received or utcnow().date(),
        )
        for name, value in extra.items():
            setattr(gift, name, value)
        db.session.commit()
        return gift

    return make


def receipt_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Receipt))


def test_numbers_are_consecutive_per_fiscal_year(gift):
    numbers = []
    for _ in range(3):
        numbers.append(receipts.issue_gift_receipt(actor=None, gift=gift()).number)
        db.session.commit()
    assert numbers == [f"{THIS_YEAR}-{n:06d}" for n in (1, 2, 3)]


def test_a_rolled_back_issue_gives_its_number_back(gift):
    first = gift()
    receipts.issue_gift_receipt(actor=None, gift=first)
    db.session.rollback()
    again = receipts.issue_gift_receipt(actor=None, gift=first)
    db.session.commit()
    assert again.number == f"{THIS_YEAR}-000001"
    assert db.session.get(ReceiptSequence, (HOME, False, THIS_YEAR)).last_number == 1


def test_fiscal_year_names_the_year_it_ends_in():
    assert receipts.fiscal_year_of(date(2026, 6, 30), 7) == 2026
    assert receipts.fiscal_year_of(date(2026, 7, 1), 7) == 2027
    assert receipts.fiscal_year_of(date(2026, 12, 31), 1) == 2026
    assert receipts.tax_year_period(2027, 7) == (date(2026, 7, 1), date(2027, 6, 30))
    assert receipts.tax_year_period(2026, 1) == (date(2026, 1, 1), date(2026, 12, 31))


def test_receipt_snapshot_has_what_the_law_asks(gift, organization):
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift(12_345))
    db.session.commit()
    content = receipts.content_of(receipt)
    assert content.org.legal_name == "Harbor Light Shelter, Inc."
    assert content.org.tax_id == "12-3456789"
    assert content.donor.name == "Zoë Ångström"
    assert content.gift.amount_cents == 12_345
    assert content.deductible_cents == 12_345
    assert content.verification_code == receipt.verification_code
    assert content.verify_url.endswith(f"/verify/{receipt.verification_code}")


def test_a_receipt_is_refused_for_unpaid_or_already_receipted_gifts(gift):
    paid = gift()
    receipts.issue_gift_receipt(actor=None, gift=paid)
    db.session.commit()
    with pytest.raises(NotAllowed, match="already has receipt"):
        receipts.issue_gift_receipt(actor=None, gift=paid)
    db.session.rollback()
    pending = gift()
    pending.status = "pending"
    db.session.commit()
    with pytest.raises(NotAllowed, match="only a paid gift"):
        receipts.issue_gift_receipt(actor=None, gift=pending)
    db.session.rollback()
    assert receipt_count() == 1


def test_void_keeps_the_number_and_reissue_points_back(gift):
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift())
    db.session.commit()
    with pytest.raises(NotAllowed, match="void it first"):
        receipts.reissue_receipt(actor=None, receipt=receipt)
    db.session.rollback()
    with pytest.raises(InvalidInput):
        receipts.void_receipt(actor=None, receipt=receipt, reason="  ")
    db.session.rollback()
    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong donor name")
    db.session.commit()
    with pytest.raises(NotAllowed, match="already void"):
        receipts.void_receipt(actor=None, receipt=receipt, reason="again")
    db.session.rollback()
    new = receipts.reissue_receipt(actor=None, receipt=receipt)
    db.session.commit()
    assert receipt.number == f"{THIS_YEAR}-000001" and receipt.is_void
    assert new.number == f"{THIS_YEAR}-000002"
    assert new.replaces_id == receipt.id
    assert receipts.content_of(new).replaces_number == receipt.number
    assert receipts.void_mark(receipt).replaced_by == new.number
    with pytest.raises(NotAllowed, match="already reissued"):
        receipts.reissue_receipt(actor=None, receipt=receipt)
    db.session.rollback()


def test_receipts_are_never_edited_or_deleted(gift):
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift())
    db.session.commit()
    receipt.amount_cents = 1
    with pytest.raises(RuntimeError, match="never edited"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(receipt)
    with pytest.raises(RuntimeError, match="never deleted"):
        db.session.flush()
    db.session.rollback()


def test_a_partial_refund_voids_and_reissues_for_the_rest(gift):
    paid = gift(10_000)
    receipt = receipts.issue_gift_receipt(actor=None, gift=paid)
    db.session.commit()
    paid.refunded_cents = 2_500
    new = receipts.sync_gift_receipt(paid)
    db.session.commit()
    assert receipt.is_void and receipt.void_reason == "Part of the gift was refunded"
    assert new.amount_cents == 7_500 and new.replaces_id == receipt.id
    assert receipts.sync_gift_receipt(paid) is None  # a repeat changes nothing
    paid.refunded_cents = 10_000
    assert receipts.sync_gift_receipt(paid) is None
    db.session.commit()
    assert new.is_void and new.void_reason == "Refunded in full"


def test_quid_pro_quo_benefit_is_not_deductible(gift):
    paid = gift(20_000, benefit_description="Gala dinner for two", benefit_cents=9_000)
    content = receipts.content_of(receipts.issue_gift_receipt(actor=None, gift=paid))
    assert content.benefit_description == "Gala dinner for two"
    assert content.deductible_cents == 11_000


def test_statement_lists_the_years_gifts_with_fund_totals(gift, create_donor, fund):
    donor = create_donor("Ada Giver")
    first = gift(5_000, donor=donor, received=date(THIS_YEAR, 1, 15))
    gift(7_000, donor=donor, received=date(THIS_YEAR, 3, 1))
    gift(9_000, donor=donor, received=date(THIS_YEAR - 1, 12, 31))  # last year
    receipts.issue_gift_receipt(actor=None, gift=first)
    statement = receipts.issue_statement(actor=None, donor=donor, tax_year=THIS_YEAR)
    db.session.commit()
    content = receipts.content_of(statement)
    assert statement.amount_cents == 12_000
    assert [g.amount_cents for g in content.gifts] == [5_000, 7_000]
    assert content.gifts[0].receipt_number == f"{THIS_YEAR}-000001"
    assert [(t.fund, t.amount_cents) for t in content.fund_totals] == [("General", 12_000)]
    with pytest.raises(NotAllowed, match="already has statement"):
        receipts.issue_statement(actor=None, donor=donor, tax_year=THIS_YEAR)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="gave nothing"):
        receipts.issue_statement(actor=None, donor=donor, tax_year=THIS_YEAR - 5)
    db.session.rollback()


def test_in_kind_acknowledgement_states_no_value(goods, organization, create_donor):
    donor = create_donor("Ada Giver")
    document = inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=utcnow().date(),
        source="donor",
        donor_id=donor.id,
        donor_value_cents=60_000,
        lines=[goods.line("COAT-A-M", 3, "good_used"), goods.line("SOCKS-M", 10, "new")],
    )
    db.session.commit()
    in_kind = db.session.scalar(select(InKindGift).where(InKindGift.document_id == document.id))
    receipt = receipts.issue_in_kind_receipt(actor=None, in_kind=in_kind)
    db.session.commit()
    content = receipts.content_of(receipt)
    assert receipt.amount_cents == 0
    assert [(g.description, g.quantity, g.condition) for g in content.goods] == [
        ("Coat, adult (M)", 3, "Good used"),
        ("Socks (M)", 10, "New"),
    ]
    assert content.form_8283_reminder is True
    assert "Hidden" not in receipt.content and "warehouse" not in receipt.content.lower()


def test_verify_shows_number_date_amount_status_only(client, gift):
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift(4_200))
    db.session.commit()
    page = client.get(f"/verify/{receipt.verification_code.lower().replace('-', '')}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert receipt.number in html and "$42.00" in html and "Valid" in html
    assert "Zoë" not in html
    unknown = client.get("/verify/AAAA-BBBB-CC")
    assert unknown.status_code == 404
    assert "No receipt has this code" in unknown.get_data(as_text=True)


def test_no_receipts_without_the_organisation_profile(app, fund, create_donor):
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=create_donor().id,
        fund_id=fund.id,
        method="cash",
        amount_cents=100,
        currency="USD",
        received_on=datetime.now(UTC).date(),
    )
    with pytest.raises(DomainError, match="legal name"):
        receipts.issue_gift_receipt(actor=None, gift=gift)
    db.session.rollback()


def test_correcting_an_offline_gift_voids_its_receipt_and_receipts_the_replacement(gift):
    original = gift(5_000)
    receipt = receipts.issue_gift_receipt(actor=None, gift=original)
    db.session.commit()
    _reversal, replacement = gift_service.correct_gift(
        actor=None, gift=original, reason="Counted wrong", amount_cents=4_000
    )
    db.session.commit()
    assert receipt.is_void and "Counted wrong" in receipt.void_reason
    new = receipts.valid_receipt_for_gift(replacement.id)
    assert new.amount_cents == 4_000 and new.replaces_id == receipt.id
