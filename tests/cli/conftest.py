"""The command line under test: the real `smmpanel` script in a subprocess, on each backend."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import harness
import pytest
import pytest_asyncio
from cli_runner import Cli


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # An empty working directory: no stray .env file changes the settings.
    return tmp_path_factory.mktemp("cli-home")


@pytest.fixture(scope="session")
def cli(database_url: str, cli_home: Path) -> Cli:
    """`smmpanel` on the session's database (the one the `api` panel serves)."""
    return Cli(database_url, cli_home)


@pytest_asyncio.fixture
async def fresh_cli(
    backend: str, tmp_path: Path, cli_home: Path
) -> AsyncIterator[Callable[[], Awaitable[Cli]]]:
    """Makes `smmpanel` runners on new, empty, migrated databases of the backend."""
    urls: list[str] = []

    async def make() -> Cli:
        urls.append(await harness.migrated(backend, tmp_path))
        return Cli(urls[-1], cli_home)

    yield make
    if backend == "postgresql":
        for url in urls:
            await harness.drop_postgres_database(url)


@pytest.fixture
def new_order(api) -> Callable[..., Awaitable[int]]:  # type: ignore[no-untyped-def]
    """Place an order through the API; its id."""

    async def place(key: str, service: int, quantity: int) -> int:
        reply = await api.call(
            key=key, action="add", service=service, link=new_link(), quantity=quantity
        )
        assert reply.get("status") == "success", reply
        return reply["order"]

    return place


def new_link() -> str:
    return f"https://instagram.com/p/{os.urandom(6).hex()}"
