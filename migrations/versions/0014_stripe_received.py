"""Stripe events: "received", stored and acknowledged, waiting for the job queue

Revision ID: 0014_stripe_received
Revises: 0013_year_end_cursor
Create Date: 2026-12-05 08:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_stripe_received'
down_revision = '0013_year_end_cursor'
branch_labels = None
depends_on = None

BEFORE = "status IN ('processed', 'ignored', 'parked', 'failed')"
AFTER = "status IN ('received', 'processed', 'ignored', 'parked', 'failed')"


def _status_check(condition):
    # SQLite rebuilds the table (batch mode) to change a CHECK; PostgreSQL alters it in place.
    with op.batch_alter_table('stripe_events', schema=None, recreate='always') as batch_op:
        batch_op.drop_constraint(op.f('ck_stripe_events_status_known'), type_='check')
        batch_op.create_check_constraint('status_known', condition)


def upgrade():
    _status_check(AFTER)


def downgrade():
    # Events still waiting for the queue are processed by a replay once the code is back.
    op.execute("UPDATE stripe_events SET status = 'failed', "
               "last_error = 'was waiting for the job queue when the schema went back' "
               "WHERE status = 'received'")
    _status_check(BEFORE)
