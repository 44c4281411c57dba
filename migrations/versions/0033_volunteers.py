"""Volunteers: sign-ups, skills, opportunities and shifts, sign-ups to shifts, hours

Revision ID: 0033_volunteers
Revises: 0032_campaigns
Create Date: 2026-12-06 05:37:07.698202

Every new table but the skills a volunteer offers (a child of ``volunteers``) belongs to
one organisation (``OrgScoped``): on PostgreSQL each gets the ``organization_wall``
policy of 0029, enabled and forced. The skills list is seeded per organisation on first
use (donations/services/volunteers/skills.py), not here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033_volunteers'
down_revision = '0032_campaigns'
branch_labels = None
depends_on = None


# The new OrgScoped tables: each gets the row security policy of 0029.
ORG_SCOPED_TABLES = (
    'volunteer_skills',
    'volunteers',
    'volunteer_opportunities',
    'volunteer_shifts',
    'volunteer_signups',
    'volunteer_hours',
)
POLICY = 'organization_wall'
RULE = (
    "current_setting('donations.all_organizations', true) = 'on' "
    "OR organization_id = NULLIF(current_setting('donations.organization_id', true), '')::int"
)


def upgrade():
    op.create_table('volunteer_opportunities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_opportunities'))
    )
    op.create_table('volunteer_skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('asks_languages', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_skills')),
    sa.UniqueConstraint('organization_id', 'name', name='uq_volunteer_skills_name')
    )
    op.create_table('volunteer_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity BETWEEN 1 AND 1000', name=op.f('ck_volunteer_shifts_capacity_range')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_volunteer_shifts_ends_after_start')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['volunteer_opportunities.id'], name=op.f('fk_volunteer_shifts_opportunity_id_volunteer_opportunities')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_volunteer_shifts_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_shifts'))
    )
    with op.batch_alter_table('volunteer_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_shifts_start', ['organization_id', 'starts_at'], unique=False)

    op.create_table('volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('profession', sa.String(length=120), nullable=False),
    sa.Column('languages', sa.String(length=200), nullable=False),
    sa.Column('availability', sa.String(length=500), nullable=False),
    sa.Column('available_days', sa.String(length=30), nullable=False),
    sa.Column('status', sa.Enum('unverified', 'pending', 'approved', 'declined', name='volunteerstatus', native_enum=False, length=12), nullable=False),
    sa.Column('terms_accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('background_check', sa.Enum('none', 'pending', 'cleared', 'failed', name='checkstatus', native_enum=False, length=10), nullable=False),
    sa.Column('background_checked_on', sa.Date(), nullable=True),
    sa.Column('background_check_expires_on', sa.Date(), nullable=True),
    sa.Column('training_completed_on', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("background_check <> 'cleared' OR (background_checked_on IS NOT NULL AND background_check_expires_on IS NOT NULL)", name=op.f('ck_volunteers_cleared_check_has_dates')),
    sa.CheckConstraint("background_check IN ('none', 'pending', 'cleared', 'failed')", name=op.f('ck_volunteers_check_status_known')),
    sa.CheckConstraint("status IN ('unverified', 'pending', 'approved', 'declined')", name=op.f('ck_volunteers_status_known')),
    sa.CheckConstraint('background_check_expires_on IS NULL OR background_checked_on IS NULL OR background_check_expires_on >= background_checked_on', name=op.f('ck_volunteers_check_expires_after_done')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_volunteers_email_lowercase')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_volunteers_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
    sa.UniqueConstraint('organization_id', 'email', name='uq_volunteers_email')
    )
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.create_index('ix_volunteers_status', ['organization_id', 'status', 'id'], unique=False)

    op.create_table('volunteer_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('signed_up', 'cancelled', name='signupstatus', native_enum=False, length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('signed_up', 'cancelled')", name=op.f('ck_volunteer_signups_status_known')),
    sa.ForeignKeyConstraint(['shift_id'], ['volunteer_shifts.id'], name=op.f('fk_volunteer_signups_shift_id_volunteer_shifts')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_signups_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_signups')),
    sa.UniqueConstraint('shift_id', 'volunteer_id', name='uq_volunteer_signups_pair')
    )
    with op.batch_alter_table('volunteer_signups', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_signups_volunteer', ['volunteer_id'], unique=False)

    op.create_table('volunteer_skill_choices',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['skill_id'], ['volunteer_skills.id'], name=op.f('fk_volunteer_skill_choices_skill_id_volunteer_skills')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_skill_choices_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('volunteer_id', 'skill_id', name=op.f('pk_volunteer_skill_choices'))
    )
    op.create_table('volunteer_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('signup_id', sa.Integer(), nullable=True),
    sa.Column('worked_on', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('checked_out_at IS NULL OR checked_in_at IS NULL OR checked_out_at > checked_in_at', name=op.f('ck_volunteer_hours_out_after_in')),
    sa.CheckConstraint('minutes > 0 AND minutes <= 1440', name=op.f('ck_volunteer_hours_minutes_in_a_day')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_volunteer_hours_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['signup_id'], ['volunteer_signups.id'], name=op.f('fk_volunteer_hours_signup_id_volunteer_signups')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_hours_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_hours')),
    sa.UniqueConstraint('signup_id', name=op.f('uq_volunteer_hours_signup_id'))
    )
    with op.batch_alter_table('volunteer_hours', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_hours_volunteer', ['volunteer_id', 'worked_on'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        for table in ORG_SCOPED_TABLES:
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY {POLICY} ON {table} USING ({RULE}) WITH CHECK ({RULE})')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in ORG_SCOPED_TABLES:
            op.execute(f'DROP POLICY IF EXISTS {POLICY} ON {table}')
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    with op.batch_alter_table('volunteer_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_hours_volunteer')

    op.drop_table('volunteer_hours')
    op.drop_table('volunteer_skill_choices')
    with op.batch_alter_table('volunteer_signups', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_signups_volunteer')

    op.drop_table('volunteer_signups')
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteers_status')

    op.drop_table('volunteers')
    with op.batch_alter_table('volunteer_shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_shifts_start')

    op.drop_table('volunteer_shifts')
    op.drop_table('volunteer_skills')
    op.drop_table('volunteer_opportunities')
