"""Reading orders: for their owner, the API's status look-ups on the hot path; for the
operator, the refill and cancel requests (the command line and the pages list the same)."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, case, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.catalog.models import services
from smmpanel.db.base import AnyRow
from smmpanel.db.hotpath import (
    CALLER_STATUS_SQL,
    CALLER_STATUS_WITH_CHILDREN_SQL,
    CHILDREN_SQL,
    HotReader,
)
from smmpanel.orders.models import cancel_requests, order_polls, orders, refills
from smmpanel.orders.statuses import CANCEL_PENDING, REFILL_OPEN
from smmpanel.providers.models import providers


@dataclass(frozen=True)
class OrderStatuses:
    """The caller's orders among some ids: `CALLER_STATUS_SQL`'s order columns as tuples, keyed
    by id (rows stay tuples: building a dict per order cost more than the rest of a 100-id
    reply), and the child orders of those with drip-feed runs or subscription posts."""

    rows: dict[int, tuple]
    children: dict[int, list[int]]


def status_statement(reader: HotReader, order_ids: Sequence[int]) -> tuple[str, list]:
    """The statement that checks an API key and reads its customer's orders among `order_ids`
    (`accounts.service.authenticate` runs it), and its parameters before the key's."""
    among, params = reader.among("o.id", list(order_ids))
    sql = CALLER_STATUS_SQL if reader.is_sqlite else CALLER_STATUS_WITH_CHILDREN_SQL
    return sql.format(among=among), params


async def orders_status(reader: HotReader, read: list[tuple]) -> OrderStatuses:
    """The status fields of the orders `status_statement` read (a row of NULLs when it found
    none), with their children."""
    rows = [row for row in read if row[0] is not None]
    if not reader.is_sqlite:
        return OrderStatuses(
            {row[0]: row[:-1] for row in rows},
            {row[0]: list(row[-1]) for row in rows if _has_children(row)},
        )
    parents = [row[0] for row in rows if _has_children(row)]
    return OrderStatuses({row[0]: row for row in rows}, await _children(reader, parents))


def _has_children(row: tuple) -> bool:
    """Drip-feed runs, or a subscription's row (posts_delivered not NULL)."""
    return bool(row[5]) or row[7] is not None


async def _children(reader: HotReader, parent_ids: list[int]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {parent_id: [] for parent_id in parent_ids}
    if parent_ids:
        among, params = reader.among("parent_id", parent_ids)
        for parent_id, child_id in await reader.fetch_all(
            CHILDREN_SQL.format(among=among), *params
        ):
            children[parent_id].append(child_id)
    return children


def refill_request_rows(status: str | None = None) -> Select[Any]:
    """Refill requests (only those in `status`, if given) with their customer and order: open
    ones first, then newest first."""
    query = _request_rows(refills, REFILL_OPEN, refills.c.updated_at, refills.c.upstream_refill_id)
    return query if status is None else query.where(refills.c.status == status)


def cancel_request_rows(pending_only: bool = False) -> Select[Any]:
    """Cancel requests (only those waiting for an answer, if asked) with their customer and
    order: waiting ones first, then newest first."""
    query = _request_rows(
        cancel_requests,
        (CANCEL_PENDING,),
        cancel_requests.c.resolved_at,
        orders.c.quantity,
        orders.c.runs,
    )
    return query.where(cancel_requests.c.status == CANCEL_PENDING) if pending_only else query


def _request_rows(
    table: Table, open_statuses: Collection[str], *columns: ColumnElement[Any]
) -> Select[Any]:
    return (
        select(
            table.c.id,
            table.c.order_id,
            table.c.customer_id,
            customers.c.name.label("customer"),
            table.c.status,
            table.c.created_at,
            table.c.last_error,
            orders.c.link,
            orders.c.status.label("order_status"),
            *columns,
        )
        .join(customers, customers.c.id == table.c.customer_id)
        .join(orders, orders.c.id == table.c.order_id)
        .order_by(_open_first(table.c.status, open_statuses), table.c.id.desc())
    )


def _open_first(status: ColumnElement[str], open_statuses: Collection[str]) -> ColumnElement[int]:
    return case((status.in_(open_statuses), 0), else_=1)


async def order_with_names(conn: AsyncConnection, order_id: int) -> AnyRow | None:
    """One order for the operator: every column, with its customer's, service's and
    provider's names and when it is next polled."""
    query = (
        select(
            orders,
            customers.c.name.label("customer"),
            services.c.name.label("service"),
            providers.c.name.label("provider"),
            order_polls.c.due_at.label("next_poll_at"),
        )
        .join(customers, customers.c.id == orders.c.customer_id)
        .join(services, services.c.id == orders.c.service_id)
        .outerjoin(providers, providers.c.id == orders.c.provider_id)
        .outerjoin(order_polls, order_polls.c.order_id == orders.c.id)
        .where(orders.c.id == order_id)
    )
    return (await conn.execute(query)).first()
