"""Orders in doubt: sent or not, only the operator can tell (from the upstream's own pages)."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.errors import refusal
from smmpanel.orders.lifecycle import OrderChange, update_order
from smmpanel.orders.models import orders
from smmpanel.orders.polls import start_polling
from smmpanel.orders.statuses import (
    CANCELED,
    FORWARD_IN_DOUBT,
    FORWARD_QUEUED,
    FORWARD_SENT,
    FORWARD_WITHDRAWN,
)
from smmpanel.providers.models import providers

NOT_IN_DOUBT = refusal(
    "order_not_in_doubt", "order %(id)s is not in doubt: see `smmpanel order doubts`"
)
UPSTREAM_ID_UNUSABLE = refusal(
    "upstream_id_unusable",
    "upstream id %(upstream_id)r is empty or already belongs to order %(holder)s",
)


async def orders_in_doubt(conn: AsyncConnection, limit: int = 100) -> list[AnyRow]:
    return list(
        (
            await conn.execute(
                select(
                    orders.c.id,
                    customers.c.name.label("customer"),
                    providers.c.name.label("provider"),
                    orders.c.link,
                    orders.c.quantity,
                    orders.c.updated_at,
                    orders.c.last_error,
                )
                .join(customers, customers.c.id == orders.c.customer_id)
                .join(providers, providers.c.id == orders.c.provider_id)
                .where(orders.c.forward_state == FORWARD_IN_DOUBT)
                .order_by(orders.c.id)
                .limit(limit)
            )
        ).all()
    )


async def _leave_doubt(conn: AsyncConnection, order_id: int, **values: object) -> None:
    result = await conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.forward_state == FORWARD_IN_DOUBT)
        .values(updated_at=utcnow(), **values)
    )
    if result.rowcount != 1:
        raise NOT_IN_DOUBT(id=order_id)


async def resolve_as_sent(conn: AsyncConnection, order_id: int, upstream_id: str) -> None:
    """The upstream has it, under `upstream_id`: follow it from now on."""
    upstream_id = upstream_id.strip()
    provider_id = await conn.scalar(select(orders.c.provider_id).where(orders.c.id == order_id))
    holder = await conn.scalar(
        select(orders.c.id).where(
            orders.c.provider_id == provider_id, orders.c.upstream_order_id == upstream_id
        )
    )
    if not upstream_id or holder is not None:
        raise UPSTREAM_ID_UNUSABLE(upstream_id=upstream_id, holder=holder)
    await _leave_doubt(
        conn,
        order_id,
        forward_state=FORWARD_SENT,
        upstream_order_id=upstream_id,
        last_error=None,
    )
    await start_polling(conn, [order_id])


async def resolve_as_not_sent(conn: AsyncConnection, order_id: int) -> None:
    """The upstream never got it: send it again."""
    await _leave_doubt(conn, order_id, forward_state=FORWARD_QUEUED, next_action_at=utcnow())


async def resolve_by_canceling(conn: AsyncConnection, order_id: int) -> OrderChange:
    """Give up on it: cancel and refund in full; what the order became."""
    await _leave_doubt(
        conn, order_id, forward_state=FORWARD_WITHDRAWN, last_error="canceled by the operator"
    )
    return await update_order(conn, order_id, status=CANCELED)
