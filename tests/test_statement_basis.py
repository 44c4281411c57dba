"""Year-end statements on a calendar-year or a fiscal-year basis, each period kept apart."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import flask_migrate
import pytest
from pypdf import PdfReader
from sqlalchemy import column as sa_column
from sqlalchemy import func, select, text
from sqlalchemy import table as sa_table

from conftest import base_config
from donations import create_app
from donations.extensions import db
from donations.jobs import year_end_run
from donations.models import (
    YEARLY_BASES,
    Fund,
    OutboxMessage,
    Receipt,
    Role,
    StatementBasis,
    YearEndRun,
    utcnow,
)
from donations.services import gifts as gift_service
from donations.services import receipts, year_end
from donations.services.errors import InvalidInput, NotAllowed
from donations.services.organization import get_organization, update_organization
from donations.services.receipt_files import receipt_pdf

YEAR = 2026
CALENDAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))
FISCAL_2026 = (date(2025, 7, 1), date(2026, 6, 30))  # a fiscal year starting in July


def set_start_month(month: int) -> None:
    """Move the organisation's fiscal year start (the ``organization`` fixture made it)."""
    update_organization(
        actor=None, legal_name=get_organization().legal_name, fiscal_year_start_month=month
    )
    db.session.commit()


@pytest.fixture
def july_start(organization):
    set_start_month(7)


@pytest.fixture
def maria(app, create_donor):
    """A donor who gave in March 2026 and in September 2026."""
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    donor = create_donor("Maria Núñez", email="maria@example.com")
    for amount, day in ((2_500, date(2026, 3, 10)), (4_000, date(2026, 9, 15))):
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount,
            currency="USD",
            received_on=day,
        )
    db.session.commit()
    return donor


