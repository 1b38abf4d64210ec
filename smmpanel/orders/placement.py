"""Placing an order: check it, store it and charge for it, in the caller's transaction or in
one of its own."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, NoReturn

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.service import debit
from smmpanel.catalog.service import OrderableService, orderable_service, orderable_service_hot
from smmpanel.db import Database, is_unique_violation
from smmpanel.db.base import utcnow
from smmpanel.db.placing import IDEMPOTENT_ORDER_SQL, DuplicateOrder, WriteLockBusy, charge_reason
from smmpanel.orders import refusals
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.statuses import ACTIVE, FORWARD_DRIPFEED, FORWARD_QUEUED, PENDING
from smmpanel.orders.validation import NewOrder, parse_positive_int, validate_order

MAX_IDEMPOTENCY_KEY = 100


async def place_in_transaction(db: Database, customer_id: int, fields: Mapping[str, str]) -> int:
    """Place and charge one order in a write of its own; its id. A duplicate idempotency key
    gives the earlier order's id. Raises Refusal."""
    placed = await _place_below_sqlalchemy(db, customer_id, fields)
    if placed is not None:
        return placed
    try:
        async with db.write() as conn:
            return await place_order(conn, customer_id, fields)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return await _explained_conflict(db, customer_id, fields)


async def _place_below_sqlalchemy(
    db: Database, customer_id: int, fields: Mapping[str, str]
) -> int | None:
    """The order's id, placed through `db/placing.py`; None for the orders that take the
    ordinary way: subscriptions, and any order while SQLite's write lock is taken."""
    idempotency_key = _idempotency_key(fields)
    if idempotency_key:
        earlier = await db.hot.fetch_one(IDEMPOTENT_ORDER_SQL, customer_id, idempotency_key)
        if earlier is not None:
            return int(earlier[0])
    service_id = parse_positive_int(fields.get("service", ""))
    service = _orderable(
        service_id and await orderable_service_hot(db.hot, service_id, customer_id)
    )
    new_order = validate_order(service, fields)
    if new_order.subscription is not None:
        return None
    row = _order_row(customer_id, service, new_order, idempotency_key)
    try:
        order_id = await db.placing.place(customer_id, new_order.charge, row)
    except DuplicateOrder:
        return await _explained_conflict(db, customer_id, fields)
    except WriteLockBusy:
        return None
    if order_id is None:
        await _refuse_short_of_funds(db, customer_id, service.id, new_order.link)
    return order_id


async def _explained_conflict(db: Database, customer_id: int, fields: Mapping[str, str]) -> int:
    async with db.read() as conn:
        return await explain_conflict(conn, customer_id, fields)


async def _refuse_short_of_funds(
    db: Database, customer_id: int, service_id: int, link: str | None
) -> NoReturn:
    """The contract checks an active order of the same link before the funds."""
    if link is not None:
        async with db.read() as conn:
            if await _active_order_of_link(conn, customer_id, service_id, link):
                raise refusals.ACTIVE_ORDER_EXISTS()
    raise refusals.NOT_ENOUGH_FUNDS()


async def place_order(conn: AsyncConnection, customer_id: int, fields: Mapping[str, str]) -> int:
    """Store and charge a new order; its id. Raises Refusal, or IntegrityError on a
    duplicate active link or idempotency key (see `explain_conflict`)."""
    idempotency_key = _idempotency_key(fields)
    if idempotency_key:
        earlier = await order_for_idempotency_key(conn, customer_id, idempotency_key)
        if earlier is not None:
            return earlier
    service_id = parse_positive_int(fields.get("service", ""))
    service = _orderable(service_id and await orderable_service(conn, service_id, customer_id))
    new_order = validate_order(service, fields)
    order_id = await _insert_order(conn, customer_id, service, new_order, idempotency_key)
    charged = await debit(
        conn,
        customer_id,
        new_order.charge,
        kind="charge",
        reason=charge_reason(order_id),
        order_id=order_id,
        cause="charge",
    )
    if not charged:
        raise refusals.NOT_ENOUGH_FUNDS()
    return order_id


async def explain_conflict(
    conn: AsyncConnection, customer_id: int, fields: Mapping[str, str]
) -> int:
    """After a unique violation: the earlier order of the same idempotency key, or the refusal."""
    idempotency_key = _idempotency_key(fields)
    if idempotency_key:
        earlier = await order_for_idempotency_key(conn, customer_id, idempotency_key)
        if earlier is not None:
            return earlier
    raise refusals.ACTIVE_ORDER_EXISTS()


async def order_for_idempotency_key(
    conn: AsyncConnection, customer_id: int, idempotency_key: str
) -> int | None:
    return await conn.scalar(
        select(orders.c.id).where(
            orders.c.customer_id == customer_id, orders.c.idempotency_key == idempotency_key
        )
    )


def _orderable(service: OrderableService | None | Literal[0]) -> OrderableService:
    if not service:
        raise refusals.INCORRECT_SERVICE()
    return service


async def _active_order_of_link(
    conn: AsyncConnection, customer_id: int, service_id: int, link: str
) -> bool:
    found = await conn.scalar(
        select(orders.c.id)
        .where(
            orders.c.customer_id == customer_id,
            orders.c.service_id == service_id,
            orders.c.active_link == link,
        )
        .limit(1)
    )
    return found is not None


def _idempotency_key(fields: Mapping[str, str]) -> str | None:
    key = fields.get("idempotency_key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise refusals.INCORRECT_IDEMPOTENCY_KEY()
    return key or None


def _forwarding(service: OrderableService, new_order: NewOrder, now: datetime) -> dict[str, Any]:
    """How an order leaves: by hand (nothing to do), upstream, or run by run as child orders."""
    if service.provider_id is None:
        return {}
    runs_here = new_order.runs is not None and not service.upstream_dripfeed
    return {
        "provider_id": service.provider_id,
        "forward_state": FORWARD_DRIPFEED if runs_here else FORWARD_QUEUED,
        "next_action_at": now,
    }


async def _insert_order(
    conn: AsyncConnection,
    customer_id: int,
    service: OrderableService,
    new_order: NewOrder,
    idempotency_key: str | None,
) -> int:
    row = _order_row(customer_id, service, new_order, idempotency_key)
    order_id = await conn.scalar(insert(orders).values(**row).returning(orders.c.id))
    if new_order.subscription is not None:
        await conn.execute(
            insert(subscriptions).values(order_id=order_id, **new_order.subscription)
        )
    return order_id


def _order_row(
    customer_id: int, service: OrderableService, new_order: NewOrder, idempotency_key: str | None
) -> dict[str, Any]:
    """The new order's columns."""
    now = utcnow()
    return {
        "customer_id": customer_id,
        "service_id": service.id,
        "type": new_order.type,
        "status": PENDING if new_order.subscription is None else ACTIVE,
        "link": new_order.link,
        "active_link": new_order.link,
        "quantity": new_order.quantity,
        "runs": new_order.runs,
        "interval": new_order.interval,
        "charge": new_order.charge,
        "idempotency_key": idempotency_key,
        "created_at": now,
        "updated_at": now,
        **new_order.texts,
        **_forwarding(service, new_order, now),
    }
