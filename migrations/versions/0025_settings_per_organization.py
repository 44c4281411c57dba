"""Giving and receipt settings per organisation: a row each, its id the organisation's

Revision ID: 0025_settings_per_organization
Revises: 0024_organization_secrets
Create Date: 2026-12-06 03:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_settings_per_organization'
down_revision = '0024_organization_secrets'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('giving_settings', 'receipt_settings'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_single_row'), type_='check')


def downgrade():
    bind = op.get_bind()
    for table in ('giving_settings', 'receipt_settings'):
        others = bind.execute(sa.text(f'SELECT count(*) FROM {table} WHERE id <> 1')).scalar()
        if others:
            raise RuntimeError(
                f'{table} holds settings of organisations besides the first: remove them '
                'before downgrading.'
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint('single_row', 'id = 1')
