"""Upstream providers: other panels speaking API v2 that our services forward to."""

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, Text

from smmpanel.db.base import BigId, Timestamp, metadata

DEFAULT_TIMEOUT_SECONDS = 30

providers = Table(
    "providers",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("api_url", String(500), nullable=False),
    Column("api_key", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("timeout_seconds", Integer, nullable=False, server_default=str(DEFAULT_TIMEOUT_SECONDS)),
    Column("created_at", Timestamp, nullable=False),
    # The price rule of imports and syncs, as JSON: percent, fixed, decimals, floor.
    Column("price_rule", Text, nullable=False, server_default="{}"),
    Column("sync_hours", Integer, nullable=False, server_default="6"),
    Column("synced_at", Timestamp, nullable=True),
    Column("sent_count", BigInteger, nullable=False, server_default="0"),
    Column("rejected_count", BigInteger, nullable=False, server_default="0"),
    Column("in_doubt_count", BigInteger, nullable=False, server_default="0"),
    Column("polled_count", BigInteger, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", Timestamp, nullable=True),
    Column("last_success_at", Timestamp, nullable=True),
    # Set when the upstream says it is short of funds: sending waits until then.
    Column("paused_until", Timestamp, nullable=True),
    Column("balance", BigInteger, nullable=True),
    Column("balance_currency", String(3), nullable=True),
    Column("balance_checked_at", Timestamp, nullable=True),
    # An alert goes out (once a day) while the balance is below this; NULL: no threshold.
    Column("balance_alert_below", BigInteger, nullable=True),
    # Syncs and sends that failed since the last success; at FAILURES_TO_ALERT an alert goes out.
    Column("failures_in_a_row", Integer, nullable=False, server_default="0"),
    # Archived: disabled and out of the list, kept for the orders that name it.
    Column("archived_at", Timestamp, nullable=True),
)

# What a catalogue sync changed, for the operator to read.
service_changes = Table(
    "service_changes",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("service_id", BigId, ForeignKey("services.id"), nullable=False, index=True),
    Column("provider_id", BigId, ForeignKey("providers.id"), nullable=False, index=True),
    Column("field", String(40), nullable=False),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
)
