"""Placing an order: check it, store it and charge for it, in the caller's transaction or in
one of its own."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.service import debit
from smmpanel.catalog.service import OrderableService, orderable_service
from smmpanel.db import Database, is_unique_violation
from smmpanel.db.base import utcnow
from smmpanel.orders import refusals
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.statuses import ACTIVE, FORWARD_DRIPFEED, FORWARD_QUEUED, PENDING
from smmpanel.orders.validation import NewOrder, parse_positive_int, validate_order

MAX_IDEMPOTENCY_KEY = 100


async def place_in_transaction(db: Database, customer_id: int, fields: Mapping[str, str]) -> int:
    """Place and charge one order in a write transaction of its own; its id. A duplicate
    idempotency key gives the earlier order's id. Raises Refusal."""
    try:
        async with db.write() as conn:
            return await place_order(conn, customer_id, fields)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        async with db.read() as conn:
            return await explain_conflict(conn, customer_id, fields)


async def place_order(conn: AsyncConnection, customer_id: int, fields: Mapping[str, str]) -> int:
    """Store and charge a new order; its id. Raises Refusal, or IntegrityError on a
    duplicate active link or idempotency key (see `explain_conflict`)."""
    idempotency_key = _idempotency_key(fields)
    if idempotency_key:
        earlier = await order_for_idempotency_key(conn, customer_id, idempotency_key)
        if earlier is not None:
            return earlier
    service_id = parse_positive_int(fields.get("service", ""))
    service = service_id and await orderable_service(conn, service_id, customer_id)
    if not service:
        raise refusals.INCORRECT_SERVICE()
    new_order = validate_order(service, fields)
    order_id = await _insert_order(conn, customer_id, service, new_order, idempotency_key)
    charged = await debit(
        conn,
        customer_id,
        new_order.charge,
        kind="charge",
        reason=f"order {order_id}",
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
    now = utcnow()
    subscription = new_order.subscription
    order_id = await conn.scalar(
        insert(orders)
        .values(
            customer_id=customer_id,
            service_id=service.id,
            type=new_order.type,
            status=PENDING if subscription is None else ACTIVE,
            link=new_order.link,
            active_link=new_order.link,
            quantity=new_order.quantity,
            runs=new_order.runs,
            interval=new_order.interval,
            charge=new_order.charge,
            idempotency_key=idempotency_key,
            created_at=now,
            updated_at=now,
            **new_order.texts,
            **_forwarding(service, new_order, now),
        )
        .returning(orders.c.id)
    )
    if subscription is not None:
        await conn.execute(insert(subscriptions).values(order_id=order_id, **subscription))
    return order_id
