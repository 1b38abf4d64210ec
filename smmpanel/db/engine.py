"""Engine set-up for SQLite (WAL, one writer at a time) and PostgreSQL."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Connection, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from smmpanel.config import async_database_url
from smmpanel.db.hotpath import HotReader
from smmpanel.db.placing import OrderPlacing
from smmpanel.errors import DomainError

SQLITE_BUSY_TIMEOUT_MS = 30_000
# As long as SQLAlchemy's pool lets a request wait for a connection (its pool_timeout).
CONNECTION_WAIT_SECONDS = 30
# The API's hot path (its reads and placed orders) has half as many connections as the pool.
# With a quarter (2 at the default size), 32 clients' `status` requests queued for them: 0.48 x
# the bare app at 173 µs of CPU a reply, 0.58 x at 144 µs with half, and `add` 1,409 orders/s,
# then 1,589 (bench/api.py, PostgreSQL). With as many as the pool, `add` fell to 1,312.
HOT_READ_SHARE = 2
# PostgreSQL's SQLSTATE for a connection refused because the server, the role or the database
# has as many as it allows ("sorry, too many clients already", "too many connections for ...").
TOO_MANY_CONNECTIONS = "53300"


def hot_pool_size(pool_size: int) -> int:
    return max(1, pool_size // HOT_READ_SHARE)


class DatabaseRefusedConnection(DomainError):
    """The database turned a new connection away for having too many: not a bug, a budget.
    The API answers its temporary error, the pages their error page, the CLI this message."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the database refused a connection (too many clients): {reason}. Close idle"
            " connections or wait for other programs to finish; lower SMMPANEL_DB_POOL_SIZE or"
            " raise PostgreSQL's max_connections so that processes x connections per process"
            " fit (docs/deploy.md, Database connections)"
        )


def refused_connection(error: BaseException) -> DatabaseRefusedConnection | None:
    """The refusal an error means, if it (or what caused it) is PostgreSQL's "too many"."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) == TOO_MANY_CONNECTIONS:
            return DatabaseRefusedConnection(str(seen))
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


class Database:
    """Hands out connections in a transaction: `write()` for changes, `read()` for look-ups."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = async_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.engine = _create_engine(self.url, pool_size)
        self._connection_turns = ConnectionTurns(pool_size + _overflow(self.url, pool_size))
        # PostgreSQL reads need no transaction: skip BEGIN/ROLLBACK round trips.
        self._read_engine: AsyncEngine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.hot = HotReader(self.url, hot_pool_size(pool_size))
        # SQLite has one writer at a time: waiting here in turn is cheaper than in SQLite's
        # busy handler, which sleeps and retries (measured: p99 of add 2-3.8 s under load).
        sqlite_writer_turn = asyncio.Lock() if self.is_sqlite else None
        self._writer_turn = sqlite_writer_turn or contextlib.nullcontext()
        self.placing = OrderPlacing(self.url, self.hot, sqlite_writer_turn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self._writer_turn, self._in_turn(self.engine) as conn:
            await conn.execution_options(immediate=True)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._in_turn(self._read_engine) as conn:
            yield conn

    @asynccontextmanager
    async def _in_turn(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        async with self._connection_turns.turn(), _connected(engine) as conn:
            yield conn

    async def dispose(self) -> None:
        self.placing.close()
        await self.hot.close()
        await self.engine.dispose()


class ConnectionTurns:
    """Requests take the pool's connections in the order they asked for them.

    SQLAlchemy's pool hands a returned connection to whichever request asks next, before those
    already waiting, which then wait again at the back: a page's p99 was 500 to 770 ms at a p50
    of 150 ms under 32 clients (bench/pages.py, PostgreSQL), 210 to 230 ms once turns were kept.
    """

    def __init__(self, connections: int) -> None:
        self._free = asyncio.Semaphore(connections)  # wakes its waiters first come, first served

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._free.locked():
            await self._wait_for_one()
        else:
            await self._free.acquire()  # one is free: taken at once, no timer set
        try:
            yield
        finally:
            self._free.release()

    async def _wait_for_one(self) -> None:
        try:
            async with asyncio.timeout(CONNECTION_WAIT_SECONDS):
                await self._free.acquire()
        except TimeoutError:
            raise PoolTimeout(
                f"no database connection free after {CONNECTION_WAIT_SECONDS} s"
            ) from None


@asynccontextmanager
async def _connected(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection from the pool; a refusal for too many clients is told as such."""
    try:
        async with engine.connect() as conn:
            yield conn
    except DBAPIError as error:
        refused = refused_connection(error)
        if refused is None:
            raise
        raise refused from error


def _overflow(url: str, pool_size: int) -> int:
    """Connections the pool opens past its size when all are lent (and closes when returned)."""
    return pool_size if url.startswith("sqlite") else 0


def _create_engine(url: str, pool_size: int) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=_overflow(url, pool_size),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    # No overflow: PostgreSQL refuses clients past max_connections (100 by default), where a
    # full pool makes a request wait its turn. A process opens at most `pool_size` connections
    # for transactions plus `hot_pool_size(pool_size)` for the hot-path reads.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=_overflow(url, pool_size), pool_pre_ping=False
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: DBAPIConnection, _record: object) -> None:
        # Take transaction control from the driver so writers can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        # A writer takes the lock up front: a deferred transaction that later writes
        # fails at once with "database is locked" instead of waiting its turn.
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_unique_violation(error: IntegrityError) -> bool:
    text = str(error.orig).lower()
    return "unique" in text or "duplicate key" in text
