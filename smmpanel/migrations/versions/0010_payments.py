"""payments: payment methods, payments and their gateways' notices; ledger rows name a payment

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A ledger row that credits a payment names it, with a cause unique per payment ("payment",
"payment:bonus"), so no payment is credited twice whatever races or replays.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_zh", sa.String(length=100), server_default="", nullable=False),
        sa.Column("instructions", sa.Text(), server_default="", nullable=False),
        sa.Column("instructions_zh", sa.Text(), server_default="", nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("min_amount", sa.BigInteger(), nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_percent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fee_fixed", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bonus_percent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bonus_from", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("settings", sa.Text(), server_default="{}", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "gateway IN ('manual', 'ecpay', 'stripe', 'cryptomus')",
            name=op.f("ck_payment_methods_gateway_known"),
        ),
        sa.CheckConstraint(
            "rate > 0 AND min_amount > 0 AND max_amount >= min_amount",
            name=op.f("ck_payment_methods_terms_sane"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
        sa.UniqueConstraint("name", name=op.f("uq_payment_methods_name")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "method_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("gateway_id", sa.String(length=100), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("credited", sa.BigInteger(), nullable=False),
        sa.Column("bonus", sa.BigInteger(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("details", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'expired', 'review')",
            name=op.f("ck_payments_status_known"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND fee >= 0 AND credited >= 0 AND bonus >= 0",
            name=op.f("ck_payments_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["method_id"],
            ["payment_methods.id"],
            name=op.f("fk_payments_method_id_payment_methods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "method_id", "gateway_id", name=op.f("uq_payments_method_id_gateway_id")
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_customer_id_id", ["customer_id", "id"], unique=False)
        batch_op.create_index(
            "ix_payments_status_expires_at", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "payment_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_notices_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notices")),
    )
    with op.batch_alter_table("payment_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_notices_payment_id"), ["payment_id"], unique=False
        )

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_ledger_entries_payment_id_cause"), ["payment_id", "cause"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_entries_payment_id_payments"), "payments", ["payment_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_entries_payment_id_payments"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_ledger_entries_payment_id_cause"), type_="unique")
        batch_op.drop_column("payment_id")

    with op.batch_alter_table("payment_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_notices_payment_id"))

    op.drop_table("payment_notices")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_status_expires_at")
        batch_op.drop_index("ix_payments_customer_id_id")

    op.drop_table("payments")
    op.drop_table("payment_methods")
