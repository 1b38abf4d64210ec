"""support tickets, their messages and canned replies

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

A customer's tickets are read newest first by (customer_id, updated_at, id); the operators'
queue by (status, updated_at, id), or (updated_at, id) for every status; the operators' unread
count by operator_unread. A customer's messages by (customer_id, created_at), counted to
throttle them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("operator_id", ID, nullable=True),
        sa.Column("order_ids", sa.String(length=400), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_unread", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("operator_unread", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "subject IN ('order', 'payment', 'refill', 'cancel', 'other')",
            name=op.f("ck_tickets_subject_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'closed')", name=op.f("ck_tickets_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_tickets_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_tickets_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(
        "ix_tickets_customer_id_updated_at", "tickets", ["customer_id", "updated_at", "id"]
    )
    op.create_index("ix_tickets_status_updated_at", "tickets", ["status", "updated_at", "id"])
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at", "id"])
    op.create_index("ix_tickets_operator_unread", "tickets", ["operator_unread"])

    op.create_table(
        "ticket_messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("operator_id", ID, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(customer_id IS NULL) <> (operator_id IS NULL)",
            name=op.f("ck_ticket_messages_one_author"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_messages_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_ticket_messages_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_ticket_messages_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_messages")),
    )
    op.create_index("ix_ticket_messages_ticket_id_id", "ticket_messages", ["ticket_id", "id"])
    op.create_index(
        "ix_ticket_messages_customer_id_created_at",
        "ticket_messages",
        ["customer_id", "created_at"],
    )

    op.create_table(
        "canned_replies",
        sa.Column("id", ID, nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("body_zh_tw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
    op.drop_index("ix_ticket_messages_customer_id_created_at", table_name="ticket_messages")
    op.drop_index("ix_ticket_messages_ticket_id_id", table_name="ticket_messages")
    op.drop_table("ticket_messages")
    op.drop_index("ix_tickets_operator_unread", table_name="tickets")
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_status_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_customer_id_updated_at", table_name="tickets")
    op.drop_table("tickets")
