"""Appeal codes: the mail or print appeal a gift (and a monthly plan) answered; the
organisation's public story for the home page

Revision ID: 0034_appeal_codes
Revises: 0033_volunteers
Create Date: 2026-12-06 06:15:00.000000

A blank-by-default appeal_code (String(20), upper case) on gifts and recurring plans; a
plan's instalments keep the plan's code. Existing rows answered no appeal. A blank
public_story (Text) on organization, told on the public home page.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0034_appeal_codes'
down_revision = '0033_volunteers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_story', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('appeal_code', sa.String(length=20), server_default='', nullable=False)
        )
    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('appeal_code', sa.String(length=20), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('recurring_plans', schema=None) as batch_op:
        batch_op.drop_column('appeal_code')
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_column('appeal_code')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('public_story')
