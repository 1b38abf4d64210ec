"""What the operator's customer pages read, beyond what accounts.service offers."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import api_keys, customers
from smmpanel.admin.keyset import Cursor, KeysetPage, keyset_page
from smmpanel.catalog.models import customer_prices, services
from smmpanel.db.base import MAX_INT64, AnyRow, utcnow
from smmpanel.orders.models import orders

PAGE_SIZE = 50
RECENT_DAYS = timedelta(days=30)
RECENT_ORDERS = 20
CUSTOMER_COLUMNS = (
    customers.c.id,
    customers.c.name,
    customers.c.email,
    customers.c.status,
    customers.c.balance,
    customers.c.created_at,
)


async def search_customers(
    conn: AsyncConnection, search: str, status: str, cursor: Cursor
) -> KeysetPage:
    """Customers whose name or e-mail contains `search`, or whose id it is; newest first. Each
    with the orders they placed in the last RECENT_DAYS: a count over all their orders would
    grow with them, and one kept on the customer's row is a write every order would wait on."""
    since = utcnow() - RECENT_DAYS
    recent = (
        select(func.count())
        .where(
            orders.c.customer_id == customers.c.id,
            orders.c.id >= _first_order_since(since),
            orders.c.created_at >= since,
            orders.c.parent_id.is_(None),
        )
        .scalar_subquery()
    )
    query = select(*CUSTOMER_COLUMNS, recent.label("recent_orders"))
    if search:
        query = query.where(_matches(search))
    if status:
        query = query.where(customers.c.status == status)
    return await keyset_page(conn, query, customers.c.id, cursor, PAGE_SIZE)


def _first_order_since(since: datetime) -> ColumnElement[int]:
    """The id of the first order placed since then (ids grow with time), read once by the
    page's statement: counting a customer's orders from it reads their recent entries of
    ix_orders_customer_id_id, and no others (the time is checked still, for the rare order
    written later than its time)."""
    first = (
        select(orders.c.id)
        .where(orders.c.created_at >= since)
        .order_by(orders.c.created_at)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(first, MAX_INT64)


def _matches(search: str) -> ColumnElement[bool]:
    needle = search.lower()
    found = [
        func.lower(customers.c.name).contains(needle, autoescape=True),
        func.lower(customers.c.email).contains(needle, autoescape=True),
    ]
    if search.isdigit() and len(search) <= 18:
        found.append(customers.c.id == int(search))
    return or_(*found)


async def customer_details(conn: AsyncConnection, customer_id: int) -> AnyRow | None:
    """The customer's row with their discount (admin/customer_discount.html), or None."""
    query = select(*CUSTOMER_COLUMNS, customers.c.discount_bp).where(customers.c.id == customer_id)
    return (await conn.execute(query)).first()


async def recent_orders(conn: AsyncConnection, customer_id: int) -> list[AnyRow]:
    query = (
        select(
            orders.c.id,
            services.c.name.label("service"),
            orders.c.status,
            orders.c.charge,
            orders.c.created_at,
        )
        .join(services, services.c.id == orders.c.service_id)
        .where(orders.c.customer_id == customer_id, orders.c.parent_id.is_(None))
        .order_by(orders.c.id.desc())
        .limit(RECENT_ORDERS)
    )
    return list(await conn.execute(query))


async def custom_prices(conn: AsyncConnection, customer_id: int) -> list[AnyRow]:
    query = (
        select(
            services.c.id,
            services.c.name,
            services.c.rate.label("list_rate"),
            customer_prices.c.rate,
        )
        .join(services, services.c.id == customer_prices.c.service_id)
        .where(customer_prices.c.customer_id == customer_id)
        .order_by(services.c.id)
    )
    return list(await conn.execute(query))


async def customer_key(conn: AsyncConnection, customer_id: int, key_id: int) -> AnyRow | None:
    """The customer's API key of this id (id, prefix, revoked_at), or None."""
    query = select(api_keys.c.id, api_keys.c.prefix, api_keys.c.revoked_at).where(
        api_keys.c.id == key_id, api_keys.c.customer_id == customer_id
    )
    return (await conn.execute(query)).first()
