"""customers' account settings: verified e-mail, time zone, notification choices; the links
sent by e-mail to reset a password or verify an address (account_tokens), and requests for
reset links counted per client address (recovery_requests)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("mail_order_updates", sa.Boolean(), nullable=False, server_default="1")
        )
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('password_reset', 'verify_email')",
            name=op.f("ck_account_tokens_purpose_known"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_account_tokens_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index(
        "ix_account_tokens_customer_id_purpose_created_at",
        "account_tokens",
        ["customer_id", "purpose", "created_at"],
    )
    op.create_table(
        "recovery_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_requests")),
    )
    op.create_index(
        "ix_recovery_requests_address_created_at",
        "recovery_requests",
        ["address", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_recovery_requests_address_created_at", table_name="recovery_requests")
    op.drop_table("recovery_requests")
    op.drop_index("ix_account_tokens_customer_id_purpose_created_at", table_name="account_tokens")
    op.drop_table("account_tokens")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("mail_order_updates")
        batch.drop_column("time_zone")
        batch.drop_column("email_verified_at")
