"""Campaigns: time-bound appeals with a page, a money goal and goods goals

Revision ID: 0032_campaigns
Revises: 0031_org_indexes
Create Date: 2026-12-10 09:00:00.000000

Two organisation-scoped tables (campaigns, campaign_goods_goals), each behind the same
row-level-security wall as 0029's tables on PostgreSQL; a nullable campaign_id on gifts,
recurring plans (their instalments count towards the campaign), pledges and stock
documents (intakes collected for the campaign). Existing rows belong to no campaign.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032_campaigns'
down_revision = '0031_org_indexes'
branch_labels = None
depends_on = None

NEW_ORG_SCOPED_TABLES = ('campaigns', 'campaign_goods_goals')

# The wall of 0029, copied so this revision stays as it was written.
POLICY = 'organization_wall'
RULE = (
    "current_setting('donations.all_organizations', true) = 'on' "
    "OR organization_id = NULLIF(current_setting('donations.organization_id', true), '')::int"
)


def enable_statements(tables=NEW_ORG_SCOPED_TABLES):
    for table in tables:
        yield f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY'
        yield f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY'
        yield f'CREATE POLICY {POLICY} ON {table} USING ({RULE}) WITH CHECK ({RULE})'


def disable_statements(tables=NEW_ORG_SCOPED_TABLES):
    for table in tables:
        yield f'DROP POLICY IF EXISTS {POLICY} ON {table}'
        yield f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY'
        yield f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY'


def upgrade():
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('goal_cents', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('default_fund_id', sa.Integer(), nullable=True),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('image_data', sa.LargeBinary(), nullable=True),
    sa.Column('image_type', sa.String(length=30), nullable=False),
    sa.Column('image_etag', sa.String(length=64), nullable=False),
    sa.Column('image_width', sa.Integer(), nullable=True),
    sa.Column('image_height', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'live', 'closed')", name=op.f('ck_campaigns_status_known')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_campaigns_ends_after_start')),
    sa.CheckConstraint('goal_cents IS NULL OR goal_cents > 0', name=op.f('ck_campaigns_goal_positive')),
    sa.ForeignKeyConstraint(['default_fund_id'], ['funds.id'], name=op.f('fk_campaigns_default_fund_id_funds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('organization_id', 'slug', name='uq_campaigns_org_slug')
    )
    op.create_table('campaign_goods_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_campaign_goods_goals_quantity_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_goods_goals_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_campaign_goods_goals_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_goods_goals')),
    sa.UniqueConstraint('campaign_id', 'item_id', name='uq_campaign_goods_goals_item')
    )
    op.create_index(
        'ix_campaign_goods_goals_campaign_id', 'campaign_goods_goals', ['campaign_id'], unique=False
    )

    # SQLite's batch mode copies a table from what it can reflect, and cannot reflect an
    # index on an expression: the items' list-order index is dropped and made again.
    op.drop_index('ix_items_sort', table_name='items')
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_gifts_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_gifts_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'])

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_pledges_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'])

    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_recurring_plans_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'])

    with op.batch_alter_table('stock_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_stock_documents_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_stock_documents_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'])

    op.create_index(
        'ix_items_sort', 'items', ['organization_id', sa.text('lower(name)'), 'size', 'id'], unique=False
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in enable_statements():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in disable_statements():
            op.execute(statement)
    op.drop_index('ix_items_sort', table_name='items')
    with op.batch_alter_table('stock_documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_stock_documents_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_stock_documents_campaign_id'))
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recurring_plans_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pledges_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_gifts_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_gifts_campaign_id'))
        batch_op.drop_column('campaign_id')

    op.create_index(
        'ix_items_sort', 'items', ['organization_id', sa.text('lower(name)'), 'size', 'id'], unique=False
    )
    op.drop_index('ix_campaign_goods_goals_campaign_id', table_name='campaign_goods_goals')
    op.drop_table('campaign_goods_goals')
    op.drop_table('campaigns')
