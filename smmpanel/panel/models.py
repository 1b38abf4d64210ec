"""Panel-wide settings: one row."""

from sqlalchemy import Column, Integer, String, Table, Text

from smmpanel.db.base import metadata

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
)
