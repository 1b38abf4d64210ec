"""What the operator's order pages read: the searchable list, one order in full, the requests."""

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.admin.keyset import Cursor, KeysetPage, keyset_page
from smmpanel.orders.lifecycle import refunded_total
from smmpanel.orders.models import cancel_requests, orders, refills, subscriptions
from smmpanel.orders.queries import cancel_request_rows, order_with_names, refill_request_rows
from smmpanel.orders.statuses import FORWARD_IN_DOUBT
from smmpanel.pagekit.order_rows import order_rows
from smmpanel.pagekit.pagination import Page, select_page
from smmpanel.providers.models import providers

PAGE_SIZE = 50
MANUAL = "manual"  # the provider filter's value for orders fulfilled by hand
# Orders a page of a search, or of a filter other than the status, reads at most (keyset.py):
# no index serves a search in links, so without a bound a page of few matches reads them all.
SEARCH_WINDOW = 20_000


@dataclass(frozen=True)
class OrderFilters:
    search: str = ""
    status: str | None = None
    service_id: int | None = None
    provider: int | str | None = None  # a provider's id, or MANUAL
    forward_state: str | None = None
    order_id: int | None = None  # the search text, when it reads as an order id


@dataclass(frozen=True)
class WaitingCounts:
    in_doubt: int
    open_refills: int
    open_cancels: int


@dataclass(frozen=True)
class OrderInFull:
    order: Row[Any]
    subscription: Row[Any] | None
    refunded: int
    ledger: list
    children: list
    refills: list
    cancels: list


def _order_rows() -> Select:
    """The order list's row, with whose order it is and where it was forwarded."""
    return (
        order_rows()
        .add_columns(
            orders.c.customer_id,
            customers.c.name.label("customer"),
            orders.c.provider_id,
            providers.c.name.label("provider"),
            orders.c.upstream_order_id,
            orders.c.forward_state,
        )
        .join(customers, customers.c.id == orders.c.customer_id)
        .outerjoin(providers, providers.c.id == orders.c.provider_id)
    )


def _matching(filters: OrderFilters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.search:
        found = [
            orders.c.link.icontains(filters.search, autoescape=True),
            customers.c.name.icontains(filters.search, autoescape=True),
            orders.c.upstream_order_id == filters.search,
        ]
        if filters.order_id is not None:
            found.append(orders.c.id == filters.order_id)
        conditions.append(or_(*found))
    return conditions + _filtered(filters)


def _filtered(filters: OrderFilters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.status is not None:
        conditions.append(orders.c.status == filters.status)
    if filters.service_id is not None:
        conditions.append(orders.c.service_id == filters.service_id)
    if filters.provider == MANUAL:
        conditions.append(orders.c.provider_id.is_(None))
    elif filters.provider is not None:
        conditions.append(orders.c.provider_id == filters.provider)
    if filters.forward_state is not None:
        conditions.append(orders.c.forward_state == filters.forward_state)
    return conditions


def _indexed(filters: OrderFilters) -> bool:
    """Whether an index reads the matching orders newest first (the primary key, or
    ix_orders_status), so a page reads a page of rows whatever matches."""
    return not (filters.search or filters.service_id or filters.provider or filters.forward_state)


async def find_orders(conn: AsyncConnection, filters: OrderFilters, cursor: Cursor) -> KeysetPage:
    """A page of the matching orders, newest first; the order whose id was typed comes first
    on the newest page, however old it is."""
    window = None if _indexed(filters) else SEARCH_WINDOW
    query = _order_rows().where(*_matching(filters))
    found = await keyset_page(conn, query, orders.c.id, cursor, PAGE_SIZE, window)
    if filters.order_id is None or cursor != Cursor():
        return found
    exact = _order_rows().where(orders.c.id == filters.order_id, *_filtered(filters))
    typed = (await conn.execute(exact)).first()
    if typed is None or any(row.id == typed.id for row in found.rows):
        return found
    return replace(found, rows=[typed, *found.rows])


async def waiting_counts(conn: AsyncConnection) -> WaitingCounts:
    """What waits for the operator, in one statement, each counted through an index of what is
    open alone: a request is open while its `open_order_id` is set."""
    in_doubt = select(func.count()).where(orders.c.forward_state == FORWARD_IN_DOUBT)
    open_refills = select(func.count()).where(refills.c.open_order_id.is_not(None))
    open_cancels = select(func.count()).where(cancel_requests.c.open_order_id.is_not(None))
    counts = select(
        in_doubt.scalar_subquery().label("in_doubt"),
        open_refills.scalar_subquery().label("open_refills"),
        open_cancels.scalar_subquery().label("open_cancels"),
    )
    return WaitingCounts(**(await conn.execute(counts)).one()._mapping)


async def provider_choices(conn: AsyncConnection) -> list:
    query = select(providers.c.id, providers.c.name).order_by(providers.c.name)
    return list((await conn.execute(query)).all())


async def order_in_full(conn: AsyncConnection, order_id: int) -> OrderInFull | None:
    order = await order_with_names(conn, order_id)
    if order is None:
        return None
    return OrderInFull(
        order=order,
        subscription=await _subscription(conn, order_id),
        refunded=await refunded_total(conn, order_id),
        ledger=await _all(
            conn,
            select(ledger_entries)
            .where(ledger_entries.c.order_id == order_id)
            .order_by(ledger_entries.c.id),
        ),
        children=await _all(
            conn, _order_rows().where(orders.c.parent_id == order_id).order_by(orders.c.id)
        ),
        refills=await _all(
            conn, select(refills).where(refills.c.order_id == order_id).order_by(refills.c.id)
        ),
        cancels=await _all(
            conn,
            select(cancel_requests)
            .where(cancel_requests.c.order_id == order_id)
            .order_by(cancel_requests.c.id),
        ),
    )


async def _subscription(conn: AsyncConnection, order_id: int) -> Row[Any] | None:
    query = select(subscriptions).where(subscriptions.c.order_id == order_id)
    return (await conn.execute(query)).first()


async def _all(conn: AsyncConnection, query: Select) -> list:
    return list((await conn.execute(query)).all())


def _change_fields() -> Select:
    """The fields a manual change is checked against."""
    return select(
        orders.c.id,
        orders.c.type,
        orders.c.status,
        orders.c.quantity,
        orders.c.runs,
        orders.c.start_count,
        orders.c.remains,
        orders.c.forward_state,
        subscriptions.c.posts,
    ).outerjoin(subscriptions, subscriptions.c.order_id == orders.c.id)


async def order_for_change(conn: AsyncConnection, order_id: int) -> Row[Any] | None:
    return (await conn.execute(_change_fields().where(orders.c.id == order_id))).first()


async def order_of_cancel_request(conn: AsyncConnection, cancel_id: int) -> Row[Any] | None:
    """The order a cancel request is about, with the request's own status."""
    query = (
        _change_fields()
        .add_columns(cancel_requests.c.status.label("request_status"))
        .join(cancel_requests, cancel_requests.c.order_id == orders.c.id)
        .where(cancel_requests.c.id == cancel_id)
    )
    return (await conn.execute(query)).first()


async def refill_requests(conn: AsyncConnection, number: int) -> Page:
    return await select_page(conn, refill_request_rows(), number, PAGE_SIZE)


async def cancel_requests_page(conn: AsyncConnection, number: int) -> Page:
    return await select_page(conn, cancel_request_rows(), number, PAGE_SIZE)
