"""What the customer pages read about one customer: an order, its requests, charges and keys.

The order list and the dashboard's latest orders are in customer_orders_queries.py; its counts
per status in orders/counts.py.

Every query here is limited to the signed-in customer's own rows.
"""

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import api_keys
from smmpanel.catalog.models import services
from smmpanel.catalog.service import service_name_in
from smmpanel.db.dialect import one_of
from smmpanel.orders.models import cancel_requests, orders, refills, subscriptions


async def order_detail(
    conn: AsyncConnection, customer_id: int, order_id: int, language: str
) -> Row[Any] | None:
    """The customer's order with its service's terms (named in the page's language) and its
    subscription, or None."""
    query = (
        select(
            orders,
            service_name_in(language).label("service_name"),
            services.c.refill.label("service_refill"),
            services.c.refill_days,
            services.c.cancel.label("service_cancel"),
            subscriptions.c.username.label("subscription_username"),
            subscriptions.c.min_quantity.label("subscription_min"),
            subscriptions.c.max_quantity.label("subscription_max"),
            subscriptions.c.posts.label("subscription_posts"),
            subscriptions.c.delay.label("subscription_delay"),
            subscriptions.c.expiry.label("subscription_expiry"),
            subscriptions.c.posts_delivered.label("subscription_posts_delivered"),
        )
        .join(services, services.c.id == orders.c.service_id)
        .outerjoin(subscriptions, subscriptions.c.order_id == orders.c.id)
        .where(orders.c.id == order_id, orders.c.customer_id == customer_id)
    )
    return (await conn.execute(query)).first()


async def child_orders(conn: AsyncConnection, parent_id: int) -> list:
    query = select(
        orders.c.id, orders.c.created_at, orders.c.quantity, orders.c.status, orders.c.remains
    ).where(orders.c.parent_id == parent_id)
    return list((await conn.execute(query.order_by(orders.c.id))).all())


async def order_refills(conn: AsyncConnection, order_id: int) -> list:
    query = select(refills.c.id, refills.c.status, refills.c.created_at, refills.c.updated_at)
    return list((await conn.execute(query.where(refills.c.order_id == order_id))).all())


async def order_cancel_requests(conn: AsyncConnection, order_id: int) -> list:
    """The order's cancel requests, with where each stands upstream."""
    query = select(
        cancel_requests.c.id,
        cancel_requests.c.status,
        cancel_requests.c.created_at,
        cancel_requests.c.resolved_at,
        cancel_requests.c.forward_state,
        cancel_requests.c.last_error,
    ).where(cancel_requests.c.order_id == order_id)
    return list((await conn.execute(query.order_by(cancel_requests.c.id))).all())


async def charges_of(conn: AsyncConnection, customer_id: int, order_ids: list[int]) -> int:
    if not order_ids:
        return 0
    total = await conn.scalar(
        select(func.coalesce(func.sum(orders.c.charge), 0)).where(
            orders.c.customer_id == customer_id, one_of(conn, orders.c.id, order_ids)
        )
    )
    return int(total or 0)


async def own_api_key(conn: AsyncConnection, customer_id: int, key_id: int) -> Row[Any, Any] | None:
    """The customer's key of this id (its id and revocation time), or None."""
    query = select(api_keys.c.id, api_keys.c.revoked_at).where(
        api_keys.c.id == key_id, api_keys.c.customer_id == customer_id
    )
    return (await conn.execute(query)).first()
