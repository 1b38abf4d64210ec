"""Orders of every type, subscriptions, refills and cancel requests."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
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
    # What the upstream charges for it, in the panel's currency at the exchange rate of when it
    # was sent (providers/forwarding.py); NULL while not sent, and for orders fulfilled here.
    Column("cost", BigInteger, nullable=True),
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
    Column("parent_id", BigId, ForeignKey("orders.id"), nullable=True),
    # The link while the order is unfinished, NULL after: a customer has one active order
    # per service and link.
    Column("active_link", Text, nullable=True),
    Column("idempotency_key", String(100), nullable=True),
    # Forwarding to an upstream (NULL state: fulfilled by hand). See providers/forwarding.py.
    Column("provider_id", BigId, ForeignKey("providers.id"), nullable=True),
    Column("upstream_order_id", String(64), nullable=True),
    Column("forward_state", String(20), nullable=True),
    # When the worker next acts on a queued or drip-feed order; a `sent` one is scheduled in
    # order_polls instead.
    Column("next_action_at", Timestamp, nullable=True),
    Column("sending_since", Timestamp, nullable=True),
    Column("upstream_status", String(40), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("tried_fallback", Boolean, nullable=False, server_default="0"),
    # Drip-feed run here: how many runs have been placed as child orders.
    Column("runs_placed", Integer, nullable=False, server_default="0"),
    Column("created_at", Timestamp, nullable=False, index=True),
    Column("updated_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=True),
    UniqueConstraint(
        "customer_id", "service_id", "active_link", name="uq_orders_customer_service_active_link"
    ),
    UniqueConstraint(
        "customer_id", "idempotency_key", name="uq_orders_customer_id_idempotency_key"
    ),
    UniqueConstraint(
        "provider_id", "upstream_order_id", name="uq_orders_provider_id_upstream_order_id"
    ),
    Index("ix_orders_customer_id_id", "customer_id", "id"),
    Index("ix_orders_customer_id_status_id", "customer_id", "status", "id"),
    Index("ix_orders_forward_state_next_action_at", "forward_state", "next_action_at"),
    # A service's last completed orders: the services page's average completion time.
    Index("ix_orders_service_id_status_id", "service_id", "status", "id"),
    # By id within a status: the operator's list filtered by status reads one page of it.
    Index("ix_orders_status", "status", "id"),
    # Only child orders (drip-feed runs, posts) are looked up by parent: leaving the top-level
    # orders out keeps SQLite's planner from walking all of them for `parent_id IS NULL`.
    Index(
        "ix_orders_parent_id",
        "parent_id",
        sqlite_where=text("parent_id IS NOT NULL"),
        postgresql_where=text("parent_id IS NOT NULL"),
    ),
)

# When each forwarded order (`sent`, unfinished) is polled next. Polling reschedules a thousand
# orders a batch: here each is a small row with one index, where in `orders` it would be a new
# version of a wide row with an entry in each of its indexes.
order_polls = Table(
    "order_polls",
    metadata,
    Column("order_id", BigId, ForeignKey("orders.id"), primary_key=True),
    Column("due_at", Timestamp, nullable=False, index=True),
    # Seconds between the last two polls; 0 before the first. Doubles while nothing changes.
    Column("every", Integer, nullable=False, server_default="0"),
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
    # Why the panel paused it (a post the balance could not pay for); NULL otherwise.
    Column("pause_reason", Text, nullable=True),
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
    Column("upstream_refill_id", String(64), nullable=True),
    Column("forward_state", String(20), nullable=True),
    Column("next_action_at", Timestamp, nullable=True),
    Column("last_error", Text, nullable=True),
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
    Column("forward_state", String(20), nullable=True),
    Column("next_action_at", Timestamp, nullable=True),
    Column("last_error", Text, nullable=True),
)

# What the operator's dashboard reads rather than counting every order at each view
# (orders/figures.py). The orders per status as the worker last counted them: each
# count is a snapshot of rows sharing its `counted_at`, written whole, never updated, so two
# counts at once cannot collide; the newest is read.
order_status_counts = Table(
    "order_status_counts",
    metadata,
    Column("counted_at", Timestamp, primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("orders", BigInteger, nullable=False),
)

# Each customer's orders per status (orders/counts.py): triggers on `orders` add a change row
# for every order placed, deleted or moved to another status (migration 0029), and the worker
# folds the changes into the counts. A customer's count is the sum of both tables' rows.
customer_order_counts = Table(
    "customer_order_counts",
    metadata,
    Column("customer_id", BigId, primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("orders", BigInteger, nullable=False),
)

customer_order_count_changes = Table(
    "customer_order_count_changes",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("change", Integer, nullable=False),
)

# The figures of each day before yesterday (UTC dates), written once: what is counted on a day
# (orders placed, money moved) no longer changes once it is over.
daily_figures = Table(
    "daily_figures",
    metadata,
    Column("day", Date, primary_key=True),
    Column("orders", BigInteger, nullable=False),
    Column("revenue", BigInteger, nullable=False),
    Column("profit", BigInteger, nullable=False),
    Column("deposits", BigInteger, nullable=False),
)
