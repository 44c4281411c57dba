"""The gifts CSV's order within one organisation: an index on gifts (organization_id, id)

Revision ID: 0038_gifts_org_id
Revises: 0037_pro_bono
Create Date: 2026-12-06 18:00:00.000000

The export reads one organisation's gifts in id order. With only (organization_id,
received_at, id) to find them, the database sorted every matching gift before the first
line went out (SQLite's temporary B-tree grew with the export); this index hands them
over in order, so the file streams in constant memory.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0038_gifts_org_id'
down_revision = '0037_pro_bono'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.create_index('ix_gifts_org_id', ['organization_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_index('ix_gifts_org_id')
