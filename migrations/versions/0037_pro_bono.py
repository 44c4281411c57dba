"""Professional services given pro bono, their acknowledgement series, and the value of an
hour of volunteers' time for the grant report

Revision ID: 0037_pro_bono
Revises: 0036_embed_origins
Create Date: 2026-12-06 14:30:00.000000

``contributed_services``: a professional's (a volunteer's) service, its type, hours as
whole minutes (CHECK 1..1440), the program served, a fair hourly rate for the books only,
and its acknowledgement number (unique per organisation; a void keeps it).
``acknowledgement_sequences``: the gap-free number series ("PB") per organisation and
year, locked as ``receipt_sequences`` is. Both belong to one organisation
(``OrgScoped``): on PostgreSQL each gets the ``organization_wall`` policy of 0029,
enabled and forced. ``organization.volunteer_hour_value_cents``: empty until an admin
sets it. Self-contained: it touches no table a parallel revision adds.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0037_pro_bono'
down_revision = '0036_embed_origins'
branch_labels = None
depends_on = None


# The new OrgScoped tables: each gets the row security policy of 0029.
PRO_BONO_ORG_SCOPED_TABLES = (
    'acknowledgement_sequences',
    'contributed_services',
)
POLICY = 'organization_wall'
RULE = (
    "current_setting('donations.all_organizations', true) = 'on' "
    "OR organization_id = NULLIF(current_setting('donations.organization_id', true), '')::int"
)
SERVICE_TYPES = (
    'legal', 'medical', 'counselling', 'translation', 'grant_writing', 'accounting', 'other'
)


def upgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('volunteer_hour_value_cents', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_organization_hour_value_not_negative'),
            'volunteer_hour_value_cents IS NULL OR volunteer_hour_value_cents >= 0',
        )

    op.create_table('acknowledgement_sequences',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number >= 0', name=op.f('ck_acknowledgement_sequences_last_number_not_negative')),
    sa.PrimaryKeyConstraint('organization_id', 'series', 'year', name=op.f('pk_acknowledgement_sequences'))
    )
    types = ', '.join(f"'{t}'" for t in SERVICE_TYPES)
    op.create_table('contributed_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.Enum('legal', 'medical', 'counselling', 'translation', 'grant_writing', 'accounting', 'other', name='servicetype', native_enum=False, create_constraint=False, length=20), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('fair_rate_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.String(length=300), nullable=False),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint(f'service_type IN ({types})', name=op.f('ck_contributed_services_type_known')),
    sa.CheckConstraint('minutes > 0 AND minutes <= 1440', name=op.f('ck_contributed_services_minutes_in_a_day')),
    sa.CheckConstraint('fair_rate_cents >= 0', name=op.f('ck_contributed_services_rate_not_negative')),
    sa.CheckConstraint('length(currency) = 3', name=op.f('ck_contributed_services_currency_code_length')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_contributed_services_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_contributed_services_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_contributed_services_voided_by_id_users')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_contributed_services_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributed_services')),
    sa.UniqueConstraint('organization_id', 'number', name='uq_contributed_services_number')
    )
    with op.batch_alter_table('contributed_services', schema=None) as batch_op:
        batch_op.create_index('ix_contributed_services_date', ['organization_id', 'service_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_contributed_services_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index('ix_contributed_services_volunteer', ['volunteer_id', 'service_date'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        for table in PRO_BONO_ORG_SCOPED_TABLES:
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY {POLICY} ON {table} USING ({RULE}) WITH CHECK ({RULE})')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in PRO_BONO_ORG_SCOPED_TABLES:
            op.execute(f'DROP POLICY IF EXISTS {POLICY} ON {table}')
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    with op.batch_alter_table('contributed_services', schema=None) as batch_op:
        batch_op.drop_index('ix_contributed_services_volunteer')
        batch_op.drop_index(batch_op.f('ix_contributed_services_recipient_id'))
        batch_op.drop_index('ix_contributed_services_date')

    op.drop_table('contributed_services')
    op.drop_table('acknowledgement_sequences')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organization_hour_value_not_negative'), type_='check')
        batch_op.drop_column('volunteer_hour_value_cents')
