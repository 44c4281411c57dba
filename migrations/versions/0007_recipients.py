"""recipients: programs and partner agencies as records; the case-code pattern

Distributions used to name their recipient in free text. Each distinct name
(compared without case and extra spaces) becomes a record, a partner agency
when the name reads like another organisation, else a program, and every
document points at its record. The free-text column goes.

Revision ID: 0007_recipients
Revises: 0006_statement_basis
Create Date: 2026-12-04 17:30:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_recipients'
down_revision = '0008_sessions_2fa'
branch_labels = None
depends_on = None

PARTNER_WORDS = (
    'partner', 'agency', 'clinic', 'legal', 'aid', 'hospital', 'church', 'shelter',
    'center', 'centre', 'foundation', 'services', 'coalition', 'network',
)


def _kind_of(name):
    words = name.lower().replace('-', ' ').split()
    return 'partner' if any(w in PARTNER_WORDS for w in words) else 'program'


def upgrade():
    recipients = op.create_table(
        'recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('contact', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('program', 'partner')", name=op.f('ck_recipients_kind_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recipients')),
        sa.UniqueConstraint('kind', 'name', name='uq_recipients_kind_name'),
    )
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('case_code_pattern', sa.String(length=200), nullable=False, server_default='')
        )
    with op.batch_alter_table('stock_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_stock_documents_recipient_id'), ['recipient_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_stock_documents_recipient_id_recipients'),
            'recipients', ['recipient_id'], ['id'],
        )

    # Existing free-text recipients become records; documents point at them.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, recipient FROM stock_documents WHERE recipient <> '' ORDER BY id")
    ).all()
    by_key = {}
    now = datetime.now(timezone.utc)
    for document_id, text in rows:
        name = ' '.join(text.split())[:120]
        key = name.lower()
        if key not in by_key:
            bind.execute(
                recipients.insert().values(
                    kind=_kind_of(name), name=name, contact='', active=True, created_at=now
                )
            )
            by_key[key] = bind.execute(
                sa.text('SELECT id FROM recipients WHERE name = :name'), {'name': name}
            ).scalar()
        bind.execute(
            sa.text('UPDATE stock_documents SET recipient_id = :rid WHERE id = :id'),
            {'rid': by_key[key], 'id': document_id},
        )

    with op.batch_alter_table('stock_documents', schema=None) as batch_op:
        batch_op.drop_column('recipient')


def downgrade():
    with op.batch_alter_table('stock_documents', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('recipient', sa.String(length=120), nullable=False, server_default='')
        )
    op.execute(
        'UPDATE stock_documents SET recipient = '
        '(SELECT name FROM recipients WHERE recipients.id = stock_documents.recipient_id) '
        'WHERE recipient_id IS NOT NULL'
    )
    with op.batch_alter_table('stock_documents', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_stock_documents_recipient_id_recipients'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_stock_documents_recipient_id'))
        batch_op.drop_column('recipient_id')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('case_code_pattern')
    op.drop_table('recipients')
