"""Donor counters per organisation: donors per day and retention by year count each
organisation's donors apart

Revision ID: 0027_donor_counters_orgs
Revises: 0026_outbox_audit_orgs
Create Date: 2026-12-06 03:50:00.000000

Existing counters belong to the first organisation.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_donor_counters_orgs'
down_revision = '0026_outbox_audit_orgs'
branch_labels = None
depends_on = None

KEYS = {
    'donor_day_counts': ['grain', 'starts'],
    'donor_gap_counts': ['day_grain', 'prev_grain', 'day_starts', 'prev_starts'],
    'donor_retention_years': ['year'],
}


def upgrade():
    for table, keys in KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('organization_id', sa.Integer(), nullable=False, server_default='1')
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                'organization_id', existing_type=sa.Integer(), server_default=None
            )
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', ['organization_id', *keys])


def downgrade():
    bind = op.get_bind()
    for table, keys in KEYS.items():
        others = bind.execute(
            sa.text(f'SELECT count(*) FROM {table} WHERE organization_id <> 1')
        ).scalar()
        if others:
            raise RuntimeError(
                f'{table} counts donors of organisations besides the first: remove them '
                'before downgrading.'
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', keys)
            batch_op.drop_column('organization_id')
