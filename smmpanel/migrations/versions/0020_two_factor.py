"""two-factor sign-in (TOTP) for customers and operators: secrets, recovery codes, used codes

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "two_factor",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("operator_id", ID, nullable=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(customer_id IS NULL) <> (operator_id IS NULL)",
            name=op.f("ck_two_factor_one_kind_of_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_two_factor_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_two_factor_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_two_factor")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_two_factor_customer_id")),
        sa.UniqueConstraint("operator_id", name=op.f("uq_two_factor_operator_id")),
    )
    op.create_table(
        "two_factor_recovery_codes",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("operator_id", ID, nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(customer_id IS NULL) <> (operator_id IS NULL)",
            name=op.f("ck_two_factor_recovery_codes_one_kind_of_account"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_two_factor_recovery_codes_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_two_factor_recovery_codes_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_two_factor_recovery_codes")),
    )
    op.create_index(
        op.f("ix_two_factor_recovery_codes_customer_id"),
        "two_factor_recovery_codes",
        ["customer_id"],
    )
    op.create_index(
        op.f("ix_two_factor_recovery_codes_operator_id"),
        "two_factor_recovery_codes",
        ["operator_id"],
    )
    with op.batch_alter_table("panel_settings") as batch:
        batch.add_column(
            sa.Column("operators_need_two_factor", sa.Boolean(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("panel_settings") as batch:
        batch.drop_column("operators_need_two_factor")
    op.drop_index(
        op.f("ix_two_factor_recovery_codes_operator_id"), table_name="two_factor_recovery_codes"
    )
    op.drop_index(
        op.f("ix_two_factor_recovery_codes_customer_id"), table_name="two_factor_recovery_codes"
    )
    op.drop_table("two_factor_recovery_codes")
    op.drop_table("two_factor")
