"""Summary tables for the reports, the dashboard and stock on a past date, filled from
the existing gifts and ledger entries

Revision ID: 0018_summary_tables
Revises: 0017_job_run_consumer
Create Date: 2026-12-08 09:00:00.000000

Each table is keyed by a grain ("d" a day, "m" a month, "y" a calendar year) and the
first day of the period. The backfill is one INSERT ... SELECT per table and grain,
the same sums ``flask reports verify`` and ``flask inventory verify`` recompute.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018_summary_tables'
down_revision = '0017_job_run_consumer'
branch_labels = None
depends_on = None

GRAINS = ('d', 'm', 'y')


def _starts(grain, day, postgresql):
    """SQL for the first day of the grain's period holding the date ``day``."""
    if grain == 'd':
        return day
    if postgresql:
        unit = 'month' if grain == 'm' else 'year'
        return f"CAST(date_trunc('{unit}', {day}) AS DATE)"
    return f"substr({day}, 1, 7) || '-01'" if grain == 'm' else f"substr({day}, 1, 4) || '-01-01'"


def _backfill(postgresql):
    gift_day = "CAST(timezone('UTC', received_at) AS DATE)" if postgresql else 'substr(received_at, 1, 10)'
    for grain in GRAINS:
        starts = _starts(grain, gift_day, postgresql)
        op.execute(
            "INSERT INTO gift_period_totals (grain, starts, fund_id, method, currency, gifts, "
            "gross_cents, fee_cents, returned_cents, net_cents) "
            f"SELECT '{grain}', {starts}, fund_id, method, currency, count(*), sum(amount_cents), "
            "sum(fee_cents + dispute_fee_cents), sum(refunded_cents + dispute_cents), "
            "sum(amount_cents - fee_cents - dispute_fee_cents - refunded_cents - dispute_cents) "
            "FROM gifts WHERE status = 'paid' OR is_reversal "
            f"GROUP BY {starts}, fund_id, method, currency"
        )
        op.execute(
            "INSERT INTO donor_gift_periods (grain, starts, donor_id, gifts) "
            f"SELECT '{grain}', {starts}, donor_id, count(*) FROM gifts "
            "WHERE status = 'paid' AND NOT is_reversal AND amount_cents > 0 "
            f"GROUP BY {starts}, donor_id"
        )
        entry_starts = _starts(grain, 'e.effective_date', postgresql)
        op.execute(
            "INSERT INTO stock_period_totals (site_id, grain, starts, item_id, kind, quantity) "
            f"SELECT e.site_id, '{grain}', {entry_starts}, e.item_id, "
            "coalesce(r.kind, d.kind), sum(e.quantity) "
            "FROM stock_entries e JOIN stock_documents d ON d.id = e.document_id "
            "LEFT JOIN stock_documents r ON r.id = d.reverses_id "
            f"GROUP BY e.site_id, {entry_starts}, e.item_id, coalesce(r.kind, d.kind) "
            "HAVING sum(e.quantity) <> 0"
        )


def upgrade():
    op.create_table(
        'gift_period_totals',
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('starts', sa.Date(), nullable=False),
        sa.Column('fund_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('gifts', sa.BigInteger(), nullable=False),
        sa.Column('gross_cents', sa.BigInteger(), nullable=False),
        sa.Column('fee_cents', sa.BigInteger(), nullable=False),
        sa.Column('returned_cents', sa.BigInteger(), nullable=False),
        sa.Column('net_cents', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "grain IN ('d', 'm', 'y')", name=op.f('ck_gift_period_totals_grain_known')
        ),
        sa.PrimaryKeyConstraint(
            'grain', 'starts', 'fund_id', 'method', 'currency', name=op.f('pk_gift_period_totals')
        ),
    )
    op.create_table(
        'donor_gift_periods',
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('starts', sa.Date(), nullable=False),
        sa.Column('donor_id', sa.Integer(), nullable=False),
        sa.Column('gifts', sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "grain IN ('d', 'm', 'y')", name=op.f('ck_donor_gift_periods_grain_known')
        ),
        sa.PrimaryKeyConstraint('grain', 'starts', 'donor_id', name=op.f('pk_donor_gift_periods')),
    )
    with op.batch_alter_table('donor_gift_periods', schema=None) as batch_op:
        batch_op.create_index(
            'ix_donor_gift_periods_donor', ['donor_id', 'grain', 'starts'], unique=False
        )
    op.create_table(
        'stock_period_totals',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('starts', sa.Date(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('quantity', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "grain IN ('d', 'm', 'y')", name=op.f('ck_stock_period_totals_grain_known')
        ),
        sa.PrimaryKeyConstraint(
            'site_id', 'grain', 'starts', 'item_id', 'kind', name=op.f('pk_stock_period_totals')
        ),
    )
    with op.batch_alter_table('stock_period_totals', schema=None) as batch_op:
        batch_op.create_index(
            'ix_stock_period_totals_period', ['grain', 'starts'], unique=False
        )
    _backfill(op.get_bind().dialect.name == 'postgresql')


def downgrade():
    with op.batch_alter_table('stock_period_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_period_totals_period')
    op.drop_table('stock_period_totals')
    with op.batch_alter_table('donor_gift_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_donor_gift_periods_donor')
    op.drop_table('donor_gift_periods')
    op.drop_table('gift_period_totals')
