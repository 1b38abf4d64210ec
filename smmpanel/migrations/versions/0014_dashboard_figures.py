"""the dashboard's figures kept rather than counted at each view: orders per status as last
counted (order_status_counts) and each past day's figures (daily_figures); orders by (status,
id), so the operator's list filtered by status reads one page of the index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_status_counts",
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("counted_at", "status", name=op.f("pk_order_status_counts")),
    )
    op.create_table(
        "daily_figures",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("profit", sa.BigInteger(), nullable=False),
        sa.Column("deposits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_figures")),
    )
    op.drop_index("ix_orders_status", table_name="orders")
    op.create_index("ix_orders_status", "orders", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_orders_status", table_name="orders")
    op.create_index("ix_orders_status", "orders", ["status"])
    op.drop_table("daily_figures")
    op.drop_table("order_status_counts")
