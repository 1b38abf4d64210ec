"""orders by (customer_id, status, id): a customer's counts by status read from the index
alone, and a customer's orders in one status listed newest first without a sort

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_customer_id_status_id", "orders", ["customer_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_orders_customer_id_status_id", table_name="orders")
