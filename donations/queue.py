"""The background job queue: a Huey instance per app, and the ``@job`` declarations.

``init_queue(app)`` makes the app's queue: ``RedisHuey`` on ``REDIS_URL`` when set,
otherwise ``SqliteHuey`` on ``JOBS_SQLITE_PATH`` (default ``<instance>/jobs.sqlite3``).
With ``JOBS_IMMEDIATE`` jobs run inline as they are enqueued (the test suite).

A job is a plain function declared once, at import, for every app::

    @job(retries=2)
    def send_statement(run_id: int) -> None: ...

    @periodic_job(crontab(minute="*/15"))
    def replay_stripe_events() -> None: ...

Each run happens inside an app context and commits at its end (rolls back on an
error): a job is the one commit point of background work. A run belongs to the
organisation that enqueued it (``donations.tenancy``): its id travels with the task
and is set before the job runs; a periodic job runs once for each organisation. A
job's arguments are row ids and flags, never personal data: they are kept on the
run's record (``JobRun``) to show it and to retry it. Work enqueued by a request or
service goes through ``enqueue_after_commit``, so a job never runs for a transaction
that rolled back.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from donations.extensions import committed_for_good, db, drop_rolled_back
from donations.huey_import import Huey, RedisHuey, SqliteHuey, Task, TaskWrapper
from donations.models import Organization
from donations.tenancy import HOME_ORGANIZATION_ID, current_organization_id, use_organization

# The types a job's arguments may have: ids, amounts, flags and short codes.
ARGUMENT_TYPES = (int, float, bool, str, type(None))

_PENDING = "donations.queue.pending"


@dataclass(frozen=True)
class JobDefinition:
    """A job as declared: its function, retry policy and, for a periodic job, its schedule."""

    name: str  # "<module>.<function>", the name Huey knows it by
    func: Callable[..., Any]
    retries: int = 0
    retry_delay: int = 0
    schedule: Callable[[datetime], bool] | None = None
    enabled_by: str | None = None  # a config key that turns a periodic job off when false


class Job:
    """A declared job: call it to run it here and now, or enqueue it."""

    def __init__(self, definition: JobDefinition) -> None:
        self.definition = definition
        functools.update_wrapper(self, definition.func)

    @property
    def name(self) -> str:
        return self.definition.name

    def __call__(self, *args: Any) -> Any:
        return self.definition.func(*args)

    def enqueue(self, *args: Any) -> str:
        """Put a run on the current app's queue now; return its task id."""
        return queue_of(current_app).enqueue(self.name, args)


_DEFINITIONS: dict[str, JobDefinition] = {}
_SIGNAL_LISTENERS: list[Callable[..., None]] = []
_AFTER_COMMIT_HOOKS: list[Callable[[Flask], None]] = []


def _declare(definition: JobDefinition) -> Job:
    _DEFINITIONS[definition.name] = definition
    return Job(definition)


def job(*, retries: int = 0, retry_delay: int = 0) -> Callable[[Callable[..., Any]], Job]:
    """Declare a background job (a function of ids and flags)."""

    def declare(func: Callable[..., Any]) -> Job:
        name = f"{func.__module__}.{func.__name__}"
        return _declare(JobDefinition(name, func, retries, retry_delay))

    return declare


def periodic_job(
    schedule: Callable[[datetime], bool], *, enabled_by: str | None = None, retries: int = 0
) -> Callable[[Callable[[], Any]], Job]:
    """Declare a job the consumer enqueues on a schedule (a ``huey.crontab``, in UTC).

    ``enabled_by`` names a config key: when it is false the schedule never fires (the job
    may still be enqueued by hand).
    """

    def declare(func: Callable[[], Any]) -> Job:
        name = f"{func.__module__}.{func.__name__}"
        return _declare(
            JobDefinition(name, func, retries, schedule=schedule, enabled_by=enabled_by)
        )

    return declare


def add_after_job_commit(hook: Callable[[Flask], None]) -> None:
    """Call ``hook(app)`` after every job's commit, still in its app context (mail goes out)."""
    if hook not in _AFTER_COMMIT_HOOKS:
        _AFTER_COMMIT_HOOKS.append(hook)


def add_signal_listener(listener: Callable[..., None]) -> None:
    """Call ``listener(app, signal, task, *extra)`` for every Huey signal of every app."""
    if listener not in _SIGNAL_LISTENERS:
        _SIGNAL_LISTENERS.append(listener)


def check_arguments(args: tuple[Any, ...]) -> str:
    """Return the arguments as the JSON kept on the run's record; refuse other types."""
    for arg in args:
        if not isinstance(arg, ARGUMENT_TYPES):
            raise TypeError(
                f"a job takes ids and flags, not {type(arg).__name__}: pass a row id instead"
            )
    return json.dumps(list(args))


def task_name(task: Task) -> str:
    """The name a Huey task runs under: its job's name."""
    return f"{type(task).__module__}.{task.name}"


