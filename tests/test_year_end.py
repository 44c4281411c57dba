"""Year-end statements: a run per tax year, reruns after an interruption, the screen, the ZIP."""

from __future__ import annotations

import io
import os
import signal
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from conftest import drain_queue
from donations.extensions import db
from donations.jobs import year_end_queue, year_end_run
from donations.models import (
    Fund,
    OutboxAttachment,
    OutboxMessage,
    Receipt,
    Role,
    YearEndRun,
    YearEndStatus,
    utcnow,
)
from donations.queue import queue_of
from donations.services import gifts as gift_service
from donations.services import receipts, year_end
from donations.services.errors import InvalidInput, NotAllowed

YEAR = utcnow().year - 1  # a whole past year: statements are issued now, numbered this year


@pytest.fixture
def fund(app):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.commit()
    return fund


@pytest.fixture
def donors_who_gave(app, organization, fund, create_donor):
    """Five donors with gifts in YEAR (the third without email), one who gave the year after."""

    def gift(donor, amount, day):
        gift_service.record_offline_gift(
            actor=None,
            donor_id=donor.id,
            fund_id=fund.id,
            method="cash",
            amount_cents=amount,
            currency="USD",
            received_on=day,
        )

    made = []
    for n in range(5):
        donor = create_donor(f"Giver {n}", email=None if n == 2 else f"giver{n}@example.com")
        gift(donor, 1_000 * (n + 1), date(YEAR, 3, 1))
        gift(donor, 500, date(YEAR, 11, 30))
        made.append(donor)
    gift(create_donor("Later Giver"), 9_900, date(YEAR + 1, 1, 2))
    db.session.commit()
    return made


def statements() -> list[Receipt]:
    return list(
        db.session.scalars(
            select(Receipt).where(Receipt.kind == "statement").order_by(Receipt.sequence_number)
        )
    )


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def start_and_run(**kwargs) -> year_end_run.YearEndResult:
    run = year_end.start_run(actor=None, tax_year=YEAR)
    db.session.commit()
    return year_end_run.run_year_end(run.id, **{"workers": 1, **kwargs})


def test_a_run_issues_one_statement_per_donor_and_queues_emails(donors_who_gave):
    result = start_and_run()
    assert (result.issued, result.emailed, result.for_post, result.skipped) == (5, 4, 1, 0)
    rows = statements()
    assert sorted(r.donor_id for r in rows) == sorted(d.id for d in donors_who_gave)
    assert [r.sequence_number for r in rows] == [1, 2, 3, 4, 5]
    assert {r.tax_year for r in rows} == {YEAR}
    run = db.session.get(YearEndRun, result.run_id)
    assert run.status == "done" and run.finished_at is not None
    assert (run.donors_total, run.donors_done) == (5, 5)
    assert (run.statements_issued, run.emails_queued, run.for_post) == (5, 4, 1)

    no_email = donors_who_gave[2]
    posted = next(r for r in rows if r.donor_id == no_email.id)
    assert posted.delivery == "post" and posted.mail_message_id is None
    emailed = [r for r in rows if r.donor_id != no_email.id]
    assert all(r.delivery == "email" and r.mail_message_id for r in emailed)
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert len(messages) == 4
    assert {m.to_addr for m in messages} == {d.email for d in donors_who_gave if d.email}
    first = db.session.get(OutboxMessage, emailed[0].mail_message_id)
    assert str(YEAR) in first.subject and emailed[0].number in first.body_text
    attachments = db.session.scalars(select(OutboxAttachment)).all()
    assert len(attachments) == 4
    assert all(
        a.content_type == "application/pdf" and a.data.startswith(b"%PDF") for a in attachments
    )
    assert {a.filename for a in attachments} == {f"statement-{r.number}.pdf" for r in emailed}
    content = receipts.content_of(emailed[0])
    assert content.tax_year == str(YEAR) and len(content.gifts) == 2


