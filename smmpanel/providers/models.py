"""Upstream providers: other panels speaking API v2 that our services forward to."""

from sqlalchemy import Boolean, Column, Integer, String, Table

from smmpanel.db.base import BigId, Timestamp, metadata

providers = Table(
    "providers",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("api_url", String(500), nullable=False),
    Column("api_key", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("timeout_seconds", Integer, nullable=False, server_default="30"),
    Column("created_at", Timestamp, nullable=False),
)
