"""Reading orders for their owner and for the operator."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.orders.models import orders, subscriptions

STATUS_COLUMNS = (
    orders.c.id,
    orders.c.status,
    orders.c.charge,
    orders.c.start_count,
    orders.c.remains,
    orders.c.runs,
    orders.c.type,
)


async def customer_orders_status(
    conn: AsyncConnection, customer_id: int, order_ids: Sequence[int]
) -> dict[int, dict]:
    """The status fields of the caller's orders among `order_ids`, keyed by id."""
    if not order_ids:
        return {}
    rows = (
        await conn.execute(
            select(*STATUS_COLUMNS, subscriptions.c.posts_delivered)
            .outerjoin(subscriptions, subscriptions.c.order_id == orders.c.id)
            .where(orders.c.id.in_(order_ids), orders.c.customer_id == customer_id)
        )
    ).all()
    found = {row.id: dict(row._mapping) for row in rows}
    parents = [
        oid for oid, row in found.items() if row["runs"] or row["posts_delivered"] is not None
    ]
    for parent_id, child_ids in (await _children(conn, parents)).items():
        found[parent_id]["orders"] = child_ids
    return found


async def _children(conn: AsyncConnection, parent_ids: list[int]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {parent_id: [] for parent_id in parent_ids}
    if parent_ids:
        rows = await conn.execute(
            select(orders.c.parent_id, orders.c.id)
            .where(orders.c.parent_id.in_(parent_ids))
            .order_by(orders.c.id)
        )
        for parent_id, child_id in rows:
            children[parent_id].append(child_id)
    return children
