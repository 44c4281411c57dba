"""The daily periodic jobs: the low-stock digest, past-due plan reminders, stale pledge expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from test_inventory_concurrency import race

from donations.config import settings_from_env
from donations.extensions import db
from donations.jobs import daily
from donations.models import (
    AuditEvent,
    DigestSend,
    Fund,
    JobRun,
    JobStatus,
    OutboxMessage,
    PlanStatus,
    Pledge,
    PledgeStatus,
    RecurringPlan,
    StockEntry,
    StockLevel,
    StripeTestObject,
    utcnow,
)
from donations.queue import queue_of
from donations.services import inventory, plan_reminders, pledge_expiry, pledges, stock_digest
from donations.services.giving import plan_for_token

DAY = date(2026, 12, 7)


def mails(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


def audit_events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def par(goods):
    def set_levels(site, **levels: int) -> None:
        inventory.set_par_levels(
            actor=None,
            site_id=site.id,
            levels={goods.items[c.replace("_", "-")].id: n for c, n in levels.items()},
        )
        db.session.commit()

    return set_levels


# --- the schedules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "due", "not_due"),
    [
        (daily.expire_stale_pledges, (4, 10), (4, 11)),
        (daily.send_low_stock_digest, (6, 5), (7, 5)),
        (daily.remind_past_due_plans, (15, 0), (14, 0)),
    ],
)
def test_each_daily_job_is_periodic_once_a_day(app, job, due, not_due):
    schedule = job.definition.schedule
    assert schedule is not None
    moment = datetime(2026, 12, 7, *due, tzinfo=UTC)
    assert schedule(moment.replace(tzinfo=None))
    assert not schedule(datetime(2026, 12, 7, *not_due))
    hits = sum(schedule(datetime(2026, 12, 7) + timedelta(minutes=m)) for m in range(24 * 60))
    assert hits == 1
    assert job.name in queue_of(app).register_all()


# --- the low-stock digest -------------------------------------------------------


def test_digest_lists_items_under_par_by_site_with_links_and_no_address(app, goods, par, stock_in):
    goods.warehouse.contact_email = "house@harborlight.test"  # one contact, two sites
    db.session.commit()
    par(goods.shelter, SOAP=10, SOCKS_M=4, TOOTHBRUSH=2)
    stock_in(goods.shelter, SOAP=3, TOOTHBRUSH=5)
    par(goods.warehouse, SOAP=50)
    assert stock_digest.send_low_stock_digests(day=DAY) == 1
    db.session.commit()
    (message,) = mails("low_stock_digest")
    assert message.to_addr == "house@harborlight.test"
    body = message.body_text
    assert "Harbor House (2 under par)" in body and "Main warehouse (1 under par)" in body
    soap, socks = goods.items["SOAP"], goods.items["SOCKS-M"]
    assert f"- {soap.label}: 3 {soap.unit} on hand, par 10" in body
    assert f"- {socks.label}: 0 {socks.unit} on hand, par 4" in body
    assert "Toothbrush" not in body  # at par
    assert f"http://donations.test/inventory/?site={goods.shelter.id}&show=under" in body
    # A confidential shelter's address is never mailed; no site's address is.
    for line in (*goods.shelter.address_lines, *goods.warehouse.address_lines):
        assert line not in body
    assert "3 items under par at 2 sites" in message.subject


def test_digest_is_sent_once_a_day_and_again_the_next_day(app, goods, par):
    par(goods.shelter, SOAP=10)
    assert stock_digest.send_low_stock_digests(day=DAY) == 1
    db.session.commit()
    assert stock_digest.send_low_stock_digests(day=DAY) == 0
    db.session.commit()
    assert len(mails("low_stock_digest")) == 1
    assert stock_digest.send_low_stock_digests(day=DAY + timedelta(days=1)) == 1
    db.session.commit()
    assert len(mails("low_stock_digest")) == 2
    assert db.session.scalar(select(func.count()).select_from(DigestSend)) == 2


def test_a_second_run_that_lost_the_race_sends_nothing(app, goods, par):
    """Another run recorded today's digest between this run's look and its write."""
    par(goods.shelter, SOAP=10)
    db.session.add(
        DigestSend(kind="low_stock_digest", to_addr="house@harborlight.test", sent_on=DAY)
    )
    db.session.flush()
    original = stock_digest.already_sent
    stock_digest.already_sent = lambda to_addr, day: False  # it looked before the other wrote
    try:
        assert stock_digest.send_low_stock_digests(day=DAY) == 0
    finally:
        stock_digest.already_sent = original
    db.session.commit()
    assert mails("low_stock_digest") == []


def test_no_digest_when_nothing_is_low_or_nobody_is_the_contact(app, goods, par, stock_in):
    par(goods.shelter, SOAP=2)
    stock_in(goods.shelter, SOAP=2)  # at par
    par(goods.warehouse, SOAP=10)  # under par, but the warehouse names no contact
    assert stock_digest.send_low_stock_digests(day=DAY) == 0
    db.session.commit()
    assert mails("low_stock_digest") == []
    assert db.session.scalar(select(func.count()).select_from(DigestSend)) == 0


def test_closed_sites_and_retired_items_are_left_out(app, goods, par):
    par(goods.shelter, SOAP=10)
    goods.shelter.active = False
    db.session.commit()
    assert stock_digest.send_low_stock_digests(day=DAY) == 0


def test_the_digest_job_commits_and_sends_through_the_outbox(app, goods, par, smtp):
    par(goods.shelter, SOAP=10)
    queue_of(app).task(daily.send_low_stock_digest.name).call_local()
    db.session.expire_all()
    (message,) = mails("low_stock_digest")
    assert message.status == "sent"
    assert [m["To"] for m in smtp.messages] == ["house@harborlight.test"]


# --- past-due monthly plans -----------------------------------------------------


@pytest.fixture
def plan(app, create_donor):
    fund = Fund(name="General")
    db.session.add(fund)
    db.session.flush()
    donor = create_donor("Robin Donor", email="robin@example.com")
    plan = RecurringPlan(
        donor_id=donor.id,
        fund_id=fund.id,
        amount_cents=2500,
        currency="USD",
        status=PlanStatus.PAST_DUE,
        stripe_subscription_id="sub_live_1",
        stripe_customer_id="cus_1",
        last_failed_invoice_id="in_1",
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def live(app) -> None:
    app.config["STRIPE_SECRET_KEY"] = "sk_live_for_the_test"


def test_a_past_due_plan_gets_one_reminder_per_failure_episode(app, plan):
    live(app)
    now = utcnow()
    assert plan_reminders.remind_past_due_plans(now=now) == 1
    db.session.commit()
    (message,) = mails("plan_past_due")
    assert message.to_addr == "robin@example.com"
    assert "http://donations.test/give/manage/" in message.body_text
    assert "http://donations.test/" in message.body_text
    assert "update your card" in message.body_text
    assert "[TEST]" not in message.subject
    # The next days, while Stripe retries the same invoice: nothing more.
    assert plan_reminders.remind_past_due_plans(now=now + timedelta(days=1)) == 0
    db.session.commit()
    assert len(mails("plan_past_due")) == 1
    # Staff see it in the donor's history.
    (event,) = audit_events("plan.payment_reminder")
    assert event.object_type == "donor" and event.object_id == str(plan.donor_id)
    assert f"plan #{plan.id}" in event.summary and "in_1" in event.summary
    # Paid again, then a new failure: a new episode, one new reminder.
    plan.status = PlanStatus.ACTIVE
    db.session.commit()
    assert plan_reminders.remind_past_due_plans(now=now) == 0
    plan.status = PlanStatus.PAST_DUE
    plan.last_failed_invoice_id = "in_2"
    db.session.commit()
    assert plan_reminders.remind_past_due_plans(now=now) == 1
    db.session.commit()
    assert len(mails("plan_past_due")) == 2
    assert db.session.get(RecurringPlan, plan.id).reminded_invoice_id == "in_2"


def test_the_manage_link_in_the_reminder_opens_the_plan(app, plan, client):
    live(app)
    plan_reminders.remind_past_due_plans(now=utcnow())
    db.session.commit()
    (message,) = mails("plan_past_due")
    link = next(w for w in message.body_text.split() if w.startswith("http://donations.test/"))
    token = link.rsplit("/", 1)[1]
    assert link.startswith("http://donations.test/give/manage/")
    assert plan_for_token(token).id == plan.id


def test_active_cancelled_and_emailless_plans_get_no_reminder(app, plan):
    live(app)
    plan.status = PlanStatus.ACTIVE
    db.session.commit()
    assert plan_reminders.remind_past_due_plans(now=utcnow()) == 0
    plan.status = PlanStatus.CANCELLED
    db.session.commit()
    assert plan_reminders.remind_past_due_plans(now=utcnow()) == 0
    plan.status = PlanStatus.PAST_DUE
    plan.donor.email = None
    db.session.commit()
    assert plan_reminders.remind_past_due_plans(now=utcnow()) == 0
    assert mails("plan_past_due") == []
    # An email added later still gets the reminder for the episode.
    plan.donor.email = "robin@example.com"
    db.session.commit()
    assert plan_reminders.remind_past_due_plans(now=utcnow()) == 1


def test_a_test_mode_plan_is_never_reminded_once_payments_are_live(app, plan):
    db.session.add(StripeTestObject(id="sub_live_1", object_type="subscription", data="{}"))
    db.session.commit()
    live(app)
    assert plan_reminders.remind_past_due_plans(now=utcnow()) == 0
    assert mails("plan_past_due") == []


def test_in_test_mode_the_reminder_says_it_is_a_test(app, plan):
    assert plan_reminders.remind_past_due_plans(now=utcnow()) == 1
    db.session.commit()
    (message,) = mails("plan_past_due")
    assert message.subject.startswith("[TEST]")
    assert "test mode" in message.body_text


def test_the_plans_page_shows_that_the_donor_was_reminded(app, plan, treasurer_client):
    live(app)
    plan_reminders.remind_past_due_plans(now=utcnow())
    db.session.commit()
    html = treasurer_client.get("/gifts/plans").get_data(as_text=True)
    assert "donor reminded" in html


# --- stale pledge expiry ----------------------------------------------------------


def make_pledge(goods, expected_on: date, **quantities: int) -> Pledge:
    pledge = pledges.make_pledge(
        pledges.PledgeRequest(
            name="Pat Giver",
            email="pat@example.com",
            site_id=goods.dropoff.id,
            expected_on=utcnow().date(),
            lines=[goods.line(c.replace("_", "-"), q) for c, q in quantities.items()],
        )
    )
    pledge.expected_on = expected_on  # promised long ago
    db.session.commit()
    return pledge


def entries_of() -> list[tuple[int, int, int]]:
    rows = db.session.execute(
        select(StockEntry.id, StockEntry.item_id, StockEntry.quantity).order_by(StockEntry.id)
    ).all()
    return [tuple(r) for r in rows]


def test_a_pledge_past_its_day_plus_n_days_expires_and_the_pledger_is_told(app, goods):
    now = utcnow()
    stale = make_pledge(goods, now.date() - timedelta(days=15), SOAP=5)
    fresh = make_pledge(goods, now.date() - timedelta(days=14), SOAP=2)  # on the edge: not yet
    expired = pledge_expiry.expire_stale_pledges(now=now)
    db.session.commit()
    assert [e.pledge.id for e in expired] == [stale.id]
    assert db.session.get(Pledge, stale.id).status == PledgeStatus.EXPIRED
    assert db.session.get(Pledge, stale.id).closed_at is not None
    assert db.session.get(Pledge, fresh.id).status == PledgeStatus.OPEN
    (event,) = audit_events("pledge.expired")
    assert event.object_id == str(stale.id) and "5 x" in event.summary
    (note,) = mails("pledge_expired")
    assert note.to_addr == "pat@example.com" and "no longer expect" in note.body_text
    assert "5 Market St" not in note.body_text and "http://donations.test/needs" in note.body_text
    # Again: nothing more.
    assert pledge_expiry.expire_stale_pledges(now=now) == []
    db.session.commit()
    assert len(mails("pledge_expired")) == 1


def test_a_partly_received_pledge_expires_its_remainder_and_keeps_what_came(
    app, goods, create_user
):
    now = utcnow()
    pledge = make_pledge(goods, now.date() - timedelta(days=30), SOAP=5, SOCKS_M=3)
    pledges.receive_pledge(
        actor=None, pledge=pledge, effective_date=now.date(), lines=[goods.line("SOAP", 2, "new")]
    )
    db.session.commit()
    before = entries_of()
    soap_level = (goods.dropoff.id, goods.items["SOAP"].id)
    on_hand = db.session.get(StockLevel, soap_level).on_hand
    (expiry,) = pledge_expiry.expire_stale_pledges(now=now)
    db.session.commit()
    assert expiry.remainder == {goods.items["SOAP"].id: 3, goods.items["SOCKS-M"].id: 3}
    assert expiry.received == {goods.items["SOAP"].id: 2}
    assert entries_of() == before  # the received lines are untouched
    assert pledges.received_quantities(db.session.get(Pledge, pledge.id)) == {
        goods.items["SOAP"].id: 2
    }
    assert [(line.item_id, line.quantity) for line in db.session.get(Pledge, pledge.id).lines] == [
        (goods.items["SOAP"].id, 5),
        (goods.items["SOCKS-M"].id, 3),
    ]
    assert db.session.get(StockLevel, soap_level).on_hand == on_hand == 2
    (event,) = audit_events("pledge.expired")
    assert "received and kept 2 x" in event.summary
    (note,) = mails("pledge_expired")
    assert "received part of them" in note.body_text and "3 x" in note.body_text


def test_received_and_cancelled_pledges_are_never_touched(app, goods):
    now = utcnow()
    done = make_pledge(goods, now.date() - timedelta(days=40), SOAP=1)
    pledges.receive_pledge(
        actor=None, pledge=done, effective_date=now.date(), lines=[goods.line("SOAP", 1, "new")]
    )
    gone = make_pledge(goods, now.date() - timedelta(days=40), SOAP=1)
    pledges.cancel_pledge(actor=None, pledge=gone)
    db.session.commit()
    assert pledge_expiry.expire_stale_pledges(now=now) == []
    assert db.session.get(Pledge, done.id).status == PledgeStatus.RECEIVED
    assert db.session.get(Pledge, gone.id).status == PledgeStatus.CANCELLED


def test_an_expired_pledge_cannot_be_received_and_is_listed_as_expired(app, goods, staff_client):
    pledge = make_pledge(goods, utcnow().date() - timedelta(days=20), SOAP=1)
    pledge_expiry.expire_stale_pledges(now=utcnow())
    db.session.commit()
    with pytest.raises(Exception, match="closed"):
        pledges.receive_pledge(
            actor=None,
            pledge=db.session.get(Pledge, pledge.id),
            effective_date=utcnow().date(),
            lines=[goods.line("SOAP", 1, "new")],
        )
    db.session.rollback()
    html = staff_client.get("/inventory/pledges?status=expired").get_data(as_text=True)
    assert f"#{pledge.id}" in html


def test_the_expiry_days_and_mail_are_settings(app, goods):
    now = utcnow()
    pledge = make_pledge(goods, now.date() - timedelta(days=5), SOAP=1)
    app.config.update(PLEDGE_EXPIRY_DAYS="3", PLEDGE_EXPIRY_MAIL=False)
    (expiry,) = pledge_expiry.expire_stale_pledges(now=now)
    db.session.commit()
    assert expiry.pledge.id == pledge.id
    assert mails("pledge_expired") == []


@pytest.mark.parametrize("value", [0, -1, 366, "two weeks", 2.5, True, ""])
def test_a_bad_expiry_setting_is_refused_clearly_and_expires_nothing(app, goods, value):
    pledge = make_pledge(goods, utcnow().date() - timedelta(days=400), SOAP=1)
    app.config["PLEDGE_EXPIRY_DAYS"] = value
    with pytest.raises(pledge_expiry.BadSetting, match="PLEDGE_EXPIRY_DAYS must be a whole number"):
        pledge_expiry.expire_stale_pledges(now=utcnow())
    db.session.rollback()
    assert db.session.get(Pledge, pledge.id).status == PledgeStatus.OPEN


# --- by hand: flask jobs run / list ------------------------------------------------


def test_flask_jobs_run_runs_a_daily_job_once_and_records_it(app, goods):
    pledge = make_pledge(goods, utcnow().date() - timedelta(days=30), SOAP=1)
    result = app.test_cli_runner().invoke(args=["jobs", "run", "expire_stale_pledges"])
    assert result.exit_code == 0, result.output
    assert "Ran donations.jobs.daily.expire_stale_pledges." in result.output
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).status == PledgeStatus.EXPIRED
    (run,) = db.session.scalars(select(JobRun)).all()
    assert run.task_name == "donations.jobs.daily.expire_stale_pledges"
    assert run.status == JobStatus.DONE


def test_flask_jobs_run_reports_a_failure_and_records_it(app, goods):
    app.config["PLEDGE_EXPIRY_DAYS"] = "soon"
    result = app.test_cli_runner().invoke(args=["jobs", "run", "expire_stale_pledges"])
    assert result.exit_code == 1
    assert "PLEDGE_EXPIRY_DAYS must be a whole number" in result.output
    db.session.expire_all()
    (run,) = db.session.scalars(select(JobRun)).all()
    assert run.status == JobStatus.FAILED and "PLEDGE_EXPIRY_DAYS" in run.error


def test_flask_jobs_run_refuses_unknown_names_and_jobs_with_arguments(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "no_such_job"])
    assert result.exit_code == 2 and "no job is called" in result.output
    result = runner.invoke(args=["jobs", "run", "year_end_batch"])
    assert result.exit_code == 2


def test_flask_jobs_run_queue_puts_it_on_the_queue(queued_app):
    result = queued_app.test_cli_runner().invoke(
        args=["jobs", "run", "--queue", "send_low_stock_digest"]
    )
    assert result.exit_code == 0, result.output
    assert queue_of(queued_app).huey.pending_count() == 1


def test_flask_jobs_list_marks_the_periodic_jobs(app):
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for name in ("expire_stale_pledges", "send_low_stock_digest", "remind_past_due_plans"):
        assert f"donations.jobs.daily.{name}  (periodic)" in lines


# --- two runs at once (two consumers) -------------------------------------------


def test_two_digest_runs_at_once_send_one_digest(app, goods, par):
    par(goods.shelter, SOAP=10)
    outcomes = race(app, [lambda: stock_digest.send_low_stock_digests(day=DAY)] * 3)
    assert outcomes == ["ok"] * 3
    assert len(mails("low_stock_digest")) == 1


def test_two_reminder_runs_at_once_remind_once(app, plan):
    live(app)
    outcomes = race(app, [lambda: plan_reminders.remind_past_due_plans(now=utcnow())] * 3)
    assert outcomes == ["ok"] * 3
    assert len(mails("plan_past_due")) == 1
    assert len(audit_events("plan.payment_reminder")) == 1


def test_two_expiry_runs_at_once_expire_each_pledge_once(app, goods):
    for days in (20, 30):
        make_pledge(goods, utcnow().date() - timedelta(days=days), SOAP=1)
    outcomes = race(app, [lambda: pledge_expiry.expire_stale_pledges(now=utcnow())] * 3)
    assert outcomes == ["ok"] * 3
    assert len(audit_events("pledge.expired")) == 2
    assert len(mails("pledge_expired")) == 2


def test_the_expiry_settings_come_from_the_environment_too():
    assert settings_from_env({"PLEDGE_EXPIRY_DAYS": "21", "PLEDGE_EXPIRY_MAIL": "no"}) == {
        "PLEDGE_EXPIRY_DAYS": 21,
        "PLEDGE_EXPIRY_MAIL": False,
    }
    with pytest.raises(ValueError, match="PLEDGE_EXPIRY_DAYS must be a whole number"):
        settings_from_env({"PLEDGE_EXPIRY_DAYS": "soon"})
    assert pledge_expiry.expiry_days(21) == 21
