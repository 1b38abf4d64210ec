"""the customer's language for e-mails; provider balance thresholds and failure counts for alerts

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("language", sa.String(10), nullable=True))
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("balance_alert_below", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("failures_in_a_row", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("failures_in_a_row")
        batch.drop_column("balance_alert_below")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("language")
