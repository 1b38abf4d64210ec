"""Refill and cancel requests (orders.requests): who may ask, when, and only once at a time."""

from datetime import timedelta

import pytest
from domain_helpers import Books, micros, new_customer, new_service, order_row, place, refused
from sqlalchemy import select, update

from smmpanel.accounts.audit import audit
from smmpanel.db.base import utcnow
from smmpanel.errors import Refusal
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import cancel_requests, orders, refills
from smmpanel.orders.requests import (
    NO_OPEN_CANCEL_REQUEST,
    ORDER_NO_LONGER_CANCELLABLE,
    REFILL_CLOSED,
    refill_status,
    request_cancel,
    request_refill,
    resolve_cancel,
    update_refill,
)
from smmpanel.orders.statuses import CANCELED, COMPLETED, IN_PROGRESS, PARTIAL

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def an_order(conn, **flags):  # type: ignore[no-untyped-def]
    """A new customer (10.00) and their Pending order of 1000 at 1.00: (customer id, order id)."""
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, rate="1", **flags)
    return customer_id, await place(conn, customer_id, service_id, quantity=1000)


async def finished_days_ago(conn, order_id: int, days: float) -> None:  # type: ignore[no-untyped-def]
    await conn.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(finished_at=utcnow() - timedelta(days=days))
    )


async def test_a_completed_order_may_ask_one_refill_at_a_time(conn):
    customer_id, order_id = await an_order(conn, refill=True, refill_days=30)
    await update_order(conn, order_id, status=COMPLETED)
    refill_id = await request_refill(conn, customer_id, order_id)
    assert await refill_status(conn, customer_id, refill_id) == "Pending"
    again = await refused(conn, request_refill(conn, customer_id, order_id))
    assert (again.code, again.message) == ("refill_already_requested", "Refill already requested")
    # Once the refill is closed, another may be asked.
    await update_refill(conn, refill_id, "Completed")
    second = await request_refill(conn, customer_id, order_id)
    assert second != refill_id
    assert await refill_status(conn, customer_id, refill_id) == "Completed"
    with pytest.raises(Refusal) as caught:
        await update_refill(conn, refill_id, "Pending")
    assert caught.value.kind is REFILL_CLOSED
    assert caught.value.params == {"id": refill_id, "status": "Completed"}


async def test_refill_needs_a_refill_service_and_a_finished_delivery(conn):
    customer_id, no_refill = await an_order(conn, refill=False)
    await update_order(conn, no_refill, status=COMPLETED)
    refusal = await refused(conn, request_refill(conn, customer_id, no_refill))
    assert (refusal.code, refusal.message) == (
        "refill_unavailable",
        "Refill is not available for this order",
    )
    _, pending = await an_order(conn, refill=True)
    owner = (await order_row(conn, pending)).customer_id
    assert (await refused(conn, request_refill(conn, owner, pending))).code == "refill_unavailable"
    await update_order(conn, pending, status=PARTIAL, remains=10)
    assert await request_refill(conn, owner, pending) > 0
    _, canceled = await an_order(conn, refill=True)
    owner = (await order_row(conn, canceled)).customer_id
    await update_order(conn, canceled, status=CANCELED)
    assert (await refused(conn, request_refill(conn, owner, canceled))).code == "refill_unavailable"


async def test_refill_period_ends_refill_days_after_finishing(conn):
    customer_id, order_id = await an_order(conn, refill=True, refill_days=7)
    await update_order(conn, order_id, status=COMPLETED)
    await finished_days_ago(conn, order_id, 7.01)
    refusal = await refused(conn, request_refill(conn, customer_id, order_id))
    assert (refusal.code, refusal.message) == ("refill_period_over", "Refill period is over")
    await finished_days_ago(conn, order_id, 6.99)
    assert await request_refill(conn, customer_id, order_id) > 0


async def test_requests_about_another_customers_order_are_refused(conn):
    owner, order_id = await an_order(conn, refill=True, cancel=True)
    await update_order(conn, order_id, status=COMPLETED)
    refill_id = await request_refill(conn, owner, order_id)
    intruder = await new_customer(conn)
    for request in (request_refill, request_cancel):
        refusal = await refused(conn, request(conn, intruder, order_id))
        assert (refusal.code, refusal.message) == ("incorrect_order", "Incorrect order ID")
    hidden = await refused(conn, refill_status(conn, intruder, refill_id))
    assert (hidden.code, hidden.message) == ("refill_not_found", "Refill not found")


async def test_cancel_needs_a_cancel_service_and_an_unfinished_order(conn):
    customer_id, no_cancel = await an_order(conn, cancel=False)
    refusal = await refused(conn, request_cancel(conn, customer_id, no_cancel))
    assert (refusal.code, refusal.message) == (
        "cancel_unavailable",
        "Cancel is not available for this order",
    )
    customer_id, finished = await an_order(conn, cancel=True)
    await update_order(conn, finished, status=COMPLETED)
    assert (await refused(conn, request_cancel(conn, customer_id, finished))).code == (
        "cancel_unavailable"
    )


async def test_a_cancel_request_is_open_once(conn):
    customer_id, order_id = await an_order(conn, cancel=True)
    await update_order(conn, order_id, status=IN_PROGRESS)
    await request_cancel(conn, customer_id, order_id)
    again = await refused(conn, request_cancel(conn, customer_id, order_id))
    assert (again.code, again.message) == ("cancel_already_requested", "Cancel already requested")


