"""Flask-Migrate, loaded when it is first used.

Importing Flask-Migrate imports Alembic and its every dialect, about a tenth of a second
of each start that serving pages, running jobs or any other command never needs. So
``init_migrate`` registers a ``flask db`` group that imports Flask-Migrate's own commands
when it is run (or its help is asked for), and keeps in ``app.extensions["migrate"]`` a
stand-in that sets Flask-Migrate up on first touch, for ``flask_migrate.upgrade()`` and
``migrations/env.py``, which read it there.
"""

from __future__ import annotations

import threading
from typing import Any

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

# What migrations are made with: column types compared, SQLite altered in batches.
MIGRATE_OPTIONS = {"compare_type": True, "render_as_batch": True}


class _Pending:
    """``app.extensions["migrate"]`` until first touched: then Flask-Migrate's own config,
    which replaces it there."""

    def __init__(self, app: Flask, db: SQLAlchemy, directory: str) -> None:
        self._app, self._db, self._directory = app, db, directory
        self._lock = threading.Lock()
        self._config: Any = None

    def load(self) -> Any:
        with self._lock:
            if self._config is None:
                from flask_migrate import Migrate  # noqa: PLC0415 - the point of this module

                Migrate(**MIGRATE_OPTIONS).init_app(self._app, self._db, directory=self._directory)
                self._config = self._app.extensions["migrate"]
            return self._config

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)


class _DbGroup(click.Group):
    """``flask db``: Flask-Migrate's own group, imported when it is run; its options,
    commands and help are that group's."""

    def __init__(self, pending: _Pending) -> None:
        super().__init__(name="db", help="Perform database migrations.")
        self._pending = pending

    def _real(self) -> click.Group:
        self._pending.load()
        from flask_migrate.cli import db  # noqa: PLC0415 - the point of this module

        return db

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


def init_migrate(app: Flask, db: SQLAlchemy, directory: str) -> None:
    """Register ``flask db`` and the migrations' settings, Flask-Migrate itself unloaded."""
    pending = _Pending(app, db, directory)
    app.extensions["migrate"] = pending
    app.cli.add_command(_DbGroup(pending))
