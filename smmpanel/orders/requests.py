"""Refill and cancel requests: customers ask, the operator (or the upstream) answers."""

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import services
from smmpanel.db.base import as_utc, utcnow
from smmpanel.db.dialect import locked
from smmpanel.errors import N_, refusal
from smmpanel.orders import refusals
from smmpanel.orders.lifecycle import OrderChange, update_order
from smmpanel.orders.models import cancel_requests, orders, refills
from smmpanel.orders.statuses import (
    CANCEL_PENDING,
    CANCEL_REJECTED,
    CANCELED,
    COMPLETED,
    FORWARD_QUEUED,
    PARTIAL,
    REFILL_OPEN,
    REFILL_PENDING,
    REFILL_STATUSES,
    is_finished,
)

UNKNOWN_REFILL_STATUS = refusal(
    "unknown_refill_status", "unknown refill status %(status)r; use one of: %(known)s"
)
NO_REFILL = refusal("no_such_refill", "no refill %(id)s: see `smmpanel refill list`")
REFILL_CLOSED = refusal(
    "refill_closed", "refill %(id)s is %(status)s: a closed refill cannot change"
)
NO_CANCEL_REQUEST = refusal(
    "no_such_cancel_request", "no cancel request %(id)s: see `smmpanel cancel list`"
)
NO_OPEN_CANCEL_REQUEST = refusal(
    "no_open_cancel_request", "no open cancel request %(id)s: see `smmpanel cancel list`"
)
ORDER_NO_LONGER_CANCELLABLE = refusal(
    "cancel_order_finished",
    "order %(order)s is %(status)s: it can no longer be canceled, so cancel request %(id)s "
    "can only be rejected",
)


class CustomerOrder(NamedTuple):
    """An order as a customer's request about it is checked, with its service's terms."""

    id: int
    status: str
    finished_at: datetime | None
    created_at: datetime
    provider_id: int | None
    refill: bool
    refill_days: int
    cancel: bool


async def _customer_order(conn: AsyncConnection, customer_id: int, order_id: int) -> CustomerOrder:
    """The order, locked as the life cycle locks it: a request is made against its status now,
    and the order cannot finish until the request is stored (finishing closes requests)."""
    query = (
        select(
            orders.c.id,
            orders.c.status,
            orders.c.finished_at,
            orders.c.created_at,
            orders.c.provider_id,
            services.c.refill,
            services.c.refill_days,
            services.c.cancel,
        )
        .join(services, services.c.id == orders.c.service_id)
        .where(orders.c.id == order_id, orders.c.customer_id == customer_id)
    )
    row = (await conn.execute(locked(conn, query, of=orders))).first()
    if row is None:
        raise refusals.INCORRECT_ORDER()
    return CustomerOrder._make(row)


def _forwarding(order: CustomerOrder) -> dict[str, Any]:
    """A request about an order fulfilled upstream goes upstream too."""
    if order.provider_id is None:
        return {}
    return {"forward_state": FORWARD_QUEUED, "next_action_at": utcnow()}


async def request_refill(conn: AsyncConnection, customer_id: int, order_id: int) -> int:
    order = await _customer_order(conn, customer_id, order_id)
    if not order.refill or order.status not in (COMPLETED, PARTIAL):
        raise refusals.REFILL_UNAVAILABLE()
    finished = as_utc(order.finished_at or order.created_at)
    if utcnow() > finished + timedelta(days=order.refill_days):
        raise refusals.REFILL_PERIOD_OVER()
    try:
        async with conn.begin_nested():
            return await conn.scalar(
                insert(refills)
                .values(
                    order_id=order_id,
                    customer_id=customer_id,
                    status=REFILL_PENDING,
                    open_order_id=order_id,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                    **_forwarding(order),
                )
                .returning(refills.c.id)
            )
    except IntegrityError:
        raise refusals.REFILL_ALREADY_REQUESTED() from None


async def refill_status(conn: AsyncConnection, customer_id: int, refill_id: int) -> str:
    status = await conn.scalar(
        select(refills.c.status).where(
            refills.c.id == refill_id, refills.c.customer_id == customer_id
        )
    )
    if status is None:
        raise refusals.REFILL_NOT_FOUND()
    return status


async def update_refill(conn: AsyncConnection, refill_id: int, status: str) -> None:
    if status not in REFILL_STATUSES:
        raise UNKNOWN_REFILL_STATUS(status=status, known=", ".join(REFILL_STATUSES))
    current = await conn.scalar(select(refills.c.status).where(refills.c.id == refill_id))
    if current is None:
        raise NO_REFILL(id=refill_id)
    if current not in REFILL_OPEN and status != current:
        raise REFILL_CLOSED(id=refill_id, status=N_(current))
    await conn.execute(
        update(refills)
        .where(refills.c.id == refill_id)
        .values(
            status=status,
            open_order_id=refills.c.order_id if status in REFILL_OPEN else None,
            updated_at=utcnow(),
        )
    )


async def request_cancel(conn: AsyncConnection, customer_id: int, order_id: int) -> None:
    order = await _customer_order(conn, customer_id, order_id)
    if not order.cancel or is_finished(order.status):
        raise refusals.CANCEL_UNAVAILABLE()
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(cancel_requests).values(
                    order_id=order_id,
                    customer_id=customer_id,
                    status=CANCEL_PENDING,
                    open_order_id=order_id,
                    created_at=utcnow(),
                    **_forwarding(order),
                )
            )
    except IntegrityError:
        raise refusals.CANCEL_ALREADY_REQUESTED() from None


async def resolve_cancel(
    conn: AsyncConnection, cancel_id: int, *, accept: bool, remains: int | None = None
) -> OrderChange:
    """Accept (the order becomes Canceled, or Partial with `remains`) or reject a request;
    what the order became (nothing refunded when rejected). Only an unfinished order can be
    canceled: a request left open on a finished one can only be rejected."""
    order_id = await conn.scalar(
        select(cancel_requests.c.order_id).where(cancel_requests.c.id == cancel_id)
    )
    if order_id is None:
        raise NO_CANCEL_REQUEST(id=cancel_id)
    # The order first, as the life cycle locks it; then the request, as it stands now.
    order_status = await conn.scalar(
        locked(conn, select(orders.c.status).where(orders.c.id == order_id))
    )
    request_status = await conn.scalar(
        select(cancel_requests.c.status).where(cancel_requests.c.id == cancel_id)
    )
    if request_status != CANCEL_PENDING:
        raise NO_OPEN_CANCEL_REQUEST(id=cancel_id)
    if accept:
        if is_finished(order_status):
            raise ORDER_NO_LONGER_CANCELLABLE(order=order_id, status=N_(order_status), id=cancel_id)
        status = PARTIAL if remains is not None else CANCELED
        return await update_order(conn, order_id, status=status, remains=remains)
    await conn.execute(
        update(cancel_requests)
        .where(cancel_requests.c.id == cancel_id)
        .values(
            status=CANCEL_REJECTED,
            open_order_id=None,
            resolved_at=utcnow(),
        )
    )
    order = (
        await conn.execute(
            select(orders.c.status, orders.c.start_count, orders.c.remains).where(
                orders.c.id == order_id
            )
        )
    ).one()
    return OrderChange(order_id, order.status, order.start_count, order.remains, refunded=0)
