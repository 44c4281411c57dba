"""Receipts reach donors: in the thank-you note, by their own email, by signed links,
and on the donor's self-service page."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from email import message_from_bytes

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.jobs.mail_worker import deliver_due
from donations.models import Fund, Gift, OutboxMessage, Receipt, RecurringPlan, utcnow
from donations.services import donors as donor_service
from donations.services import funds as fund_service
from donations.services import gifts as gift_service
from donations.services import giving, notifications, receipt_delivery, receipt_files, receipts
from donations.services.errors import NotAllowed
from donations.services.signed_links import serializer

PDF_TYPE = "application/pdf"
FAKE_PDF = b"%PDF-1.4\n% a stand-in receipt\n%%EOF\n"
NOT_FOUND = "There is no page at this address."


@pytest.fixture
def stub_pdf(monkeypatch):
    """Render every receipt as a fixed stand-in PDF (the rules here, not the drawing)."""
    monkeypatch.setattr(receipt_files, "render", lambda content, void=None: FAKE_PDF)
    return FAKE_PDF


@pytest.fixture
def fund(app):
    fund = Fund(name="Shelter beds")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def offline_gift(app, organization, fund, create_donor):
    def make(amount_cents=5000, *, donor=None) -> Gift:
        gift = gift_service.record_offline_gift(
            actor=None,
            donor_id=(donor or create_donor("Zoë Ångström", email="zoe@example.com")).id,
            fund_id=fund.id,
            method="cheque",
            cheque_number="1042",
            amount_cents=amount_cents,
            currency="USD",
            received_on=utcnow().date(),
        )
        db.session.commit()
        return gift

    return make


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def text_of(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def pdf_parts(message) -> list:
    return [p for p in message.walk() if p.get_content_type() == "application/pdf"]


def link_in(text: str, prefix: str) -> str:
    """The path of the first link in a mail that starts with ``prefix``."""
    match = re.search(rf"https?://[^/\s]+({re.escape(prefix)}[^\s]+)", text)
    assert match, text
    return match.group(1)


def reload_receipt(receipt_id: int) -> Receipt:
    db.session.expire_all()
    return db.session.get(Receipt, receipt_id)


# --- the thank-you note carries the receipt ------------------------------------------


def test_an_offline_gift_thank_you_arrives_with_its_receipt_attached(
    app, smtp, stub_pdf, offline_gift
):
    gift = offline_gift(12_500)
    notifications.thank_donor(gift)
    db.session.commit()
    assert deliver_due(app=app).sent == 1

    (mail,) = smtp.messages
    receipt = db.session.scalars(select(Receipt)).one()
    text = text_of(mail)
    assert f"Your official receipt {receipt.number} is attached." in text
    assert "Please keep this message for your records." not in text
    (pdf,) = pdf_parts(mail)
    assert pdf.get_filename() == f"receipt-{receipt.number}.pdf"
    assert re.fullmatch(r"receipt-\d{4}-\d{6}\.pdf", pdf.get_filename())
    assert pdf.get_payload(decode=True) == FAKE_PDF
    (message,) = outbox()
    assert (receipt.delivery, receipt.mail_message_id) == ("email", message.id)
    # the download link in the note works
    response = app.test_client().get(link_in(text, "/r/"))
    assert response.status_code == 200
    assert response.data == FAKE_PDF


def test_thanking_twice_issues_one_receipt_and_send_receipt_then_does_nothing(
    app, stub_pdf, offline_gift
):
    gift = offline_gift()
    notifications.thank_donor(gift)
    notifications.thank_donor(gift)
    db.session.commit()
    receipt = db.session.scalars(select(Receipt)).one()
    assert receipt_delivery.send_receipt(receipt) is None
    db.session.commit()
    assert len(outbox()) == 1


def test_without_an_organisation_profile_the_note_is_as_before(app, fund, create_donor):
    donor = create_donor("Ann Lee", email="ann@example.com")
    gift = gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=2000,
        currency="USD",
        received_on=utcnow().date(),
    )
    notifications.thank_donor(gift)
    db.session.commit()
    (message,) = outbox()
    assert "Please keep this message for your records." in message.body_text
    assert message.attachments == []
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0


def test_with_per_gift_receipts_off_no_receipt_is_issued(app, offline_gift):
    receipts.get_receipt_settings().per_gift_receipts = False
    db.session.commit()
    notifications.thank_donor(offline_gift())
    db.session.commit()
    (message,) = outbox()
    assert "Please keep this message for your records." in message.body_text
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0


def test_a_donor_without_email_gets_the_receipt_by_post(app, stub_pdf, offline_gift, create_donor):
    donor = create_donor("Post Only", email=None)
    notifications.thank_donor(offline_gift(donor=donor))
    db.session.commit()
    receipt = db.session.scalars(select(Receipt)).one()
    assert (receipt.delivery, receipt.mail_message_id) == ("post", None)
    assert outbox() == []
    assert receipt_delivery.send_receipt(receipt) is None
    assert reload_receipt(receipt.id).delivery == "post"


def sent_email(message: OutboxMessage):
    """The email a donor received for ``message`` (written as .eml: no SMTP server here)."""
    db.session.refresh(message)
    assert message.status == "sent", message.last_error
    with open(message.delivered_via, "rb") as fh:
        return message_from_bytes(fh.read())


def test_the_notes_pdf_is_rendered_when_the_mail_is_sent(app, stub_pdf, offline_gift):
    notifications.thank_donor(offline_gift())
    db.session.commit()
    (message,) = outbox()
    receipt = db.session.scalars(select(Receipt)).one()
    [attachment] = message.attachments  # queued by reference: no PDF in the transaction
    assert (attachment.receipt_id, attachment.data) == (receipt.id, b"")
    assert attachment.filename == f"receipt-{receipt.number}.pdf"
    assert f"Your official receipt {receipt.number} is attached." in message.body_text

    deliver_due(app=app)
    email = sent_email(message)
    assert [p.get_payload(decode=True) for p in pdf_parts(email)] == [FAKE_PDF]
    assert f"Your official receipt {receipt.number} is attached." in text_of(email)


def test_when_the_pdf_cannot_be_made_the_note_still_goes_with_a_link(
    app, monkeypatch, offline_gift
):
    def broken(content, void=None):
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(receipt_files, "render", broken)
    notifications.thank_donor(offline_gift())
    db.session.commit()
    (message,) = outbox()
    receipt = db.session.scalars(select(Receipt)).one()
    assert receipt.delivery == "email"

    deliver_due(app=app)  # the PDF is made as the note is sent, and cannot be
    email = sent_email(message)
    text = text_of(email)
    assert f"Your official receipt {receipt.number} is ready." in text
    assert "is attached" not in text
    assert "Download it within" in text and "/r/" in text
    assert pdf_parts(email) == []


def test_a_receipt_mailed_by_staff_without_its_pdf_says_where_to_get_it(
    app, monkeypatch, offline_gift
):
    receipt = receipts.issue_gift_receipt(actor=None, gift=offline_gift(7_500))
    db.session.commit()
    monkeypatch.setattr(receipt_files, "render", lambda content, void=None: 1 / 0)
    message = receipt_delivery.send_receipt(receipt)
    db.session.commit()
    deliver_due(app=app)
    text = text_of(sent_email(message))
    assert f"Your receipt {receipt.number} is ready." in text
    assert "You can also" not in text and "Download it within" in text


# --- an online gift ----------------------------------------------------------------


@pytest.fixture
def give_funds(app):
    created = giving.ensure_default_funds()
    fund_service.update_giving_settings(
        actor=None,
        preset_amounts=[2500, 5000],
        min_amount_cents=500,
        max_amount_cents=2_500_000,
        fee_percent_bp=290,
        fee_fixed_cents=30,
        impact_text="",
        default_fund_id=None,
    )
    db.session.commit()
    return created


def give_online(client, fund: Fund, **overrides) -> None:
    """Give through the public page and pay on the test checkout."""
    form = {
        "amount": "5000",
        "other_amount": "",
        "frequency": "one_time",
        "fund": str(fund.id),
        "tribute_type": "",
        "tribute_name": "",
        "tribute_notify_email": "",
        "name": "Ann Lee",
        "email": "ann.lee@example.com",
        "address_line1": "18 Maple Row",
        "city": "Springfield",
        **overrides,
    }
    html = client.post("/give", data=form).get_data(as_text=True)
    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    response = client.post("/give/checkout", data={"payload": payload})
    assert response.status_code == 303
    response = client.post(response.headers["Location"], data={"action": "pay"})
    assert response.status_code == 303


def test_an_online_gift_thank_you_arrives_with_its_receipt(
    client, smtp, stub_pdf, organization, give_funds
):
    give_online(client, give_funds[0])
    (mail,) = [m for m in smtp.messages if m["To"] == "ann.lee@example.com"]
    receipt = db.session.scalars(select(Receipt)).one()
    assert f"Your official receipt {receipt.number} is attached." in text_of(mail)
    (pdf,) = pdf_parts(mail)
    assert pdf.get_filename() == f"receipt-{receipt.number}.pdf"
    assert receipt.delivery == "email" and receipt.mail_message_id is not None


def test_each_monthly_instalment_gets_its_own_receipt(
    client, smtp, stub_pdf, organization, give_funds
):
    give_online(client, give_funds[0], amount="other", other_amount="20", frequency="monthly")
    plan = db.session.scalars(select(RecurringPlan)).one()
    (mail,) = smtp.messages
    text = text_of(mail)
    assert f"/give/manage/{giving.plan_token(plan)}" in text
    first = db.session.scalars(select(Receipt)).one()
    assert first.gift.plan_id == plan.id

    # A second instalment is its own gift with its own receipt and note.
    second = Gift(
        donor_id=first.donor_id,
        fund_id=plan.fund_id,
        source="online",
        method="card",
        frequency="monthly",
        status="paid",
        currency="USD",
        amount_cents=plan.amount_cents,
        plan_id=plan.id,
    )
    db.session.add(second)
    db.session.flush()
    notifications.thank_donor(second)
    db.session.commit()
    numbers = db.session.scalars(select(Receipt.number).order_by(Receipt.id)).all()
    assert len(numbers) == 2 and numbers[0] != numbers[1]
    assert receipts.valid_receipt_for_gift(second.id).number == numbers[1]


# --- send_receipt ------------------------------------------------------------------


def test_send_receipt_queues_once_with_the_pdf(app, stub_pdf, offline_gift):
    receipt = receipts.issue_gift_receipt(actor=None, gift=offline_gift(7_500))
    db.session.commit()
    message = receipt_delivery.send_receipt(receipt)
    db.session.commit()
    assert message is not None
    assert message.to_addr == "zoe@example.com"
    assert receipt.number in message.subject
    assert "Thank you for your gift of $75.00" in message.body_text
    assert "Shelter beds" in message.body_text
    assert f"Your receipt {receipt.number} is attached." in message.body_text
    assert "/r/" in message.body_text
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type) == (
        f"receipt-{receipt.number}.pdf",
        "application/pdf",
    )
    receipt = reload_receipt(receipt.id)
    assert (receipt.delivery, receipt.mail_message_id) == ("email", message.id)

    assert receipt_delivery.send_receipt(receipt) is None
    db.session.commit()
    assert len(outbox()) == 1


def test_a_reissue_says_what_it_replaces_and_a_void_receipt_is_not_sent(
    app, stub_pdf, offline_gift
):
    receipt = receipts.issue_gift_receipt(actor=None, gift=offline_gift())
    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong name")
    db.session.commit()
    with pytest.raises(NotAllowed):
        receipt_delivery.send_receipt(receipt)
    db.session.rollback()
    new = receipts.reissue_receipt(actor=None, receipt=reload_receipt(receipt.id))
    message = receipt_delivery.send_receipt(new)
    db.session.commit()
    assert f"It replaces {receipt.number}" in message.body_text
    assert message.subject.startswith("Corrected:")


def test_a_statement_mail_names_its_tax_year(app, stub_pdf, offline_gift):
    gift = offline_gift(3_000)
    statement = receipts.issue_statement(actor=None, donor=gift.donor, tax_year=utcnow().year)
    message = receipt_delivery.send_receipt(statement)
    db.session.commit()
    year = str(utcnow().year)
    assert year in message.subject
    assert f"Your statement for {year}" in message.body_text
    assert message.attachments[0].filename == f"statement-{statement.number}.pdf"


def test_a_goods_acknowledgement_never_names_the_confidential_site(
    app, stub_pdf, organization, goods, create_donor
):
    from donations.models import InKindGift
    from donations.services import inventory

    donor = create_donor("Goods Giver", email="goods@example.com")
    inventory.record_intake(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=utcnow().date(),
        source="donor",
        donor_id=donor.id,
        lines=[goods.line("SOCKS-M", 5, "new")],
    )
    in_kind = db.session.scalars(select(InKindGift)).one()
    receipt = receipts.issue_in_kind_receipt(actor=None, in_kind=in_kind)
    message = receipt_delivery.send_receipt(receipt)
    db.session.commit()
    assert f"Your acknowledgement {receipt.number} is attached." in message.body_text
    for secret in ("Hidden Lane", "Harbor House", "house@harborlight.test"):
        assert secret not in message.body_text
        assert secret not in message.subject


# --- signed links ------------------------------------------------------------------


def test_a_receipt_link_works_and_bad_links_are_the_same_not_found(
    app, client, stub_pdf, offline_gift, monkeypatch
):
    receipt = receipts.issue_gift_receipt(actor=None, gift=offline_gift())
    db.session.commit()
    token = receipt_delivery.receipt_token(receipt)

    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == FAKE_PDF
    assert f"receipt-{receipt.number}.pdf" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]

    real_time = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real_time() - timedelta(days=91).total_seconds())
        expired = receipt_delivery.receipt_token(receipt)
    unknown = serializer(receipt_delivery.RECEIPT_LINK_SALT).dumps(987_654)
    other_purpose = giving.gift_token(receipt.gift)  # signed, but for another purpose
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    bodies = set()
    for bad in (tampered, expired, unknown, other_purpose, "nope"):
        response = client.get(f"/r/{bad}")
        assert response.status_code == 404, bad
        assert NOT_FOUND in response.get_data(as_text=True)
        bodies.add(response.data)
    assert len(bodies) == 1


def test_a_void_receipt_link_still_downloads(app, client, stub_pdf, offline_gift):
    receipt = receipts.issue_gift_receipt(actor=None, gift=offline_gift())
    receipts.void_receipt(actor=None, receipt=receipt, reason="Wrong name")
    db.session.commit()
    assert client.get(f"/r/{receipt_delivery.receipt_token(receipt)}").status_code == 200


def test_the_real_pdf_downloads_with_the_receipt_number(app, client, offline_gift):
    import io

    import pypdf

    receipt = receipts.issue_gift_receipt(actor=None, gift=offline_gift())
    db.session.commit()
    response = client.get(f"/r/{receipt_delivery.receipt_token(receipt)}")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert receipt.number in text


# --- self-service -------------------------------------------------------------------


def ask_for_link(client, email: str):
    response = client.post("/my-gifts", data={"email": email})
    followed = client.get(response.headers["Location"]) if response.status_code == 302 else None
    return response, followed


def test_the_self_service_page_never_says_whether_an_address_is_known(app, stub_pdf, offline_gift):
    offline_gift()
    known, known_page = ask_for_link(app.test_client(), "Zoe@Example.com ")
    unknown, unknown_page = ask_for_link(app.test_client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known_page.status_code == unknown_page.status_code == 200
    assert known_page.data == unknown_page.data
    assert "If we have gifts under that address, we have sent a link" in (
        known_page.get_data(as_text=True)
    )
    links = outbox("donor_gifts_link")
    assert [m.to_addr for m in links] == ["zoe@example.com"]
    assert links[0].is_sensitive


def test_the_self_service_form_explains_a_bad_address(client):
    assert client.get("/my-gifts").status_code == 200
    response = client.post("/my-gifts", data={"email": "not an address"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert outbox() == []


def test_the_self_service_form_is_rate_limited(client):
    for _ in range(10):
        assert client.post("/my-gifts", data={"email": "a@example.com"}).status_code == 302
    assert client.post("/my-gifts", data={"email": "a@example.com"}).status_code == 429


def test_the_link_lists_the_donors_gifts_receipts_and_plans_and_nothing_else(
    app, stub_pdf, offline_gift, create_donor, fund
):
    zoe = create_donor("Zoë Ångström", email="zoe@example.com")
    old_zoe = create_donor("Zoe Angstrom", email="zoe.old@example.com")
    other = create_donor("Someone Else", email="else@example.com")
    mine = offline_gift(4_321, donor=zoe)
    receipt = receipts.issue_gift_receipt(actor=None, gift=mine)
    theirs = offline_gift(9_876, donor=other)
    other_receipt = receipts.issue_gift_receipt(actor=None, gift=theirs)
    old_gift = offline_gift(1_111, donor=old_zoe)
    plan = RecurringPlan(
        donor_id=zoe.id, fund_id=fund.id, amount_cents=2_500, currency="USD", status="active"
    )
    db.session.add(plan)
    db.session.commit()
    donor_service.merge_donors(actor=None, source=old_zoe, target=zoe)
    db.session.commit()

    client = app.test_client()
    ask_for_link(client, "zoe.old@example.com")  # a merged record leads to the one in use
    (message,) = outbox("donor_gifts_link")
    path = link_in(message.body_text, "/my-gifts/")
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    assert "$43.21" in html and "$11.11" in html and "Shelter beds" in html
    assert receipt.number in html
    assert f"/r/{receipt_delivery.receipt_token(receipt)}" in html
    assert f"/give/manage/{giving.plan_token(plan)}" in html
    assert "$98.76" not in html
    assert other_receipt.number not in html
    assert "Someone Else" not in html
    assert old_gift.id  # listed above by its amount

    download = re.search(r'href="(/r/[^"]+)"', html).group(1)
    assert client.get(download).data == FAKE_PDF


def test_expired_or_tampered_self_service_links_are_not_found(
    app, client, offline_gift, monkeypatch
):
    gift = offline_gift()
    token = receipt_delivery.donor_token([gift.donor_id])
    assert client.get(f"/my-gifts/{token}").status_code == 200
    real_time = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real_time() - 2 * 3600)
        expired = receipt_delivery.donor_token([gift.donor_id])
    bodies = set()
    for bad in (expired, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "x"):
        response = client.get(f"/my-gifts/{bad}")
        assert response.status_code == 404
        bodies.add(response.data)
    assert len(bodies) == 1
    # a receipt link is not a self-service link
    receipt = receipts.issue_gift_receipt(actor=None, gift=gift)
    db.session.commit()
    assert client.get(f"/my-gifts/{receipt_delivery.receipt_token(receipt)}").status_code == 404


def test_the_thank_you_carries_the_real_receipt_pdf(app, smtp, offline_gift):
    import io

    import pypdf

    notifications.thank_donor(offline_gift(12_500))
    db.session.commit()
    deliver_due(app=app)
    (mail,) = smtp.messages
    (pdf,) = pdf_parts(mail)
    data = pdf.get_payload(decode=True)
    assert data.startswith(b"%PDF")
    receipt = db.session.scalars(select(Receipt)).one()
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert receipt.number in text
    assert "Zoë Ångström" in text
