"""Treasurer receipt pages: list, detail, PDF, issue, void and reissue; receipt settings;
the offline gift's "given in return"; a refund voiding and reissuing a receipt."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import AuditEvent, Fund, Gift, InKindGift, Receipt, Role, utcnow
from donations.services import gifts as gift_service
from donations.services import inventory, receipt_files, receipts

THIS_YEAR = utcnow().year


# --- helpers -------------------------------------------------------------------


@pytest.fixture
def fund(app):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def gift(app, organization, fund, create_donor):
    def make(amount_cents=5000, *, donor=None, **extra) -> Gift:
        gift = gift_service.record_offline_gift(
            actor=None,
            donor_id=(donor or create_donor("Zoë Ångström")).id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount_cents,
            currency="USD",
            received_on=utcnow().date(),
        )
        for name, value in extra.items():
            setattr(gift, name, value)
        db.session.commit()
        return gift

    return make


@pytest.fixture
def issued(gift):
    """A committed receipt for a new $50 gift."""

    def make(**kwargs) -> Receipt:
        receipt = receipts.issue_gift_receipt(actor=None, gift=gift(**kwargs))
        db.session.commit()
        return receipt

    return make


def receipt_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Receipt))


def png_bytes(size=(40, 20), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def settings_form(**overrides) -> dict:
    data = {
        "per_gift_receipts": "y",
        "page_size": "letter",
        "account_bank": "Checking",
        "account_clearing": "Stripe clearing",
        "account_fees": "Payment processing fees",
        "account_income": "Contributions income",
        "account_in_kind": "In-kind contributions",
        "account_refunds": "Refunds and disputes",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def flashed(client) -> str:
    return client.get("/dashboard").get_data(as_text=True)


# --- who sees what ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "books", "admin"),
    [(Role.ADMIN, True, True), (Role.TREASURER, True, False), (Role.STAFF, False, False)],
)
def test_pages_by_role(login, issued, role, books, admin):
    receipt = issued()
    client = login(role)
    for url in ("/receipts/", f"/receipts/{receipt.id}"):
        assert client.get(url).status_code == (200 if books else 403)
    assert client.get("/admin/receipts").status_code == (200 if admin else 403)


def test_list_filters_and_empty_state(treasurer_client, issued, create_donor):
    html = treasurer_client.get("/receipts/").get_data(as_text=True)
    assert "No receipts have been issued yet" in html
    first = issued()
    second = issued(donor=create_donor("Bartholomew Giver"))
    receipts.void_receipt(actor=None, receipt=first, reason="Wrong name")
    db.session.commit()
    html = treasurer_client.get("/receipts/").get_data(as_text=True)
    assert html.index(second.number) < html.index(first.number)  # newest first
    html = treasurer_client.get("/receipts/?status=void").get_data(as_text=True)
    assert first.number in html and second.number not in html
    html = treasurer_client.get("/receipts/?donor=bartholomew").get_data(as_text=True)
    assert second.number in html and first.number not in html
    html = treasurer_client.get(f"/receipts/?number={second.number[-6:]}").get_data(as_text=True)
    assert second.number in html and first.number not in html
    html = treasurer_client.get(f"/receipts/?year={THIS_YEAR}&kind=cash").get_data(as_text=True)
    assert first.number in html and second.number in html
    html = treasurer_client.get("/receipts/?kind=statement").get_data(as_text=True)
    assert "No receipts match these filters" in html
    # nonsense filters are ignored, not a 500
    assert treasurer_client.get("/receipts/?kind=nope&year=abc&page=-3").status_code == 200


# --- issuing -------------------------------------------------------------------


def test_issue_from_the_gift_page_then_issue_twice_refused(treasurer_client, gift):
    paid = gift(4_200)
    html = treasurer_client.get(f"/gifts/{paid.id}").get_data(as_text=True)
    assert "This gift has no receipt yet" in html and "Issue receipt" in html
    response = treasurer_client.post(f"/receipts/issue/gift/{paid.id}")
    receipt = db.session.scalars(select(Receipt)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/receipts/{receipt.id}")
    assert receipt.issued_by_id == treasurer_client.user.id
    assert receipt.number == f"{THIS_YEAR}-000001" and receipt.amount_cents == 4_200

    html = treasurer_client.get(f"/gifts/{paid.id}").get_data(as_text=True)
    assert receipt.number in html and "Issue receipt" not in html
    page = treasurer_client.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert "Zoë Ångström" in page and "$42.00" in page and "receipt.issued" in page
    assert f"/gifts/{paid.id}" in page and "Download PDF" in page

    again = treasurer_client.post(f"/receipts/issue/gift/{paid.id}", follow_redirects=True)
    assert "already has receipt" in again.get_data(as_text=True)
    assert receipt_count() == 1


def test_issue_refused_for_a_pending_gift(treasurer_client, gift):
    pending = gift(status="pending")
    html = treasurer_client.get(f"/gifts/{pending.id}").get_data(as_text=True)
    assert "Issue receipt" not in html and "once the gift is paid" in html
    response = treasurer_client.post(f"/receipts/issue/gift/{pending.id}", follow_redirects=True)
    assert "only a paid gift gets a receipt" in response.get_data(as_text=True)
    assert receipt_count() == 0
    assert treasurer_client.post("/receipts/issue/gift/999999").status_code == 404


def test_acknowledge_goods_from_the_donor_page(treasurer_client, goods, organization, create_donor):
    donor = create_donor("Ada Giver")
    inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=utcnow().date(),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("SOCKS-M", 10, "new")],
    )
    db.session.commit()
    in_kind = db.session.scalars(select(InKindGift)).one()
    html = treasurer_client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert f"/receipts/issue/in-kind/{in_kind.id}" in html and "Acknowledge" in html
    response = treasurer_client.post(f"/receipts/issue/in-kind/{in_kind.id}")
    receipt = db.session.scalars(select(Receipt)).one()
    assert response.headers["Location"].endswith(f"/receipts/{receipt.id}")
    assert receipt.kind == "in_kind" and receipt.in_kind_gift_id == in_kind.id
    html = treasurer_client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert receipt.number in html and f"/receipts/issue/in-kind/{in_kind.id}" not in html
    page = treasurer_client.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert "no value is stated" in page and "Socks (M)" in page
    again = treasurer_client.post(f"/receipts/issue/in-kind/{in_kind.id}", follow_redirects=True)
    assert "already have acknowledgement" in again.get_data(as_text=True)
    assert receipt_count() == 1


# --- void and reissue ------------------------------------------------------------


def test_void_needs_a_reason(treasurer_client, issued):
    receipt = issued()
    response = treasurer_client.post(f"/receipts/{receipt.id}/void", data={"reason": "  "})
    assert response.status_code == 400
    assert "Say why the receipt is void." in response.get_data(as_text=True)
    assert not db.session.get(Receipt, receipt.id).is_void


def test_void_then_void_twice_refused(treasurer_client, issued):
    receipt = issued()
    response = treasurer_client.post(
        f"/receipts/{receipt.id}/void", data={"reason": "Wrong donor name"}
    )
    assert response.status_code == 302
    receipt = db.session.get(Receipt, receipt.id)
    assert receipt.is_void and receipt.void_reason == "Wrong donor name"
    assert receipt.voided_by_id == treasurer_client.user.id
    html = treasurer_client.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert "Wrong donor name" in html and "It has not been reissued" in html
    assert "Reissue" in html and f"/receipts/{receipt.id}/void" not in html

    again = treasurer_client.post(f"/receipts/{receipt.id}/void", data={"reason": "Again"})
    assert again.status_code == 400
    assert "already void" in again.get_data(as_text=True)
    assert db.session.get(Receipt, receipt.id).void_reason == "Wrong donor name"


def test_reissue_a_void_receipt_once(treasurer_client, issued):
    receipt = issued()
    refused = treasurer_client.post(f"/receipts/{receipt.id}/reissue", follow_redirects=True)
    assert "void it first" in refused.get_data(as_text=True)
    assert receipt_count() == 1

    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong amount")
    db.session.commit()
    response = treasurer_client.post(f"/receipts/{receipt.id}/reissue")
    new = db.session.scalar(select(Receipt).where(Receipt.replaces_id == receipt.id))
    assert response.headers["Location"].endswith(f"/receipts/{new.id}")
    assert new.number == f"{THIS_YEAR}-000002" and not new.is_void
    html = treasurer_client.get(f"/receipts/{new.id}").get_data(as_text=True)
    assert f'replaces <a href="/receipts/{receipt.id}">{receipt.number}</a>' in html
    html = treasurer_client.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert f'replaced by <a href="/receipts/{new.id}">{new.number}</a>' in html

    twice = treasurer_client.post(f"/receipts/{receipt.id}/reissue", follow_redirects=True)
    assert "already reissued" in twice.get_data(as_text=True)
    assert receipt_count() == 2


# --- PDFs ------------------------------------------------------------------------


def test_pdf_download(treasurer_client, issued):
    receipt = issued()
    response = treasurer_client.get(f"/receipts/{receipt.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f'filename="receipt-{receipt.number}.pdf"' in response.headers["Content-Disposition"]


def test_filenames():
    assert receipt_files.receipt_filename(Receipt(kind="cash", number="2026-000042")) == (
        "receipt-2026-000042.pdf"
    )
    assert receipt_files.receipt_filename(Receipt(kind="statement", number="2026-000043")) == (
        "statement-2026-000043.pdf"
    )


# --- settings ------------------------------------------------------------------


def test_settings_save_with_a_logo_and_audit(admin_client):
    response = admin_client.post(
        "/admin/receipts",
        data=settings_form(
            per_gift_receipts=None,
            page_size="a4",
            account_bank="  Operating   account ",
            logo=(io.BytesIO(png_bytes()), "logo.png"),
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    settings = receipts.get_receipt_settings()
    assert settings.per_gift_receipts is False and settings.page_size == "a4"
    assert settings.account_bank == "Operating account"
    assert settings.logo == png_bytes() and settings.logo_content_type == "image/png"
    entry = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "receipts.settings")
    ).one()
    assert "page_size: letter -> a4" in entry.summary and "new logo" in entry.summary
    html = admin_client.get("/admin/receipts").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in html and "Remove the logo" in html

    response = admin_client.post("/admin/receipts", data=settings_form(remove_logo="y"))
    assert response.status_code == 302
    assert receipts.get_receipt_settings().logo is None


@pytest.mark.parametrize(
    ("logo", "message"),
    [
        (b"not an image at all", "not a PNG or JPEG"),
        (b"GIF89a" + png_bytes(), "not a PNG or JPEG"),
        (b"\x89PNG" + b"0" * (512 * 1024), "at most 512 KB"),
    ],
)
def test_bad_logo_refused_and_nothing_saved(admin_client, logo, message):
    response = admin_client.post(
        "/admin/receipts",
        data=settings_form(page_size="a4", logo=(io.BytesIO(logo), "logo.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    settings = receipts.get_receipt_settings()
    assert settings.logo is None and settings.page_size == "letter"


def test_gif_logo_refused(admin_client):
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    response = admin_client.post(
        "/admin/receipts",
        data=settings_form(logo=(io.BytesIO(out.getvalue()), "logo.gif")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "use a PNG or JPEG" in response.get_data(as_text=True)


def test_account_names_are_required(admin_client):
    response = admin_client.post(
        "/admin/receipts", data=settings_form(account_fees="", account_income="x" * 101)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the name of the processing fees expense account." in html
    assert "Field cannot be longer than 100 characters." in html
    assert receipts.get_receipt_settings().account_fees == "Payment processing fees"
    db.session.rollback()
    empty = admin_client.post("/admin/receipts", data={})  # kept as it was
    assert empty.status_code < 500
    assert receipts.get_receipt_settings().account_fees == "Payment processing fees"


def test_sample_receipt_shows_the_logo_and_takes_no_number(admin_client, organization):
    import pypdf

    admin_client.post(
        "/admin/receipts",
        data=settings_form(logo=(io.BytesIO(png_bytes((60, 30))), "logo.png")),
        content_type="multipart/form-data",
    )
    response = admin_client.get("/admin/receipts/sample.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Sample Donor" in text and "SAMPLE" in text
    assert any(page.images for page in reader.pages)  # the logo
    assert receipt_count() == 0


def test_sample_without_the_organisation_profile(admin_client):
    response = admin_client.get("/admin/receipts/sample.pdf", follow_redirects=True)
    assert "Fill in the organisation" in response.get_data(as_text=True)


# --- offline gifts with something given in return ----------------------------------


def offline_form(donor_id: int, fund_id: int, **overrides: str) -> dict[str, str]:
    data = {
        "donor_id": str(donor_id),
        "fund_id": str(fund_id),
        "method": "cash",
        "amount": "200.00",
        "received_on": utcnow().date().isoformat(),
        "benefit_description": "",
        "benefit_value": "",
    }
    data.update(overrides)
    return data


def test_offline_gift_with_benefit_reduces_the_deductible_amount(
    treasurer_client, organization, fund, create_donor
):
    donor = create_donor("Gala Guest")
    response = treasurer_client.post(
        "/gifts/new",
        data=offline_form(
            donor.id, fund.id, benefit_description="Gala dinner for two", benefit_value="90"
        ),
    )
    assert response.status_code == 302
    gift = db.session.scalars(select(Gift)).one()
    assert (gift.benefit_description, gift.benefit_cents) == ("Gala dinner for two", 9_000)
    html = treasurer_client.get(f"/gifts/{gift.id}").get_data(as_text=True)
    assert "Given in return: Gala dinner for two" in html
    treasurer_client.post(f"/receipts/issue/gift/{gift.id}")
    receipt = db.session.scalars(select(Receipt)).one()
    content = receipts.content_of(receipt)
    assert content.benefit_cents == 9_000 and content.deductible_cents == 11_000
    page = treasurer_client.get(f"/receipts/{receipt.id}").get_data(as_text=True)
    assert "$110.00" in page and "Gala dinner for two" in page


@pytest.mark.parametrize(
    ("description", "value", "message"),
    [
        ("Dinner", "", "Enter a good-faith estimate"),
        ("", "20", "Describe the goods or services"),
        ("Dinner", "250", "cannot be worth more than the gift"),
        ("Dinner", "-5", "greater than zero"),
        ("Dinner", "abc", "Enter the amount as a number"),
    ],
)
def test_bad_benefit_refused(
    treasurer_client, organization, fund, create_donor, description, value, message
):
    donor = create_donor()
    response = treasurer_client.post(
        "/gifts/new",
        data=offline_form(donor.id, fund.id, benefit_description=description, benefit_value=value),
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Gift)) == 0


def test_a_correction_keeps_the_benefit(treasurer_client, organization, fund, create_donor):
    donor = create_donor()
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=20_000,
        currency="USD",
        received_on=utcnow().date(),
        benefit_description="Dinner",
        benefit_cents=5_000,
    )
    db.session.commit()
    _reversal, replacement = gift_service.correct_gift(
        actor=None, gift=gift, reason="Wrong amount", amount_cents=30_000
    )
    db.session.commit()
    assert (replacement.benefit_description, replacement.benefit_cents) == ("Dinner", 5_000)


# --- refunds -------------------------------------------------------------------


def test_refund_voids_and_reissues_through_sync(treasurer_client, issued):
    receipt = issued(amount_cents=10_000)
    paid = receipt.gift
    paid.refunded_cents = 4_000
    new = receipts.sync_gift_receipt(paid)
    db.session.commit()
    assert new.amount_cents == 6_000
    html = treasurer_client.get(f"/gifts/{paid.id}").get_data(as_text=True)
    assert new.number in html and receipt.number in html  # valid one, and the void one
    paid.refunded_cents = 10_000
    assert receipts.sync_gift_receipt(paid) is None
    db.session.commit()
    html = treasurer_client.get(f"/gifts/{paid.id}").get_data(as_text=True)
    assert "Nothing is left to receipt" in html and "Issue receipt" not in html


def test_void_pdf_says_void_and_statement_page_renders(treasurer_client, issued, create_donor):
    import pypdf

    donor = create_donor("Ada Giver")
    receipt = issued(donor=donor)
    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong donor name")
    statement = receipts.issue_statement(actor=None, donor=donor, tax_year=THIS_YEAR)
    db.session.commit()
    response = treasurer_client.get(f"/receipts/{receipt.id}.pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert "VOID" in text
    response = treasurer_client.get(f"/receipts/{statement.id}.pdf")
    assert f'filename="statement-{statement.number}.pdf"' in response.headers["Content-Disposition"]
    html = treasurer_client.get(f"/receipts/{statement.id}").get_data(as_text=True)
    assert "Year-end statement" in html and "General: $50.00" in html


def test_recording_an_offline_gift_emails_its_receipt_unless_unticked(
    treasurer_client, organization, create_donor
):
    from donations.models import Fund, OutboxMessage

    fund = Fund(name="General")
    db.session.add(fund)
    donor = create_donor("Ada Giver", email="ada@example.com")
    db.session.commit()
    form = {
        "donor_id": donor.id,
        "fund_id": fund.id,
        "method": "cash",
        "amount": "40.00",
        "received_on": utcnow().date().isoformat(),
    }
    assert treasurer_client.post("/gifts/new", data={**form, "send_thanks": "y"}).status_code == 302
    assert treasurer_client.post("/gifts/new", data=form).status_code == 302
    numbers = list(db.session.scalars(select(Receipt.number)))
    assert len(numbers) == 1
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "gift_thanks"))
    assert message.to_addr == "ada@example.com"
    assert f"Your official receipt {numbers[0]} is attached." in message.body_text
    assert [a.filename for a in message.attachments] == [f"receipt-{numbers[0]}.pdf"]


def test_a_reissued_receipt_is_emailed_to_the_donor(treasurer_client, organization, create_donor):
    from donations.models import OutboxMessage

    fund = Fund(name="General")
    db.session.add(fund)
    donor = create_donor("Ada Giver", email="ada@example.com")
    db.session.flush()
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=4000,
        currency="USD",
        received_on=utcnow().date(),
    )
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong name")
    db.session.commit()
    response = treasurer_client.post(f"/receipts/{receipt.id}/reissue")
    assert response.status_code == 302
    new = receipts.replacement_of(receipt)
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
    assert message.to_addr == "ada@example.com" and new.mail_message_id == message.id
    assert f"replaces {receipt.number}" in message.body_text


def test_the_treasurers_dashboard_leads_to_receipts_and_reports(treasurer_client):
    html = treasurer_client.get("/dashboard").get_data(as_text=True)
    for path in ("/receipts/", "/receipts/year-end/", "/reports/", "/reports/exports"):
        assert f'href="{path}"' in html
