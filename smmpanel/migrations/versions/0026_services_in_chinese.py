"""services may carry a Traditional Chinese name and description

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("name_zh_tw", sa.String(300), nullable=True))
        batch.add_column(sa.Column("description_zh_tw", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("services") as batch:
        batch.drop_column("description_zh_tw")
        batch.drop_column("name_zh_tw")
