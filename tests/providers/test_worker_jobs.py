"""The worker's jobs do not wait on each other: a catalogue sync stuck on a slow upstream holds
up neither forwarding nor polling."""

# The fixture imported from forwarding_fixtures is a parameter of the test below.
# ruff: noqa: F811

import asyncio

from forwarding_fixtures import (  # noqa: F401 - fixtures used by name
    FakeUpstream,
    database_for,
    eventually,
    lone_upstream_fake,
    make_route,
)
from sqlalchemy import select

from smmpanel.config import Settings
from smmpanel.orders.statuses import FORWARD_SENT, IN_PROGRESS
from smmpanel.providers.models import providers
from smmpanel.worker.loop import run_worker

SYNC_TIMEOUT = 6  # seconds the stuck `services` call lasts: the provider's timeout


async def test_forwarding_and_polling_go_on_while_a_sync_waits_on_its_upstream(
    backend: str, tmp_path, lone_upstream_fake: FakeUpstream
):
    upstream = lone_upstream_fake
    upstream.control(modes={"services": "slow"})  # answers `services` never
    async with database_for(backend, tmp_path) as db:
        route = await make_route(db, upstream.api_url, timeout=SYNC_TIMEOUT)
        settings = Settings(worker_tick_seconds=0.1, poll_fastest_seconds=0)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(db, settings, stop))
        try:
            await eventually(
                lambda: _called(upstream, "services"), 5, "the sync to ask for the catalogue"
            )
            placed = await route.place(quantity=500)

            async def sent():  # type: ignore[no-untyped-def]
                return (await route.order(placed.id)).forward_state == FORWARD_SENT

            await eventually(sent, 3, "the order to be forwarded")
            [upstream_id] = upstream.state()["orders"]
            upstream.set_order(upstream_id, status="In progress", start_count=7, remains=200)

            async def followed():  # type: ignore[no-untyped-def]
                return (await route.order(placed.id)).status == IN_PROGRESS

            await eventually(followed, 3, "the order's status to be polled")
            assert await _synced_at(route) is None, "the sync should still be waiting"
            assert upstream.calls("services") == 1
        finally:
            stop.set()
            await asyncio.wait_for(worker, timeout=SYNC_TIMEOUT + 10)
        assert await route.audit() == []


async def _called(upstream: FakeUpstream, action: str) -> bool:
    return upstream.calls(action) > 0


async def _synced_at(route):  # type: ignore[no-untyped-def]
    async with route.db.read() as conn:
        return await conn.scalar(
            select(providers.c.synced_at).where(providers.c.id == route.provider_id)
        )
