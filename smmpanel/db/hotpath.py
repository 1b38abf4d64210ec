"""Read-only look-ups for the API's hottest paths, below SQLAlchemy.

Measured on the 2-core machine: authenticating through SQLAlchemy Core cost ~750 µs of CPU on
PostgreSQL and ~1,900 µs on SQLite (greenlet and thread hops); the same statement on the
driver costs ~330 µs and, on SQLite read in-line, a few dozen. Only small read-only statements
of the API belong here; everything that writes goes through SQLAlchemy and `Database`.
Statements are written with `?` placeholders.
"""

import asyncio
import re
import sqlite3
from typing import TYPE_CHECKING, Any

from sqlalchemy import make_url

if TYPE_CHECKING:  # imported where a pool opens: a process on SQLite never needs asyncpg
    import asyncpg

_PLACEHOLDER = re.compile(r"\?")

# The statements, each with its caller. `{among}` takes `HotReader.among`'s condition.
# accounts.service.authenticate: the active customer holding an unrevoked key.
AUTHENTICATE_SQL = (
    "SELECT c.id, c.balance, k.id, k.last_used_at FROM api_keys k"
    " JOIN customers c ON c.id = k.customer_id"
    " WHERE k.key_hash = ? AND k.revoked_at IS NULL AND c.status = 'active'"
)
# api_v2.actions (services): the catalogue's version, and whether the caller has own prices.
CATALOG_STATE_SQL = (
    "SELECT catalog_version,"
    " EXISTS (SELECT 1 FROM customer_prices WHERE customer_id = ?) FROM panel_settings"
)
# orders.queries: the caller's orders among some ids, and the children of some orders.
STATUS_SQL = (
    "SELECT o.id, o.status, o.charge, o.start_count, o.remains, o.runs, o.type,"
    " s.posts_delivered FROM orders o LEFT JOIN subscriptions s ON s.order_id = o.id"
    " WHERE o.customer_id = ? AND {among}"
)
CHILDREN_SQL = "SELECT parent_id, id FROM orders WHERE {among} ORDER BY id"


def _numbered(sql: str) -> str:
    counter = iter(range(1, 1000))
    return _PLACEHOLDER.sub(lambda _match: f"${next(counter)}", sql)


class HotReader:
    """Runs a read-only one-row statement as cheaply as the database allows: in-line on
    SQLite, through a small asyncpg pool of its own (autocommit reads) on PostgreSQL."""

    def __init__(self, url: str, pool_size: int) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # SQLite's file, or the DSN of the asyncpg pool.
        self._address = (
            parsed.database or ""
            if self.is_sqlite
            else parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._pool_size = pool_size
        self._sqlite: sqlite3.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._pool_opening = asyncio.Lock()
        self._postgres_sql: dict[str, str] = {}

    def among(self, column: str, ids: list[int]) -> tuple[str, list]:
        """`column` among `ids`: the SQL and its parameters (one array on PostgreSQL)."""
        if self.is_sqlite:
            return f"{column} IN ({', '.join('?' * len(ids))})", list(ids)
        return f"{column} = ANY(?)", [list(ids)]

    async def fetch_one(self, sql: str, *params: Any) -> tuple | None:
        rows = await self.fetch_all(sql, *params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, *params: Any) -> list[tuple]:
        if self.is_sqlite:
            return self._sqlite_fetch_all(sql, params)
        numbered = self._postgres_sql.get(sql) or self._postgres_sql.setdefault(sql, _numbered(sql))
        pool = self._pool or await self._open_pool()
        return [tuple(row) for row in await pool.fetch(numbered, *params)]

    async def _open_pool(self) -> "asyncpg.Pool":
        import asyncpg

        async with self._pool_opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._address, min_size=1, max_size=self._pool_size
                )
        return self._pool

    def _sqlite_fetch_all(self, sql: str, params: tuple) -> list[tuple]:
        # A WAL reader never waits for writers, so reading in-line does not stall the loop.
        if self._sqlite is None:
            self._sqlite = sqlite3.connect(self._address, isolation_level=None)
            self._sqlite.execute("PRAGMA query_only = ON")
        return self._sqlite.execute(sql, params).fetchall()

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
