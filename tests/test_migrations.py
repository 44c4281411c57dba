"""Upgrading an empty database through every migration gives the models' schema."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from conftest import base_config, empty_database
from donations import create_app
from donations.extensions import db


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """Return the URL of a new, empty database on the same server."""
    with empty_database(database_url, tmp_path, "migrations") as url:
        yield url


# SQLite's reflection skips expression indexes (ix_items_sort, on lower(name)); Alembic then
# leaves them out of the comparison on both sides.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_upgrade_from_empty_matches_models(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert differences == []
    assert {t.name for t in db.metadata.sorted_tables} <= tables


def test_downgrade_to_base_removes_every_table(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert tables == set()


def test_partner_logins_need_an_agency_after_upgrade(empty_database_url, tmp_path):
    """0022 widens the role list and adds the partner-has-agency CHECK on a migrated database."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    app = create_app(base_config(empty_database_url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision="0022_partner_requests")
        insert = text(
            "INSERT INTO users (email, name, password_hash, role, active, session_token, "
            "created_at, recipient_id) VALUES (:email, 'P', 'x', :role, true, 't', "
            "CURRENT_TIMESTAMP, :recipient)"
        )
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO recipients (id, kind, name, contact, active, created_at) "
                    "VALUES (7, 'partner', 'Clinic', '', true, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(insert, {"email": "p@example.org", "role": "partner", "recipient": 7})
        for role, recipient in (("partner", None), ("staff", 7)):
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(
                    insert, {"email": f"{role}@example.org", "role": role, "recipient": recipient}
                )
        flask_migrate.downgrade(revision="0021_stock_page")
        with db.engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM users")).scalar()
        db.engine.dispose()
    assert left == 0
