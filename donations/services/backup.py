"""Backups of the database: take one (consistent), keep the last N, restore into an empty one.

SQLite is copied with its online backup API (one step: a snapshot as of the moment it
starts, while writers carry on); PostgreSQL with ``pg_dump -Fc``. A restore goes into an
empty database only, then checks the goods ledger against the stock balances and the
audit chain, and reports both.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from donations.extensions import db
from donations.services import inventory
from donations.services.audit import ChainCheck, check_chain
from donations.services.errors import NotAllowed

PREFIX = "donations-"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
# A backup older than this is overdue: the dashboard and the jobs page say so.
OVERDUE_DAYS = 2


@dataclass(frozen=True)
class BackupFile:
    path: str
    taken_at: datetime
    size: int

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


@dataclass(frozen=True)
class RestoreReport:
    """What a restore brought back and what the checks after it found."""

    tables: int
    balance_problems: list[inventory.BalanceProblem]
    chain: ChainCheck

    @property
    def ok(self) -> bool:
        return not self.balance_problems and self.chain.ok


def backup_folder(app: Flask | None = None) -> str:
    """BACKUP_DIR, or ``<instance>/backups``."""
    app = app or current_app
    return app.config.get("BACKUP_DIR") or os.path.join(app.instance_path, "backups")


def _url() -> URL:
    return db.engine.url


def _dialect() -> str:
    name = _url().get_backend_name()
    if name not in SUFFIXES:
        raise NotAllowed(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def _pg_tool(name: str) -> str:
    """The newest ``pg_dump``/``pg_restore``: Debian keeps one per version under /usr/lib."""
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise NotAllowed(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # The row security policies (migration 0029) let a session with this setting see and
    # write every organisation's rows; a superuser is not subject to them anyway.
    everyone = "-c donations.all_organizations=on"
    env["PGOPTIONS"] = f"{env['PGOPTIONS']} {everyone}" if env.get("PGOPTIONS") else everyone
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise NotAllowed(f"{what} failed: {done.stderr.strip() or done.returncode}")


def take_backup(folder: str, *, keep: int | None = None) -> BackupFile:
    """Write a consistent copy of the database into ``folder``; keep the newest ``keep``."""
    dialect = _dialect()
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = os.path.join(folder, f"{PREFIX}{stamp}{SUFFIXES[dialect]}")
    partial = path + ".partial"
    url = _url()
    if dialect == "sqlite":
        source = sqlite3.connect(url.database or "", timeout=30)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # every page in one step: one consistent snapshot
        finally:
            target.close()
            source.close()
    else:
        args, env = _pg_args(url)
        # --enable-row-security: a dump as the tables' (non-superuser) owner reads through
        # the policies, which the setting in PGOPTIONS opens to every row.
        dump = [_pg_tool("pg_dump"), "-Fc", "--enable-row-security", "--file", partial]
        _run([*dump, *args], env, "pg_dump")
    os.replace(partial, path)
    if keep is not None:
        prune(folder, keep=keep)
    return _describe(path)


def _describe(path: str) -> BackupFile:
    stat = os.stat(path)
    return BackupFile(path, datetime.fromtimestamp(stat.st_mtime, UTC), stat.st_size)


def list_backups(folder: str) -> list[BackupFile]:
    """The backups in ``folder``, newest first."""
    if not os.path.isdir(folder):
        return []
    names = sorted(
        (
            n
            for n in os.listdir(folder)
            if n.startswith(PREFIX) and n.endswith(tuple(SUFFIXES.values()))
        ),
        reverse=True,
    )
    return [_describe(os.path.join(folder, n)) for n in names]


def prune(folder: str, *, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backups; return the deleted paths."""
    old = list_backups(folder)[max(keep, 1) :]
    for backup in old:
        os.remove(backup.path)
    return [b.path for b in old]


def last_backup(folder: str) -> BackupFile | None:
    backups = list_backups(folder)
    return backups[0] if backups else None


def backup_is_overdue(folder: str, days: int = OVERDUE_DAYS) -> bool:
    """True when the newest backup is older than ``days`` (or there is none)."""
    last = last_backup(folder)
    return last is None or datetime.now(UTC) - last.taken_at > timedelta(days=days)


def restore_backup(path: str) -> RestoreReport:
    """Restore ``path`` into the app's database, which must be empty; then check it."""
    if not os.path.isfile(path):
        raise NotAllowed(f"There is no backup file at {path}.")
    dialect = _dialect()
    if not path.endswith(SUFFIXES[dialect]):
        raise NotAllowed(f"{os.path.basename(path)} is not a {dialect} backup.")
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise NotAllowed(
            f"The database already has {len(tables)} tables: a backup is restored only into "
            "an empty database. Create a new one and point DATABASE_URL at it."
        )
    db.session.remove()
    db.engine.dispose()
    url = _url()
    if dialect == "sqlite":
        source = sqlite3.connect(path)
        target = sqlite3.connect(url.database or "", timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        args, env = _pg_args(url)
        command = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        _run([*command, *args, path], env, "pg_restore")
    db.engine.dispose()
    restored = len(inspect(db.engine).get_table_names())
    report = RestoreReport(restored, inventory.verify_balances(), check_chain())
    db.session.rollback()
    return report
