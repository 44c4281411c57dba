"""PostgreSQL: migration 0031 puts campaigns and their goods goals behind the same
row-security wall as 0029's tables (a query without the organisation sees no rows, one
with it sees that organisation's only, a row for another organisation is refused)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from campaign_fixtures import make_campaign
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from donations.extensions import db
from donations.services import campaigns, organizations
from donations.tenancy import HOME_ORGANIZATION_ID, use_organization

pytestmark = pytest.mark.postgres_only

_PATH = Path(__file__).parents[1] / "migrations" / "versions" / "0032_campaigns.py"
_spec = importlib.util.spec_from_file_location("campaigns_migration", _PATH)
assert _spec is not None and _spec.loader is not None
MIGRATION = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(MIGRATION)


def _as(connection, organization_id: int | None) -> None:
    connection.execute(
        text("SELECT set_config('donations.organization_id', :org, true)"),
        {"org": "" if organization_id is None else str(organization_id)},
    )


def _count(connection, table: str) -> int:
    return connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608


def test_campaigns_are_behind_the_wall(app, organization, goods):
    other = organizations.create_organization(actor=None, slug="north", legal_name="North")
    db.session.commit()
    other_id = other.id
    home = make_campaign()
    campaigns.set_goods_goals(actor=None, campaign=home, goals=[(goods.items["SOAP"].id, 5)])
    db.session.commit()
    with use_organization(other_id):
        make_campaign(name="North coats", slug="north-coats")
    db.session.commit()
    db.session.close()
    engine = create_engine(db.engine.url, poolclass=NullPool)
    role = f"rls_campaigns_{engine.url.database}"[:63]
    try:
        with engine.connect() as connection:
            for statement in MIGRATION.enable_statements():
                connection.exec_driver_sql(statement)
            connection.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN')
            connection.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
            connection.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
            connection.exec_driver_sql(f'SET LOCAL ROLE "{role}"')
            _as(connection, None)
            assert _count(connection, "campaigns") == 0
            assert _count(connection, "campaign_goods_goals") == 0
            _as(connection, HOME_ORGANIZATION_ID)
            slugs = connection.exec_driver_sql("SELECT slug FROM campaigns").scalars().all()
            assert slugs == ["winter-coats"]
            assert _count(connection, "campaign_goods_goals") == 1
            _as(connection, other_id)
            slugs = connection.exec_driver_sql("SELECT slug FROM campaigns").scalars().all()
            assert slugs == ["north-coats"]
            assert _count(connection, "campaign_goods_goals") == 0
            with pytest.raises(DBAPIError, match="row-level security"):
                connection.execute(
                    text(
                        "INSERT INTO campaigns (name, slug, status, starts_on, currency, story,"
                        " image_type, image_etag, created_at, updated_at, organization_id)"
                        " VALUES ('X', 'x-x', 'draft', CURRENT_DATE, 'USD', '', '', '',"
                        " now(), now(), :org)"
                    ),
                    {"org": HOME_ORGANIZATION_ID},
                )
            connection.rollback()
    finally:
        engine.dispose()
