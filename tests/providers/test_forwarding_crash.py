"""kill -9 of a worker in the middle of sending: the order is in doubt, and never sent twice.

A real `smmpanel worker` process sends an order to an upstream that never answers; it is killed
while the call is in flight. The sweeper then puts the order in doubt (once the provider's
timeout has passed, not before), and a new worker, busy with other orders, leaves it alone.
"""

import asyncio
import time
from datetime import timedelta

# The fixtures imported from forwarding_fixtures are parameters of the tests below.
# ruff: noqa: F811
from forwarding_fixtures import (  # noqa: F401 - fixtures
    WorkerProcess,
    database_for,
    eventually,
    lone_upstream_fake,
    make_route,
)

from smmpanel.orders.statuses import FORWARD_IN_DOUBT, FORWARD_SENDING, FORWARD_SENT
from smmpanel.providers.forwarding import sweep_stale_sending

TIMEOUT = 4  # the provider's, in seconds: long enough to kill the worker mid-call


async def test_a_worker_killed_while_sending_leaves_the_order_in_doubt_sent_once(
    backend, lone_upstream_fake, tmp_path
):
    upstream = lone_upstream_fake
    upstream.control(add="slow")
    async with database_for(backend, tmp_path) as db:
        route = await make_route(db, upstream.api_url, timeout=TIMEOUT)
        order = await route.place()
        worker = await asyncio.to_thread(WorkerProcess, db.url, tmp_path / "w1.log")
        try:

            async def in_flight() -> bool:
                row = await route.order(order.id)
                return row.forward_state == FORWARD_SENDING and upstream.times_sent(order.link)

            await eventually(in_flight, 15, "the worker to be sending the order")
            seen_sending = time.monotonic()
            worker.kill()
        finally:
            worker.stop()

        # Within the provider's timeout the call may still be answered: not swept yet.
        await sweep_stale_sending(db, grace=timedelta(0))
        assert (await route.order(order.id)).forward_state == FORWARD_SENDING
        await asyncio.sleep(max(0.0, seen_sending + TIMEOUT + 0.3 - time.monotonic()))
        assert await sweep_stale_sending(db, grace=timedelta(0)) == 1

        row = await route.order(order.id)
        assert row.forward_state == FORWARD_IN_DOUBT and row.sending_since is None
        assert row.last_error and row.upstream_order_id is None
        assert upstream.times_sent(order.link) == 1
        assert (await route.stats()).in_doubt == 1
        assert await route.refunds(order.id) == [] and await route.audit() == []

        # A new worker, with a healthy upstream, sends new orders and leaves this one alone.
        upstream.control(add="ok")
        worker = await asyncio.to_thread(WorkerProcess, db.url, tmp_path / "w2.log")
        try:
            later = await route.place()

            async def later_sent() -> bool:
                return (await route.order(later.id)).forward_state == FORWARD_SENT

            await eventually(later_sent, 15, "the new worker to send a new order")
            await asyncio.sleep(1.0)  # a few more ticks of the worker
            assert worker.failures() == []
        finally:
            worker.stop()
        assert (await route.order(order.id)).forward_state == FORWARD_IN_DOUBT
        assert upstream.times_sent(order.link) == 1
        assert upstream.times_sent(later.link) == 1
        assert await route.audit() == []
