"""What the customer pages read about one customer: orders, requests, ledger and keys.

Every query here is limited to the signed-in customer's own rows.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import api_keys
from smmpanel.catalog.models import services
from smmpanel.db.dialect import one_of
from smmpanel.orders.models import cancel_requests, orders, refills, subscriptions
from smmpanel.orders.statuses import ALL_STATUSES
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit.order_rows import order_rows
from smmpanel.pagekit.pagination import Page, select_page

ORDERS_PER_PAGE = 25


@dataclass(frozen=True)
class OrderFilters:
    search: str = ""
    status: str = ""
    service_id: int | None = None


def _filtered(query: Select, filters: OrderFilters) -> Select:
    if filters.search:
        by_link = orders.c.link.icontains(filters.search, autoescape=True)
        order_id = parse_positive_int(filters.search.lstrip("#"))
        query = query.where(or_(by_link, orders.c.id == order_id) if order_id else by_link)
    if filters.status:
        query = query.where(orders.c.status == filters.status)
    if filters.service_id:
        query = query.where(orders.c.service_id == filters.service_id)
    return query


async def orders_page(
    conn: AsyncConnection, customer_id: int, filters: OrderFilters, number: int = 1
) -> Page:
    query = order_rows().where(orders.c.customer_id == customer_id)
    query = _filtered(query, filters).order_by(orders.c.id.desc())
    return await select_page(conn, query, number, ORDERS_PER_PAGE)


async def recent_orders(conn: AsyncConnection, customer_id: int, limit: int) -> list:
    query = order_rows().where(orders.c.customer_id == customer_id)
    return list((await conn.execute(query.order_by(orders.c.id.desc()).limit(limit))).all())


async def status_counts(conn: AsyncConnection, customer_id: int) -> list[tuple[str, int]]:
    """(status, number of orders) of the statuses this customer has orders in."""
    query = (
        select(orders.c.status, func.count())
        .where(orders.c.customer_id == customer_id)
        .group_by(orders.c.status)
    )
    counts: dict[str, int] = dict((await conn.execute(query)).tuples().all())
    return [(status, counts[status]) for status in ALL_STATUSES if status in counts]


async def ordered_services(conn: AsyncConnection, customer_id: int) -> list:
    """The services this customer has orders of, enabled or not: the list's service filter."""
    query = (
        select(services.c.id, services.c.name)
        .where(
            services.c.id.in_(
                select(orders.c.service_id).where(orders.c.customer_id == customer_id)
            )
        )
        .order_by(services.c.name, services.c.id)
    )
    return list((await conn.execute(query)).all())


async def order_detail(conn: AsyncConnection, customer_id: int, order_id: int) -> Row[Any] | None:
    """The customer's order with its service's terms and its subscription, or None."""
    query = (
        select(
            orders,
            services.c.name.label("service_name"),
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
    query = select(
        cancel_requests.c.id,
        cancel_requests.c.status,
        cancel_requests.c.created_at,
        cancel_requests.c.resolved_at,
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
