"""Categories, services and per-customer prices. Rates are millionths per 1000 units."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from smmpanel.db.base import BigId, Timestamp, metadata

FULFIL_MANUAL = "manual"
FULFIL_PROVIDER = "provider"

categories = Table(
    "categories",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("position", Integer, nullable=False, server_default="0"),
)

services = Table(
    "services",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("category_id", BigId, ForeignKey("categories.id"), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("type", String(40), nullable=False),
    Column("rate", BigInteger, nullable=False),
    Column("min_quantity", Integer, nullable=False),
    Column("max_quantity", Integer, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    # Shown instead of name and description on pages in Traditional Chinese, when not empty.
    Column("name_zh_tw", String(300), nullable=True),
    Column("description_zh_tw", Text, nullable=True),
    Column("dripfeed", Boolean, nullable=False, server_default="0"),
    Column("refill", Boolean, nullable=False, server_default="0"),
    Column("cancel", Boolean, nullable=False, server_default="0"),
    Column("refill_days", Integer, nullable=False, server_default="30"),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("fulfilment", String(20), nullable=False, server_default=FULFIL_MANUAL),
    Column("provider_id", BigId, ForeignKey("providers.id"), nullable=True),
    Column("provider_service_id", String(50), nullable=True),
    # The upstream's own rate per 1000 (millionths), as it lists it: in the provider's currency.
    Column("upstream_rate", BigInteger, nullable=True),
    # Whether the upstream runs drip-feed itself; if not, runs become child orders here.
    Column("upstream_dripfeed", Boolean, nullable=False, server_default="0"),
    Column("fallback_provider_id", BigId, ForeignKey("providers.id"), nullable=True),
    Column("fallback_provider_service_id", String(50), nullable=True),
    # Deleted by the operator: off offer and out of the lists, kept for the orders that name it.
    Column("deleted_at", Timestamp, nullable=True),
    CheckConstraint("rate > 0", name="rate_positive"),
    CheckConstraint("min_quantity >= 1 AND max_quantity >= min_quantity", name="limits_valid"),
    CheckConstraint("fulfilment IN ('manual', 'provider')", name="fulfilment_known"),
    # One of our services per upstream service: imports and syncs update it, never add another.
    UniqueConstraint("provider_id", "provider_service_id"),
)

customer_prices = Table(
    "customer_prices",
    metadata,
    Column("customer_id", BigId, ForeignKey("customers.id"), primary_key=True),
    Column("service_id", BigId, ForeignKey("services.id"), primary_key=True),
    Column("rate", BigInteger, nullable=False),
    CheckConstraint("rate > 0", name="rate_positive"),
)
