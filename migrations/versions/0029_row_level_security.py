"""Row-level security on PostgreSQL: the second wall between organisations

Revision ID: 0029_row_level_security
Revises: 0028_memberships
Create Date: 2026-12-08 10:00:00.000000

Every table whose rows belong to one organisation (the models' ``OrgScoped`` tables)
shows, and lets a statement write, only the rows of the organisation in the
transaction's ``donations.organization_id`` setting, or every row while
``donations.all_organizations`` is 'on' (donations/row_security.py sets both). With
neither set a query returns no rows. FORCE: the tables' owner, whom the application
connects as, is bound too; superusers and BYPASSRLS roles never are. Nothing on SQLite.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0029_row_level_security'
down_revision = '0028_memberships'
branch_labels = None
depends_on = None

# The OrgScoped tables (donations/models.py): a new one is added here by its migration.
ORG_SCOPED_TABLES = (
    'donors',
    'mail_outbox',
    'funds',
    'recurring_plans',
    'gifts',
    'gift_adjustments',
    'stripe_events',
    'sites',
    'item_categories',
    'items',
    'recipients',
    'stock_documents',
    'stock_entries',
    'in_kind_gifts',
    'pledges',
    'goods_requests',
    'receipt_sequences',
    'receipts',
    'year_end_runs',
)

POLICY = 'organization_wall'
RULE = (
    "current_setting('donations.all_organizations', true) = 'on' "
    "OR organization_id = NULLIF(current_setting('donations.organization_id', true), '')::int"
)


def enable_statements(tables=ORG_SCOPED_TABLES):
    """The SQL that puts the wall up (tests/test_row_level_security.py runs it too)."""
    for table in tables:
        yield f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY'
        yield f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY'
        yield f'CREATE POLICY {POLICY} ON {table} USING ({RULE}) WITH CHECK ({RULE})'


def disable_statements(tables=ORG_SCOPED_TABLES):
    for table in tables:
        yield f'DROP POLICY IF EXISTS {POLICY} ON {table}'
        yield f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY'
        yield f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY'


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for statement in enable_statements():
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for statement in disable_statements():
        op.execute(statement)
