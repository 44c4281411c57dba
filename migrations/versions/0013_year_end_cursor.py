"""year-end runs on the queue: the last donor a run's batches have reached

Revision ID: 0013_year_end_cursor
Revises: 0012_job_runs
Create Date: 2026-12-05 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_year_end_cursor'
down_revision = '0012_job_runs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('year_end_runs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('after_donor_id', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade():
    with op.batch_alter_table('year_end_runs', schema=None) as batch_op:
        batch_op.drop_column('after_donor_id')
