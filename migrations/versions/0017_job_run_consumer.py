"""Job runs: the consumer running each attempt, so a run lost with it can be failed

Revision ID: 0017_job_run_consumer
Revises: 0016_outbox_receipt_pdf
Create Date: 2026-12-05 11:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_job_run_consumer'
down_revision = '0016_outbox_receipt_pdf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('consumer', sa.String(length=255), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('consumer')
