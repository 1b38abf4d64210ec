"""Orders of every type, subscriptions, refills and cancel requests."""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from smmpanel.db.base import BigId, Timestamp, metadata

orders = Table(
    "orders",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("service_id", BigId, ForeignKey("services.id"), nullable=False),
    Column("type", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("link", Text, nullable=True),
    # Units as ordered: per run for drip-feed, line count for list types, 1 for packages.
    Column("quantity", Integer, nullable=False),
    Column("runs", Integer, nullable=True),
    Column("interval", Integer, nullable=True),
    Column("charge", BigInteger, nullable=False),
    Column("start_count", BigInteger, nullable=False, server_default="0"),
    Column("remains", BigInteger, nullable=False, server_default="0"),
    Column("comments", Text, nullable=True),
    Column("usernames", Text, nullable=True),
    Column("hashtags", Text, nullable=True),
    Column("hashtag", Text, nullable=True),
    Column("username", Text, nullable=True),
    Column("media", Text, nullable=True),
    Column("answer_number", String(20), nullable=True),
    Column("groups", Text, nullable=True),
    Column("parent_id", BigId, ForeignKey("orders.id"), nullable=True, index=True),
    # The link while the order is unfinished, NULL after: a customer has one active order
    # per service and link.
    Column("active_link", Text, nullable=True),
    Column("idempotency_key", String(100), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=True),
    UniqueConstraint(
        "customer_id", "service_id", "active_link", name="uq_orders_customer_service_active_link"
    ),
    UniqueConstraint(
        "customer_id", "idempotency_key", name="uq_orders_customer_id_idempotency_key"
    ),
    Index("ix_orders_customer_id_id", "customer_id", "id"),
    Index("ix_orders_status", "status"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("order_id", BigId, ForeignKey("orders.id"), primary_key=True),
    Column("username", Text, nullable=False),
    Column("min_quantity", Integer, nullable=False),
    Column("max_quantity", Integer, nullable=False),
    Column("posts", Integer, nullable=True),
    Column("delay", Integer, nullable=False),
    Column("expiry", Date, nullable=True),
    Column("posts_delivered", Integer, nullable=False, server_default="0"),
)

refills = Table(
    "refills",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("order_id", BigId, ForeignKey("orders.id"), nullable=False, index=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("status", String(20), nullable=False),
    # The order id while the refill is open, NULL after: one open refill per order.
    Column("open_order_id", BigId, nullable=True, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

cancel_requests = Table(
    "cancel_requests",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("order_id", BigId, ForeignKey("orders.id"), nullable=False, index=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("open_order_id", BigId, nullable=True, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("resolved_at", Timestamp, nullable=True),
)
