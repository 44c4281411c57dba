"""Indexes for keyset pagination: each list's sort key ending in the id

Revision ID: 0015_pages_indexes
Revises: 0014_stripe_received
Create Date: 2026-12-05 11:45:00.000000

The gifts list, the audit log, outgoing mail and the donor list are read a page at a time
by their sort key and id (services/keyset.py); an item's history by its entries' date and
id. Each index below serves that order both ways, so the last page is as quick as the
first. The single-column indexes they extend are replaced under the same names.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_pages_indexes'
down_revision = '0014_stripe_received'
branch_labels = None
depends_on = None

# (table, index, columns now, columns before or None for a new index)
INDEXES = [
    ('gifts', 'ix_gifts_received_at', ['received_at', 'id'], ['received_at']),
    ('audit_events', 'ix_audit_events_occurred_at', ['occurred_at', 'id'], ['occurred_at']),
    ('mail_outbox', 'ix_mail_outbox_created_at', ['created_at', 'id'], ['created_at']),
    ('mail_outbox', 'ix_mail_outbox_status_created', ['status', 'created_at', 'id'], None),
    ('donors', 'ix_donors_name', ['name', 'id'], ['name']),
    ('stock_entries', 'ix_stock_entries_item_date', ['item_id', 'effective_date', 'id'], None),
]


def upgrade():
    for table, name, columns, before in INDEXES:
        if before is not None:
            op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _columns, before in reversed(INDEXES):
        op.drop_index(name, table_name=table)
        if before is not None:
            op.create_index(name, table, before, unique=False)
