"""Drip-feed run here, for upstream services without it: one child order per interval.

The parent holds the charge; children are charged nothing and forwarded on their own, each
after the previous one has finished (an upstream refuses two active orders for one link). The
parent is settled when the last child finishes (orders.lifecycle.settle_dripfeed).
"""

from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db import Database
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.db.dialect import locked
from smmpanel.orders.lifecycle import settle_dripfeed
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import (
    ALL_FINISHED,
    FORWARD_DRIPFEED,
    FORWARD_DRIPFEED_PLACED,
    FORWARD_QUEUED,
    IN_PROGRESS,
    PENDING,
)

RUN_COLUMNS = ("customer_id", "service_id", "type", "link", "quantity", "provider_id")


async def place_due_runs(db: Database, recheck: timedelta, batch: int = 100) -> int:
    """Place the next run of every drip-feed parent that is due; how many runs were placed.

    A run whose previous one is still open waits `recheck`: the previous run finishes when a
    poll says so, and polls come no faster than the fastest poll pace."""
    async with db.write() as conn:
        due = (
            select(orders)
            .where(orders.c.forward_state == FORWARD_DRIPFEED, orders.c.next_action_at <= utcnow())
            .order_by(orders.c.next_action_at)
            .limit(batch)
        )
        due = locked(conn, due, skip_locked=True)
        parents = (await conn.execute(due)).all()
        placed = 0
        for parent in parents:
            if await _previous_run_open(conn, parent.id):
                await _postpone(conn, parent.id, recheck)
            else:
                await _place_run(conn, parent)
                placed += 1
    return placed


async def _previous_run_open(conn: AsyncConnection, parent_id: int) -> bool:
    """Upstreams refuse a second active order for the same link: a run waits for the last."""
    open_run = await conn.scalar(
        select(orders.c.id)
        .where(orders.c.parent_id == parent_id, orders.c.status.not_in(ALL_FINISHED))
        .limit(1)
    )
    return open_run is not None


async def _postpone(conn: AsyncConnection, parent_id: int, recheck: timedelta) -> None:
    await conn.execute(
        update(orders).where(orders.c.id == parent_id).values(next_action_at=utcnow() + recheck)
    )


async def _place_run(conn: AsyncConnection, parent: AnyRow) -> None:
    now = utcnow()
    await conn.execute(
        insert(orders).values(
            **{name: getattr(parent, name) for name in RUN_COLUMNS},
            status=PENDING,
            charge=0,
            parent_id=parent.id,
            forward_state=FORWARD_QUEUED,
            next_action_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    placed = parent.runs_placed + 1
    last = placed >= parent.runs
    await conn.execute(
        update(orders)
        .where(orders.c.id == parent.id)
        .values(
            runs_placed=placed,
            status=IN_PROGRESS,
            forward_state=FORWARD_DRIPFEED_PLACED if last else FORWARD_DRIPFEED,
            next_action_at=None if last else now + timedelta(minutes=parent.interval),
            updated_at=now,
        )
    )


async def stop_runs(conn: AsyncConnection, parent_id: int) -> bool:
    """Place no more runs (a cancel): what was never placed is refunded when the rest ends."""
    result = await conn.execute(
        update(orders)
        .where(orders.c.id == parent_id, orders.c.forward_state == FORWARD_DRIPFEED)
        .values(forward_state=FORWARD_DRIPFEED_PLACED, next_action_at=None, updated_at=utcnow())
    )
    if result.rowcount != 1:
        return False
    await settle_dripfeed(conn, parent_id)
    return True
