"""Memberships: a user's role is held per organisation; coalition admins; a host name
per organisation and its choice to share figures with the coalition

Revision ID: 0028_memberships
Revises: 0027_donor_counters_orgs
Create Date: 2026-12-06 05:10:00.000000

Every existing user becomes a member of the first organisation with the role (and, for
a partner login, the agency) they had.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028_memberships'
down_revision = '0027_donor_counters_orgs'
branch_labels = None
depends_on = None

ROLES = "role IN ('admin', 'treasurer', 'staff', 'partner')"
PARTNER_HAS_AGENCY = "(role = 'partner') = (recipient_id IS NOT NULL)"


def upgrade():
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('admin', 'treasurer', 'staff', 'partner', name='role', native_enum=False, create_constraint=False, length=20), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(PARTNER_HAS_AGENCY, name=op.f('ck_memberships_partner_has_agency')),
    sa.CheckConstraint(ROLES, name=op.f('ck_memberships_role_known')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_memberships_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('user_id', 'organization_id', name='uq_membership_user_org')
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_org_role', ['organization_id', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_recipient_id'), ['recipient_id'], unique=False)

    op.execute(
        'INSERT INTO memberships (user_id, organization_id, role, recipient_id, active, created_at) '
        'SELECT id, 1, role, recipient_id, active, created_at FROM users ORDER BY id'
    )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coalition_admin', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint(batch_op.f('ck_users_partner_has_agency'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_users_role_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_users_recipient_id_recipients'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_recipient_id'))
        batch_op.drop_column('recipient_id')
        batch_op.drop_column('role')

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host', sa.String(length=253), nullable=True))
        batch_op.add_column(sa.Column('shares_figures', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_organization_host'), ['host'])
        batch_op.create_check_constraint('host_lowercase', 'host = lower(host)')


def downgrade():
    bind = op.get_bind()
    others = bind.execute(
        sa.text('SELECT count(*) FROM memberships WHERE organization_id <> 1')
    ).scalar()
    if others:
        raise RuntimeError(
            'Users belong to organisations besides the first: remove those memberships '
            'before downgrading.'
        )
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_organization_host_lowercase'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_organization_host'), type_='unique')
        batch_op.drop_column('shares_figures')
        batch_op.drop_column('host')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=False, server_default='staff'))
        batch_op.add_column(sa.Column('recipient_id', sa.Integer(), nullable=True))
    op.execute(
        'UPDATE users SET role = (SELECT m.role FROM memberships m WHERE m.user_id = users.id), '
        'recipient_id = (SELECT m.recipient_id FROM memberships m WHERE m.user_id = users.id) '
        'WHERE id IN (SELECT user_id FROM memberships)'
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=sa.String(length=20), server_default=None)
        batch_op.create_index(batch_op.f('ix_users_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_users_recipient_id_recipients'), 'recipients', ['recipient_id'], ['id']
        )
        batch_op.create_check_constraint('role_known', ROLES)
        batch_op.create_check_constraint('partner_has_agency', PARTNER_HAS_AGENCY)
        batch_op.drop_column('coalition_admin')

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_recipient_id'))
        batch_op.drop_index('ix_memberships_org_role')
    op.drop_table('memberships')
