"""The one commit point views use: commit, or roll back and show the domain error."""

from __future__ import annotations

import ast
import pathlib

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from donations.extensions import db
from donations.models import Donor
from donations.services import donors
from donations.services.errors import DomainError, InvalidInput
from donations.unit_of_work import unit_of_work

BLUEPRINTS = pathlib.Path(__file__).resolve().parent.parent / "donations" / "blueprints"


class NameForm(FlaskForm):
    name = StringField("Name")


def _add_donor(name: str) -> Donor:
    return donors.create_donor(actor=None, name=name, email=f"{name.lower()}@example.com")


def _names() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(db.select(Donor.name)).all())


@pytest.fixture
def request_ctx(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context("/", method="POST"):
        yield


def test_commits_when_the_block_succeeds(request_ctx):
    with unit_of_work() as work:
        _add_donor("Ada")
    assert work.ok and work.error is None
    db.session.rollback()  # nothing left to roll back: it is committed
    assert _names() == ["Ada"]


def test_a_domain_error_rolls_back_and_goes_next_to_its_field(request_ctx):
    form = NameForm()
    with unit_of_work(form) as work:
        _add_donor("Ada")
        raise InvalidInput("Give a shorter name.", field="name")
    assert not work.ok and isinstance(work.error, InvalidInput)
    assert form.name.errors == ["Give a shorter name."]
    assert form.form_errors == []
    assert _names() == []


def test_a_domain_error_without_a_field_goes_above_the_form(request_ctx):
    form = NameForm()
    with unit_of_work(form):
        raise DomainError("Not now.")
    assert form.form_errors == ["Not now."]


def test_without_a_form_the_error_is_flashed_or_left_to_the_view(request_ctx):
    with unit_of_work(flash_errors=True) as flashed:
        raise DomainError("Flashed.")
    with unit_of_work() as quiet:
        raise DomainError("Kept.")
    assert get_flashed_messages(with_categories=True) == [("error", "Flashed.")]
    assert flashed.error.message == "Flashed." and quiet.error.message == "Kept."


def test_discard_rolls_back_instead_of_committing(request_ctx):
    with unit_of_work() as work:
        _add_donor("Ada")
        work.discard()
    assert not work.ok and work.error is None
    assert _names() == []


def test_named_errors_roll_back_and_others_propagate(request_ctx):
    with unit_of_work(errors=(KeyError,)) as work:
        _add_donor("Ada")
        raise KeyError("gateway")
    assert isinstance(work.error, KeyError)
    assert _names() == []
    with pytest.raises(DomainError), unit_of_work(errors=(KeyError,)):
        _add_donor("Bea")
        raise DomainError("not answered here")
    assert _names() == []
    with pytest.raises(RuntimeError), unit_of_work():
        _add_donor("Cy")
        raise RuntimeError("boom")
    assert _names() == []


def test_read_only_neither_commits_nor_rolls_back(request_ctx):
    _add_donor("Ada")  # flushed, uncommitted, outside the block
    form = NameForm()
    with unit_of_work(form, read_only=True) as check:
        raise InvalidInput("Bad.", field="name")
    assert form.name.errors == ["Bad."] and check.error is not None
    with unit_of_work(read_only=True) as fine:
        pass
    assert fine.ok
    assert _names() == ["Ada"]  # still in the open transaction: not rolled back
    db.session.rollback()
    assert _names() == []  # and not committed either


def test_a_block_that_began_no_transaction_commits_nothing(request_ctx):
    """Nothing done in the session (a webhook delivery stored past it): no commit runs,
    and no commit hook either."""
    from sqlalchemy import event

    db.session.commit()
    db.session.close()
    commits: list[object] = []

    def committing(session) -> None:
        commits.append(session)

    event.listen(db.session(), "before_commit", committing)
    try:
        with unit_of_work() as work:
            pass
    finally:
        event.remove(db.session(), "before_commit", committing)
    assert work.ok and commits == []
    assert not db.session().in_transaction()


def test_an_audit_event_recorded_before_any_query_is_committed(request_ctx):
    """Recording an event begins the transaction it waits for, so the block commits it."""
    from donations.models import AuditEvent
    from donations.services import audit

    db.session.commit()
    db.session.close()
    with unit_of_work() as work:
        audit.record_audit(actor=None, action="probe.ran", object_type="probe", object_id=1)
    assert work.ok
    db.session.close()
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "probe.ran" in actions


def test_views_hold_no_commit_rollback_or_domain_error_handler():
    """Views go through unit_of_work: no hand-made commit, rollback or except DomainError."""
    found = []
    for path in sorted(BLUEPRINTS.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in (".commit()", ".rollback()"):
            if needle in text:
                found.append(f"{path.name}: {needle}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ExceptHandler) and "DomainError" in ast.unparse(
                node.type or ""
            ):
                found.append(f"{path.name}:{node.lineno}: except {ast.unparse(node.type)}")
    assert found == []
