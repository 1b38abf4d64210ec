"""backup and restore: a SQLite copy taken while a panel takes orders, and put back."""

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path

import harness
import httpx
import pytest
from cli_runner import Cli
from harness import PanelProcess, Shop
from sqlalchemy import insert

from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.providers.models import service_changes
from smmpanel.providers.service import add_provider

CLIENTS = 4
PADDING_ROWS = 40_000  # ~6 MB: a copy of several steps, each a chance for a writer to commit


def sqlite_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def order_ids(path: Path) -> set[int]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM orders")}


async def pad(db: Database, service_id: int) -> None:
    """Rows nobody audits, so that the copy takes many steps."""
    async with db.write() as conn:
        provider_id = await add_provider(conn, "padding", "http://127.0.0.1:9/api/v2", "key")
        now = utcnow()
        rows = [
            {
                "service_id": service_id,
                "provider_id": provider_id,
                "field": "rate",
                "old_value": uuid.uuid4().hex * 2,
                "new_value": uuid.uuid4().hex * 2,
                "created_at": now,
            }
            for _ in range(PADDING_ROWS)
        ]
        await conn.execute(insert(service_changes), rows)


async def place_orders(
    panel: PanelProcess, key: str, service: int, placed: list[int], stop: asyncio.Event
) -> None:
    """Place orders until told to stop; `placed` gets each id once the panel answered it."""
    async with httpx.AsyncClient(timeout=30) as client:
        while not stop.is_set():
            fields = {
                "key": key,
                "action": "add",
                "service": service,
                "link": f"https://x.test/{uuid.uuid4().hex}",
                "quantity": 10,
            }
            reply = (await client.post(panel.api_url, data=fields)).json()
            assert "order" in reply, reply
            placed.append(reply["order"])


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("backup and restore copy SQLite files; PostgreSQL has pg_dump")


async def test_a_backup_taken_while_orders_come_in_restores_clean(
    sqlite_only, backend, tmp_path, cli_home
):
    url = await harness.migrated(backend, tmp_path)
    db = Database(url, pool_size=1)
    shop = Shop(db)
    service = await shop.service(rate="0.01")
    _customer, key = await shop.customer("1000")
    await pad(db, service)
    await db.dispose()
    panel = await asyncio.to_thread(PanelProcess, url)
    placed: list[int] = []
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(place_orders(panel, key, service, placed, stop)) for _ in range(CLIENTS)
    ]
    try:
        while len(placed) < 20:
            await asyncio.sleep(0.05)
        acknowledged = set(placed)
        backup = tmp_path / "backup.db"
        started = time.monotonic()
        outcome = await asyncio.to_thread(Cli(url, cli_home).run, "backup", str(backup))
        during = len(placed) - len(acknowledged)
    finally:
        stop.set()
        await asyncio.gather(*clients)
        panel.stop()
    assert outcome.code == 0, outcome.err
    assert f"backup written to {backup}" in outcome.out
    assert "backup: " in outcome.err, "a copy of several steps shows its progress"
    assert during > 0, f"no order placed during the {time.monotonic() - started:.1f} s copy"

    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = Cli(restored_url, cli_home)
    assert f"restored {backup}" in restored.ok("restore", str(backup))
    assert "books are right" in restored.ok("audit")
    assert acknowledged <= order_ids(sqlite_file(restored_url))


async def test_restore_refuses_to_replace_a_database_unless_forced(
    sqlite_only, fresh_cli, tmp_path
):
    source = await fresh_cli()
    backup = tmp_path / "copy.db"
    source.ok("backup", str(backup))
    assert "exists already" in source.refused("backup", str(backup))
    other = await fresh_cli()
    other.ok("customer", "create", "only-in-the-other")
    assert "--force" in other.refused("restore", str(backup))
    assert "only-in-the-other" in other.ok("customer", "list")
    other.ok("restore", str(backup), "--force")
    assert "only-in-the-other" not in other.ok("customer", "list")
    assert "books are right" in other.ok("audit")


async def test_restore_checks_the_backup_first(sqlite_only, tmp_path, cli_home):
    target = Cli(f"sqlite:///{tmp_path / 'panel.db'}", cli_home)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 1000)
    assert "integrity check" in target.refused("restore", str(garbage))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    assert "not a panel database" in target.refused("restore", str(foreign))
    assert "no backup at" in target.refused("restore", str(tmp_path / "missing.db"))
    assert not (tmp_path / "panel.db").exists()


async def test_restore_refuses_a_backup_from_newer_code(sqlite_only, fresh_cli, tmp_path):
    source = await fresh_cli()
    backup = tmp_path / "newer.db"
    source.ok("backup", str(backup))
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    target = Cli(f"sqlite:///{tmp_path / 'panel.db'}", source.cwd)
    assert "newer than this smmpanel" in target.refused("restore", str(backup))


async def test_on_postgresql_both_name_the_tool_to_use(backend, cli, tmp_path):
    if backend != "postgresql":
        pytest.skip("the PostgreSQL refusal")
    dump = tmp_path / "panel.dump"
    assert "pg_dump --format=custom" in cli.refused("backup", str(dump))
    assert "pg_restore --clean" in cli.refused("restore", str(dump))
    assert not dump.exists()