def statements() -> list[Receipt]:
    return list(
        db.session.scalars(
            select(Receipt).where(Receipt.kind == "statement").order_by(Receipt.sequence_number)
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(basis: str) -> year_end_run.YearEndResult:
    # Calendar 2026 may not be over when this runs: the run is confirmed.
    started = year_end.start_run(actor=None, tax_year=YEAR, basis=basis, open_confirmed=True)
    db.session.commit()
    return year_end_run.run_year_end(started.id, workers=1)


def pdf_text(receipt: Receipt) -> str:
    reader = PdfReader(io.BytesIO(receipt_pdf(receipt)))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def test_calendar_and_fiscal_statements_cover_their_own_periods(july_start, maria):
    calendar = run("calendar")
    fiscal = run("fiscal")
    assert (calendar.issued, calendar.emailed) == (1, 1)
    assert (fiscal.issued, fiscal.emailed) == (1, 1)

    by_basis = {r.basis: r for r in statements()}
    assert set(by_basis) == {"calendar", "fiscal"}
    cal, fis = by_basis["calendar"], by_basis["fiscal"]
    assert (cal.period_start, cal.period_end, cal.tax_year) == (*CALENDAR_2026, YEAR)
    assert (fis.period_start, fis.period_end, fis.tax_year) == (*FISCAL_2026, YEAR)
    assert cal.donor_id == fis.donor_id == maria.id
    assert (cal.amount_cents, fis.amount_cents) == (6_500, 2_500)
    assert [g.date for g in receipts.content_of(cal).gifts] == ["2026-03-10", "2026-09-15"]
    assert [g.date for g in receipts.content_of(fis).gifts] == ["2026-03-10"]

    cal_text, fis_text = pdf_text(cal), pdf_text(fis)
    assert "Year-end giving statement 2026 (January - December)" in cal_text
    assert "Statement for calendar year 2026: January 1, 2026 \u2013 December 31, 2026" in cal_text
    assert "Sep 15, 2026" in cal_text and "Mar 10, 2026" in cal_text
    assert "Year-end giving statement FY 2026 (July 2025 - June 2026)" in fis_text
    assert "Statement for fiscal year 2026: July 1, 2025 \u2013 June 30, 2026" in fis_text
    assert "Mar 10, 2026" in fis_text and "Sep 15, 2026" not in fis_text

    runs = {r.basis: r for r in db.session.scalars(select(YearEndRun))}
    assert (runs["calendar"].period_start, runs["calendar"].period_end) == CALENDAR_2026
    assert (runs["fiscal"].period_start, runs["fiscal"].period_end) == FISCAL_2026
    # Numbers come from the issue date's fiscal-year sequence, as before: gap-free.
    fiscal_now = receipts.fiscal_year_of(utcnow().date(), 7)
    assert [r.number for r in statements()] == [f"{fiscal_now}-000001", f"{fiscal_now}-000002"]


def test_running_each_period_again_issues_and_sends_nothing_more(july_start, maria):
    run("calendar")
    run("fiscal")
    numbers = [r.number for r in statements()]
    emails = count(OutboxMessage)
    assert emails == 2

    again_calendar = run("calendar")
    again_fiscal = run("fiscal")
    assert (again_calendar.issued, again_calendar.emailed, again_calendar.skipped) == (0, 0, 1)
    assert (again_fiscal.issued, again_fiscal.emailed, again_fiscal.skipped) == (0, 0, 1)
    assert [r.number for r in statements()] == numbers
    assert count(OutboxMessage) == emails
    assert receipts.take_number(receipts.fiscal_year_of(utcnow().date(), 7))[0] == 3
    db.session.rollback()

    with pytest.raises(NotAllowed, match="already has statement"):
        receipts.issue_statement(actor=None, donor=maria, tax_year=YEAR, basis="calendar")
    db.session.rollback()
    assert receipts.existing_statement(maria.id, *CALENDAR_2026).basis == "calendar"
    assert receipts.existing_statement(maria.id, *FISCAL_2026).basis == "fiscal"
    assert receipts.existing_statement(maria.id, date(2026, 1, 1), date(2026, 6, 30)) is None


def test_a_reissued_statement_keeps_its_period(july_start, maria):
    run("calendar")
    (original,) = statements()
    receipts.void_receipt(actor=None, receipt=original, reason="Wrong address")
    set_start_month(4)  # the fiscal year changes afterwards: the statement's period does not
    new = receipts.reissue_receipt(actor=None, receipt=original)
    db.session.commit()
    assert (new.basis, new.period_start, new.period_end) == ("calendar", *CALENDAR_2026)
    assert new.replaces_id == original.id and new.amount_cents == 6_500


def test_an_unknown_basis_is_refused_and_changes_nothing(july_start, maria):
    with pytest.raises(InvalidInput, match="not a basis") as refused:
        year_end.start_run(actor=None, tax_year=YEAR, basis="weekly")
    assert refused.value.field == "basis"
    db.session.rollback()
    with pytest.raises(InvalidInput, match="not a basis"):
        receipts.issue_statement(actor=None, donor=maria, tax_year=YEAR, basis="lunar")
    db.session.rollback()
    assert count(YearEndRun) == 0 and statements() == []


def test_when_the_fiscal_year_is_the_calendar_year_the_bases_are_one_period(
    organization, maria, treasurer_client
):
    first = run("fiscal")
    second = run("calendar")
    assert (first.issued, second.issued, second.skipped) == (1, 0, 1)
    (statement,) = statements()
    assert (statement.period_start, statement.period_end) == CALENDAR_2026
    assert receipts.content_of(statement).tax_year == "2026"
    assert count(OutboxMessage) == 1

    html = treasurer_client.get("/receipts/year-end/").get_data(as_text=True)
    assert 'name="basis"' in html and 'type="hidden" name="basis" value="fiscal"' in html
    assert "<select" in html and 'id="basis"' not in html  # one choice only: the year
    assert "Your fiscal year is the calendar year" in html


# --- the CLI -------------------------------------------------------------------


def test_the_cli_takes_a_basis_and_refuses_an_unknown_one(app, july_start, maria):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["receipts", "year-end", str(YEAR), "--basis", "weekly"])
    assert bad.exit_code == 2
    assert "Invalid value for '--basis'" in bad.output and "'calendar'" in bad.output
    assert count(YearEndRun) == 0 and statements() == []

    result = runner.invoke(
        args=["receipts", "year-end", str(YEAR), "--basis", "calendar", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "Year-end statements for 2026 (January - December)" in result.output
    assert "Statements issued: 1" in result.output
    (statement,) = statements()
    assert (statement.basis, statement.period_start, statement.period_end) == (
        "calendar",
        *CALENDAR_2026,
    )

    default = runner.invoke(args=["receipts", "year-end", str(YEAR), "--workers", "1"])
    assert default.exit_code == 0, default.output
    assert "FY 2026 (July 2025 - June 2026)" in default.output
    assert "Statements issued: 1" in default.output
    assert [s.basis for s in statements()] == ["calendar", "fiscal"]

    again = runner.invoke(args=["receipts", "year-end", str(YEAR), "--basis", "CALENDAR"])
    assert again.exit_code == 0 and "Already done:      1" in again.output
    assert len(statements()) == 2

    calendar_run = db.session.scalar(select(YearEndRun).where(YearEndRun.basis == "calendar"))
    mismatch = runner.invoke(
        args=[
            "receipts",
            "year-end",
            str(YEAR),
            "--basis",
            "fiscal",
            "--run-id",
            str(calendar_run.id),
        ]
    )
    assert mismatch.exit_code == 2 and "calendar basis" in mismatch.output


# --- the screen ----------------------------------------------------------------


def test_the_screen_starts_a_run_on_the_chosen_basis(login, july_start, maria):
    client = login(Role.TREASURER)
    html = client.get("/receipts/year-end/").get_data(as_text=True)
    assert '<option value="calendar">Calendar year (January to December)</option>' in html
    assert "Fiscal year (July to June, named by the year it ends in)" in html
    # FY 2026 (July 2025 - June 2026) is the last closed year: offered first.
    assert f'<option selected value="{YEAR}">{YEAR}</option>' in html

    response = client.post(
        "/receipts/year-end/start",
        data={"tax_year": str(YEAR), "basis": "calendar", "confirm_open": "y"},
    )
    assert response.status_code == 302
    run_row = db.session.scalars(select(YearEndRun)).one()
    assert run_row.basis == "calendar"
    assert (run_row.period_start, run_row.period_end) == CALENDAR_2026
    (statement,) = statements()
    assert statement.basis == "calendar" and statement.amount_cents == 6_500

    page = client.get(f"/receipts/year-end/{run_row.id}").get_data(as_text=True)
    assert "Statements for 2026 (January - December)" in page
    assert "Calendar year: 2026-01-01 to 2026-12-31" in re.sub(r"<[^>]+>", "", page)
    assert 'name="basis" value="calendar"' not in page  # done: nothing to carry on

    client.post("/receipts/year-end/start", data={"tax_year": str(YEAR), "basis": "fiscal"})
    listing = client.get("/receipts/year-end/").get_data(as_text=True)
    assert "FY 2026 (July 2025 - June 2026)</a>" in listing
    assert "2026 (January - December)</a>" in listing
    assert "Calendar year<br>" in listing and "Fiscal year<br>" in listing
    assert "2025-07-01 to 2026-06-30" in re.sub(r"<[^>]+>", "", listing)
    assert [s.basis for s in statements()] == ["calendar", "fiscal"]


def test_the_screen_refuses_an_unknown_basis_with_a_message(treasurer_client, july_start, maria):
    page = treasurer_client.post(
        "/receipts/year-end/start", data={"tax_year": str(YEAR), "basis": "weekly"}
    )
    assert page.status_code == 400
    assert "Not a valid choice" in page.get_data(as_text=True)
    assert count(YearEndRun) == 0 and statements() == []


def test_a_stopped_run_carries_on_with_its_basis(treasurer_client, july_start, maria):
    started = year_end.start_run(actor=None, tax_year=YEAR, basis="calendar", open_confirmed=True)
    started.status = "stopped"
    db.session.commit()
    page = treasurer_client.get(f"/receipts/year-end/{started.id}").get_data(as_text=True)
    assert 'name="basis" value="calendar"' in page
    treasurer_client.post(
        "/receipts/year-end/start",
        data={"tax_year": str(YEAR), "basis": "calendar", "confirm_open": "y"},
    )
    assert count(YearEndRun) == 1
    assert db.session.get(YearEndRun, started.id).status == "done"
    assert [s.basis for s in statements()] == ["calendar"]


# --- the migration ---------------------------------------------------------------


def _insert(conn, table_name: str, /, **values) -> None:
    """Insert a row as an earlier revision's schema has it (no models involved)."""
    table = sa_table(table_name, *(sa_column(c) for c in values))
    conn.execute(table.insert().values(**values))


def test_the_migration_puts_earlier_statements_and_runs_on_the_fiscal_basis(tmp_path):
    url = "sqlite:///" + str(tmp_path / "basis.sqlite3")
    app = create_app(base_config(url, tmp_path))
    now = datetime(2026, 8, 1, 12, tzinfo=UTC)
    blank = dict.fromkeys(["address_line1", "address_line2", "city", "region", "postal_code"], "")
    with app.app_context():
        flask_migrate.upgrade(revision="0005_gift_adjustments")
        with db.engine.begin() as conn:
            _insert(
                conn,
                "organization",
                id=1,
                legal_name="Org",
                tax_id="12-3456789",
                country="",
                phone="",
                email="",
                website="",
                signatory_name="",
                signatory_title="",
                receipt_footer="",
                default_currency="USD",
                fiscal_year_start_month=7,
                updated_at=now,
                **blank,
            )
            _insert(
                conn,
                "donors",
                id=1,
                name="Old Donor",
                country="",
                is_organization=False,
                prefers_anonymous=False,
                notes="",
                created_at=now,
                updated_at=now,
                **blank,
            )
            _insert(
                conn,
                "year_end_runs",
                id=1,
                tax_year=2026,
                period_start=FISCAL_2026[0],
                period_end=FISCAL_2026[1],
                status="done",
                started_at=now,
                donors_total=1,
                donors_done=1,
                statements_issued=1,
                emails_queued=0,
                for_post=1,
                last_error="",
            )
            for n, period in enumerate((FISCAL_2026, (None, None)), start=1):  # 2: no dates
                _insert(
                    conn,
                    "receipts",
                    id=n,
                    number=f"2027-00000{n}",
                    fiscal_year=2027,
                    sequence_number=n,
                    kind="statement",
                    status="valid",
                    donor_id=1,
                    tax_year=2026,
                    period_start=period[0],
                    period_end=period[1],
                    amount_cents=0,
                    currency="USD",
                    verification_code=f"CODE-{n}",
                    content="{}",
                    issued_at=now,
                    delivery="post",
                    void_reason="",
                )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            runs = conn.execute(text("SELECT basis FROM year_end_runs")).scalars().all()
            rows = conn.execute(
                text("SELECT basis, period_start, period_end FROM receipts ORDER BY id")
            ).all()
        db.engine.dispose()
    assert runs == ["fiscal"]
    assert [tuple(map(str, row)) for row in rows] == [
        ("fiscal", "2025-07-01", "2026-06-30"),
        ("fiscal", "2025-07-01", "2026-06-30"),
    ]


def test_statement_basis_names():
    assert [b.value for b in YEARLY_BASES] == ["calendar", "fiscal"]
    assert [b.value for b in StatementBasis] == ["calendar", "fiscal", "range"]
    assert receipts.statement_period(2026, StatementBasis.CALENDAR, 7) == CALENDAR_2026
    assert receipts.statement_period(2026, StatementBasis.FISCAL, 7) == FISCAL_2026
    assert receipts.statement_period(2026, StatementBasis.FISCAL, 1) == CALENDAR_2026
    assert receipts.statement_label(2026, "calendar", 1) == "2026"
    assert receipts.statement_label(2026, "fiscal", 1) == "2026"
