"""ledger_entries: an opening balance says so by its cause, not only by its English reason

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE ledger_entries SET cause = 'opening' "
        "WHERE reason = 'opening balance' AND order_id IS NULL AND cause IS NULL"
    )


def downgrade() -> None:
    op.execute("UPDATE ledger_entries SET cause = NULL WHERE cause = 'opening'")
