"""orders by (service_id, status, id): a service's last completed orders, read for the public
services page's average completion time, without visiting the service's other orders

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_service_id_status_id", "orders", ["service_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_orders_service_id_status_id", table_name="orders")
