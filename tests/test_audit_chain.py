"""The audit log is a hash chain: edits, insertions and deletions made outside the
app are found by ``flask audit verify`` and the log page's "Verify now"."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC

import flask_migrate
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from test_inventory_concurrency import race

from conftest import base_config, empty_database, is_postgres
from donations import create_app
from donations.extensions import db
from donations.models import AuditEvent, AuditVerification, Role, User
from donations.services import audit

GENESIS = "0" * 64


def record(n: int) -> list[AuditEvent]:
    events = [
        audit.record_audit(
            actor=None,
            action="test.step",
            object_type="donor",
            object_id=i,
            summary=f"step {i} \u2013 \u201cquoted\u201d",
        )
        for i in range(1, n + 1)
    ]
    db.session.commit()
    return events


def chain() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def tamper(sql: str, **params: object) -> None:
    """Change the log behind the app's back, as someone with database access could.

    On PostgreSQL that takes a superuser who switches the triggers off.
    """
    db.session.rollback()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(sql), params)
    db.session.commit()
    db.session.expire_all()


def verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


# --- the chain as recorded ---------------------------------------------------


def test_each_event_hashes_its_canonical_content_and_the_previous_hash(app, create_user):
    admin = create_user(Role.ADMIN, email="ada@example.org")
    audit.record_audit(
        actor=admin, action="donor.update", object_type="donor", object_id=7, summary="a -> b"
    )
    db.session.commit()
    events = chain()
    assert len(events) == 2  # the user's creation, then the update
    assert events[0].prev_hash == GENESIS
    assert events[1].prev_hash == events[0].hash
    assert [e.id for e in events] == [events[0].id, events[0].id + 1]
    last = events[1]
    expected = hashlib.sha256(
        json.dumps(
            {
                "id": last.id,
                "occurred_at": last.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "actor_id": admin.id,
                "actor_email": "ada@example.org",
                "action": "donor.update",
                "object_type": "donor",
                "object_id": "7",
                "summary": "a -> b",
                "prev_hash": events[0].hash,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    ).hexdigest()
    assert last.hash == expected


def test_an_intact_chain_verifies_and_the_result_is_stored(app):
    record(3)
    code, output = verify(app)
    assert code == 0, output
    assert "Chain verified: 3 events intact." in output
    stored = db.session.scalars(select(AuditVerification)).one()
    assert stored.ok is True
    assert stored.event_count == 3
    assert stored.first_bad_id is None
    assert stored.head_id == chain()[-1].id
    assert stored.verified_at.tzinfo is not None


def test_an_empty_log_verifies(app):
    code, output = verify(app)
    assert code == 0
    assert "0 events intact" in output


# --- tampering ---------------------------------------------------------------


def test_an_edited_event_is_named(app):
    events = record(4)
    target = events[2].id
    tamper("UPDATE audit_events SET summary = 'nothing happened' WHERE id = :id", id=target)
    code, output = verify(app)
    assert code == 1
    assert f"Chain broken at event #{target}." in output
    assert f"Event #{target} was edited" in output
    stored = db.session.scalars(select(AuditVerification)).one()
    assert (stored.ok, stored.first_bad_id, stored.event_count) == (False, target, 2)


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(app):
    events = record(3)
    middle = events[1]
    content = {
        "id": middle.id,
        "occurred_at": middle.occurred_at,
        "actor_id": None,
        "actor_email": None,
        "action": middle.action,
        "object_type": middle.object_type,
        "object_id": middle.object_id,
        "summary": "rewritten",
        "prev_hash": middle.prev_hash,
    }
    tamper(
        "UPDATE audit_events SET summary = 'rewritten', hash = :hash WHERE id = :id",
        id=middle.id,
        hash=audit.content_hash(**content),
    )
    code, output = verify(app)
    assert code == 1
    assert f"Event #{events[2].id} does not link to event #{middle.id}" in output


def test_a_deleted_event_is_found_at_the_gap(app):
    ids = [e.id for e in record(4)]
    tamper("DELETE FROM audit_events WHERE id = :id", id=ids[1])
    code, output = verify(app)
    assert code == 1
    assert f"Chain broken at event #{ids[2]}." in output
    assert "the events between them were deleted" in output


def test_deleting_the_first_events_is_found(app):
    ids = [e.id for e in record(3)]
    tamper("DELETE FROM audit_events WHERE id = :id", id=ids[0])
    code, output = verify(app)
    assert code == 1
    assert f"Event #{ids[1]} does not start the chain" in output


def test_an_inserted_event_is_named(app):
    events = record(3)
    forged = {
        "id": events[0].id - 1,
        "occurred_at": events[0].occurred_at,
        "actor_id": None,
        "actor_email": None,
        "action": "gift.delete",
        "object_type": "gift",
        "object_id": "1",
        "summary": "an entry nobody made",
        "prev_hash": GENESIS,
    }
    tamper(
        "INSERT INTO audit_events (id, occurred_at, actor_id, actor_email, action, object_type,"
        " object_id, summary, prev_hash, hash) VALUES (:id, :occurred_at, :actor_id,"
        " :actor_email, :action, :object_type, :object_id, :summary, :prev_hash, :hash)",
        **forged,
        hash=audit.content_hash(**forged),
    )
    code, output = verify(app)
    assert code == 1
    assert f"Event #{forged['id']} was inserted" in output
    stored = db.session.scalars(select(AuditVerification)).one()
    assert stored.first_bad_id == forged["id"]


def test_events_removed_from_the_end_after_a_check_are_found(app):
    last = record(3)[-1].id
    assert verify(app)[0] == 0
    tamper("DELETE FROM audit_events WHERE id = :id", id=last)
    code, output = verify(app)
    assert code == 1
    assert f"Event #{last}, the last one when the chain verified" in output
    assert "is gone" in output


def test_the_chain_goes_on_after_a_check(app):
    record(2)
    assert verify(app)[0] == 0
    record(2)
    code, output = verify(app)
    assert code == 0, output
    assert "4 events intact" in output


def test_the_orm_refuses_to_change_a_stored_verification(app):
    record(1)
    verify(app)
    stored = db.session.scalars(select(AuditVerification)).one()
    stored.ok = False
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


# --- concurrency -------------------------------------------------------------


def test_events_appended_at_once_form_one_chain(app):
    record(1)

    def append(n: int):
        def job() -> None:
            audit.record_audit(
                actor=None, action="test.race", object_type="donor", object_id=n, summary=""
            )

        return job

    outcomes = race(app, [append(n) for n in range(8)])
    assert outcomes == ["ok"] * 8
    events = chain()
    assert len(events) == 9
    assert len({e.prev_hash for e in events}) == 9  # no two events follow the same one
    assert audit.check_chain().ok


# --- the log page ------------------------------------------------------------


def test_the_log_page_verifies_on_request_and_shows_when(app, admin_client):
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "The chain has not been verified yet." in page
    assert "Verify now" in page

    response = admin_client.post("/admin/audit/verify")
    assert response.status_code == 302
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Checked the chain just now: it is intact." in page
    count = len(chain())
    assert "Chain verified" in page
    assert f"{count} event{'' if count == 1 else 's'} intact." in page
    assert "recorded since then" not in page
    stored = db.session.scalars(select(AuditVerification)).one()
    assert stored.actor_email == admin_client.user.email

    record(2)
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert f"{count} event{'' if count == 1 else 's'} intact. 2 recorded since then." in page


def test_the_log_page_warns_when_the_chain_is_broken(app, admin_client):
    events = record(3)
    tamper("UPDATE audit_events SET action = 'nothing' WHERE id = :id", id=events[1].id)
    response = admin_client.post("/admin/audit/verify", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The audit chain is broken" in page
    assert "Checked the chain just now: it is broken, see below." in page
    assert 'class="chain-status chain-broken" role="alert"' in page
    assert f"Event #{events[1].id} was edited" in page
    assert "Chain verified" not in page


@pytest.mark.parametrize("role", [Role.TREASURER, Role.STAFF])
def test_only_admins_may_verify(app, login, role):
    client = login(role)
    assert client.post("/admin/audit/verify").status_code == 403
    assert db.session.scalars(select(AuditVerification)).all() == []


def test_verify_is_a_post(app, admin_client):
    assert admin_client.get("/admin/audit/verify").status_code == 405


# --- PostgreSQL: the database itself refuses ------------------------------------


@pytest.mark.postgres_only
def test_postgres_refuses_update_and_delete_of_audit_events(app):
    [event] = record(1)
    for operation, statement in (
        ("UPDATE", "UPDATE audit_events SET summary = 'changed' WHERE id = :id"),
        ("DELETE", "DELETE FROM audit_events WHERE id = :id"),
    ):
        with pytest.raises(DBAPIError, match=f"append-only: {operation} refused"):
            db.session.execute(text(statement), {"id": event.id})
        db.session.rollback()
    assert [e.summary for e in chain()] == [event.summary]
    assert audit.check_chain().ok


# --- the migration -----------------------------------------------------------


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """Return the URL of a new, empty database on the same server."""
    with empty_database(database_url, tmp_path, "audit_chain") as url:
        yield url


def test_the_migration_chains_the_events_already_recorded(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision="0006_statement_basis")
        for n, stamp in enumerate(
            ["2026-01-02 10:00:00", "2026-01-02 10:00:00.250000", "2026-03-04 23:59:59.999999"]
        ):
            db.session.execute(
                text(
                    "INSERT INTO audit_events (id, occurred_at, actor_email, action, object_type,"
                    " object_id, summary) VALUES (:id, :at, NULL, 'donor.update', 'donor', :oid,"
                    " :summary)"
                ),
                {"id": 3 * n + 2, "at": stamp + "+00:00", "oid": str(n), "summary": f"é {n}"},
            )
        db.session.commit()
        flask_migrate.upgrade()
        events = chain()
        assert [e.id for e in events] == [2, 5, 8]
        assert events[0].prev_hash == GENESIS
        assert events[1].prev_hash == events[0].hash
        assert audit.check_chain().ok
        new = audit.record_audit(actor=None, action="x", object_type="donor", object_id=1)
        db.session.commit()
        assert (new.id, new.prev_hash) == (9, events[-1].hash)
        result = audit.check_chain()
        assert (result.ok, result.event_count) == (True, 4)
        if is_postgres(empty_database_url):  # the migration made the trigger
            with pytest.raises(DBAPIError, match="append-only: DELETE refused"):
                db.session.execute(text("DELETE FROM audit_events"))
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_auditing_before_and_after_other_locks_does_not_deadlock(app, create_user):
    """One writer audits and then locks a row, another locks the row and then audits."""
    user_id = create_user(Role.STAFF).id

    def lock_the_row() -> None:
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
        db.session.execute(text("SELECT 1"))
        time.sleep(0.05)

    def audit_then_lock(n: int):
        def job() -> None:
            audit.record_audit(actor=None, action="a", object_type="donor", object_id=n)
            time.sleep(0.05)
            lock_the_row()

        return job

    def lock_then_audit(n: int):
        def job() -> None:
            lock_the_row()
            audit.record_audit(actor=None, action="b", object_type="donor", object_id=n)

        return job

    jobs = [(audit_then_lock if n % 2 else lock_then_audit)(n) for n in range(6)]
    outcomes = race(app, jobs)
    assert outcomes == ["ok"] * 6
    assert audit.check_chain().ok
    assert audit.check_chain().event_count == 7  # the user's creation and six more


def test_events_join_the_chain_at_commit_and_leave_with_a_rollback(app):
    def note(action: str) -> None:
        audit.record_audit(actor=None, action=action, object_type="donor", object_id=1)

    note("kept")
    with pytest.raises(ValueError), db.session.begin_nested():
        note("in a savepoint rolled back")
        raise ValueError
    with db.session.begin_nested():
        note("in a savepoint released")
    db.session.commit()
    note("in a transaction rolled back")
    db.session.rollback()
    assert [e.action for e in chain()] == ["kept", "in a savepoint released"]
    assert audit.check_chain().ok
