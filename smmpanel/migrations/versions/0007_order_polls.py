"""order_polls: the poll schedule of forwarded orders, out of the wide orders table

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "order_polls",
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("every", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_polls_order_id_orders"),
        sa.PrimaryKeyConstraint("order_id", name="pk_order_polls"),
    )
    op.create_index("ix_order_polls_due_at", "order_polls", ["due_at"])
    op.execute(
        "INSERT INTO order_polls (order_id, due_at, every)"
        " SELECT id, next_action_at, COALESCE(poll_interval, 0) FROM orders"
        " WHERE forward_state = 'sent' AND next_action_at IS NOT NULL"
    )
    op.execute("UPDATE orders SET next_action_at = NULL WHERE forward_state = 'sent'")
    op.drop_column("orders", "poll_interval")


def downgrade() -> None:
    op.add_column("orders", sa.Column("poll_interval", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE orders SET"
        " next_action_at = (SELECT due_at FROM order_polls WHERE order_id = orders.id),"
        " poll_interval = (SELECT NULLIF(every, 0) FROM order_polls WHERE order_id = orders.id)"
        " WHERE id IN (SELECT order_id FROM order_polls)"
    )
    op.drop_index("ix_order_polls_due_at", table_name="order_polls")
    op.drop_table("order_polls")
