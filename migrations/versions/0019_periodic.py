"""Periodic jobs: expired pledges, one payment reminder per failure episode, daily digests

Revision ID: 0019_periodic
Revises: 0018_summary_tables
Create Date: 2026-12-05 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_periodic'
down_revision = '0018_summary_tables'
branch_labels = None
depends_on = None

BEFORE = "status IN ('open', 'received', 'cancelled')"
AFTER = "status IN ('open', 'received', 'cancelled', 'expired')"


def _pledge_status_check(condition):
    # SQLite rebuilds the table (batch mode) to change a CHECK; PostgreSQL alters it in place.
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_pledges_status_known'), type_='check')
        batch_op.create_check_constraint('status_known', condition)


def upgrade():
    _pledge_status_check(AFTER)
    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_invoice_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'digest_sends',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('to_addr', sa.String(length=254), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['message_id'], ['mail_outbox.id'], name=op.f('fk_digest_sends_message_id_mail_outbox')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_sends')),
        sa.UniqueConstraint('kind', 'to_addr', 'sent_on', name='uq_digest_sends_once_a_day'),
    )


def downgrade():
    op.drop_table('digest_sends')
    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('reminded_invoice_id')
    # An expired pledge goes back to "cancelled": closed, with what arrived kept.
    op.execute("UPDATE pledges SET status = 'cancelled' WHERE status = 'expired'")
    _pledge_status_check(BEFORE)
