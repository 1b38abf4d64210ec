"""Each customer's orders per status follow every write to `orders`, folded or not."""

import pytest
from domain_helpers import new_customer, new_service, order_row, place
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.base import utcnow
from smmpanel.orders.counts import customer_status_counts, fold_changes
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import customer_order_count_changes, orders
from smmpanel.orders.statuses import CANCELED, COMPLETED, IN_PROGRESS, PENDING

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def counted(conn: AsyncConnection, customer_id: int) -> list[tuple[str, int]]:
    """The customer's orders per status, counted the slow way, in the kept counts' order."""
    query = (
        select(orders.c.status, func.count())
        .where(orders.c.customer_id == customer_id)
        .group_by(orders.c.status)
    )
    found = dict((await conn.execute(query)).all())
    kept = await customer_status_counts(conn, customer_id)
    assert sorted(kept) == sorted(found.items())
    return kept


async def fold_all(conn: AsyncConnection) -> None:
    while await fold_changes(conn):
        pass


async def test_counts_follow_orders_placed_and_moved(conn):
    customer_id = await new_customer(conn, "100")
    service_id = await new_service(conn)
    first, second, third, _ = [
        await place(conn, customer_id, service_id, quantity=100) for _ in range(4)
    ]
    assert await counted(conn, customer_id) == [(PENDING, 4)]

    await update_order(conn, first, status=IN_PROGRESS)
    await update_order(conn, second, status=COMPLETED)
    await update_order(conn, third, status=CANCELED)
    await update_order(conn, first, start_count=5)  # not a move: nothing changes
    assert await counted(conn, customer_id) == [
        (PENDING, 1),
        (IN_PROGRESS, 1),
        (COMPLETED, 1),
        (CANCELED, 1),
    ]

    await fold_all(conn)
    assert await counted(conn, customer_id) == [
        (PENDING, 1),
        (IN_PROGRESS, 1),
        (COMPLETED, 1),
        (CANCELED, 1),
    ]
    await update_order(conn, first, status=COMPLETED)
    assert await counted(conn, customer_id) == [(PENDING, 1), (COMPLETED, 2), (CANCELED, 1)]

    await fold_all(conn)
    assert await counted(conn, customer_id) == [(PENDING, 1), (COMPLETED, 2), (CANCELED, 1)]
    left = select(func.count()).where(customer_order_count_changes.c.customer_id == customer_id)
    assert await conn.scalar(left) == 0


async def test_orders_written_many_in_one_statement_or_deleted_are_each_counted(conn):
    customer_id = await new_customer(conn, "100")
    other_id = await new_customer(conn, "100")
    service_id = await new_service(conn)
    placed = await place(conn, customer_id, service_id, quantity=100)
    template = (await order_row(conn, placed))._asdict()
    now = utcnow()
    rows = [
        {
            **{k: v for k, v in template.items() if k not in ("id", "active_link")},
            "customer_id": owner,
            "status": status,
            "created_at": now,
            "updated_at": now,
        }
        for owner, status in [(customer_id, COMPLETED)] * 3 + [(other_id, PENDING)] * 2
    ]
    await conn.execute(insert(orders), rows)
    assert await counted(conn, customer_id) == [(PENDING, 1), (COMPLETED, 3)]
    assert await counted(conn, other_id) == [(PENDING, 2)]

    await conn.execute(
        update(orders).where(orders.c.customer_id == other_id).values(customer_id=customer_id)
    )
    assert await counted(conn, customer_id) == [(PENDING, 3), (COMPLETED, 3)]
    assert await counted(conn, other_id) == []
    await fold_all(conn)
    moved = select(orders.c.id).where(orders.c.id > placed, orders.c.status == PENDING)
    await conn.execute(delete(orders).where(orders.c.id == await conn.scalar(moved.limit(1))))
    assert await counted(conn, customer_id) == [(PENDING, 2), (COMPLETED, 3)]
    await fold_all(conn)
    assert await counted(conn, customer_id) == [(PENDING, 2), (COMPLETED, 3)]
    assert await counted(conn, other_id) == []