async def cancel_id_of(conn, order_id: int) -> int:  # type: ignore[no-untyped-def]
    return await conn.scalar(
        select(cancel_requests.c.id).where(cancel_requests.c.order_id == order_id)
    )


async def test_accepting_a_cancel_cancels_and_refunds_once(conn, books: Books):
    customer_id, order_id = await an_order(conn, cancel=True)
    await request_cancel(conn, customer_id, order_id)
    cancel_id = await cancel_id_of(conn, order_id)
    await resolve_cancel(conn, cancel_id, accept=True)
    assert (await order_row(conn, order_id)).status == CANCELED
    assert await books.balance(customer_id) == micros("10")
    with pytest.raises(Refusal) as caught:
        await resolve_cancel(conn, cancel_id, accept=True)
    assert caught.value.kind is NO_OPEN_CANCEL_REQUEST
    assert caught.value.params == {"id": cancel_id}
    assert await books.balance(customer_id) == micros("10")
    await books.check()


async def test_accepting_with_remains_makes_a_partial(conn, books: Books):
    customer_id, order_id = await an_order(conn, cancel=True)
    await request_cancel(conn, customer_id, order_id)
    await resolve_cancel(conn, await cancel_id_of(conn, order_id), accept=True, remains=250)
    row = await order_row(conn, order_id)
    assert (row.status, row.remains) == (PARTIAL, 250)
    assert await books.balance(customer_id) == micros("9") + micros("0.25")
    await books.check()


async def test_rejecting_a_cancel_leaves_the_order_and_allows_asking_again(conn, books: Books):
    customer_id, order_id = await an_order(conn, cancel=True)
    await request_cancel(conn, customer_id, order_id)
    await resolve_cancel(conn, await cancel_id_of(conn, order_id), accept=False)
    assert (await order_row(conn, order_id)).status == "Pending"
    assert await books.balance(customer_id) == micros("9")
    await request_cancel(conn, customer_id, order_id)
    await books.check()


async def request_of(conn, table, order_id: int):  # type: ignore[no-untyped-def]
    """The order's one refill or cancel request: (status, open for the order, reason)."""
    row = (
        await conn.execute(
            select(table.c.status, table.c.open_order_id, table.c.last_error).where(
                table.c.order_id == order_id
            )
        )
    ).one()
    return tuple(row)


async def test_completing_an_order_rejects_its_cancel_request_saying_why(conn, books: Books):
    customer_id, order_id = await an_order(conn, cancel=True)
    await request_cancel(conn, customer_id, order_id)
    await update_order(conn, order_id, status=COMPLETED)
    assert await request_of(conn, cancel_requests, order_id) == (
        "Rejected",
        None,
        "the order was completed",
    )
    await books.check()


async def test_a_cancel_request_left_open_on_a_finished_order_cannot_be_accepted(
    conn, books: Books
):
    customer_id, order_id = await an_order(conn, cancel=True)
    await request_cancel(conn, customer_id, order_id)
    cancel_id = await cancel_id_of(conn, order_id)
    # The order completed without closing it, as a cancel request raced completion once could.
    await conn.execute(update(orders).where(orders.c.id == order_id).values(status=COMPLETED))
    paid = await books.balance(customer_id)
    assert await audit(conn) == [
        f"order {order_id} (Completed): cancel request {cancel_id} is still Pending"
    ]

    refusal = await refused(conn, resolve_cancel(conn, cancel_id, accept=True))

    assert refusal.kind is ORDER_NO_LONGER_CANCELLABLE
    assert refusal.message == (
        f"order {order_id} is Completed: it can no longer be canceled, so cancel request "
        f"{cancel_id} can only be rejected"
    )
    assert (await order_row(conn, order_id)).status == COMPLETED
    assert await books.balance(customer_id) == paid
    change = await resolve_cancel(conn, cancel_id, accept=False)
    assert (change.status, change.refunded) == (COMPLETED, 0)
    await books.check()


@pytest.mark.parametrize(
    ("status", "remains"), [(CANCELED, None), (PARTIAL, 1000)], ids=["canceled", "partial-all"]
)
async def test_an_order_refunded_in_full_closes_its_open_refill(conn, books, status, remains):
    customer_id, order_id = await an_order(conn, refill=True, refill_days=30)
    await update_order(conn, order_id, status=COMPLETED)
    refill_id = await request_refill(conn, customer_id, order_id)

    await update_order(conn, order_id, status=status, remains=remains)

    assert await request_of(conn, refills, order_id) == (
        "Rejected",
        None,
        "the order was refunded in full: nothing delivered is left to refill",
    )
    assert await refill_status(conn, customer_id, refill_id) == "Rejected"
    assert await books.balance(customer_id) == micros("10")
    await books.check()


async def test_a_refill_stays_open_while_something_delivered_is_kept(conn, books: Books):
    customer_id, order_id = await an_order(conn, refill=True, refill_days=30)
    await update_order(conn, order_id, status=COMPLETED)
    await request_refill(conn, customer_id, order_id)
    await update_order(conn, order_id, status=PARTIAL, remains=400)
    assert await request_of(conn, refills, order_id) == ("Pending", order_id, None)
    await books.check()
