"""The receipts issue's "done when", walked through the pages as a treasurer would."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from donations.extensions import db
from donations.models import Fund, OutboxMessage, Receipt, utcnow
from donations.services import receipts


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_treasurer_closes_the_year(treasurer_client, client, organization, create_donor):
    fund = Fund(name="Shelter operations")
    db.session.add(fund)
    ada = create_donor("Zoë Ångström", email="zoe@example.com")
    ben = create_donor("Ben Post")  # no email: his statement goes by post
    ben.email = None
    db.session.commit()
    today = utcnow().date().isoformat()
    for donor, amount in ((ada, "120.00"), (ada, "30.00"), (ben, "75.00")):
        response = treasurer_client.post(
            "/gifts/new",
            data={
                "donor_id": donor.id,
                "fund_id": fund.id,
                "method": "cheque",
                "cheque_number": "1042",
                "amount": amount,
                "received_on": today,
                "send_thanks": "y",
            },
        )
        assert response.status_code == 302

    # Download a receipt: the PDF says what the law asks.
    first = db.session.scalars(select(Receipt).order_by(Receipt.id)).first()
    pdf = treasurer_client.get(f"/receipts/{first.id}.pdf")
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "Harbor Light Shelter, Inc." in text and "12-3456789" in text
    assert "Zoë Ångström" in text and "$120.00" in text
    assert "No goods or services were provided" in text

    # Void it, then reissue it under a new number that names the old one.
    assert treasurer_client.post(
        f"/receipts/{first.id}/void", data={"reason": "Name misspelt"}
    ).status_code in (302, 303)
    reissued = treasurer_client.post(f"/receipts/{first.id}/reissue")
    new_id = int(reissued.headers["Location"].rsplit("/", 1)[1])
    new = db.session.get(Receipt, new_id)
    assert new.replaces_id == first.id and new.number != first.number
    assert "VOID" in pdf_text(treasurer_client.get(f"/receipts/{first.id}.pdf").data)
    assert f"replaces receipt {first.number}" in pdf_text(
        treasurer_client.get(f"/receipts/{new.id}.pdf").data
    )

    # Run the year-end: one statement per donor; Ada's by email, Ben's for post.
    started = treasurer_client.post(
        "/receipts/year-end/start",
        data={"tax_year": str(utcnow().year), "confirm_open": "y"},  # this year is not over
    )
    assert started.status_code == 302
    statements = list(db.session.scalars(select(Receipt).where(Receipt.kind == "statement")))
    assert sorted(s.donor_id for s in statements) == sorted([ada.id, ben.id])
    assert {s.donor_id: s.delivery for s in statements} == {ada.id: "email", ben.id: "post"}
    mail_page = treasurer_client.get("/admin/mail").get_data(as_text=True)
    statement_mail = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.to_addr == "zoe@example.com", OutboxMessage.kind == "receipt"
        )
    )
    assert statement_mail.subject in mail_page
    assert statement_mail.attachments[0].filename.endswith(".pdf")

    # Export the journal: balanced, with the settings' account names.
    journal = b"".join(treasurer_client.get("/reports/journal.csv").response).decode("utf-8-sig")
    assert "Contributions income" in journal and "Checking" in journal

    # The QR link on the new receipt verifies it; the voided one shows as void.
    verify_url = receipts.content_of(new).verify_url
    page = client.get(verify_url.replace("http://donations.test", "")).get_data(as_text=True)
    assert new.number in page and "Valid" in page
    old_code = first.verification_code
    assert "Void" in client.get(f"/verify/{old_code}").get_data(as_text=True)
    assert re.search(r"\$120\.00", page)
