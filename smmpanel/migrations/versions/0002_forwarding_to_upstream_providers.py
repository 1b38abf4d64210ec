"""forwarding to upstream providers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "provider_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_service_changes_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_service_changes_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_changes")),
    )
    with op.batch_alter_table("service_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_changes_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_changes_service_id"), ["service_id"], unique=False
        )

    with op.batch_alter_table("cancel_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forward_state", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "provider_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("upstream_order_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("forward_state", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("poll_interval", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sending_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("upstream_status", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("tried_fallback", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("runs_placed", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_orders_forward_state_next_action_at",
            ["forward_state", "next_action_at"],
            unique=False,
        )
        batch_op.create_unique_constraint(
            "uq_orders_provider_id_upstream_order_id", ["provider_id", "upstream_order_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_provider_id_providers"), "providers", ["provider_id"], ["id"]
        )

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price_rule", sa.Text(), server_default="{}", nullable=False))
        batch_op.add_column(
            sa.Column("sync_hours", sa.Integer(), server_default="6", nullable=False)
        )
        batch_op.add_column(sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("sent_count", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("rejected_count", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("in_doubt_count", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("polled_count", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("balance", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("balance_currency", sa.String(length=3), nullable=True))
        batch_op.add_column(
            sa.Column("balance_checked_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("refills", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upstream_refill_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("forward_state", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))

    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upstream_rate", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("upstream_dripfeed", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "fallback_provider_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("fallback_provider_service_id", sa.String(length=50), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_services_fallback_provider_id_providers"),
            "providers",
            ["fallback_provider_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_services_fallback_provider_id_providers"), type_="foreignkey"
        )
        batch_op.drop_column("fallback_provider_service_id")
        batch_op.drop_column("fallback_provider_id")
        batch_op.drop_column("upstream_dripfeed")
        batch_op.drop_column("upstream_rate")

    with op.batch_alter_table("refills", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("next_action_at")
        batch_op.drop_column("forward_state")
        batch_op.drop_column("upstream_refill_id")

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("balance_checked_at")
        batch_op.drop_column("balance_currency")
        batch_op.drop_column("balance")
        batch_op.drop_column("paused_until")
        batch_op.drop_column("last_success_at")
        batch_op.drop_column("last_error_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("polled_count")
        batch_op.drop_column("in_doubt_count")
        batch_op.drop_column("rejected_count")
        batch_op.drop_column("sent_count")
        batch_op.drop_column("synced_at")
        batch_op.drop_column("sync_hours")
        batch_op.drop_column("price_rule")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_provider_id_providers"), type_="foreignkey")
        batch_op.drop_constraint("uq_orders_provider_id_upstream_order_id", type_="unique")
        batch_op.drop_index("ix_orders_forward_state_next_action_at")
        batch_op.drop_column("runs_placed")
        batch_op.drop_column("tried_fallback")
        batch_op.drop_column("last_error")
        batch_op.drop_column("upstream_status")
        batch_op.drop_column("sending_since")
        batch_op.drop_column("poll_interval")
        batch_op.drop_column("next_action_at")
        batch_op.drop_column("forward_state")
        batch_op.drop_column("upstream_order_id")
        batch_op.drop_column("provider_id")

    with op.batch_alter_table("cancel_requests", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("next_action_at")
        batch_op.drop_column("forward_state")

    with op.batch_alter_table("service_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_changes_service_id"))
        batch_op.drop_index(batch_op.f("ix_service_changes_provider_id"))

    op.drop_table("service_changes")
