"""The database: one engine per process, transactions owned by the caller."""

from smmpanel.db.base import metadata, utcnow
from smmpanel.db.engine import Database, is_unique_violation

__all__ = ["Database", "is_unique_violation", "metadata", "utcnow"]
