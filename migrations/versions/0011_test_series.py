"""test-mode receipts: an is_test flag and a number series of their own

Revision ID: 0011_test_series
Revises: 0006_statement_basis
Create Date: 2026-12-04 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_test_series'
down_revision = '0007_recipients'
branch_labels = None
depends_on = None


def upgrade():
    # Every receipt and sequence row made before this revision is in the live series.
    with op.batch_alter_table('receipt_sequences', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_test', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_constraint('pk_receipt_sequences', type_='primary')
        batch_op.create_primary_key('pk_receipt_sequences', ['is_test', 'fiscal_year'])

    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_test', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_constraint('uq_receipts_year_sequence', type_='unique')
        batch_op.create_unique_constraint(
            'uq_receipts_year_sequence', ['is_test', 'fiscal_year', 'sequence_number']
        )


def downgrade():
    # Test receipts have no place in a schema without a test series: they go first.
    op.execute(
        'UPDATE receipts SET replaces_id = NULL WHERE replaces_id IN '
        '(SELECT id FROM receipts WHERE is_test)'
    )
    op.execute('DELETE FROM receipts WHERE is_test')
    op.execute('DELETE FROM receipt_sequences WHERE is_test')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_constraint('uq_receipts_year_sequence', type_='unique')
        batch_op.create_unique_constraint(
            'uq_receipts_year_sequence', ['fiscal_year', 'sequence_number']
        )
        batch_op.drop_column('is_test')

    with op.batch_alter_table('receipt_sequences', schema=None) as batch_op:
        batch_op.drop_constraint('pk_receipt_sequences', type_='primary')
        batch_op.create_primary_key('pk_receipt_sequences', ['fiscal_year'])
        batch_op.drop_column('is_test')
