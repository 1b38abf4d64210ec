"""Read-only look-ups for the API's hottest paths, below SQLAlchemy.

Measured on the 2-core machine: authenticating through SQLAlchemy Core cost ~750 µs of CPU on
PostgreSQL and ~1,900 µs on SQLite (greenlet and thread hops); the same statement on the
driver costs ~330 µs and, on SQLite read in-line, a few dozen. Only small read-only statements
of the API belong here; the one write that runs through `HotReader` is the placing of an
order (`db/placing.py`), one autocommit statement on PostgreSQL. Statements are written with
`?` placeholders.
"""

import asyncio
import re
import sqlite3
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import make_url

if TYPE_CHECKING:  # imported where a pool opens: a process on SQLite never needs asyncpg
    import asyncpg

_PLACEHOLDER = re.compile(r"\?")

# The statements, each with its caller. `{among}` takes `HotReader.among`'s condition.
# accounts.service.authenticate: the active customer holding an unrevoked key. Its columns come
# first in each statement that checks a key; the read actions' statements add their own after
# them, so that the key and what the action reads take one statement, one round trip.
CALLER_COLUMNS = "c.id, c.balance, k.id, k.last_used_at"
_KEY_HOLDER = " FROM api_keys k JOIN customers c ON c.id = k.customer_id"
_KEY_CHECK = " WHERE k.key_hash = ? AND k.revoked_at IS NULL AND c.status = 'active'"
AUTHENTICATE_SQL = "SELECT " + CALLER_COLUMNS + _KEY_HOLDER + _KEY_CHECK
# api_v2.actions (services): the catalogue's version, and whether the caller has rates of their
# own (own prices or a discount).
CALLER_CATALOG_STATE_SQL = (
    "SELECT " + CALLER_COLUMNS + ", (SELECT catalog_version FROM panel_settings),"
    " c.discount_bp <> 0 OR EXISTS (SELECT 1 FROM customer_prices p WHERE p.customer_id = c.id)"
    + _KEY_HOLDER
    + _KEY_CHECK
)
# api_v2.actions (status): the caller's orders among some ids, one row each, or one row of
# NULLs when none is theirs. `+o.customer_id` keeps SQLite on the primary key (one look-up per
# id, not two through the (customer_id, id) index: a fifth less time for 100 ids, measured);
# PostgreSQL does so anyway.
_STATUS_COLUMNS = (
    ", o.id, o.status, o.charge, o.start_count, o.remains, o.runs, o.type, s.posts_delivered"
)
_CALLERS_ORDERS = (
    " LEFT JOIN orders o ON +o.customer_id = c.id AND {among}"
    " LEFT JOIN subscriptions s ON s.order_id = o.id"
)
CALLER_STATUS_SQL = (
    "SELECT " + CALLER_COLUMNS + _STATUS_COLUMNS + _KEY_HOLDER + _CALLERS_ORDERS + _KEY_CHECK
)
# PostgreSQL: the same with the children of drip-feed orders and subscriptions as a last
# column (SQLite, read in-line, runs CHILDREN_SQL for those instead).
CALLER_STATUS_WITH_CHILDREN_SQL = CALLER_STATUS_SQL.replace(
    _STATUS_COLUMNS,
    _STATUS_COLUMNS + ", CASE WHEN o.runs <> 0 OR s.posts_delivered IS NOT NULL"
    " THEN ARRAY(SELECT ch.id FROM orders ch WHERE ch.parent_id = o.id ORDER BY ch.id) END",
    1,
)
CHILDREN_SQL = "SELECT parent_id, id FROM orders WHERE {among} ORDER BY id"
# A statement that checks one key (`HotReader.fetch_by_key`), as it reads for many keys at once
# on PostgreSQL: each row ends with the key's digest.
_MANY_KEYS_CHECK = _KEY_CHECK.replace("k.key_hash = ?", "k.key_hash = ANY(?)")
# Where the caller's columns end in a row, and the status statement's order id is.
_CALLER_WIDTH = CALLER_COLUMNS.count(",") + 1
# Look-ups asked for in one turn of the event loop beyond this go in a statement of their own.
MAX_KEYS_PER_STATEMENT = 500


def for_many_keys(sql: str) -> str:
    """`sql`, which checks one key and takes no other value, checking any of an array of them."""
    columns, _, rest = sql.partition(_KEY_HOLDER)
    if not rest.endswith(_KEY_CHECK) or "?" in columns + rest[: -len(_KEY_CHECK)]:
        raise ValueError(f"not a statement that checks one key and takes no other value: {sql}")
    return columns + ", k.key_hash" + _KEY_HOLDER + rest[: -len(_KEY_CHECK)] + _MANY_KEYS_CHECK


