"""Each organisation's secrets (its Stripe keys and webhook secret), encrypted

Revision ID: 0024_organization_secrets
Revises: 0023_organizations
Create Date: 2026-12-09 10:00:00.000000

One row per organisation and secret name; ``ciphertext`` is a Fernet token made with the
DATA_KEYS, never the plain value. No foreign key to ``organization`` yet: that table still
holds one row, and the organisations work gives it one per organisation. Nothing is copied
from the environment: a site with STRIPE_* variables and no rows keeps using them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_organization_secrets'
down_revision = '0023_organizations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization_secrets',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('ciphertext', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'name', name=op.f('pk_organization_secrets'))
    )


def downgrade():
    op.drop_table('organization_secrets')
