"""Flask extensions, created unbound; create_app binds them to an app."""

from __future__ import annotations

from typing import TypeVar

from flask import session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_login.utils import _create_identifier
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction

# Deterministic constraint names, so migrations can drop and alter them on
# both SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()


def _session_identifier() -> str:
    """Flask-Login's session identifier (a hash of the address and browser), worked out
    only when the session holds something. Flask-Login makes it on every request and
    compares it with the session's only when the session is not empty (session
    protection); when it stores it, at sign-in, the session already holds the user."""
    return _create_identifier() if session else ""


login_manager._session_identifier_generator = _session_identifier
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def committed_for_good(session: Session) -> bool:
    """In an ``after_commit`` hook: whether the transaction itself committed.

    SQLAlchemy also calls ``after_commit`` when a savepoint (``begin_nested``) is released,
    and the outer transaction may still roll back: work promised "after the commit" waits.
    """
    return session.get_nested_transaction() is None


def drop_rolled_back(session: Session, key: str, rolled_back: SessionTransaction) -> None:
    """In an ``after_soft_rollback`` hook: drop what the rollback undid from the list
    ``session.info[key]``, whose entries each begin with the transaction they were made
    in (the innermost one then): every entry when the whole transaction rolled back,
    else those made inside the savepoint ``rolled_back``."""
    pending = session.info.get(key)
    if not pending:
        return
    rolled_back = undone_by(rolled_back)
    if rolled_back.parent is None:
        session.info.pop(key, None)
        return
    session.info[key] = [entry for entry in pending if not _within(entry[0], rolled_back)]


def undone_by(rolled_back: SessionTransaction) -> SessionTransaction:
    """The transaction whose work a rollback reported to ``after_soft_rollback`` undid.

    When a flush fails, SQLAlchemy rolls back the flush's own subtransaction, which
    rolls back the savepoint around it (or the whole transaction), and the hook hears
    of the subtransaction only: the savepoint then just closes, with no hook of its own.
    """
    while not rolled_back.nested and rolled_back.parent is not None:
        rolled_back = rolled_back.parent
    return rolled_back


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


_HELD = "donations.held"
_T = TypeVar("_T")


def hold(obj: _T) -> _T:
    """Keep ``obj`` in the session's identity map while the session lives.

    The identity map holds rows weakly, so a one-row table read on nearly every unit of
    work (the organisation profile, the receipt settings) would be read again at each
    ``get``; held, it is read once per transaction (it expires at commit) and ``get``
    finds it in memory otherwise.
    """
    if obj is not None:
        db.session.info.setdefault(_HELD, {})[type(obj)] = obj
    return obj
