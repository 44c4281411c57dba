"""year-end preview: a statement may cover any range of dates for one donor (basis 'range')

Revision ID: 0010_year_end_preview
Revises: 0006_statement_basis
Create Date: 2026-12-04 17:25:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0010_year_end_preview"
down_revision = "0006_statement_basis"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite never got the CHECK (0006 leaves it to the services there); elsewhere the
    # receipts' basis may now also be 'range'. Year-end runs stay calendar or fiscal.
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_receipts_basis_known"), "receipts", type_="check")
        op.create_check_constraint(
            "basis_known", "receipts", "basis IN ('calendar', 'fiscal', 'range')"
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_receipts_basis_known"), "receipts", type_="check")
        op.create_check_constraint("basis_known", "receipts", "basis IN ('calendar', 'fiscal')")
