"""Catalogue tests: a fake upstream panel in its own process, a client, providers pointing at it.

Fixture names start with `catalog_` or `provider_`: the forwarding tests of this folder load
their own fixtures (forwarding_fixtures.py), and the names must not meet.
"""

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import harness
import httpx
import pytest
import pytest_asyncio
from catalog_samples import free_port, new_provider
from cli_runner import Cli

from smmpanel.db import Database
from smmpanel.providers.client import UpstreamClient, upstream_session

FAKE_UPSTREAM = Path(__file__).resolve().parents[1] / "fakes" / "upstream.py"
CALM = {
    "add": "ok",
    "status": "ok",
    "refill": "ok",
    "cancel": "ok",
    "modes": {"services": "ok", "balance": "ok"},
    "delay": 0,
    "balance": "1000.00",
    "services": [],
}


@dataclass(frozen=True)
class CatalogUpstream:
    url: str

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v2"

    def control(self, **settings: object) -> None:
        httpx.post(f"{self.url}/_control", json=settings, timeout=5).raise_for_status()

    def offer(self, services: list) -> None:
        self.control(services=services)


def _wait_until_ready(process: subprocess.Popen, url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the fake upstream exited with {process.returncode}")
        try:
            httpx.get(f"{url}/_state", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the fake upstream did not start in time")


@pytest.fixture(scope="session")
def catalog_upstream_process() -> Iterator[CatalogUpstream]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(FAKE_UPSTREAM), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, url)
        yield CatalogUpstream(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def catalog_upstream(catalog_upstream_process: CatalogUpstream) -> CatalogUpstream:
    """The fake upstream, behaving, with an empty catalogue."""
    catalog_upstream_process.control(**CALM)
    return catalog_upstream_process


@pytest_asyncio.fixture(scope="session")
async def catalog_client() -> AsyncIterator[UpstreamClient]:
    async with upstream_session() as http:
        yield UpstreamClient(http)


@pytest_asyncio.fixture
async def catalog_provider(db: Database, catalog_upstream: CatalogUpstream) -> int:
    """A provider with the right key at the fake upstream."""
    return await new_provider(db, catalog_upstream.api_url)


@pytest_asyncio.fixture
async def provider_fresh_cli(backend: str, tmp_path: Path) -> AsyncIterator[Cli]:
    """`smmpanel` on a new, empty, migrated database of the backend: `--all` sees only its own."""
    url = await harness.migrated(backend, tmp_path)
    yield Cli(url, tmp_path)
    if backend == "postgresql":
        await harness.drop_postgres_database(url)


@pytest_asyncio.fixture
async def provider_fresh_db(backend: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A new, empty, migrated database of the backend: jobs over every provider see only ours."""
    url = await harness.migrated(backend, tmp_path)
    database = Database(url, pool_size=2)
    yield database
    await database.dispose()
    if backend == "postgresql":
        await harness.drop_postgres_database(url)