def _numbered(sql: str) -> str:
    counter = iter(range(1, 1000))
    return _PLACEHOLDER.sub(lambda _match: f"${next(counter)}", sql)


class HotReader:
    """Runs a read-only one-row statement as cheaply as the database allows: in-line on
    SQLite, through a few asyncpg connections of its own (autocommit reads) on PostgreSQL."""

    def __init__(self, url: str, pool_size: int) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # SQLite's file, or the DSN of the asyncpg connections.
        self._address = (
            parsed.database or ""
            if self.is_sqlite
            else parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._sqlite: sqlite3.Connection | None = None
        self._postgres = None if self.is_sqlite else Connections(self._address, pool_size)
        self._postgres_sql: dict[str, str] = {}
        self._key_lookups = None if self._postgres is None else KeyLookups(self._postgres)

    def among(self, column: str, ids: list[int]) -> tuple[str, list]:
        """`column` among `ids`: the SQL and its parameters (one array on PostgreSQL)."""
        if self.is_sqlite:
            return f"{column} IN ({', '.join('?' * len(ids))})", list(ids)
        return f"{column} = ANY(?)", [list(ids)]

    async def fetch_one(self, sql: str, *params: Any) -> tuple | None:
        rows = await self.fetch_all(sql, *params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, *params: Any) -> list[tuple]:
        if self._postgres is None:
            return self._sqlite_fetch_all(sql, params)
        numbered = self._postgres_sql.get(sql) or self._postgres_sql.setdefault(sql, _numbered(sql))
        return [tuple(row) for row in await self._postgres.fetch(numbered, params)]

    async def fetch_by_key(self, sql: str, key_digest: str, *params: Any) -> list[tuple]:
        """The rows of a statement that checks a key, its digest the last value (as in
        `AUTHENTICATE_SQL`) after `params`: on PostgreSQL nothing, or the status statement's
        one array of order ids. There, the look-ups of every request that asks in the same
        turn of the event loop are one statement (`KeyLookups`)."""
        if self._key_lookups is None:
            return self._sqlite_fetch_all(sql, (*params, key_digest))
        return await self._key_lookups.fetch(sql, key_digest, params[0] if params else None)

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
        if self._postgres is not None:
            await self._postgres.close()


Asked = tuple[str, "list[int] | None", "asyncio.Future[list[tuple]]"]
# What shares a statement: a statement's look-ups, or a status statement's for one key.
Batch = str | tuple[str, str]


class KeyLookups:
    """Key look-ups asked for in the same turn of the event loop, sent to PostgreSQL as one
    statement for all their digests once the turn ends, each request then given its own rows.
    A status look-up shares its statement with the same key's only (a reseller's burst): it
    reads the orders among all the ids asked for, and each request gets those among its own
    (or the one row of NULLs the statement gives for none); other keys' ids would multiply the
    orders each key is looked up among. Every request still reads its key as it stands when it
    asks (nothing is kept): a round trip and a statement on the server are shared instead of
    paid by each. Measured with bench/api.py (32 clients, about ten look-ups a statement): a
    `services` reply 249 -> 182 µs of the panel's CPU, 0.64 -> 0.89 x the bare app's rate."""

    def __init__(self, connections: "Connections") -> None:
        self._connections = connections
        self._asked: dict[Batch, list[Asked]] = {}
        self._statements: dict[str, str] = {}
        self._sending: set[asyncio.Task[None]] = set()  # held: the loop keeps tasks weakly

    async def fetch(self, sql: str, key_digest: str, order_ids: list[int] | None) -> list[tuple]:
        loop = asyncio.get_running_loop()
        batch = sql if order_ids is None else (sql, key_digest)
        asked = self._asked.get(batch)
        if asked is not None and len(asked) >= MAX_KEYS_PER_STATEMENT:
            self._send(batch)
            asked = None
        if asked is None:
            asked = self._asked[batch] = []
            loop.call_soon(self._send, batch)
        answer: asyncio.Future[list[tuple]] = loop.create_future()
        asked.append((key_digest, order_ids, answer))
        return await answer

    def _send(self, batch: Batch) -> None:
        asked = self._asked.pop(batch, None)
        if asked:  # None: an earlier call sent it, full
            task = asyncio.get_running_loop().create_task(self._answer(batch, asked))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _answer(self, batch: Batch, asked: list[Asked]) -> None:
        try:
            by_digest = await self._read(batch, asked)
        except asyncio.CancelledError:
            for _, _, answer in asked:
                answer.cancel()
            raise
        except Exception as failure:
            for _, _, answer in asked:
                if not answer.done():
                    answer.set_exception(failure)
            return
        for digest, ids, answer in asked:
            if not answer.done():  # not cancelled: its request is still waiting
                found = by_digest.get(digest, [])
                answer.set_result(found if ids is None or not found else _among(found, ids))

    async def _read(self, batch: Batch, asked: list[Asked]) -> dict[str, list[tuple]]:
        """Each digest's rows."""
        if isinstance(batch, tuple):  # one key's status look-ups
            sql, digest = batch
            ids = list({order_id for _, ids, _ in asked for order_id in ids or ()})
            rows = await self._connections.fetch(self._statement(sql, _numbered), (ids, digest))
            return {digest: [tuple(row) for row in rows]}
        many = self._statement(batch, lambda sql: _numbered(for_many_keys(sql)))
        rows = await self._connections.fetch(many, ([digest for digest, _, _ in asked],))
        by_digest: dict[str, list[tuple]] = {}
        for row in rows:
            by_digest.setdefault(row[-1], []).append(tuple(row)[:-1])
        return by_digest

    def _statement(self, sql: str, made: Callable[[str], str]) -> str:
        return self._statements.get(sql) or self._statements.setdefault(sql, made(sql))


def _among(rows: list[tuple], order_ids: list[int]) -> list[tuple]:
    """The status statement's rows of one key for these of the orders, or its row of NULLs."""
    wanted = set(order_ids)
    mine = [row for row in rows if row[_CALLER_WIDTH] in wanted]
    return mine or [rows[0][:_CALLER_WIDTH] + (None,) * (len(rows[0]) - _CALLER_WIDTH)]


# Every statement here finds its rows by a key, so one plan fits any parameters. Left to choose,
# PostgreSQL kept planning the key-checking statements again for every execution (custom plans):
# half a millisecond of the server's CPU for a `status` that then runs in a tenth of that
# (measured: 730 µs a `status` round trip, 220 µs with the generic plan).
_GENERIC_PLANS = {"plan_cache_mode": "force_generic_plan"}


class Connections:
    """At most `size` asyncpg connections, each lent for one autocommit statement.

    Cheaper than asyncpg's pool, measured with bench/api.py: its release sends a reset query
    (`RESET ALL`, `UNLISTEN *`...), one more round trip per statement. A single autocommit
    statement leaves no session state behind, so a connection goes back as it is; one that
    failed for any reason but the server refusing the statement (a lost connection, a
    cancelled request) is closed, and a new one opened in its place when needed.
    Each connection keeps asyncpg's cache of prepared statements: a statement is parsed once.
    """

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._size = size
        self._opened = 0
        self._idle: list[asyncpg.Connection] = []
        # Requests waiting for a connection: each is handed one, or None to open its own.
        self._waiting: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closed = False

    async def fetch(self, sql: str, params: tuple) -> list:
        import asyncpg

        conn = self._idle.pop() if self._idle else await self._acquire()
        try:
            rows = await conn.fetch(sql, *params)
        except asyncpg.PostgresError:  # the server refused the statement: the connection is fine
            self._release(conn)
            raise
        except BaseException:
            self._discard(conn)
            raise
        self._release(conn)
        return rows

    async def _acquire(self) -> "asyncpg.Connection":
        import asyncpg

        while True:
            if self._idle:
                return self._idle.pop()
            if self._opened < self._size:
                self._opened += 1
                try:
                    return await asyncpg.connect(self._dsn, server_settings=_GENERIC_PLANS)
                except BaseException:
                    self._opened -= 1
                    self._wake_one(None)
                    raise
            handed = asyncio.get_running_loop().create_future()
            self._waiting.append(handed)
            try:
                conn = await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():
                    self._pass_on(handed.result())  # handed one, but gone: pass it on
                raise
            if conn is not None:
                return conn

    def _release(self, conn: "asyncpg.Connection") -> None:
        if self._closed or conn.is_closed():
            self._discard(conn)
        else:
            self._pass_on(conn)

    def _pass_on(self, conn: "asyncpg.Connection | None") -> None:
        if not self._wake_one(conn) and conn is not None:
            self._idle.append(conn)

    def _wake_one(self, conn: "asyncpg.Connection | None") -> bool:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def _discard(self, conn: "asyncpg.Connection") -> None:
        conn.terminate()
        self._opened -= 1
        self._wake_one(None)  # a waiter may open one in its place

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._opened -= 1
            await conn.close()
