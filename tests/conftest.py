"""The fixtures every test shares; the harness they build on is in harness.py."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from harness import (
    BACKENDS,
    ApiClient,
    PanelProcess,
    Shop,
    drop_postgres_database,
    migrated,
)

from smmpanel.db import Database


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest_asyncio.fixture(scope="session")
async def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    url = await migrated(backend, tmp_path_factory.mktemp(backend))
    yield url
    if backend == "postgresql":
        await drop_postgres_database(url)


@pytest_asyncio.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=4)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def panel(database_url: str) -> Iterator[PanelProcess]:
    process = PanelProcess(database_url)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def shop(db: Database) -> Shop:
    return Shop(db)


@pytest_asyncio.fixture(scope="session")
async def api(panel: PanelProcess) -> AsyncIterator[ApiClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield ApiClient(panel, client)
