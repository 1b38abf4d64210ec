"""Several workers on one PostgreSQL database never claim the same order.

Claims are `SELECT ... FOR UPDATE SKIP LOCKED`: two open claims take disjoint batches, and two
real `smmpanel worker` processes racing through a few hundred queued orders send each exactly once.
"""

import asyncio
import json
from collections import Counter

# The fixtures imported from forwarding_fixtures are parameters of the tests below.
# ruff: noqa: F811
from forwarding_fixtures import (  # noqa: F401 - fixtures
    WorkerProcess,
    database_for,
    eventually,
    lone_upstream_fake,
    make_route,
)
from sqlalchemy import func, select

from smmpanel.orders.models import orders
from smmpanel.orders.statuses import FORWARD_SENT
from smmpanel.providers.forwarding import claim_orders

ORDERS = 300


async def test_two_open_claims_take_disjoint_batches(lone_upstream_fake, tmp_path):
    async with database_for("postgresql", tmp_path) as db:
        route = await make_route(db, lone_upstream_fake.api_url, opening="1000")
        placed = await route.place_many(ORDERS)

        async with db.write() as first:
            mine = await claim_orders(first, 200)
            async with db.write() as second:  # while the first still holds its rows
                theirs = await claim_orders(second, 200)
        async with db.write() as third:
            rest = await claim_orders(third, 200)

        mine_ids = {c.order_id for c in mine}
        theirs_ids = {c.order_id for c in theirs}
        assert (len(mine_ids), len(theirs_ids), rest) == (200, 100, [])
        assert not mine_ids & theirs_ids
        assert mine_ids | theirs_ids == {p.id for p in placed}


async def test_two_workers_send_every_order_exactly_once(lone_upstream_fake, tmp_path):
    upstream = lone_upstream_fake
    upstream.control(delay=0.2)  # each batch takes a while: both workers get some
    async with database_for("postgresql", tmp_path) as db:
        route = await make_route(db, upstream.api_url, opening="1000")
        env = {"SMMPANEL_FORWARD_BATCH": "20"}
        workers = await asyncio.gather(
            *(
                asyncio.to_thread(WorkerProcess, db.url, tmp_path / f"worker{n}.log", env)
                for n in (1, 2)
            )
        )
        try:
            placed = await route.place_many(ORDERS)

            async def all_sent() -> bool:
                async with db.read() as conn:
                    sent = await conn.scalar(
                        select(func.count()).where(orders.c.forward_state == FORWARD_SENT)
                    )
                return sent == ORDERS

            await eventually(all_sent, 60, f"{ORDERS} orders to be sent")
        finally:
            for worker in workers:
                worker.stop()

        assert [w.failures() for w in workers] == [[], []]
        claimed = [claimed_by(worker.log()) for worker in workers]
        assert sum(claimed) == ORDERS and all(claimed), f"orders claimed by each: {claimed}"
        sent = upstream.state()["sent_links"]
        assert Counter(sent.values()) == {1: ORDERS}
        assert set(sent) == {p.link for p in placed}
        async with db.read() as conn:
            upstream_ids = list(await conn.scalars(select(orders.c.upstream_order_id)))
        assert len(set(upstream_ids)) == ORDERS and None not in upstream_ids
        assert await route.audit() == []


def claimed_by(log: str) -> int:
    """How many orders a worker's log says it forwarded (the `job done` lines)."""
    total = 0
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("message") == "job done" and entry.get("job") == "forward_orders":
            total += entry["count"]
    return total
