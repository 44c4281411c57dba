"""A statement for one donor over any range of dates: preview, then a numbered statement."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    AuditEvent,
    Fund,
    OutboxMessage,
    Receipt,
    ReceiptSequence,
    Role,
    utcnow,
)
from donations.services import gifts as gift_service
from donations.services import receipts
from donations.services.errors import InvalidInput
from donations.services.receipt_files import receipt_pdf

TODAY = utcnow().date()
LAST_YEAR = TODAY.year - 1


@pytest.fixture
def donor(app, organization, create_donor):
    """Gifts on March 10 and October 20 of last year; the second with a $25 dinner."""
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    donor = create_donor("Dana Range", email="dana@example.com")
    for amount, day, benefit in (
        (5_000, date(LAST_YEAR, 3, 10), 0),
        (10_000, date(LAST_YEAR, 10, 20), 2_500),
    ):
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount,
            currency="USD",
            received_on=day,
            benefit_description="Dinner" if benefit else "",
            benefit_cents=benefit,
        )
    db.session.commit()
    return donor


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def url(donor, action: str = "") -> str:
    return f"/receipts/year-end/donor/{donor.id}{action}"


RANGE = {"start": f"{LAST_YEAR}-03-01", "end": f"{LAST_YEAR}-12-31"}


def test_the_donor_page_leads_to_the_statement_form(treasurer_client, donor):
    html = treasurer_client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert f'href="{url(donor)}"' in html
    page = treasurer_client.get(url(donor))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="start"' in html and 'name="end"' in html


def test_staff_cannot_make_statements(staff_client, donor):
    assert staff_client.get(url(donor)).status_code in (302, 403)
    assert staff_client.post(url(donor, "/issue"), data=RANGE).status_code in (302, 403)
    assert count(Receipt) == 0


def test_preview_then_issue_a_numbered_statement_emailed(login, donor):
    client = login(Role.TREASURER)
    page = client.post(url(donor, "/preview"), data=RANGE)
    assert page.status_code == 200
    text = plain(page.get_data(as_text=True))
    assert f"March 1, {LAST_YEAR} to December 31, {LAST_YEAR}" in text
    assert "Given $150.00" in text and "Deductible total $125.00" in text
    assert "Issue the statement" in text
    assert count(Receipt) == 0 and count(ReceiptSequence) == 0

    sample = client.get(url(donor, "/preview.pdf") + f"?start={RANGE['start']}&end={RANGE['end']}")
    assert sample.status_code == 200 and sample.mimetype == "application/pdf"
    sample_text = text_of(sample.data)
    assert "PREVIEW \u2014 not issued" in sample_text and "Giving statement" in sample_text
    assert count(Receipt) == 0 and count(ReceiptSequence) == 0

    # A gift receipt first: the statement takes the next number of the same series.
    gift = db.session.scalars(select(receipts.Gift)).first()
    first = receipts.issue_gift_receipt(actor=None, gift=gift)
    db.session.commit()

    issued = client.post(url(donor, "/issue"), data={**RANGE, "email": "y"})
    assert issued.status_code == 302
    statement = db.session.scalars(select(Receipt).where(Receipt.kind == "statement")).one()
    assert issued.headers["Location"].endswith(f"/receipts/{statement.id}")
    assert statement.sequence_number == first.sequence_number + 1
    assert statement.basis == "range" and statement.tax_year is None
    assert (statement.period_start, statement.period_end) == (
        date(LAST_YEAR, 3, 1),
        date(LAST_YEAR, 12, 31),
    )
    assert statement.amount_cents == 12_500  # deductible: 50 + (100 - 25)
    assert statement.issued_by_id == client.user.id and statement.delivery == "email"
    message = db.session.get(OutboxMessage, statement.mail_message_id)
    assert message.to_addr == "dana@example.com"
    assert f"March 1, {LAST_YEAR} to December 31, {LAST_YEAR}" in message.subject
    assert "$125.00 deductible in all" in message.body_text
    actors = db.session.scalars(
        select(AuditEvent.actor_id).where(
            AuditEvent.object_type == "receipt", AuditEvent.object_id == str(statement.id)
        )
    ).all()
    assert actors == [client.user.id, client.user.id]  # issued, emailed

    text = text_of(receipt_pdf(statement))
    assert "Giving statement" in text and "Year-end" not in text
    assert f"Statement for March 1, {LAST_YEAR} \u2013 December 31, {LAST_YEAR}" in text
    assert "$100.00 $25.00 $75.00" in text
    assert "Total deductible contributions $125.00" in text

    # The same range again is refused; the page says why.
    again = client.post(url(donor, "/issue"), data=RANGE)
    assert again.status_code == 400
    assert f"already has statement {statement.number}" in again.get_data(as_text=True)
    assert count(Receipt) == 2


def test_a_statement_left_to_download_is_not_emailed(treasurer_client, donor):
    issued = treasurer_client.post(url(donor, "/issue"), data=RANGE)  # box not ticked
    assert issued.status_code == 302
    statement = db.session.scalars(select(Receipt)).one()
    assert statement.mail_message_id is None and count(OutboxMessage) == 0
    page = plain(treasurer_client.get(f"/receipts/{statement.id}").get_data(as_text=True))
    assert f"Period {LAST_YEAR}-03-01 to {LAST_YEAR}-12-31" in page
    pdf = treasurer_client.get(f"/receipts/{statement.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"start": "", "end": f"{LAST_YEAR}-12-31"}, "start", "first day"),
        ({"start": f"{LAST_YEAR}-03-01", "end": ""}, "end", "last day"),
        (
            {"start": f"{LAST_YEAR}-12-31", "end": f"{LAST_YEAR}-01-01"},
            "end",
            "before the first day",
        ),
        (
            {"start": f"{LAST_YEAR}-04-01", "end": f"{LAST_YEAR}-09-30"},
            "start",
            "gave no money or goods",
        ),
        ({"start": "2001-13-01", "end": f"{LAST_YEAR}-12-31"}, "start", "Not a valid date"),
    ],
)
def test_bad_ranges_are_refused_next_to_the_field(treasurer_client, donor, data, field, message):
    for action in ("/preview", "/issue"):
        page = treasurer_client.post(url(donor, action), data=data)
        assert page.status_code == 400
        html = page.get_data(as_text=True)
        assert re.search(rf'id="{field}-error">[^<]*{message}', html), html[-3000:]
    assert count(Receipt) == 0 and count(ReceiptSequence) == 0


def test_a_future_start_and_an_unknown_donor_are_refused(treasurer_client, donor):
    later = TODAY + timedelta(days=3)
    with pytest.raises(InvalidInput, match="future"):
        receipts.check_statement_range(later, later)
    assert treasurer_client.get("/receipts/year-end/donor/999999").status_code == 404
    assert treasurer_client.get("/receipts/year-end/donor/99999999999999999999").status_code == 404
    bad = treasurer_client.get(url(donor, "/preview.pdf") + "?start=nope&end=")
    assert bad.status_code == 302 and count(Receipt) == 0


def test_a_voided_range_statement_is_reissued_over_the_same_dates(treasurer_client, donor):
    treasurer_client.post(url(donor, "/issue"), data=RANGE)
    statement = db.session.scalars(select(Receipt)).one()
    receipts.void_receipt(actor=None, receipt=statement, reason="Wrong address")
    new = receipts.reissue_receipt(actor=None, receipt=statement)
    db.session.commit()
    assert (new.basis, new.period_start, new.period_end) == (
        "range",
        statement.period_start,
        statement.period_end,
    )
    assert new.replaces_id == statement.id and new.amount_cents == 12_500