def test_a_rerun_after_an_interruption_continues_without_duplicates(donors_who_gave):
    seen = []

    def interrupt_after_second_donor(progress: year_end_run.Progress) -> None:
        seen.append(progress.donors_done)
        if progress.donors_done == 2:
            raise KeyboardInterrupt

    first = start_and_run(progress=interrupt_after_second_donor, batch_size=1)
    assert first.stopped
    run = db.session.get(YearEndRun, first.run_id)
    assert run.status == "stopped"
    done_before = len(statements())
    assert done_before == 1  # the second donor's statement was rolled back
    assert outbox_count() == 0  # the first donor's email was not queued yet

    second = start_and_run(batch_size=2)  # the stopped run is continued
    assert second.run_id == first.run_id and second.status == "done"
    assert second.skipped == done_before
    rows = statements()
    assert len(rows) == 5
    assert sorted(r.donor_id for r in rows) == sorted(d.id for d in donors_who_gave)
    assert [r.sequence_number for r in rows] == [1, 2, 3, 4, 5]  # consecutive, none lost
    assert db.session.scalar(select(func.count()).select_from(YearEndRun)) == 1
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert sorted(m.to_addr for m in messages) == sorted(
        d.email for d in donors_who_gave if d.email
    )
    assert all(r.mail_message_id for r in rows if r.donor.email)
    run = db.session.get(YearEndRun, first.run_id)
    assert (run.statements_issued, run.emails_queued, run.for_post) == (5, 4, 1)

    third = start_and_run()  # a year already done: a new run that finds nothing to do
    assert (third.issued, third.emailed, third.skipped) == (0, 0, 5)
    assert outbox_count() == 4


def test_sigterm_stops_after_the_current_donor(donors_who_gave):
    def terminate(progress: year_end_run.Progress) -> None:
        if progress.donors_done == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    result = start_and_run(progress=terminate, batch_size=10)
    assert result.stopped and result.issued == 1
    # The donor it was on is finished cleanly: statement and email both there.
    rows = statements()
    assert len(rows) == 1
    assert rows[0].delivery in ("email", "post")
    assert db.session.get(YearEndRun, result.run_id).status == "stopped"
    assert signal.getsignal(signal.SIGTERM) is not None  # handler restored
    again = start_and_run()
    assert again.issued == 4 and len(statements()) == 5


def test_a_year_without_gifts_is_refused(donors_who_gave):
    with pytest.raises(InvalidInput, match="No gifts"):
        year_end.start_run(actor=None, tax_year=YEAR - 3)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="between"):
        year_end.start_run(actor=None, tax_year=1850)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(YearEndRun)) == 0


def test_a_live_run_is_not_started_twice_but_a_dead_one_is_continued(donors_who_gave):
    run = year_end.start_run(actor=None, tax_year=YEAR)
    db.session.commit()
    with pytest.raises(NotAllowed, match="being prepared"):
        year_end.start_run(actor=None, tax_year=YEAR)
    db.session.rollback()
    run.heartbeat_at = utcnow() - year_end.STALE_AFTER - timedelta(seconds=1)
    db.session.commit()
    assert year_end.start_run(actor=None, tax_year=YEAR).id == run.id
    db.session.commit()


def test_refunded_gifts_leave_nothing_to_state(donors_who_gave, fund):
    gift = db.session.scalars(
        select(receipts.Gift).where(receipts.Gift.donor_id == donors_who_gave[0].id)
    ).all()
    for g in gift:
        g.refunded_cents = g.amount_cents
    db.session.commit()
    result = start_and_run()
    assert result.issued == 4 and result.nothing_to_state == 1


def test_workers_render_in_a_process_pool(donors_who_gave):
    result = start_and_run(workers=2, batch_size=2)
    assert (result.issued, result.emailed) == (5, 4)
    pdfs = db.session.scalars(select(OutboxAttachment.data)).all()
    assert len(pdfs) == 4 and all(p.startswith(b"%PDF") for p in pdfs)


