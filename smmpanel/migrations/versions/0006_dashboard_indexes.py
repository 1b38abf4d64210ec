"""indexes for the operator's dashboard: orders and ledger entries by creation time, and the
parent index of orders limited to child orders (with every top-level order in it, SQLite walked
all of them to count `parent_id IS NULL`)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 00:58:18.709052
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHILDREN_ONLY = sa.text("parent_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_ledger_entries_created_at", "ledger_entries", ["created_at"])
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.drop_index("ix_orders_parent_id", table_name="orders")
    op.create_index(
        "ix_orders_parent_id",
        "orders",
        ["parent_id"],
        sqlite_where=CHILDREN_ONLY,
        postgresql_where=CHILDREN_ONLY,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_parent_id", table_name="orders")
    op.create_index("ix_orders_parent_id", "orders", ["parent_id"])
    op.drop_index("ix_orders_created_at", table_name="orders")
    op.drop_index("ix_ledger_entries_created_at", table_name="ledger_entries")
