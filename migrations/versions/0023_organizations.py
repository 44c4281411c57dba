"""Organisations as tenants: slugs, several organisation rows, organization_id on the
rows that belong to one, and unique keys per organisation

Revision ID: 0023_organizations
Revises: 0022_partner_requests
Create Date: 2026-12-06 02:30:00.000000

Existing rows belong to the first organisation (id 1), which keeps the root paths.
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_organizations'
down_revision = '0022_partner_requests'
branch_labels = None
depends_on = None

SCOPED = (
    'donors', 'funds', 'recurring_plans', 'gifts', 'gift_adjustments', 'stripe_events',
    'sites', 'item_categories', 'items', 'recipients', 'stock_documents', 'stock_entries',
    'in_kind_gifts', 'pledges', 'goods_requests', 'receipts', 'year_end_runs',
)
# table: [(old unique name, old columns), ...], [(new unique name, new columns), ...]
UNIQUES = {
    'funds': ([('uq_funds_name', ['name'])], [('uq_funds_org_name', ['organization_id', 'name'])]),
    'sites': ([('uq_sites_name', ['name'])], [('uq_sites_org_name', ['organization_id', 'name'])]),
    'item_categories': (
        [('uq_item_categories_name', ['name'])],
        [('uq_item_categories_org_name', ['organization_id', 'name'])],
    ),
    'items': ([('uq_items_code', ['code'])], [('uq_items_org_code', ['organization_id', 'code'])]),
    'recipients': (
        [('uq_recipients_kind_name', ['kind', 'name'])],
        [('uq_recipients_org_kind_name', ['organization_id', 'kind', 'name'])],
    ),
    'receipts': (
        [
            ('uq_receipts_number', ['number']),
            ('uq_receipts_year_sequence', ['is_test', 'fiscal_year', 'sequence_number']),
        ],
        [
            ('uq_receipts_org_number', ['organization_id', 'number']),
            (
                'uq_receipts_org_year_sequence',
                ['organization_id', 'is_test', 'fiscal_year', 'sequence_number'],
            ),
        ],
    ),
}


def _slugify(text):
    ascii_text = unicodedata.normalize('NFKD', text or '').encode('ascii', 'ignore').decode()
    slug = re.sub(r'[^a-z0-9]+', '-', ascii_text.lower()).strip('-')[:60].rstrip('-')
    return slug if len(slug) >= 2 else 'home'


def upgrade():
    bind = op.get_bind()
    # Several organisations: the single-row rule goes, each gets a slug.
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_organization_single_row'), type_='check')
        batch_op.add_column(sa.Column('slug', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    for row_id, legal_name in bind.execute(sa.text('SELECT id, legal_name FROM organization')):
        bind.execute(
            sa.text('UPDATE organization SET slug = :slug WHERE id = :id'),
            {'slug': _slugify(legal_name), 'id': row_id},
        )
    if bind.dialect.name == 'postgresql':
        # The first row was given id 1 outright: the id sequence moves past it, so the next
        # organisation created takes id 2.
        bind.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('organization', 'id'), "
            "COALESCE((SELECT max(id) FROM organization), 1), "
            "(SELECT max(id) FROM organization) IS NOT NULL)"
        ))
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.alter_column('slug', existing_type=sa.String(length=60), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_organization_slug'), ['slug'])
        batch_op.create_check_constraint(
            'slug_lowercase', 'slug = lower(slug) AND length(slug) >= 2'
        )

    # SQLite's batch mode copies a table from what it can reflect, and cannot reflect an
    # index on an expression: the items' list-order index is dropped and made again.
    op.drop_index('ix_items_sort', table_name='items')
    # Every row that belongs to an organisation says which: today's rows, the first.
    for table in SCOPED + ('receipt_sequences',):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('organization_id', sa.Integer(), nullable=False, server_default='1')
            )
    for table in SCOPED:
        old, new = UNIQUES.get(table, ([], []))
        with op.batch_alter_table(table, schema=None) as batch_op:
            # No default from now on: a row that does not say its organisation is refused.
            batch_op.alter_column(
                'organization_id', existing_type=sa.Integer(), server_default=None
            )
            for name, _columns in old:
                batch_op.drop_constraint(name, type_='unique')
            for name, columns in new:
                batch_op.create_unique_constraint(name, columns)
    op.create_index('ix_items_sort', 'items', [sa.text('lower(name)'), 'size', 'id'], unique=False)
    # Receipt numbers: one gap-free series per organisation, year and mode.
    with op.batch_alter_table('receipt_sequences', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Integer(), server_default=None)
        batch_op.drop_constraint('pk_receipt_sequences', type_='primary')
        batch_op.create_primary_key(
            'pk_receipt_sequences', ['organization_id', 'is_test', 'fiscal_year']
        )


def downgrade():
    bind = op.get_bind()
    others = bind.execute(sa.text('SELECT count(*) FROM organization WHERE id <> 1')).scalar()
    if others:
        raise RuntimeError(
            f'{others} organisation(s) besides the first are on this database: their rows '
            'cannot be told apart without organization_id. Remove them before downgrading.'
        )
    with op.batch_alter_table('receipt_sequences', schema=None) as batch_op:
        batch_op.drop_constraint('pk_receipt_sequences', type_='primary')
        batch_op.create_primary_key('pk_receipt_sequences', ['is_test', 'fiscal_year'])
        batch_op.drop_column('organization_id')
    op.drop_index('ix_items_sort', table_name='items')
    for table in reversed(SCOPED):
        old, new = UNIQUES.get(table, ([], []))
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _columns in new:
                batch_op.drop_constraint(name, type_='unique')
            for name, columns in old:
                batch_op.create_unique_constraint(name, columns)
            batch_op.drop_column('organization_id')
    op.create_index('ix_items_sort', 'items', [sa.text('lower(name)'), 'size', 'id'], unique=False)
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_organization_slug_lowercase'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_organization_slug'), type_='unique')
        batch_op.drop_column('archived_at')
        batch_op.drop_column('slug')
        batch_op.create_check_constraint('single_row', 'id = 1')
