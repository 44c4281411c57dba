"""audit chain: each audit event hashes its content and the previous event's hash

Adds audit_events.prev_hash and audit_events.hash, backfills the chain over the
existing events in id order, makes both NOT NULL; adds audit_verifications (the
stored results of `flask audit verify` and the log page's "Verify now"); on
PostgreSQL a trigger refuses UPDATE and DELETE on audit_events.

Revision ID: 0009_audit_chain
Revises: 0006_statement_basis
Create Date: 2026-12-04 17:35:00.000000

"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_audit_chain'
down_revision = '0010_year_end_preview'
branch_labels = None
depends_on = None

GENESIS_HASH = '0' * 64

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""


def _canonical_content(*, id, occurred_at, actor_id, actor_email, action, object_type,
                       object_id, summary, prev_hash):
    """A frozen copy of services/audit.py canonical_content as of this revision."""
    if occurred_at.tzinfo is None:  # SQLite keeps no zone: the app stores UTC
        occurred_at = occurred_at.replace(tzinfo=UTC)
    return json.dumps(
        {
            'id': id,
            'occurred_at': occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
            'actor_id': actor_id,
            'actor_email': actor_email,
            'action': action,
            'object_type': object_type,
            'object_id': object_id,
            'summary': summary,
            'prev_hash': prev_hash,
        },
        sort_keys=True,
        separators=(',', ':'),
        ensure_ascii=True,
    ).encode('ascii')


def upgrade():
    op.create_table('audit_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('first_bad_id', sa.Integer(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('head_hash', sa.String(length=64), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=True),
    sa.CheckConstraint('event_count >= 0', name=op.f('ck_audit_verifications_event_count_not_negative')),
    sa.CheckConstraint('ok OR first_bad_id IS NOT NULL', name=op.f('ck_audit_verifications_failure_names_an_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_verifications'))
    )
    with op.batch_alter_table('audit_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_verifications_verified_at'), ['verified_at'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    # Chain the events already recorded, in id order.
    events = sa.table(
        'audit_events',
        sa.column('id', sa.Integer()),
        sa.column('occurred_at', sa.DateTime(timezone=True)),
        sa.column('actor_id', sa.Integer()),
        sa.column('actor_email', sa.String()),
        sa.column('action', sa.String()),
        sa.column('object_type', sa.String()),
        sa.column('object_id', sa.String()),
        sa.column('summary', sa.Text()),
        sa.column('prev_hash', sa.String()),
        sa.column('hash', sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            events.c.id, events.c.occurred_at, events.c.actor_id, events.c.actor_email,
            events.c.action, events.c.object_type, events.c.object_id, events.c.summary,
        ).order_by(events.c.id)
    ).all()
    update = (
        sa.update(events)
        .where(events.c.id == sa.bindparam('event_id'))
        .values(prev_hash=sa.bindparam('new_prev_hash'), hash=sa.bindparam('new_hash'))
    )
    prev_hash = GENESIS_HASH
    batch = []
    for row in rows:
        content = dict(row._mapping)
        digest = hashlib.sha256(_canonical_content(**content, prev_hash=prev_hash)).hexdigest()
        batch.append({'event_id': row.id, 'new_prev_hash': prev_hash, 'new_hash': digest})
        prev_hash = digest
        if len(batch) >= 1000:
            bind.execute(update, batch)
            batch = []
    if batch:
        bind.execute(update, batch)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)

    if bind.dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events')
        op.execute('DROP FUNCTION IF EXISTS audit_events_append_only()')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

    with op.batch_alter_table('audit_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_verifications_verified_at'))

    op.drop_table('audit_verifications')