class Queue:
    """One app's Huey instance with the jobs registered on it."""

    def __init__(self, app: Flask, huey: Huey) -> None:
        self.app = app
        self.huey = huey
        self._tasks: dict[str, TaskWrapper] = {}
        huey.signal()(self._dispatch)

    def _dispatch(self, signal: str, task: Task, *extra: Any) -> None:
        for listener in list(_SIGNAL_LISTENERS):
            listener(self.app, signal, task, *extra)

    def task(self, name: str) -> TaskWrapper:
        """The app's Huey task for the job ``name``, registered on first use."""
        if name not in self._tasks:
            definition = _DEFINITIONS.get(name)
            if definition is None:
                raise LookupError(f"no job is called {name}")
            self._tasks[name] = self._register(definition)
        return self._tasks[name]

    def register_all(self) -> list[str]:
        """Register every declared job (a consumer must know them all); return their names."""
        for name in list(_DEFINITIONS):
            self.task(name)
        return sorted(self._tasks)

    def _register(self, definition: JobDefinition) -> TaskWrapper:
        app = self.app

        @functools.wraps(definition.func)
        def run(*args: Any, organization_id: int | None = None) -> None:
            with app.app_context():
                if organization_id is not None:
                    targets = [organization_id]
                elif definition.schedule is not None:  # periodic: every open organisation
                    targets = _open_organizations()
                else:  # enqueued before runs carried their organisation
                    targets = [HOME_ORGANIZATION_ID]
                failure: BaseException | None = None
                for target in targets:
                    with use_organization(target):
                        try:
                            definition.func(*args)
                            db.session.commit()
                        except BaseException as error:
                            db.session.rollback()
                            if len(targets) == 1:
                                raise
                            failure = failure or error  # the others still run
                            continue
                        for hook in list(_AFTER_COMMIT_HOOKS):
                            hook(app)
                if failure is not None:
                    raise failure

        if definition.schedule is None:
            return self.huey.task(retries=definition.retries, retry_delay=definition.retry_delay)(
                run
            )
        schedule, flag = definition.schedule, definition.enabled_by

        def due(moment: datetime) -> bool:
            return (flag is None or bool(app.config.get(flag))) and schedule(moment)

        return self.huey.periodic_task(due, retries=definition.retries)(run)

    def enqueue(
        self,
        name: str,
        args: tuple[Any, ...],
        *,
        task_id: str | None = None,
        organization_id: int | None = None,
    ) -> str:
        """Put a run of job ``name`` on the queue (again, under ``task_id``) for the current
        organisation (or ``organization_id``); return its id."""
        check_arguments(args)
        wrapper = self.task(name)
        if organization_id is None:
            organization_id = current_organization_id()
        task = wrapper.task_class(tuple(args), {"organization_id": organization_id}, id=task_id)
        self.huey.enqueue(task)
        return task.id


def _open_organizations() -> list[int]:
    """The ids of the organisations a periodic job runs for (the first when none is saved)."""
    found = db.session.scalars(
        select(Organization.id).where(Organization.archived_at.is_(None)).order_by(Organization.id)
    ).all()
    return list(found) or [HOME_ORGANIZATION_ID]


def make_huey(app: Flask) -> Huey:
    """The Huey instance the app's settings ask for."""
    immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    redis_url = app.config.get("REDIS_URL")
    # Results are never read: a run's outcome is kept on its JobRun row.
    options: dict[str, Any] = {"results": False, "immediate": immediate, "utc": True}
    if redis_url:
        return RedisHuey("donations", url=redis_url, **options)
    path = app.config.get("JOBS_SQLITE_PATH") or os.path.join(app.instance_path, "jobs.sqlite3")
    return SqliteHuey("donations", filename=path, **options)


def init_queue(app: Flask) -> Queue:
    """Make the app's queue; point Flask-Limiter's storage at Redis when REDIS_URL is set."""
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    queue = Queue(app, make_huey(app))
    app.extensions["donations.queue"] = queue
    return queue


def queue_of(app: Flask) -> Queue:
    """The app's queue, made by ``init_queue``."""
    return app.extensions["donations.queue"]


def enqueue_after_commit(
    target: Job | str, *args: Any, task_id: str | None = None, once: str | None = None
) -> None:
    """Enqueue a run once the current database transaction commits; never if it rolls back.

    With ``once`` (a key), nothing is enqueued while an earlier run enqueued under the same key
    has not started yet (the job calls ``started(key)`` first thing): a burst of requests
    wakes one run, which then does the work of them all.
    """
    check_arguments(args)
    name = target if isinstance(target, str) else target.name
    session = db.session()
    # The innermost transaction: a savepoint rolled back drops the jobs it enqueued.
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_PENDING, []).append(
        (
            transaction,
            queue_of(current_app),
            name,
            tuple(args),
            task_id,
            once,
            current_organization_id(),
        )
    )


# A run enqueued under a ``once`` key that has not started after this long is taken to be
# lost (its consumer died with it): the next request enqueues another.
ONCE_LOST_AFTER = 120.0  # seconds


def _claim_once(huey: Huey, key: str) -> bool:
    """Mark ``key`` as having a run waiting; False when one already waits."""
    now = time.time()
    since = huey.get(key, peek=True)  # a read: most of a burst stops here, writing nothing
    if since is None and huey.put_if_empty(key, now):
        return True
    since = since if since is not None else huey.get(key, peek=True)
    if since is not None and now - float(since) > ONCE_LOST_AFTER:
        huey.delete(key)
        return bool(huey.put_if_empty(key, now))
    return False


def started(key: str) -> None:
    """A run enqueued under ``once=key`` has started: the next request may wake another."""
    queue_of(current_app).huey.delete(key)


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    if not committed_for_good(session):
        return
    pending = session.info.pop(_PENDING, ())
    for _transaction, queue, name, args, task_id, once, organization_id in pending:
        if once is None or _claim_once(queue.huey, once):
            queue.enqueue(name, args, task_id=task_id, organization_id=organization_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    drop_rolled_back(session, _PENDING, previous_transaction)
