"""Counters for flat reports: donors' giving years (retention), stock at each month's
end (stock on a past date), stock per category, and stock totals by item

Revision ID: 0020_report_counters
Revises: 0019_periodic
Create Date: 2026-12-05 17:15:00.000000

``donor_gift_gaps`` holds one row per donor and calendar year given in, with the latest
earlier year; ``donor_retention_years`` counts them per year (donors, first-time,
given the year before too). ``stock_month_closings`` holds the balance of a (site,
item) at the end of each month it moved in. ``stock_category_totals`` is
``stock_period_totals`` summed over sites and the items of a category.
``donor_day_counts`` and ``donor_gap_counts`` count donors' giving days and their
consecutive pairs per period, for retention over any period. Each is filled
from the rows it sums, the same sums ``flask reports verify`` and ``flask inventory
verify`` recompute.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020_report_counters'
down_revision = '0019_periodic'
branch_labels = None
depends_on = None


def _backfill(postgresql):
    year = (
        "CAST(extract(year FROM timezone('UTC', received_at)) AS INTEGER)"
        if postgresql
        else 'CAST(substr(received_at, 1, 4) AS INTEGER)'
    )
    op.execute(
        "INSERT INTO donor_gift_gaps (donor_id, year, gifts, previous_year) "
        "SELECT donor_id, year, gifts, lag(year) OVER (PARTITION BY donor_id ORDER BY year) "
        f"FROM (SELECT donor_id, {year} AS year, count(*) AS gifts FROM gifts "
        "WHERE status = 'paid' AND NOT is_reversal AND amount_cents > 0 "
        f"GROUP BY donor_id, {year}) AS given"
    )
    op.execute(
        "INSERT INTO donor_retention_years (year, donors, first_time, retained) "
        "SELECT year, count(*), "
        "sum(CASE WHEN previous_year IS NULL THEN 1 ELSE 0 END), "
        "sum(CASE WHEN previous_year = year - 1 THEN 1 ELSE 0 END) "
        "FROM donor_gift_gaps GROUP BY year"
    )
    month = (
        "CAST(date_trunc('month', effective_date) AS DATE)"
        if postgresql
        else "substr(effective_date, 1, 7) || '-01'"
    )
    op.execute(
        "INSERT INTO stock_month_closings (site_id, item_id, month, quantity) "
        "SELECT site_id, item_id, month, "
        "sum(net) OVER (PARTITION BY site_id, item_id ORDER BY month) "
        f"FROM (SELECT site_id, item_id, {month} AS month, sum(quantity) AS net "
        f"FROM stock_entries GROUP BY site_id, item_id, {month}) AS moved"
    )
    op.execute(
        "INSERT INTO stock_category_totals (grain, starts, category_id, kind, quantity) "
        "SELECT t.grain, t.starts, i.category_id, t.kind, sum(t.quantity) "
        "FROM stock_period_totals t JOIN items i ON i.id = t.item_id "
        "GROUP BY t.grain, t.starts, i.category_id, t.kind HAVING sum(t.quantity) <> 0"
    )


GRAINS = ('d', 'm', 'y')


def _starts(grain, day, postgresql):
    """SQL for the first day of the grain's period holding the date ``day``."""
    if grain == 'd':
        return day
    if postgresql:
        unit = 'month' if grain == 'm' else 'year'
        return f"CAST(date_trunc('{unit}', {day}) AS DATE)"
    return f"substr({day}, 1, 7) || '-01'" if grain == 'm' else f"substr({day}, 1, 4) || '-01-01'"


