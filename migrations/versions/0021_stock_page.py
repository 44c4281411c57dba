"""Stock page: items in list order and balances by item, both read from an index

Revision ID: 0021_stock_page
Revises: 0020_report_counters
Create Date: 2026-12-05 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_stock_page'
down_revision = '0020_report_counters'
branch_labels = None
depends_on = None


def upgrade():
    # A covering index: the stock page's balance rows come from it without the table.
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_levels_item')
        batch_op.create_index(
            'ix_stock_levels_item', ['item_id', 'on_hand', 'par_level', 'site_id'], unique=False
        )
    # Items in the order lists show them: a page of items is read in order, not sorted.
    op.create_index('ix_items_sort', 'items', [sa.text('lower(name)'), 'size', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_items_sort', table_name='items')
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_levels_item')
        batch_op.create_index('ix_stock_levels_item', ['item_id'], unique=False)
