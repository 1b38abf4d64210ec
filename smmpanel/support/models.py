"""Tickets, their messages and canned replies."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from smmpanel.db.base import BigId, Timestamp, metadata

SUBJECTS = ("order", "payment", "refill", "cancel", "other")
TICKET_OPEN = "open"  # waiting for an operator
TICKET_ANSWERED = "answered"  # waiting for the customer
TICKET_CLOSED = "closed"
STATUSES = (TICKET_OPEN, TICKET_ANSWERED, TICKET_CLOSED)
TITLE_LENGTH = 150
MESSAGE_LENGTH = 5_000
CANNED_TITLE_LENGTH = 100
# Room for the largest number of order ids a ticket may name (support.tickets.MAX_ORDER_IDS).
ORDER_IDS_LENGTH = 400

__all__ = ["canned_replies", "metadata", "ticket_messages", "tickets"]

tickets = Table(
    "tickets",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("subject", String(20), nullable=False),
    Column("title", String(TITLE_LENGTH), nullable=False),
    Column("status", String(20), nullable=False, server_default=TICKET_OPEN),
    # The operator who took the ticket; NULL: nobody yet.
    Column("operator_id", BigId, ForeignKey("operators.id"), nullable=True),
    # The customer's orders the ticket is about, checked to be theirs: "12,15" or "".
    Column("order_ids", String(ORDER_IDS_LENGTH), nullable=False, server_default=""),
    Column("created_at", Timestamp, nullable=False),
    # When the last message came or the status changed: the queue's order.
    Column("updated_at", Timestamp, nullable=False),
    # Whether the other side wrote since this side last read the ticket.
    Column("customer_unread", Boolean, nullable=False, server_default="0"),
    Column("operator_unread", Boolean, nullable=False, server_default="0"),
    CheckConstraint(
        "subject IN ('order', 'payment', 'refill', 'cancel', 'other')", name="subject_known"
    ),
    CheckConstraint("status IN ('open', 'answered', 'closed')", name="status_known"),
    Index("ix_tickets_customer_id_updated_at", "customer_id", "updated_at", "id"),
    Index("ix_tickets_status_updated_at", "status", "updated_at", "id"),
    Index("ix_tickets_updated_at", "updated_at", "id"),
    Index("ix_tickets_operator_unread", "operator_unread"),
)

# Each message has one author: the customer, or an operator.
ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("ticket_id", BigId, ForeignKey("tickets.id"), nullable=False),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=True),
    Column("operator_id", BigId, ForeignKey("operators.id"), nullable=True),
    Column("body", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("(customer_id IS NULL) <> (operator_id IS NULL)", name="one_author"),
    Index("ix_ticket_messages_ticket_id_id", "ticket_id", "id"),
    # A customer's recent messages, counted to throttle them.
    Index("ix_ticket_messages_customer_id_created_at", "customer_id", "created_at"),
)

canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("title", String(CANNED_TITLE_LENGTH), nullable=False),
    Column("body_en", Text, nullable=False),
    Column("body_zh_tw", Text, nullable=False),
    # The audit log names a reply by id: a deleted one's id is never given again.
    sqlite_autoincrement=True,
)
