"""api_keys.name: what the customer called a key, to tell their keys apart

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("name", sa.String(100), server_default="", nullable=False))


def downgrade() -> None:
    op.drop_column("api_keys", "name")
