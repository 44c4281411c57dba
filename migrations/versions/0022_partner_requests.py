"""Partner agencies ask for goods: partner logins and goods requests

Revision ID: 0022_partner_requests
Revises: 0021_stock_page
Create Date: 2026-12-05 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_partner_requests'
down_revision = '0021_stock_page'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('admin', 'treasurer', 'staff')"
ROLES_AFTER = "role IN ('admin', 'treasurer', 'staff', 'partner')"


def upgrade():
    # A partner login belongs to one partner agency; the role list gains 'partner'.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_users_recipient_id_recipients'), 'recipients', ['recipient_id'], ['id']
        )
        batch_op.drop_constraint(batch_op.f('ck_users_role_known'), type_='check')
        batch_op.create_check_constraint('role_known', ROLES_AFTER)
        batch_op.create_check_constraint(
            'partner_has_agency', "(role = 'partner') = (recipient_id IS NOT NULL)"
        )

    op.create_table('goods_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'fulfilled', 'partly_fulfilled', 'declined', 'withdrawn')", name=op.f('ck_goods_requests_status_known')),
    sa.CheckConstraint("(status IN ('fulfilled', 'partly_fulfilled')) = (distribution_id IS NOT NULL)", name=op.f('ck_goods_requests_given_has_distribution')),
    sa.CheckConstraint("(status = 'open') = (decided_at IS NULL)", name=op.f('ck_goods_requests_decided_unless_open')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_goods_requests_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_goods_requests_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_goods_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['distribution_id'], ['stock_documents.id'], name=op.f('fk_goods_requests_distribution_id_stock_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_requests')),
    sa.UniqueConstraint('distribution_id', name=op.f('uq_goods_requests_distribution_id'))
    )
    with op.batch_alter_table('goods_requests', schema=None) as batch_op:
        batch_op.create_index('ix_goods_requests_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_goods_requests_recipient', ['recipient_id', 'id'], unique=False)

    op.create_table('goods_request_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('quantity_given', sa.Integer(), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_goods_request_lines_quantity_positive')),
    sa.CheckConstraint('quantity_given IS NULL OR (quantity_given >= 0 AND quantity_given <= quantity)', name=op.f('ck_goods_request_lines_given_within_asked')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_goods_request_lines_item_id_items')),
    sa.ForeignKeyConstraint(['request_id'], ['goods_requests.id'], name=op.f('fk_goods_request_lines_request_id_goods_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_request_lines')),
    sa.UniqueConstraint('request_id', 'item_id', name='uq_goods_request_lines_item')
    )
    with op.batch_alter_table('goods_request_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goods_request_lines_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('goods_request_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goods_request_lines_request_id'))
    op.drop_table('goods_request_lines')
    with op.batch_alter_table('goods_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_goods_requests_recipient')
        batch_op.drop_index('ix_goods_requests_status')
    op.drop_table('goods_requests')
    # Partner logins cannot stay without their role: remove them (and their sessions) first.
    op.execute(
        "DELETE FROM user_sessions WHERE user_id IN (SELECT id FROM users WHERE role = 'partner')"
    )
    op.execute(
        "DELETE FROM recovery_codes WHERE user_id IN (SELECT id FROM users WHERE role = 'partner')"
    )
    op.execute("DELETE FROM users WHERE role = 'partner'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_partner_has_agency'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_users_role_known'), type_='check')
        batch_op.create_check_constraint('role_known', ROLES_BEFORE)
        batch_op.drop_constraint(batch_op.f('fk_users_recipient_id_recipients'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_recipient_id'))
        batch_op.drop_column('recipient_id')
