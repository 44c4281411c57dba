"""background jobs: a record of each job run and of each queue consumer's heartbeat

Revision ID: 0012_job_runs
Revises: 0011_test_series
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_job_runs'
down_revision = '0011_test_series'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=False),
        sa.Column('task_name', sa.String(length=200), nullable=False),
        sa.Column('args_summary', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f('ck_job_runs_status_known'),
        ),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_job_runs_attempts_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
        sa.UniqueConstraint('task_id', name=op.f('uq_job_runs_task_id')),
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_status', ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_runs_created_at'), ['created_at'], unique=False)

    op.create_table(
        'queue_consumers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_consumers')),
        sa.UniqueConstraint('name', name=op.f('uq_queue_consumers_name')),
    )
    with op.batch_alter_table('queue_consumers', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_queue_consumers_last_seen'), ['last_seen'], unique=False
        )


def downgrade():
    with op.batch_alter_table('queue_consumers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_consumers_last_seen'))
    op.drop_table('queue_consumers')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_created_at'))
        batch_op.drop_index('ix_job_runs_status')
    op.drop_table('job_runs')
