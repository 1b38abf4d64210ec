"""Placing an order below SQLAlchemy: the API's busiest write.

Measured on the 2-core machine with `bench/api.py`: through SQLAlchemy an order took five
statements and 3,500 µs (PostgreSQL) to 7,000 µs (SQLite) of the panel's CPU. Here:
- PostgreSQL: one statement in autocommit (a data-modifying CTE) takes the charge from the
  balance if it covers it, stores the order and the ledger row naming it; the balance row is
  locked for that statement and its commit only.
- SQLite: one short write transaction run in-line on a connection of its own (no thread hops),
  taken only when the write lock is free at once. When it is not, `WriteLockBusy` tells the
  caller to place the order the ordinary way, waiting its turn.
Either way the order, the debit and its ledger row commit together or not at all, as
`accounts.service.debit` would write them.
"""

import asyncio
import sqlite3
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import make_url

from smmpanel.db.hotpath import HotReader

# orders.placement: the enabled service, the customer's own rate for it if any, and their
# discount on the list rate.
ORDERABLE_SQL = (
    "SELECT s.id, s.type, p.rate, s.rate, s.min_quantity, s.max_quantity, s.dripfeed,"
    " s.refill, s.cancel, s.refill_days, s.fulfilment, s.provider_id, s.upstream_dripfeed,"
    " c.discount_bp FROM customers c JOIN services s ON c.id = ? AND s.id = ?"
    " LEFT JOIN customer_prices p ON p.customer_id = c.id AND p.service_id = s.id"
    " WHERE s.enabled"
)
# orders.placement: the order an idempotency key already placed.
IDEMPOTENT_ORDER_SQL = "SELECT id FROM orders WHERE customer_id = ? AND idempotency_key = ?"
_DEBIT_SQL = "UPDATE customers SET balance = balance - ? WHERE id = ? AND balance >= ?"
_LEDGER_COLUMNS = '"customer_id", "amount", "kind", "reason", "order_id", "cause", "created_at"'
_SQLITE_LEDGER_SQL = (
    f"INSERT INTO ledger_entries ({_LEDGER_COLUMNS}) VALUES (?, ?, 'charge', ?, ?, 'charge', ?)"
)
# SQLAlchemy's text for SQLite timestamps (UTC, as the panel writes them): rows written here
# compare and sort with those written through it.
_SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"


class WriteLockBusy(Exception):
    """SQLite's write lock is taken: place the order the ordinary way."""


class DuplicateOrder(Exception):
    """A unique rule refused the order (an active link, an idempotency key): nothing changed."""


def charge_reason(order_id: int) -> str:
    return f"order {order_id}"


class OrderPlacing:
    """Stores an order and takes its charge in one statement or one in-line transaction."""

    def __init__(self, url: str, hot: HotReader, writer_turn: asyncio.Lock | None) -> None:
        self._hot = hot
        self._sqlite_file = (make_url(url).database or "") if hot.is_sqlite else ""
        self._sqlite: sqlite3.Connection | None = None
        # The turn the process's other SQLite writers take: held, the lock is surely busy.
        self._writer_turn = writer_turn
        self._sql: dict[tuple[str, ...], str] = {}

    async def place(self, customer_id: int, charge: int, order: Mapping[str, Any]) -> int | None:
        """The new order's id, or None when the balance does not cover `charge`. Raises
        DuplicateOrder, or WriteLockBusy (SQLite)."""
        if self._hot.is_sqlite:
            return self._place_on_sqlite(customer_id, charge, order)
        try:
            rows = await self._hot.fetch_all(
                self._statement(tuple(order)), charge, customer_id, charge, *order.values()
            )
        except Exception as error:
            if getattr(error, "sqlstate", None) == "23505":  # unique_violation
                raise DuplicateOrder from error
            raise
        return rows[0][0] if rows else None

    def _statement(self, columns: tuple[str, ...]) -> str:
        if columns not in self._sql:
            self._sql[columns] = (
                f"WITH debited AS ({_DEBIT_SQL} RETURNING id),"
                f" placed AS (INSERT INTO orders ({_quoted(columns)})"
                f" SELECT {', '.join('?' * len(columns))} FROM debited"
                " RETURNING id, customer_id, charge, created_at),"
                f" charged AS (INSERT INTO ledger_entries ({_LEDGER_COLUMNS})"
                # The reason as `charge_reason` writes it.
                " SELECT customer_id, -charge, 'charge', 'order ' || id, id, 'charge', created_at"
                " FROM placed)"
                " SELECT id FROM placed"
            )
        return self._sql[columns]

    def _place_on_sqlite(
        self, customer_id: int, charge: int, order: Mapping[str, Any]
    ) -> int | None:
        if self._writer_turn is not None and self._writer_turn.locked():
            raise WriteLockBusy
        conn = self._sqlite_writer()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise WriteLockBusy from error
        try:
            return self._insert_then_debit(conn, customer_id, charge, order)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def _insert_then_debit(
        self, conn: sqlite3.Connection, customer_id: int, charge: int, order: Mapping[str, Any]
    ) -> int | None:
        columns = tuple(order)
        values = [_sqlite_value(value) for value in order.values()]
        insert = (
            f"INSERT INTO orders ({_quoted(columns)})"
            f" VALUES ({', '.join('?' * len(columns))}) RETURNING id"
        )
        try:
            (order_id,) = conn.execute(insert, values).fetchone()
        except sqlite3.IntegrityError as error:
            raise DuplicateOrder from error
        if conn.execute(_DEBIT_SQL, (charge, customer_id, charge)).rowcount != 1:
            return None
        created_at = _sqlite_value(order["created_at"])
        ledger_row = (customer_id, -charge, charge_reason(order_id), order_id, created_at)
        conn.execute(_SQLITE_LEDGER_SQL, ledger_row)
        conn.execute("COMMIT")
        return int(order_id)

    def _sqlite_writer(self) -> sqlite3.Connection:
        if self._sqlite is None:
            conn = sqlite3.connect(self._sqlite_file, isolation_level=None, timeout=0)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._sqlite = conn
        return self._sqlite

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None


def _quoted(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(_SQLITE_TIMESTAMP)
    if isinstance(value, date):
        return value.isoformat()
    return value
