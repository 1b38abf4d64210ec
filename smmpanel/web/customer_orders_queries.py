"""What the customer's order list and dashboard read: pages of their orders, the latest ones.

A page is found by its neighbour's order id (keyset), never by skipping rows: a customer with a
million orders reads their 40th page as cheaply as their first. Every query is limited to the
signed-in customer's own orders.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import services
from smmpanel.catalog.service import name_holds
from smmpanel.orders.models import orders
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit.order_rows import order_rows

ORDERS_PER_PAGE = 25


@dataclass(frozen=True)
class OrderFilters:
    search: str = ""  # an order id or part of a link
    status: str = ""
    service: str = ""  # a service id, or part of a service's English or Chinese name

    @property
    def any(self) -> bool:
        return bool(self.search or self.status or self.service)


@dataclass(frozen=True)
class PageAt:
    """Which page the address asks for: its number, and the order id next to it if known."""

    number: int = 1
    before: int | None = None  # the page holds the orders just older than this one
    after: int | None = None  # ... or just newer than this one


@dataclass(frozen=True)
class OrdersPage:
    rows: list
    number: int
    has_next: bool

    @property
    def first_id(self) -> int | None:
        return self.rows[0].id if self.rows else None

    @property
    def last_id(self) -> int | None:
        return self.rows[-1].id if self.rows else None


def _conditions(customer_id: int, filters: OrderFilters) -> list[ColumnElement[bool]]:
    conditions = [orders.c.customer_id == customer_id]
    if filters.search:
        by_link = orders.c.link.icontains(filters.search, autoescape=True)
        order_id = parse_positive_int(filters.search.lstrip("#"))
        conditions.append(or_(by_link, orders.c.id == order_id) if order_id else by_link)
    if filters.status:
        conditions.append(orders.c.status == filters.status)
    if filters.service:
        conditions.append(_of_service(filters.service))
    return conditions


def _of_service(text: str) -> ColumnElement[bool]:
    """Orders of the service of this id, or of the services whose either name holds this text."""
    service_id = parse_positive_int(text.lstrip("#"))
    if service_id:
        return orders.c.service_id == service_id
    named = select(services.c.id).where(name_holds(text))
    return orders.c.service_id.in_(named)


async def orders_page(
    conn: AsyncConnection, customer_id: int, filters: OrderFilters, at: PageAt, language: str
) -> OrdersPage:
    """One page of the customer's orders, newest first, matching the filters; their services
    named in the page's language."""
    conditions = _conditions(customer_id, filters)
    if at.after is not None:
        newer = await _rows(conn, conditions, orders.c.id > at.after, language, newest_first=False)
        if at.number > 1 and len(newer) == ORDERS_PER_PAGE:
            return OrdersPage(rows=newer[::-1], number=at.number, has_next=True)
        at = PageAt()  # fewer than a page newer: that is the first page
    start: ColumnElement[bool] | None = None
    if at.before is not None:
        start = orders.c.id < at.before
    elif at.number > 1:
        first_id = await _nth_id(conn, conditions, (at.number - 1) * ORDERS_PER_PAGE)
        if first_id is None:
            return OrdersPage(rows=[], number=at.number, has_next=False)
        start = orders.c.id <= first_id
    rows = await _rows(conn, conditions, start, language, newest_first=True, extra=1)
    return OrdersPage(
        rows=rows[:ORDERS_PER_PAGE], number=at.number, has_next=len(rows) > ORDERS_PER_PAGE
    )


async def _rows(
    conn: AsyncConnection,
    conditions: list[ColumnElement[bool]],
    start: ColumnElement[bool] | None,
    language: str,
    newest_first: bool,
    extra: int = 0,
) -> list:
    query: Select = order_rows(language).where(*conditions)
    if start is not None:
        query = query.where(start)
    order = orders.c.id.desc() if newest_first else orders.c.id.asc()
    query = query.order_by(order).limit(ORDERS_PER_PAGE + extra)
    return list((await conn.execute(query)).all())


async def _nth_id(
    conn: AsyncConnection, conditions: list[ColumnElement[bool]], skipped: int
) -> int | None:
    """The id of the order after `skipped` newer ones: a page asked for by its number alone
    (a typed or old address) skips ids in the index, not whole rows joined to their service."""
    query = select(orders.c.id).where(*conditions).order_by(orders.c.id.desc())
    return await conn.scalar(query.offset(skipped).limit(1))


async def recent_orders(conn: AsyncConnection, customer_id: int, limit: int, language: str) -> list:
    query = order_rows(language).where(orders.c.customer_id == customer_id)
    return list((await conn.execute(query.order_by(orders.c.id.desc()).limit(limit))).all())
