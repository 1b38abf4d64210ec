"""The fixtures every test shares; the harness they build on is in harness.py."""

import subprocess
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from harness import (
    BACKENDS,
    ApiClient,
    PanelProcess,
    Shop,
    drop_postgres_database,
    drop_templates,
    migrated,
)

from smmpanel.db import Database

# Fixtures that start a process (a panel, the command line, a fake upstream, a browser). A test
# marked `fast` (run by `make test-fast`) uses none of them, and starts no process itself.
PROCESS_FIXTURES = frozenset(
    {
        "panel",
        "api",
        "cli",
        "fresh_cli",
        "provider_fresh_cli",
        "fleet",
        "chromium",
        "new_visitor",
        "browser",
        "customer",
        "operator",
        "throttled_panel",
        "catalog_upstream_process",
        "upstream_process",
        "upstream_fake",
        "lone_upstream_fake",
        "shared_upstream",
        "chain",
        "till",
        "ecpay_panel",
        "live_ecpay_panel",
        "stripe_panel",
        "localstripe",
        "stripe_webhooks",
        "shared_cryptomus",
        "cryptomus_fake",
        "cashier",
        "top_up_shop",
        "top_up_visitor",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = [
        f"{item.nodeid} ({', '.join(sorted(PROCESS_FIXTURES & set(item.fixturenames)))})"
        for item in items
        if item.get_closest_marker("fast") and PROCESS_FIXTURES & set(item.fixturenames)
    ]
    if slow:
        raise pytest.UsageError(
            "tests marked fast use fixtures that start processes: " + "; ".join(slow)
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator:
    """A test marked `fast` that starts a process fails, in setup, call or teardown."""
    if item.get_closest_marker("fast") is None:
        return (yield)
    original = subprocess.Popen.__init__

    def refuse(self, args, *more, **options):  # type: ignore[no-untyped-def]
        raise AssertionError(f"{item.nodeid} is marked fast but starts a process: {args!r}")

    subprocess.Popen.__init__ = refuse  # type: ignore[method-assign]
    try:
        return (yield)
    finally:
        subprocess.Popen.__init__ = original  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_templates()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass
class Kept:
    """Each backend's session database, its `Database` and its panel, made once per session
    (per pytest-xdist worker) and kept until its end. Under `--dist loadscope` a worker runs a
    module's sqlite tests, then its postgresql tests, then the next module's: pytest would tear
    down and start again a backend's database and panel at each switch."""

    urls: dict[str, str] = field(default_factory=dict)
    dbs: dict[str, Database] = field(default_factory=dict)
    panels: dict[str, PanelProcess] = field(default_factory=dict)


@pytest_asyncio.fixture(scope="session")
async def kept() -> AsyncIterator[Kept]:
    resources = Kept()
    yield resources
    for process in resources.panels.values():
        process.stop()
    for database in resources.dbs.values():
        await database.dispose()
    for url in resources.urls.values():
        if not url.startswith("sqlite"):
            await drop_postgres_database(url)


@pytest_asyncio.fixture(scope="session")
async def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory, kept: Kept) -> str:
    if backend not in kept.urls:
        kept.urls[backend] = await migrated(backend, tmp_path_factory.mktemp(backend))
    return kept.urls[backend]


@pytest_asyncio.fixture(scope="session")
async def db(database_url: str, kept: Kept) -> Database:
    if database_url not in kept.dbs:
        kept.dbs[database_url] = Database(database_url, pool_size=4)
    return kept.dbs[database_url]


@pytest.fixture(scope="session")
def panel(database_url: str, kept: Kept) -> PanelProcess:
    if database_url not in kept.panels:
        kept.panels[database_url] = PanelProcess(database_url)
    return kept.panels[database_url]


@pytest.fixture(scope="session")
def shop(db: Database) -> Shop:
    return Shop(db)


@pytest_asyncio.fixture(scope="session")
async def api(panel: PanelProcess) -> AsyncIterator[ApiClient]:
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield ApiClient(panel, client)
