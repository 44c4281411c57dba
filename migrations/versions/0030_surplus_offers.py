"""Surplus exchange between members: offers of surplus goods and requests for them

Revision ID: 0030_surplus_offers
Revises: 0029_row_level_security
Create Date: 2026-12-06 04:54:28.806170

Both tables span organisations on purpose (they are not organisation-scoped): an offer
names its giver, a request its receiver; a confirmed request links the giver's
distribution and the receiver's intake.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_surplus_offers'
down_revision = '0029_row_level_security'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('surplus_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('giver_organization_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('item_label', sa.String(length=150), nullable=False),
    sa.Column('item_code', sa.String(length=30), nullable=False),
    sa.Column('unit', sa.String(length=30), nullable=False),
    sa.Column('condition', sa.String(length=12), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'open') = (closed_at IS NULL)", name=op.f('ck_surplus_offers_closed_unless_open')),
    sa.CheckConstraint("condition IN ('new', 'good_used')", name=op.f('ck_surplus_offers_condition_known')),
    sa.CheckConstraint("status IN ('open', 'withdrawn', 'closed')", name=op.f('ck_surplus_offers_status_known')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_surplus_offers_quantity_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surplus_offers_created_by_id_users')),
    sa.ForeignKeyConstraint(['giver_organization_id'], ['organization.id'], name=op.f('fk_surplus_offers_giver_organization_id_organization')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_surplus_offers_item_id_items')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_surplus_offers_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surplus_offers'))
    )
    with op.batch_alter_table('surplus_offers', schema=None) as batch_op:
        batch_op.create_index('ix_surplus_offers_giver', ['giver_organization_id', 'id'], unique=False)
        batch_op.create_index('ix_surplus_offers_status', ['status', 'id'], unique=False)

    op.create_table('surplus_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('receiver_organization_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('receiver_site_id', sa.Integer(), nullable=False),
    sa.Column('receiver_item_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=True),
    sa.Column('intake_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'confirmed') = (distribution_id IS NOT NULL)", name=op.f('ck_surplus_claims_confirmed_has_documents')),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_surplus_claims_decided_unless_pending')),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'declined', 'cancelled')", name=op.f('ck_surplus_claims_status_known')),
    sa.CheckConstraint('(distribution_id IS NULL) = (intake_id IS NULL)', name=op.f('ck_surplus_claims_documents_paired')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_surplus_claims_quantity_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surplus_claims_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_surplus_claims_decided_by_id_users')),
    sa.ForeignKeyConstraint(['distribution_id'], ['stock_documents.id'], name=op.f('fk_surplus_claims_distribution_id_stock_documents')),
    sa.ForeignKeyConstraint(['intake_id'], ['stock_documents.id'], name=op.f('fk_surplus_claims_intake_id_stock_documents')),
    sa.ForeignKeyConstraint(['offer_id'], ['surplus_offers.id'], name=op.f('fk_surplus_claims_offer_id_surplus_offers')),
    sa.ForeignKeyConstraint(['receiver_item_id'], ['items.id'], name=op.f('fk_surplus_claims_receiver_item_id_items')),
    sa.ForeignKeyConstraint(['receiver_organization_id'], ['organization.id'], name=op.f('fk_surplus_claims_receiver_organization_id_organization')),
    sa.ForeignKeyConstraint(['receiver_site_id'], ['sites.id'], name=op.f('fk_surplus_claims_receiver_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surplus_claims')),
    sa.UniqueConstraint('distribution_id', name=op.f('uq_surplus_claims_distribution_id')),
    sa.UniqueConstraint('intake_id', name=op.f('uq_surplus_claims_intake_id'))
    )
    with op.batch_alter_table('surplus_claims', schema=None) as batch_op:
        batch_op.create_index('ix_surplus_claims_offer', ['offer_id', 'status'], unique=False)
        batch_op.create_index('ix_surplus_claims_receiver', ['receiver_organization_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('surplus_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_surplus_claims_receiver')
        batch_op.drop_index('ix_surplus_claims_offer')

    op.drop_table('surplus_claims')
    with op.batch_alter_table('surplus_offers', schema=None) as batch_op:
        batch_op.drop_index('ix_surplus_offers_status')
        batch_op.drop_index('ix_surplus_offers_giver')

    op.drop_table('surplus_offers')
