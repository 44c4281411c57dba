"""Year-end statements as the law and the treasurer need them: deductible amounts, a preview
before anything is issued, closed years first, and the treasurer named in the audit log."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from donations.extensions import db
from donations.jobs import year_end_run
from donations.models import (
    AuditEvent,
    Fund,
    OutboxMessage,
    Receipt,
    ReceiptSequence,
    Role,
    YearEndRun,
    utcnow,
)
from donations.pdf.render import render_receipt
from donations.services import gifts as gift_service
from donations.services import receipts, year_end
from donations.services.errors import InvalidInput
from donations.services.receipt_files import receipt_pdf

YEAR = utcnow().year - 1  # closed
THIS_YEAR = utcnow().year  # still open


@pytest.fixture
def fund(app):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


def give(donor, fund, amount: int, day: date, **kwargs) -> None:
    gift_service.record_offline_gift(
        actor=None,
        donor_id=donor.id,
        fund_id=fund.id,
        method="cash",
        amount_cents=amount,
        currency="USD",
        received_on=day,
        **kwargs,
    )


@pytest.fixture
def gala(app, organization, fund, create_donor):
    """A $150 gala gift with a $60 dinner and a plain $40 gift; a donor without email."""
    ana = create_donor("Ana Gala", email="ana@example.com")
    give(
        ana, fund, 15_000, date(YEAR, 5, 2), benefit_description="Gala dinner", benefit_cents=6_000
    )
    give(ana, fund, 4_000, date(YEAR, 9, 9))
    bo = create_donor("Bo Post", email=None)
    give(bo, fund, 2_500, date(YEAR, 3, 3))
    db.session.commit()
    return ana, bo


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- deductible amounts ---------------------------------------------------------------


def test_a_gift_with_a_dinner_counts_only_its_deductible_part(gala):
    ana, _ = gala
    statement = receipts.issue_statement(actor=None, donor=ana, tax_year=YEAR, basis="calendar")
    db.session.commit()
    assert statement.amount_cents == 9_000 + 4_000  # not 19,000
    content = receipts.content_of(statement)
    assert content.total_cents == 13_000
    assert (content.gross_cents, content.benefit_cents_total) == (19_000, 6_000)
    dinner, plain_gift = content.gifts
    assert (dinner.amount_cents, dinner.benefit_cents, dinner.deductible_cents) == (
        15_000,
        6_000,
        9_000,
    )
    assert dinner.benefit_description == "Gala dinner"
    assert (plain_gift.benefit_cents, plain_gift.deductible_cents) == (0, 4_000)
    assert [(t.fund, t.amount_cents) for t in content.fund_totals] == [("General", 13_000)]

    text = text_of(receipt_pdf(statement))
    assert "Date Fund Method Amount Value received Deductible" in text
    assert "$150.00 $60.00 $90.00" in text
    assert "Total $190.00 $60.00 $130.00" in text
    assert "Total deductible contributions $130.00" in text
    assert "Gala dinner" in text
    assert "Only the amount of each contribution above that value" in text
    assert "deductible for federal income tax purposes" in text


def test_a_statement_without_anything_in_return_says_so(gala):
    _, bo = gala
    statement = receipts.issue_statement(actor=None, donor=bo, tax_year=YEAR, basis="calendar")
    text = text_of(receipt_pdf(statement))
    assert "No goods or services were provided in exchange for these contributions." in text
    assert "Total deductible contributions $25.00" in text


def test_statements_issued_before_keep_their_old_layout(gala):
    ana, _ = gala
    statement = receipts.issue_statement(actor=None, donor=ana, tax_year=YEAR, basis="calendar")
    old = receipts.content_of(statement)
    from dataclasses import replace

    old = replace(old, deductible_listed=False, total_cents=19_000)
    text = text_of(render_receipt(old))
    assert "Total contributions $190.00" in text and "Deductible" not in text


# --- the preview ---------------------------------------------------------------------


def test_the_preview_shows_donors_counts_and_totals_and_issues_nothing(login, gala):
    client = login(Role.TREASURER)
    page = client.post("/receipts/year-end/preview", data={"tax_year": str(YEAR)})
    assert page.status_code == 200
    text = plain(page.get_data(as_text=True))
    assert f"Preview: statements for {YEAR}" in text
    assert "Statements to issue 2" in text
    assert "By email 1" in text and "For post (no email address) 1" in text
    assert "Given $215.00" in text
    assert "Value of goods or services received $60.00" in text
    assert "Deductible total $155.00" in text
    assert "Ana Gala Email ana@example.com" in text and "Bo Post Post" in text
    assert "Issue and email statements" in text
    assert count(Receipt) == 0 and count(YearEndRun) == 0 and count(OutboxMessage) == 0
    assert count(ReceiptSequence) == 0  # no number taken

    sample = client.get(f"/receipts/year-end/preview/sample.pdf?tax_year={YEAR}&basis=fiscal")
    assert sample.status_code == 200 and sample.mimetype == "application/pdf"
    text = text_of(sample.data)
    assert "PREVIEW \u2014 not issued" in text
    assert "Ana Gala" in text and "$90.00" in text
    assert count(Receipt) == 0 and count(ReceiptSequence) == 0

    # Then "Issue and email": the preview's form.
    done = client.post("/receipts/year-end/start", data={"tax_year": str(YEAR), "basis": "fiscal"})
    assert done.status_code == 302
    assert count(Receipt) == 2 and count(OutboxMessage) == 1


def test_the_preview_skips_donors_who_already_have_their_statement(login, gala):
    ana, _ = gala
    receipts.issue_statement(actor=None, donor=ana, tax_year=YEAR, basis="fiscal")
    db.session.commit()
    summary = year_end.preview_run(tax_year=YEAR, open_confirmed=False)
    assert (summary.count, summary.already_done, summary.by_email, summary.by_post) == (1, 1, 0, 1)
    assert [r.name for r in summary.rows] == ["Bo Post"]
    assert summary.deductible_cents == 2_500


# --- closed years first; the open one only when confirmed ---------------------------


def test_the_screen_offers_the_last_closed_year(login, gala, fund):
    ana, _ = gala
    give(ana, fund, 1_000, utcnow().date())  # something in the year still open
    db.session.commit()
    html = login(Role.TREASURER).get("/receipts/year-end/").get_data(as_text=True)
    assert f'<option selected value="{YEAR}">{YEAR}</option>' in html
    assert f'<option value="{THIS_YEAR}">{THIS_YEAR}</option>' in html
    assert "Preview the statements" in html and 'name="confirm_open"' in html


def test_an_open_year_needs_the_box_ticked(login, gala, fund):
    ana, _ = gala
    give(ana, fund, 1_000, utcnow().date())
    db.session.commit()
    client = login(Role.TREASURER)
    for url in ("/receipts/year-end/preview", "/receipts/year-end/start"):
        refused = client.post(url, data={"tax_year": str(THIS_YEAR)})
        assert refused.status_code == 400
        html = refused.get_data(as_text=True)
        assert re.search(r'id="confirm_open-error">[^<]*is not over yet', html), (
            "the error goes next to the box"
        )
        assert count(YearEndRun) == 0 and count(Receipt) == 0
    with pytest.raises(InvalidInput, match="not over yet"):
        year_end.start_run(actor=None, tax_year=THIS_YEAR)
    db.session.rollback()

    page = client.post(
        "/receipts/year-end/preview", data={"tax_year": str(THIS_YEAR), "confirm_open": "y"}
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "is not over yet" in html
    assert '<input type="hidden" name="confirm_open" value="y">' in html
    sample = client.get(
        f"/receipts/year-end/preview/sample.pdf?tax_year={THIS_YEAR}&basis=fiscal&confirm_open=y"
    )
    assert sample.status_code == 200
    unconfirmed = client.get(f"/receipts/year-end/preview/sample.pdf?tax_year={THIS_YEAR}")
    assert unconfirmed.status_code == 302
    started = client.post(
        "/receipts/year-end/start", data={"tax_year": str(THIS_YEAR), "confirm_open": "y"}
    )
    assert started.status_code == 302 and count(YearEndRun) == 1


# --- the run's page and the audit log ------------------------------------------------


def test_the_treasurer_is_the_actor_of_every_statement_and_mail(login, gala):
    client = login(Role.TREASURER)
    client.post("/receipts/year-end/start", data={"tax_year": str(YEAR)})
    run = db.session.scalars(select(YearEndRun)).one()
    assert run.started_by_id == client.user.id
    statements = db.session.scalars(select(Receipt).order_by(Receipt.id)).all()
    assert len(statements) == 2
    assert {s.issued_by_id for s in statements} == {client.user.id}
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type.in_(["receipt", "year_end_run"]))
    ).all()
    actions = sorted(e.action for e in events)
    assert actions == [
        "receipt.emailed",
        "receipt.issued",
        "receipt.issued",
        "year_end.done",
        "year_end.started",
    ]
    assert {(e.actor_id, e.actor_email) for e in events} == {(client.user.id, client.user.email)}

    page = client.get(f"/receipts/year-end/{run.id}").get_data(as_text=True)
    text = plain(page)
    assert "Statements of this run" in text
    for statement in statements:
        assert f'href="/receipts/{statement.id}">{statement.number}</a>' in page
    assert "Ana Gala $130.00 Email Valid" in text
    assert "Bo Post $25.00 Post Valid" in text


def test_the_preview_totals_are_what_the_run_then_issues(gala, fund, create_donor):
    # A partial refund leaves $20 of a $100 gift whose dinner was worth $30: $0 deductible.
    cy = create_donor("Cy Refund", email="cy@example.com")
    give(cy, fund, 10_000, date(YEAR, 6, 1), benefit_description="Dinner", benefit_cents=3_000)
    # A gift refunded in full: no statement at all.
    di = create_donor("Di Gone", email="di@example.com")
    give(di, fund, 7_000, date(YEAR, 6, 2))
    # A corrected gift: only its replacement counts.
    ed = create_donor("Ed Fixed", email=None)
    give(ed, fund, 9_900, date(YEAR, 7, 1))
    db.session.commit()
    gifts = {g.donor_id: g for g in db.session.scalars(select(receipts.Gift))}
    gifts[cy.id].refunded_cents = 8_000
    gifts[di.id].refunded_cents = 7_000
    db.session.commit()
    gift_service.correct_gift(
        actor=None, gift=gifts[ed.id], reason="Typed 99 for 9", amount_cents=900
    )
    db.session.commit()

    summary = year_end.preview_run(tax_year=YEAR, open_confirmed=False)
    rows = {r.name: r for r in summary.rows}
    assert sorted(rows) == ["Ana Gala", "Bo Post", "Cy Refund", "Ed Fixed"]
    assert (rows["Cy Refund"].gross_cents, rows["Cy Refund"].deductible_cents) == (2_000, 0)
    assert rows["Ed Fixed"].gross_cents == 900
    assert (summary.count, summary.by_email, summary.by_post) == (4, 2, 2)

    run = year_end.start_run(actor=None, tax_year=YEAR)
    db.session.commit()
    result = year_end_run.run_year_end(run.id, workers=1)
    issued = db.session.scalars(select(Receipt).where(Receipt.kind == "statement")).all()
    assert result.issued == summary.count == len(issued)
    assert sum(s.amount_cents for s in issued) == summary.deductible_cents == 13_000 + 2_500 + 900
    for statement in issued:
        content = receipts.content_of(statement)
        row = rows[statement.donor.name]
        assert (content.gross_cents, content.benefit_cents_total, content.total_cents) == (
            row.gross_cents,
            row.benefit_cents,
            row.deductible_cents,
        )
