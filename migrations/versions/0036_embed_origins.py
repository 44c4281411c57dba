"""The sites allowed to frame a campaign's compact donation form (/give/<slug>/embed)

Revision ID: 0036_embed_origins
Revises: 0035_supporter_pages
Create Date: 2026-12-06 14:15:00.000000

A blank-by-default embed_origins (Text) on organization: https origins, one a line, sent
as the embed's Content-Security-Policy frame-ancestors. Blank: no site may frame it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0036_embed_origins'
down_revision = '0035_supporter_pages'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('embed_origins', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('embed_origins')
