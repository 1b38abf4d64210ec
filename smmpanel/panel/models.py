"""Panel-wide settings: one row; and the exchange rates the operator sets."""

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Integer, String, Table, Text

from smmpanel.db.base import Timestamp, metadata

panel_settings = Table(
    "panel_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, server_default="SMM Panel"),
    Column("currency", String(3), nullable=False, server_default="USD"),
    Column("payment_instructions", Text, nullable=False, server_default=""),
    Column("default_language", String(10), nullable=False, server_default="en"),
    # Bumped by every catalogue or price change; API processes key their services cache on it.
    Column("catalog_version", Integer, nullable=False, server_default="1"),
    # The owner's rule: every operator signs in with two-factor sign-in (TOTP), set up first.
    Column("operators_need_two_factor", Boolean, nullable=False, server_default="0"),
    # The IANA zone times are shown in to whoever has not chosen their own.
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
)

# What one unit of another currency is worth in the panel's, as the operator sets it: rate is
# millionths of the panel's currency per unit (TWD panel, USD at 31.5: 31_500_000).
exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("rate", BigInteger, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("rate > 0", name="rate_positive"),
)
