"""What a start imports: an app on SQLite loads neither Alembic (Flask-Migrate is loaded when
``flask db`` or ``flask_migrate`` is used) nor the PostgreSQL driver (Huey looks for it at
import); both still work when they are wanted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, tmp_path: Path, **env: str) -> list[str]:
    environment = {
        **os.environ,
        "SECRET_KEY": "test-secret",
        "PUBLIC_BASE_URL": "http://donations.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3"),
        **env,
    }
    environment.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environment,
    )
    return done.stdout.split()


def test_an_app_on_sqlite_loads_neither_alembic_nor_the_postgresql_driver(tmp_path):
    code = (
        "import sys; from donations import create_app; create_app(); "
        "print(*(m in sys.modules for m in ('alembic', 'flask_migrate', 'psycopg', 'huey')))"
    )
    assert _run(code, tmp_path) == ["False", "False", "False", "True"]


def test_the_driver_imports_as_usual_after_huey_and_huey_after_it(tmp_path):
    after = "import donations, psycopg; print(psycopg.__name__, 'psycopg' in sys.modules)"
    assert _run("import sys; " + after, tmp_path) == ["psycopg", "True"]
    before = "import sys, psycopg; import donations, huey.storage; print(huey.storage.psycopg)"
    assert _run(before, tmp_path)[0].startswith("<module")


def test_migrations_run_through_the_flask_db_group_and_flask_migrate(tmp_path):
    code = (
        "import json, flask_migrate; from sqlalchemy import inspect; "
        "from donations import create_app; from donations.extensions import db; "
        "app = create_app(); runner = app.test_cli_runner(); "
        "listed = runner.invoke(args=['db', '--help']).output; "
        "upgraded = runner.invoke(args=['db', 'upgrade']).exit_code; "
        "ctx = app.app_context(); ctx.push(); "
        "tables = len(inspect(db.engine).get_table_names()); "
        "flask_migrate.downgrade(revision='base'); "
        "left = inspect(db.engine).get_table_names(); "
        "print('RESULT', json.dumps(['upgrade' in listed and '--directory' in listed, "
        "upgraded, tables > 50, left]))"
    )
    out = _run(code, tmp_path)
    assert out[out.index("RESULT") + 1 :] == ["[true,", "0,", "true,", '["alembic_version"]]']
