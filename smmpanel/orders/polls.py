"""The poll schedule of forwarded orders (the order_polls table; polling moves it on)."""

from datetime import timedelta

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.base import Timestamp, utcnow
from smmpanel.db.dialect import insert_or_ignore, one_of
from smmpanel.orders.models import order_polls, orders
from smmpanel.orders.statuses import FORWARD_SENT


async def start_polling(
    conn: AsyncConnection, order_ids: list[int], first_poll: timedelta = timedelta(0)
) -> None:
    """Schedule the first poll of those orders that are now `sent`. One scheduled already (an
    answer that came after the operator resolved its order as sent) keeps its schedule."""
    if not order_ids:
        return
    due = literal(utcnow() + first_poll, Timestamp)
    every = literal(int(first_poll.total_seconds()))
    await conn.execute(
        insert_or_ignore(conn, order_polls).from_select(
            ["order_id", "due_at", "every"],
            select(orders.c.id, due, every).where(
                one_of(conn, orders.c.id, order_ids), orders.c.forward_state == FORWARD_SENT
            ),
        )
    )
