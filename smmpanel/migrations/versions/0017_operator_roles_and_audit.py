"""operator roles and the audit log of operators' changes: operators.role (existing
operators become owners, so they keep every page) and operator_audit, listed newest first,
whole or by operator or by action

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(20), server_default="owner", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_operators_role_known"),
            "role IN ('owner', 'admin', 'support', 'finance')",
        )
    op.create_table(
        "operator_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("operator_id", ID, nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_audit_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_audit")),
    )
    op.create_index("ix_operator_audit_operator_id_id", "operator_audit", ["operator_id", "id"])
    op.create_index("ix_operator_audit_action_id", "operator_audit", ["action", "id"])


def downgrade() -> None:
    op.drop_index("ix_operator_audit_action_id", table_name="operator_audit")
    op.drop_index("ix_operator_audit_operator_id_id", table_name="operator_audit")
    op.drop_table("operator_audit")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_operators_role_known"), type_="check")
        batch_op.drop_column("role")