def _backfill_donor_days(postgresql):
    gift_day = (
        "CAST(timezone('UTC', received_at) AS DATE)" if postgresql else 'substr(received_at, 1, 10)'
    )
    sequence = (
        "(SELECT donor_id, day, "
        "lag(day) OVER (PARTITION BY donor_id ORDER BY day) AS prev, "
        "lead(day) OVER (PARTITION BY donor_id ORDER BY day) AS next "
        f"FROM (SELECT DISTINCT donor_id, {gift_day} AS day FROM gifts "
        "WHERE status = 'paid' AND NOT is_reversal AND amount_cents > 0) AS given) AS seq"
    )
    for grain in GRAINS:
        starts = _starts(grain, 'seq.day', postgresql)
        op.execute(
            "INSERT INTO donor_day_counts (grain, starts, giving_days, first_days, last_days) "
            f"SELECT '{grain}', {starts}, count(*), "
            "sum(CASE WHEN prev IS NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN next IS NULL THEN 1 ELSE 0 END) "
            f"FROM {sequence} GROUP BY {starts}"
        )
    for day_grain in GRAINS:
        for prev_grain in GRAINS:
            day_starts = _starts(day_grain, 'seq.day', postgresql)
            prev_starts = _starts(prev_grain, 'seq.prev', postgresql)
            op.execute(
                "INSERT INTO donor_gap_counts "
                "(day_grain, prev_grain, day_starts, prev_starts, gaps) "
                f"SELECT '{day_grain}', '{prev_grain}', {day_starts}, {prev_starts}, count(*) "
                f"FROM {sequence} WHERE prev IS NOT NULL GROUP BY {day_starts}, {prev_starts}"
            )


def upgrade():
    op.create_table(
        'donor_gift_gaps',
        sa.Column('donor_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('gifts', sa.Integer(), nullable=False),
        sa.Column('previous_year', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('donor_id', 'year', name=op.f('pk_donor_gift_gaps')),
    )
    with op.batch_alter_table('donor_gift_gaps', schema=None) as batch_op:
        batch_op.create_index(
            'ix_donor_gift_gaps_year', ['year', 'previous_year'], unique=False
        )
    op.create_table(
        'donor_retention_years',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('donors', sa.BigInteger(), nullable=False),
        sa.Column('first_time', sa.BigInteger(), nullable=False),
        sa.Column('retained', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_donor_retention_years')),
    )
    op.create_table(
        'stock_month_closings',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('quantity', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            'site_id', 'item_id', 'month', name=op.f('pk_stock_month_closings')
        ),
    )
    op.create_table(
        'stock_category_totals',
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('starts', sa.Date(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('quantity', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "grain IN ('d', 'm', 'y')", name=op.f('ck_stock_category_totals_grain_known')
        ),
        sa.PrimaryKeyConstraint(
            'grain', 'starts', 'category_id', 'kind', name=op.f('pk_stock_category_totals')
        ),
    )
    op.create_table(
        'donor_day_counts',
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('starts', sa.Date(), nullable=False),
        sa.Column('giving_days', sa.BigInteger(), nullable=False),
        sa.Column('first_days', sa.BigInteger(), nullable=False),
        sa.Column('last_days', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "grain IN ('d', 'm', 'y')", name=op.f('ck_donor_day_counts_grain_known')
        ),
        sa.PrimaryKeyConstraint('grain', 'starts', name=op.f('pk_donor_day_counts')),
    )
    op.create_table(
        'donor_gap_counts',
        sa.Column('day_grain', sa.String(length=1), nullable=False),
        sa.Column('prev_grain', sa.String(length=1), nullable=False),
        sa.Column('day_starts', sa.Date(), nullable=False),
        sa.Column('prev_starts', sa.Date(), nullable=False),
        sa.Column('gaps', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "day_grain IN ('d', 'm', 'y')", name=op.f('ck_donor_gap_counts_day_grain_known')
        ),
        sa.CheckConstraint(
            "prev_grain IN ('d', 'm', 'y')", name=op.f('ck_donor_gap_counts_prev_grain_known')
        ),
        sa.PrimaryKeyConstraint(
            'day_grain', 'prev_grain', 'day_starts', 'prev_starts',
            name=op.f('pk_donor_gap_counts'),
        ),
    )
    with op.batch_alter_table('stock_period_totals', schema=None) as batch_op:
        batch_op.create_index(
            'ix_stock_period_totals_item', ['item_id', 'grain', 'starts'], unique=False
        )
    postgresql = op.get_bind().dialect.name == 'postgresql'
    _backfill(postgresql)
    _backfill_donor_days(postgresql)


def downgrade():
    with op.batch_alter_table('stock_period_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_period_totals_item')
    op.drop_table('donor_gap_counts')
    op.drop_table('donor_day_counts')
    op.drop_table('stock_category_totals')
    op.drop_table('stock_month_closings')
    op.drop_table('donor_retention_years')
    with op.batch_alter_table('donor_gift_gaps', schema=None) as batch_op:
        batch_op.drop_index('ix_donor_gift_gaps_year')
    op.drop_table('donor_gift_gaps')