def test_the_cli_runs_a_year_and_prints_a_summary(app, donors_who_gave):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["receipts", "year-end", str(YEAR), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Statements issued: 5" in result.output
    assert "Emails queued:     4" in result.output
    assert "For post:          1" in result.output
    again = runner.invoke(args=["receipts", "year-end", str(YEAR), "--workers", "1"])
    assert "Already done:      5" in again.output
    refused = runner.invoke(args=["receipts", "year-end", str(YEAR - 4)])
    assert refused.exit_code != 0 and "No gifts" in refused.output


# --- the screen ------------------------------------------------------------------


def test_the_screen_starts_a_run_and_shows_its_progress(login, donors_who_gave):
    client = login(Role.TREASURER)
    page = client.get("/receipts/year-end/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'value="{YEAR}">{YEAR}</option>' in html
    assert f'value="{YEAR + 1}">{YEAR + 1}</option>' in html
    assert "No statements have been sent yet" in html

    response = client.post("/receipts/year-end/start", data={"tax_year": str(YEAR)})
    assert response.status_code == 302
    run = db.session.scalars(select(YearEndRun)).one()
    assert response.headers["Location"].endswith(f"/receipts/year-end/{run.id}")
    assert len(statements()) == 5  # run inline under TESTING

    page = client.get(f"/receipts/year-end/{run.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<progress id="run-progress" max="5" value="5">' in html
    assert "Emails queued" in html and "Done" in html
    assert 'http-equiv="refresh"' not in html  # finished: no more reloading
    assert '<a href="/admin/mail">Outgoing mail</a>: follow the emails' in html

    run.status = "running"
    run.heartbeat_at = utcnow()
    db.session.commit()
    html = client.get(f"/receipts/year-end/{run.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in html

    listing = client.get("/receipts/year-end/").get_data(as_text=True)
    assert f"/receipts/year-end/{run.id}" in listing


def test_the_run_goes_to_the_queue_and_its_batches_finish_it(
    app, admin_client, donors_who_gave, monkeypatch
):
    queue = queue_of(app)
    queue.register_all()
    monkeypatch.setattr(queue.huey, "immediate", False)  # a real queue, no consumer yet
    response = admin_client.post("/receipts/year-end/start", data={"tax_year": str(YEAR)})
    run = db.session.scalars(select(YearEndRun)).one()
    assert response.headers["Location"].endswith(f"/receipts/year-end/{run.id}")
    assert statements() == []  # nothing done in the request itself
    assert queue.huey.pending_count() == 1
    page = admin_client.get(f"/receipts/year-end/{run.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page and "Preparing" in page

    monkeypatch.setattr(year_end_queue, "BATCH_SIZE", 2)  # five donors: three batches
    assert drain_queue(app) >= 3
    run = db.session.get(YearEndRun, run.id)
    assert run.status == YearEndStatus.DONE
    assert sorted(r.donor_id for r in statements()) == sorted(d.id for d in donors_who_gave)
    assert [r.sequence_number for r in statements()] == [1, 2, 3, 4, 5]
    assert (run.statements_issued, run.emails_queued, run.for_post) == (5, 4, 1)
    assert outbox_count() == 4
    page = admin_client.get(f"/receipts/year-end/{run.id}").get_data(as_text=True)
    assert "refresh" not in page


def test_a_batch_lost_with_its_consumer_is_taken_up_again_and_issues_nothing_twice(
    app, donors_who_gave, monkeypatch
):
    queue = queue_of(app)
    queue.register_all()
    monkeypatch.setattr(queue.huey, "immediate", False)
    monkeypatch.setattr(year_end_queue, "BATCH_SIZE", 2)
    run = year_end.start_run(actor=None, tax_year=YEAR)
    year_end_queue.launch(run.id)
    db.session.commit()
    huey = queue.huey
    huey.execute(huey.dequeue())  # the first batch: two donors
    assert len(statements()) == 2
    assert huey.dequeue() is not None  # the second batch dies with its consumer, never run
    assert huey.pending_count() == 0

    assert year_end.take_stalled_runs() == []  # alive until its heartbeat is old
    later = utcnow() + year_end.STALE_AFTER + timedelta(seconds=1)
    assert year_end.take_stalled_runs(now=later) == [run.id]
    assert year_end.take_stalled_runs(now=later) == []  # taken once: its heartbeat is fresh
    db.session.commit()
    year_end_queue.launch(run.id)  # as resume_stalled_runs does
    year_end_queue.launch(run.id)  # and a second consumer doing the same at once
    db.session.commit()
    drain_queue(app)

    run = db.session.get(YearEndRun, run.id)
    assert run.status == YearEndStatus.DONE
    donors = [r.donor_id for r in statements()]
    assert sorted(donors) == sorted(d.id for d in donors_who_gave)  # each exactly once
    assert [r.sequence_number for r in statements()] == [1, 2, 3, 4, 5]
    assert outbox_count() == 4


def test_a_failing_batch_keeps_nothing_of_itself_and_fails_the_run(
    app, donors_who_gave, monkeypatch
):
    queue = queue_of(app)
    queue.register_all()
    monkeypatch.setattr(queue.huey, "immediate", False)
    monkeypatch.setattr(year_end_queue, "BATCH_SIZE", 2)
    run = year_end.start_run(actor=None, tax_year=YEAR)
    year_end_queue.launch(run.id)
    db.session.commit()
    queue.huey.execute(queue.huey.dequeue())
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("renderer fell over")

    monkeypatch.setattr(year_end_queue, "submit_renders", broken)
    queue.huey.execute(queue.huey.dequeue())
    db.session.rollback()
    db.session.expire_all()
    assert calls
    run = db.session.get(YearEndRun, run.id)
    assert run.status == YearEndStatus.FAILED
    assert "renderer fell over" in run.last_error
    assert len(statements()) == 2  # the failed batch's statements rolled back, numbers too
    assert queue.huey.pending_count() == 0


def test_the_screen_refuses_bad_years_with_a_message(admin_client, donors_who_gave):
    page = admin_client.post("/receipts/year-end/start", data={"tax_year": str(YEAR - 3)})
    assert page.status_code == 400
    assert "Not a valid choice" in page.get_data(as_text=True)
    page = admin_client.post("/receipts/year-end/start", data={})
    assert page.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(YearEndRun)) == 0
    missing = admin_client.get("/receipts/year-end/999999")
    assert missing.status_code == 404


def test_admins_get_a_link_to_outgoing_mail(admin_client, donors_who_gave):
    admin_client.post("/receipts/year-end/start", data={"tax_year": str(YEAR)})
    run = db.session.scalars(select(YearEndRun)).one()
    html = admin_client.get(f"/receipts/year-end/{run.id}").get_data(as_text=True)
    assert "/admin/mail" in html


def test_default_tax_year_is_the_last_closed_year(organization):
    assert year_end.default_tax_year(date(2027, 2, 10)) == 2026
    assert year_end.default_tax_year(date(2027, 3, 1)) == 2026  # 2027 is not over yet
    assert year_end.default_tax_year(date(2027, 12, 31)) == 2026


# --- the ZIP ---------------------------------------------------------------------


def test_the_zip_holds_every_receipt_of_the_period(treasurer_client, donors_who_gave):
    start_and_run()
    rows = statements()
    receipts.void_receipt(actor=None, receipt=rows[0], reason="Wrong address")
    db.session.commit()
    today = utcnow().date()
    response = treasurer_client.get(f"/receipts/year-end/zip?from={today}&to={today}")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert names[0] == f"statement-{rows[0].number}-VOID.pdf"
    assert sorted(names[1:]) == sorted(f"statement-{r.number}.pdf" for r in rows[1:])
    assert archive.testzip() is None
    import pypdf

    void_pdf = pypdf.PdfReader(io.BytesIO(archive.read(names[0])))
    assert "VOID" in "".join(page.extract_text() for page in void_pdf.pages)
    assert archive.read(names[1]).startswith(b"%PDF")


def test_the_zip_refuses_bad_dates(treasurer_client, app):
    for query in ("", "?from=2026-13-01&to=2026-12-31", "?from=2026-02-01&to=2026-01-01"):
        response = treasurer_client.get(f"/receipts/year-end/zip{query}")
        assert response.status_code == 400
        assert "date" in response.get_data(as_text=True)
    empty = treasurer_client.get("/receipts/year-end/zip?from=2001-01-01&to=2001-12-31")
    assert empty.status_code == 200 and "No receipts were issued" in empty.get_data(as_text=True)
