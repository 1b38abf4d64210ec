"""exchange_rates set by the operator; orders record their upstream cost in the panel's currency

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Orders forwarded before this revision get the cost the dashboard used to work out for them:
their charge times the service's upstream rate over the rate the customer pays (their own
price, else the list price), as the rates stand now.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rate > 0", name=op.f("ck_exchange_rates_rate_positive")),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_exchange_rates")),
    )
    op.add_column("orders", sa.Column("cost", sa.BigInteger(), nullable=True))
    # `* 1.0`: SQLite would divide integers as integers.
    op.execute(
        "UPDATE orders SET cost = ("
        " SELECT CAST(ROUND(orders.charge * 1.0 * services.upstream_rate / NULLIF(COALESCE("
        "  (SELECT customer_prices.rate FROM customer_prices"
        "   WHERE customer_prices.customer_id = orders.customer_id"
        "   AND customer_prices.service_id = orders.service_id),"
        "  services.rate), 0)) AS BIGINT)"
        " FROM services WHERE services.id = orders.service_id)"
        " WHERE provider_id IS NOT NULL AND charge > 0"
    )


def downgrade() -> None:
    op.drop_column("orders", "cost")
    op.drop_table("exchange_rates")
