"""a discount percent per customer on the listed rates

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("discount_bp", sa.Integer(), nullable=False, server_default="0"))
        batch.create_check_constraint(
            op.f("ck_customers_discount_known"), "discount_bp >= 0 AND discount_bp < 10000"
        )


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_constraint(op.f("ck_customers_discount_known"), type_="check")
        batch.drop_column("discount_bp")
