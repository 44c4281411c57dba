"""Supporters' fundraising pages under a campaign, and visitors' reports of them

Revision ID: 0035_supporter_pages
Revises: 0034_appeal_codes
Create Date: 2026-12-06 14:06:47.730349

Both new tables belong to one organisation (``OrgScoped``): on PostgreSQL each gets the
``organization_wall`` policy of 0029, enabled and forced. Gifts and recurring plans get a
nullable supporter_page_id (the page a gift was given through; a plan's instalments copy
it) and shares_amount (the donor let the page's supporter see the amount; false for
existing rows, which were given through no page).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0035_supporter_pages'
down_revision = '0034_appeal_codes'
branch_labels = None
depends_on = None


# The new OrgScoped tables: each gets the row security policy of 0029.
ORG_SCOPED_TABLES = ('supporter_pages', 'supporter_page_reports')
POLICY = 'organization_wall'
RULE = (
    "current_setting('donations.all_organizations', true) = 'on' "
    "OR organization_id = NULLIF(current_setting('donations.organization_id', true), '')::int"
)


def upgrade():
    op.create_table('supporter_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('supporter_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('goal_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('photo_data', sa.LargeBinary(), nullable=True),
    sa.Column('photo_type', sa.String(length=30), nullable=False),
    sa.Column('photo_etag', sa.String(length=64), nullable=False),
    sa.Column('photo_width', sa.Integer(), nullable=True),
    sa.Column('photo_height', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('unverified', 'pending', 'approved', 'hidden', 'declined', name='supporterpagestatus', native_enum=False, length=12), nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('unverified', 'pending', 'approved', 'hidden', 'declined')", name=op.f('ck_supporter_pages_status_known')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_supporter_pages_email_lowercase')),
    sa.CheckConstraint('goal_cents > 0', name=op.f('ck_supporter_pages_goal_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_supporter_pages_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_supporter_pages_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporter_pages')),
    sa.UniqueConstraint('organization_id', 'slug', name='uq_supporter_pages_org_slug')
    )
    with op.batch_alter_table('supporter_pages', schema=None) as batch_op:
        batch_op.create_index('ix_supporter_pages_campaign', ['organization_id', 'campaign_id', 'status'], unique=False)

    op.create_table('supporter_page_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('misleading', 'offensive', 'private', 'spam', 'other', name='reportreason', native_enum=False, length=12), nullable=False),
    sa.Column('details', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("reason IN ('misleading', 'offensive', 'private', 'spam', 'other')", name=op.f('ck_supporter_page_reports_reason_known')),
    sa.ForeignKeyConstraint(['page_id'], ['supporter_pages.id'], name=op.f('fk_supporter_page_reports_page_id_supporter_pages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporter_page_reports'))
    )
    with op.batch_alter_table('supporter_page_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporter_page_reports_page_id'), ['page_id'], unique=False)

    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supporter_page_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shares_amount', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_gifts_supporter_page_id'), ['supporter_page_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_gifts_supporter_page_id_supporter_pages'), 'supporter_pages', ['supporter_page_id'], ['id'])

    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supporter_page_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shares_amount', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_recurring_plans_supporter_page_id_supporter_pages'), 'supporter_pages', ['supporter_page_id'], ['id'])

    if op.get_bind().dialect.name == 'postgresql':
        for table in ORG_SCOPED_TABLES:
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY {POLICY} ON {table} USING ({RULE}) WITH CHECK ({RULE})')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in ORG_SCOPED_TABLES:
            op.execute(f'DROP POLICY IF EXISTS {POLICY} ON {table}')
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recurring_plans_supporter_page_id_supporter_pages'), type_='foreignkey')
        batch_op.drop_column('shares_amount')
        batch_op.drop_column('supporter_page_id')

    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_gifts_supporter_page_id_supporter_pages'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_gifts_supporter_page_id'))
        batch_op.drop_column('shares_amount')
        batch_op.drop_column('supporter_page_id')

    with op.batch_alter_table('supporter_page_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporter_page_reports_page_id'))

    op.drop_table('supporter_page_reports')
    with op.batch_alter_table('supporter_pages', schema=None) as batch_op:
        batch_op.drop_index('ix_supporter_pages_campaign')

    op.drop_table('supporter_pages')
