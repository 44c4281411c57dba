"""Outgoing mail: a receipt's PDF attached by reference, rendered when the mail is sent

Revision ID: 0016_outbox_receipt_pdf
Revises: 0015_pages_indexes
Create Date: 2026-12-05 11:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_outbox_receipt_pdf'
down_revision = '0015_pages_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mail_outbox_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_mail_outbox_attachments_receipt_id_receipts'),
            'receipts', ['receipt_id'], ['id'],
        )


def downgrade():
    with op.batch_alter_table('mail_outbox_attachments', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_mail_outbox_attachments_receipt_id_receipts'), type_='foreignkey'
        )
        batch_op.drop_column('receipt_id')
