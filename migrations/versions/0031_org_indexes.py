"""Indexes that lead with the organisation (or its funds, categories and sites): the
gifts list and report periods, the donor and item lists, outgoing mail, goods documents
and the summary rows, so that one organisation's pages stay as fast with fifty others in
the database

Revision ID: 0031_org_indexes
Revises: 0030_surplus_offers
Create Date: 2026-12-06 05:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031_org_indexes'
down_revision = '0030_surplus_offers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_index('ix_gifts_received_at')
        batch_op.create_index(
            'ix_gifts_org_received', ['organization_id', 'received_at', 'id'], unique=False
        )
    with op.batch_alter_table('donors', schema=None) as batch_op:
        batch_op.drop_index('ix_donors_name')
        batch_op.create_index('ix_donors_org_name', ['organization_id', 'name', 'id'], unique=False)
    op.drop_index('ix_items_sort', table_name='items')
    op.create_index(
        'ix_items_sort',
        'items',
        ['organization_id', sa.text('lower(name)'), 'size', 'id'],
        unique=False,
    )
    op.create_index(
        'ix_mail_outbox_org_status',
        'mail_outbox',
        ['organization_id', 'status', 'created_at', 'id'],
        unique=False,
    )
    op.create_index(
        'ix_mail_outbox_org_created', 'mail_outbox', ['organization_id', 'created_at', 'id']
    )
    op.create_index('ix_stock_documents_org', 'stock_documents', ['organization_id', 'id'])
    op.create_index(
        'ix_gift_period_totals_fund', 'gift_period_totals', ['fund_id', 'grain', 'starts']
    )
    op.create_index(
        'ix_stock_category_totals_category',
        'stock_category_totals',
        ['category_id', 'grain', 'starts'],
    )
    op.drop_index('ix_stock_period_totals_period', table_name='stock_period_totals')


def downgrade():
    op.create_index(
        'ix_stock_period_totals_period', 'stock_period_totals', ['grain', 'starts']
    )
    op.drop_index('ix_stock_category_totals_category', table_name='stock_category_totals')
    op.drop_index('ix_gift_period_totals_fund', table_name='gift_period_totals')
    op.drop_index('ix_stock_documents_org', table_name='stock_documents')
    op.drop_index('ix_mail_outbox_org_status', table_name='mail_outbox')
    op.drop_index('ix_mail_outbox_org_created', table_name='mail_outbox')
    op.drop_index('ix_items_sort', table_name='items')
    op.create_index('ix_items_sort', 'items', [sa.text('lower(name)'), 'size', 'id'], unique=False)
    with op.batch_alter_table('donors', schema=None) as batch_op:
        batch_op.drop_index('ix_donors_org_name')
        batch_op.create_index('ix_donors_name', ['name', 'id'], unique=False)
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_index('ix_gifts_org_received')
        batch_op.create_index('ix_gifts_received_at', ['received_at', 'id'], unique=False)
