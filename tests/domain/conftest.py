"""Domain tests: the domain functions called directly, in a transaction rolled back per test.

No server process, no browser: each test gets `conn`, an AsyncConnection on a migrated database
kept for the domain tests of this session (a SQLite file, and a PostgreSQL database where one
answers, as for the rest of the suite), in a transaction rolled back after the test. So a test
sees only its own rows, and `books.check()` (the audit) checks exactly the books it wrote.
Helpers to set up customers, services and orders are in domain_helpers.py.
"""

from collections.abc import AsyncIterator

import harness
import pytest
import pytest_asyncio
from domain_helpers import Books
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.db import Database


@pytest_asyncio.fixture(scope="session")
async def domain_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A migrated database for the domain tests only, which never commit to it."""
    url = await harness.migrated(backend, tmp_path_factory.mktemp(f"domain-{backend}"))
    database = Database(url, pool_size=1)
    try:
        yield database
        async with database.read() as check:
            left = await check.scalar(select(func.count()).select_from(customers))
        assert left == 0, f"{left} customers committed by domain tests: they must roll back"
    finally:
        await database.dispose()
        if backend == "postgresql":
            await harness.drop_postgres_database(url)


@pytest_asyncio.fixture
async def conn(domain_db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction (BEGIN IMMEDIATE on SQLite, as `Database.write` does),
    rolled back after the test whatever it did."""
    async with domain_db.engine.connect() as connection:
        await connection.execution_options(immediate=True)
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def books(conn: AsyncConnection) -> Books:
    return Books(conn)
