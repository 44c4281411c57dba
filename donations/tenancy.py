"""Organisations as tenants: the one mechanism that walls one organisation's rows off
from another's.

Every table whose rows belong to an organisation takes ``OrgScoped``: an
``organization_id`` column filled from the current organisation when a row is
inserted (ORM or Core), and, for every ORM statement the session runs (``select``,
``session.get``, lazy loads, ORM ``update`` and ``delete``), a criterion
``organization_id = <current>`` added by one ``do_orm_execute`` hook. The current
organisation is set per request (from the URL, later the host or the membership),
per job from its arguments (``use_organization``) and per CLI command from its
``--org`` option; with none set it is the first (home) organisation, so a
single-shelter installation behaves as it always did.

Code that must read across organisations (coalition figures, the list of
organisations) says so with ``ALL_ORGANIZATIONS`` in the statement's execution
options, or runs in an ``across_organizations()`` block (rebuilding and checking the
summaries), and returns aggregates only. Statements run on ``session.connection()``
or built on ``Table`` objects bypass the ORM and filter by
``current_organization_id()`` themselves.

On PostgreSQL a second wall stands behind this one (``donations.row_security``): row
security policies keyed on per-transaction settings, so a statement that forgets its
filter sees no rows. Pending ORM changes are flushed when a ``use_organization`` block
begins and ends, so each row is written while its own organisation is the current one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import g, has_app_context
from sqlalchemy import Integer, event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

# The organisation that existed before there were several: it keeps the root paths.
HOME_ORGANIZATION_ID = 1
# Execution option: this statement reads every organisation's rows on purpose.
ALL_ORGANIZATIONS = "all_organizations"

_G_KEY = "organization_id"
_G_ACROSS = "across_organizations"


def current_organization_id() -> int:
    """Return the id of the organisation the current unit of work belongs to."""
    if has_app_context():
        value = g.get(_G_KEY)
        if value is not None:
            return value
    return HOME_ORGANIZATION_ID


def set_organization(organization_id: int) -> None:
    """Make ``organization_id`` the current organisation for the rest of this app context."""
    g.organization_id = organization_id


def _flush_pending() -> None:
    """Write the session's pending changes as the organisation current now (the row
    security policies check each written row against it)."""
    from donations.extensions import db  # noqa: PLC0415 -- models import this module

    if db.session.registry.has():
        session = db.session()
        if session.autoflush and not session._flushing:  # not inside a flush
            session.flush()


@contextmanager
def use_organization(organization_id: int) -> Iterator[None]:
    """Run a block (a job, a CLI command, a test) as ``organization_id``, then restore.

    Changes made before the block are flushed as the organisation before it, and those
    made in the block as ``organization_id`` when it ends (unless it raises).
    """
    before = g.get(_G_KEY)
    switching = current_organization_id() != organization_id
    if switching:
        _flush_pending()
    g.organization_id = organization_id
    try:
        yield
        if switching:
            _flush_pending()
    finally:
        if before is None:
            g.pop(_G_KEY, None)
        else:
            g.organization_id = before


@contextmanager
def across_organizations() -> Iterator[None]:
    """Run a block whose statements read (and write) every organisation's rows on purpose:
    rebuilding and checking the summaries. Like ``ALL_ORGANIZATIONS`` on each statement."""
    if not has_app_context():  # no session to read with either
        yield
        return
    before = g.get(_G_ACROSS)
    g.across_organizations = True
    try:
        yield
    finally:
        if before is None:
            g.pop(_G_ACROSS, None)


def reading_across() -> bool:
    """Whether the current block reads every organisation's rows (``across_organizations``)."""
    return has_app_context() and bool(g.get(_G_ACROSS))


class OrgScoped:
    """Mixin: the row belongs to one organisation, and queries see only the current one's."""

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        # No index of its own: the unique keys and the indexes that pages use lead
        # with it where an organisation's rows are read in order.
        return mapped_column(Integer, nullable=False, default=current_organization_id)


def _scope(state: ORMExecuteState) -> None:
    if state.is_column_load or state.execution_options.get(ALL_ORGANIZATIONS) or reading_across():
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(_criteria(current_organization_id()))


# The criteria option of each organisation, made once: an option is immutable and may be
# shared by any number of statements, and making one (the lambda's analysis) cost about
# 20 us of every ORM statement. The lambda's closure value is the organisation's id, which
# SQLAlchemy reads as a bound parameter: statements of every organisation share one
# compiled form in its cache, as before.
_CRITERIA: dict[int, Any] = {}
_CRITERIA_KEPT = 4096  # organisations; beyond that the dict starts again (never reached)


def _criteria(organization_id: int) -> Any:
    option = _CRITERIA.get(organization_id)
    if option is None:
        option = with_loader_criteria(
            OrgScoped,
            lambda cls: cls.organization_id == organization_id,
            include_aliases=True,
        )
        if len(_CRITERIA) >= _CRITERIA_KEPT:
            _CRITERIA.clear()
        _CRITERIA[organization_id] = option
    return option


def _stamp(target: OrgScoped, _args: Any, kwargs: dict[str, Any]) -> None:
    """A new row belongs to the organisation current when it is made, not when it is
    flushed (which may be after a ``use_organization`` block has ended)."""
    if kwargs.get("organization_id") is None:
        target.organization_id = current_organization_id()  # type: ignore[assignment]


def install_scoping() -> None:
    """Register the scoping hooks: on every ORM session, and on every new OrgScoped row
    (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _scope):
        event.listen(Session, "do_orm_execute", _scope)
    if not event.contains(OrgScoped, "init", _stamp):
        event.listen(OrgScoped, "init", _stamp, propagate=True)
