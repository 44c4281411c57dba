"""Outgoing mail and the audit log per organisation: each message and event says whose it is

Revision ID: 0026_outbox_audit_orgs
Revises: 0025_settings_per_organization
Create Date: 2026-12-06 03:30:00.000000

Existing rows belong to the first organisation. The audit log keeps one hash chain for
the whole deployment; its rows only gain the organisation whose log shows them (added in
place, never copied: on PostgreSQL a trigger refuses changes to the log's rows).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_outbox_audit_orgs'
down_revision = '0025_settings_per_organization'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('organization_id', sa.Integer(), nullable=False, server_default='1')
        )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Integer(), server_default=None)
    op.add_column(
        'audit_events',
        sa.Column('organization_id', sa.Integer(), nullable=False, server_default='1'),
    )
    op.create_index(
        'ix_audit_events_organization',
        'audit_events',
        ['organization_id', 'occurred_at', 'id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_audit_events_organization', table_name='audit_events')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_column('audit_events', 'organization_id')
    else:
        # SQLite 3.35+ drops a column in place (no copy), which keeps the log's own rows.
        op.execute('ALTER TABLE audit_events DROP COLUMN organization_id')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('organization_id')
