"""PostgreSQL turning connections away ("too many clients") is told plainly, never a traceback."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import harness
import httpx
import pytest
import pytest_asyncio
from cli_runner import Cli
from harness import PanelProcess

from smmpanel.db import Database
from smmpanel.db.engine import DatabaseRefusedConnection

REFUSED = "error: the database refused a connection (too many clients): "


@dataclass(frozen=True)
class LimitedRole:
    """A role (not a superuser: the limits bind it) that may use a migrated database."""

    name: str
    url: str  # the database, connected to as this role

    async def allow(self, connections: int) -> None:
        """Set how many connections the role may open; end the ones it has."""
        admin = await asyncpg.connect(harness.POSTGRES_URL)
        try:
            await admin.execute(f'ALTER ROLE "{self.name}" CONNECTION LIMIT {connections}')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                self.name,
            )
        finally:
            await admin.close()


@pytest_asyncio.fixture
async def limited_role(backend: str, tmp_path: Path) -> AsyncIterator[LimitedRole]:
    if backend != "postgresql":
        pytest.skip("SQLite has no connection limit")
    url = await harness.migrated(backend, tmp_path)
    name = f"smmpanel_limited_{uuid.uuid4().hex[:8]}"
    role = LimitedRole(name, url.replace("postgres@", f"{name}@", 1))
    await _run(harness.POSTGRES_URL, f'CREATE ROLE "{role.name}" LOGIN')
    try:
        await _run(
            url,
            f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role.name}";'
            f' GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role.name}"',
        )
        yield role
    finally:
        await harness.drop_postgres_database(url)
        await _run(harness.POSTGRES_URL, f'DROP ROLE IF EXISTS "{role.name}"')


async def _run(url: str, statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statements)
    finally:
        await conn.close()


async def test_a_command_says_the_database_refused_it(limited_role, cli_home):
    await limited_role.allow(0)
    outcome = Cli(limited_role.url, cli_home).run("customer", "list")
    assert outcome.code == 1
    assert "Traceback" not in outcome.err
    assert outcome.err.startswith(REFUSED), outcome.err
    assert "too many connections for role" in outcome.err
    assert "SMMPANEL_DB_POOL_SIZE" in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1, outcome.err


async def test_a_transaction_is_refused_as_such(limited_role):
    await limited_role.allow(0)
    db = Database(limited_role.url, pool_size=1)
    try:
        with pytest.raises(DatabaseRefusedConnection, match="too many connections for role"):
            async with db.read():
                pass
    finally:
        await db.dispose()


async def test_the_api_and_the_pages_answer_their_temporary_error(limited_role):
    panel = PanelProcess(limited_role.url)
    try:
        await limited_role.allow(0)
        for _ in range(2):  # the first may meet a connection the server closed
            # A new connection each: uvicorn closes one after a failed page.
            api = httpx.post(panel.api_url, data={"key": "k", "action": "balance"}, timeout=30)
            page = httpx.get(panel.url + "/signin", timeout=30)
    finally:
        panel.stop()
    assert api.status_code == 503
    assert api.json() == {"error": "Temporary error, please try again later"}
    assert page.status_code == 503
    assert "Temporary error" in page.text and "Traceback" not in page.text
