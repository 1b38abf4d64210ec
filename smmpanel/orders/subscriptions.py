"""Subscriptions that reach their expiry date end, refunding the posts not delivered."""

from datetime import UTC, datetime

from sqlalchemy import select

from smmpanel.db import Database
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.statuses import ACTIVE, EXPIRED, PAUSED


async def expire_subscriptions(db: Database) -> int:
    """End every Active or Paused subscription whose expiry date has passed; how many ended."""
    today = datetime.now(UTC).date()
    async with db.read() as conn:
        due = (
            await conn.scalars(
                select(orders.c.id)
                .join(subscriptions, subscriptions.c.order_id == orders.c.id)
                .where(orders.c.status.in_((ACTIVE, PAUSED)), subscriptions.c.expiry < today)
            )
        ).all()
    for order_id in due:
        async with db.write() as conn:
            await update_order(
                conn, order_id, status=EXPIRED, remains=await _undelivered(conn, order_id)
            )
    return len(due)


async def _undelivered(conn, order_id: int) -> int:  # type: ignore[no-untyped-def]
    row = (
        await conn.execute(
            select(
                subscriptions.c.posts, subscriptions.c.posts_delivered, subscriptions.c.max_quantity
            ).where(subscriptions.c.order_id == order_id)
        )
    ).one()
    if not row.posts:
        return 0
    return max(0, row.posts - row.posts_delivered) * row.max_quantity
