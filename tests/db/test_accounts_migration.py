"""Migration 0009 gives every customer and operator a name key, the oldest of look-alike names
keeping the plain key, and its downgrade gives the schema back."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import harness
import pytest
import sqlalchemy as sa
from alembic import command

from smmpanel.accounts.models import customers, operators
from smmpanel.db.base import Timestamp

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

WIDE_BOB = "\uff22ob"  # a full-width B: NFKC makes it "Bob"

# The accounts as revision 0008 has them, the columns this test writes.
customers_0008 = sa.table(
    "customers", sa.column("name", sa.String), sa.column("created_at", Timestamp)
)
operators_0008 = sa.table(
    "operators",
    sa.column("name", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("created_at", Timestamp),
)


async def test_0009_keys_existing_names_and_keeps_look_alikes_apart(backend: str, tmp_path: Path):
    now = datetime.now(UTC)
    async with harness.database_at(backend, tmp_path, "0008") as (config, db):
        async with db.write() as conn:
            for name in ("Bob", "bob", WIDE_BOB, "Alice"):
                await conn.execute(sa.insert(customers_0008).values(name=name, created_at=now))
            for name in ("Admin", "Other"):
                await conn.execute(
                    sa.insert(operators_0008).values(name=name, password_hash="x", created_at=now)
                )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with db.read() as conn:
            keys = dict(
                (await conn.execute(sa.select(customers.c.name, customers.c.name_key))).all()
            )
            kept = (await conn.execute(sa.select(operators.c.name_key, operators.c.status))).all()
            ids = dict((await conn.execute(sa.select(customers.c.name, customers.c.id))).all())
        assert keys == {
            "Bob": "bob",
            "bob": f"bob#{ids['bob']}",
            WIDE_BOB: f"bob#{ids[WIDE_BOB]}",
            "Alice": "alice",
        }
        assert sorted(kept) == [("admin", "active"), ("other", "active")]
        await asyncio.to_thread(command.downgrade, config, "0008")
