"""Requests take the pool's connections in the order they asked, and never wait for ever."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from smmpanel.db import engine
from smmpanel.db.engine import Database


async def test_a_request_giving_a_connection_back_and_asking_again_waits_its_turn(database_url):
    db = Database(database_url, pool_size=1)  # one connection (two on SQLite, with overflow)
    lent = 2 if db.is_sqlite else 1
    inside: list[str] = []
    holders_leave, everyone_leaves = asyncio.Event(), asyncio.Event()

    async def holder(name: str) -> None:
        async with db.read() as conn:
            await conn.execute(text("SELECT 1"))
            await holders_leave.wait()
        async with db.read():  # straight back: the waiting ones come first
            inside.append(f"{name} again")
            await everyone_leaves.wait()

    async def waiter(name: str) -> None:
        async with db.read() as conn:
            inside.append(name)
            await conn.execute(text("SELECT 1"))
            await everyone_leaves.wait()

    try:
        holders = [asyncio.create_task(holder(f"holder {n}")) for n in range(lent)]
        await asyncio.sleep(0.05)
        waiters = []
        for n in range(lent + 1):
            waiters.append(asyncio.create_task(waiter(f"waiter {n}")))
            await asyncio.sleep(0.01)  # asked in this order
        holders_leave.set()
        await asyncio.sleep(0.2)
        assert sorted(inside) == [f"waiter {n}" for n in range(lent)]
        everyone_leaves.set()
        await asyncio.gather(*holders, *waiters)
        assert len(inside) == 2 * lent + 1
    finally:
        everyone_leaves.set()
        await db.dispose()


async def test_no_connection_free_for_the_wait_limit_is_the_pools_timeout(
    database_url, monkeypatch
):
    monkeypatch.setattr(engine, "CONNECTION_WAIT_SECONDS", 0.2)
    db = Database(database_url, pool_size=1)
    lent = 2 if db.is_sqlite else 1
    release = asyncio.Event()

    async def hold() -> None:
        async with db.read():
            await release.wait()

    try:
        holders = [asyncio.create_task(hold()) for _ in range(lent)]
        await asyncio.sleep(0.05)
        with pytest.raises(PoolTimeout, match="no database connection free after 0.2 s"):
            async with db.read():
                pass
        release.set()
        await asyncio.gather(*holders)
        async with db.read() as conn:  # the turns given back are there again
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await db.dispose()
