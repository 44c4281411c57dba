"""A batch of Stripe events runs its handlers under one savepoint; when one of them fails,
the batch runs again with a savepoint per event, so the failure is recorded on its own
event and every other event's work stands, exactly once (receipt numbers without a gap,
summaries equal to the gifts)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from test_stripe_webhooks import (
    _paid_events,
    queue_without_consumer,
    start_checkout,
    stripe_app,  # noqa: F401 (a fixture)
    webhook,  # noqa: F401 (a fixture)
)

from conftest import engine_statements, set_up_organization
from donations.extensions import db
from donations.models import (
    Donor,
    Gift,
    OutboxMessage,
    Receipt,
    StripeEvent,
    StripeEventStatus,
)
from donations.services import payments, stripe_events, summaries
from donations.services.stripe_events import handlers


def _checkouts(stripe_api, webhook, count: int) -> list[Gift]:  # noqa: F811
    """``count`` checkouts paid, their events delivered; receipts are issued with the
    thank-you notes (the organisation has its legal name)."""
    set_up_organization()
    gifts = []
    for n in range(count):
        gift, session = start_checkout(amount=1000 + n, email=f"donor{n}@example.com")
        for event in _paid_events(stripe_api, session):
            webhook(event)
        gifts.append(gift)
    return gifts


def _process() -> int:
    done = stripe_events.process_received(gateway=payments.get_gateway(), limit=100)
    db.session.commit()
    return done


def _statuses() -> dict[str, int]:
    rows = db.session.execute(
        select(StripeEvent.status, func.count()).group_by(StripeEvent.status)
    ).all()
    return {status: count for status, count in rows}


def _receipt_numbers() -> list[int]:
    return sorted(db.session.scalars(select(Receipt.sequence_number)))


def test_a_batch_that_goes_well_takes_one_savepoint(stripe_app, stripe_api, webhook, monkeypatch):  # noqa: F811
    queue_without_consumer(stripe_app, monkeypatch)
    gifts = _checkouts(stripe_api, webhook, 4)
    waiting = stripe_events.count_waiting()
    with engine_statements() as seen:
        assert _process() == waiting
    savepoints = [s for s in seen if s.lstrip().upper().startswith("SAVEPOINT")]
    assert len(savepoints) == 1
    statuses = _statuses()  # types no handler reads (payment_intent.*) are ignored
    assert set(statuses) == {StripeEventStatus.PROCESSED, StripeEventStatus.IGNORED}
    assert statuses[StripeEventStatus.PROCESSED] == 8  # a checkout and a charge each
    db.session.expire_all()
    assert {db.session.get(Gift, gift.id).status for gift in gifts} == {"paid"}
    assert _receipt_numbers() == [1, 2, 3, 4]
    assert summaries.verify_money() == []


def test_a_handler_that_fails_after_writing_leaves_nothing_and_the_others_stand(
    stripe_app,  # noqa: F811
    stripe_api,
    webhook,  # noqa: F811
    monkeypatch,
):
    """The third checkout's handler writes (a donor, the gift paid, its receipt and
    mail) and then fails: its event is kept as failed with the error, none of its
    writes remain, and the other checkouts are processed once each."""
    queue_without_consumer(stripe_app, monkeypatch)
    gifts = _checkouts(stripe_api, webhook, 5)
    unlucky = gifts[2].id
    real = handlers.on_checkout_session

    def fails_after_writing(obj, run):
        real(obj, run)
        db.session.add(Donor(name="Written then undone", email="undone@example.com"))
        if run.gift is not None and run.gift.id == unlucky:
            db.session.flush()  # the writes reach the database before the failure
            raise RuntimeError("the handler broke after writing")

    monkeypatch.setitem(stripe_events.HANDLERS, "checkout.session.completed", fails_after_writing)
    waiting = stripe_events.count_waiting()
    assert _process() == waiting

    failed = db.session.scalars(
        select(StripeEvent).where(StripeEvent.status == StripeEventStatus.FAILED)
    ).all()
    assert len(failed) == 1
    assert failed[0].type == "checkout.session.completed"
    assert "the handler broke after writing" in failed[0].last_error
    assert failed[0].attempts == 1
    assert _statuses() == {
        StripeEventStatus.PROCESSED: 9,
        StripeEventStatus.IGNORED: 5,
        StripeEventStatus.FAILED: 1,
    }
    assert set(db.session.scalars(select(StripeEvent.attempts))) == {1}  # counted once

    db.session.expire_all()
    paid = {g.id for g in db.session.scalars(select(Gift).where(Gift.status == "paid"))}
    # The unlucky gift's other events (its charge) may pay it; its checkout's writes
    # did not survive: one undone-donor row per checkout that went well, none for it.
    undone = db.session.scalar(
        select(func.count()).select_from(Donor).where(Donor.email == "undone@example.com")
    )
    assert undone == 4
    assert {g.id for g in gifts} - {unlucky} <= paid
    numbers = _receipt_numbers()
    assert numbers == list(range(1, len(numbers) + 1))  # no gap, none twice
    assert len(set(db.session.scalars(select(Receipt.gift_id)))) == len(numbers)
    receipted = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert receipted == len(numbers)
    assert summaries.verify_money() == []


def test_a_write_that_fails_only_at_the_batch_flush_is_put_on_its_own_event(
    stripe_app,  # noqa: F811
    stripe_api,
    webhook,  # noqa: F811
    monkeypatch,
):
    """A handler's write that breaks a constraint fails when it is flushed, which in a
    batch run together may be during a later event: run again one by one, the failure
    lands on the event that made it."""
    queue_without_consumer(stripe_app, monkeypatch)
    gifts = _checkouts(stripe_api, webhook, 3)
    unlucky = gifts[0].id
    real = handlers.on_checkout_session

    def breaks_a_constraint(obj, run):
        real(obj, run)
        if run.gift is not None and run.gift.id == unlucky:
            run.gift.currency = None  # NOT NULL: refused at the flush, not here

    monkeypatch.setitem(stripe_events.HANDLERS, "checkout.session.completed", breaks_a_constraint)
    waiting = stripe_events.count_waiting()
    assert _process() == waiting
    failed = db.session.scalars(
        select(StripeEvent).where(StripeEvent.status == StripeEventStatus.FAILED)
    ).all()
    assert [row.type for row in failed] == ["checkout.session.completed"]
    assert "IntegrityError" in failed[0].last_error
    assert _statuses() == {
        StripeEventStatus.PROCESSED: 5,
        StripeEventStatus.IGNORED: 3,
        StripeEventStatus.FAILED: 1,
    }
    db.session.expire_all()
    assert db.session.get(Gift, unlucky).currency == "USD"
    assert {db.session.get(Gift, g.id).status for g in gifts[1:]} == {"paid"}
    assert summaries.verify_money() == []


@pytest.mark.parametrize("failure", ["parked", "not ours"])
def test_an_event_parked_or_not_ours_in_a_batch_is_recorded_as_before(
    stripe_app,  # noqa: F811
    stripe_api,
    webhook,  # noqa: F811
    monkeypatch,
    failure,
):
    queue_without_consumer(stripe_app, monkeypatch)
    gifts = _checkouts(stripe_api, webhook, 2)
    real = handlers.on_checkout_session
    from donations.services.stripe_events.run import NotOurs, Parked

    def refuses(obj, run):
        real(obj, run)
        if run.gift is not None and run.gift.id == gifts[1].id:
            db.session.add(Donor(name="Refused after a change", email="refused@example.com"))
            if failure == "parked":
                raise Parked("ch_later", "no gift has charge ch_later yet")
            raise NotOurs("not started on this site")

    monkeypatch.setitem(stripe_events.HANDLERS, "checkout.session.completed", refuses)
    _process()
    expected = StripeEventStatus.PARKED if failure == "parked" else StripeEventStatus.IGNORED
    checkouts = db.session.scalars(
        select(StripeEvent)
        .where(StripeEvent.type == "checkout.session.completed")
        .order_by(StripeEvent.id)
    ).all()
    assert [row.status for row in checkouts] == [StripeEventStatus.PROCESSED, expected]
    assert checkouts[1].last_error in (
        "no gift has charge ch_later yet",
        "not started on this site",
    )
    assert [row.attempts for row in checkouts] == [1, 1]
    refused = select(Donor).where(Donor.email == "refused@example.com")
    assert db.session.scalars(refused).all() == []  # the change before it was undone
    assert summaries.verify_money() == []


@pytest.mark.parametrize("failure", ["parked", "not ours"])
def test_a_refusal_before_any_change_is_recorded_without_running_the_batch_again(
    stripe_app,  # noqa: F811
    stripe_api,
    webhook,  # noqa: F811
    monkeypatch,
    failure,
):
    """Events about payments not linked yet are parked, and others' are not ours, before
    their handler changes anything: the batch records them and goes on, one savepoint."""
    queue_without_consumer(stripe_app, monkeypatch)
    gifts = _checkouts(stripe_api, webhook, 3)
    from donations.services.stripe_events.run import NotOurs, Parked

    def refuses(obj, run):
        if failure == "parked":
            raise Parked(obj["id"], f"no gift has charge {obj['id']} yet")
        raise NotOurs("not started on this site")

    monkeypatch.setitem(stripe_events.HANDLERS, "charge.succeeded", refuses)
    with engine_statements() as seen:
        _process()
    assert len([s for s in seen if s.lstrip().upper().startswith("SAVEPOINT")]) == 1
    charges = db.session.scalars(
        select(StripeEvent).where(StripeEvent.type == "charge.succeeded")
    ).all()
    expected = StripeEventStatus.PARKED if failure == "parked" else StripeEventStatus.IGNORED
    assert [row.status for row in charges] == [expected] * 3
    assert all(row.attempts == 1 and row.last_error for row in charges)
    db.session.expire_all()
    assert {db.session.get(Gift, gift.id).status for gift in gifts} == {"paid"}
    assert _receipt_numbers() == [1, 2, 3]
    assert summaries.verify_money() == []
