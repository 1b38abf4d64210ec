"""An order's life cycle as the operator moves it (update_order): each refund made at most once,
never past the charge, and a finished order never moves back."""

import pytest
from domain_helpers import Books, ledger_of, micros, new_customer, new_service, order_row, place
from sqlalchemy import select

from smmpanel.errors import Refusal
from smmpanel.orders.lifecycle import (
    FINISHED_ORDER,
    NO_ORDER,
    PARTIAL_NEEDS_REMAINS,
    REMAINS_SETTLED,
    UNKNOWN_STATUS,
    refunded_total,
    update_order,
)
from smmpanel.orders.models import cancel_requests
from smmpanel.orders.requests import request_cancel
from smmpanel.orders.statuses import (
    CANCELED,
    COMPLETED,
    IN_PROGRESS,
    PARTIAL,
    REFUND_PRO_RATA,
    REFUND_REST,
)

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def an_order(conn, rate: str = "1.234567", quantity: int = 777, **flags):  # type: ignore[no-untyped-def]
    """A new customer (10.00) and their Pending order: (customer id, order id, charge)."""
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, rate=rate, **flags)
    order_id = await place(conn, customer_id, service_id, quantity=quantity)
    return customer_id, order_id, (await order_row(conn, order_id)).charge


async def refunds(conn, customer_id: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [entry for entry in await ledger_of(conn, customer_id) if entry[0] == "refund"]


async def test_progress_and_completion_move_no_money(conn, books: Books):
    customer_id, order_id, charge = await an_order(conn)
    change = await update_order(conn, order_id, status=IN_PROGRESS, start_count=1200, remains=500)
    assert (change.status, change.refunded) == (IN_PROGRESS, 0)
    change = await update_order(conn, order_id, status=COMPLETED)
    assert (change.status, change.refunded) == (COMPLETED, 0)
    row = await order_row(conn, order_id)
    assert (row.start_count, row.remains, row.active_link) == (1200, 0, None)
    assert row.finished_at is not None
    assert await books.balance(customer_id) == micros("10") - charge
    assert await refunds(conn, customer_id) == []
    await books.check()


async def test_partial_refunds_the_remains_pro_rata_rounded_down(conn, books: Books):
    customer_id, order_id, charge = await an_order(conn)
    assert charge == 959_259
    change = await update_order(conn, order_id, status=PARTIAL, remains=333)
    # 959259 × 333 / 777 = 411111 exactly; the rest of the charge stays spent.
    assert change.refunded == 959_259 * 333 // 777 == 411_111
    assert await refunds(conn, customer_id) == [("refund", 411_111, order_id, REFUND_PRO_RATA)]
    assert await books.balance(customer_id) == micros("10") - charge + 411_111
    await books.check()


async def test_cancel_refunds_the_whole_charge_once(conn, books: Books):
    customer_id, order_id, charge = await an_order(conn)
    assert (await update_order(conn, order_id, status=CANCELED)).refunded == charge
    # Saying it again (the upstream reports twice) refunds nothing more.
    assert (await update_order(conn, order_id, status=CANCELED)).refunded == 0
    assert await refunds(conn, customer_id) == [("refund", charge, order_id, REFUND_REST)]
    assert await books.balance(customer_id) == micros("10")
    await books.check()


async def test_refunds_after_a_partial_never_pass_the_charge(conn, books: Books):
    customer_id, order_id, charge = await an_order(conn)
    await update_order(conn, order_id, status=COMPLETED)
    first = await update_order(conn, order_id, status=PARTIAL, remains=700)
    rest = await update_order(conn, order_id, status=CANCELED)
    assert first.refunded == charge * 700 // 777
    assert first.refunded + rest.refunded == charge
    assert await refunded_total(conn, order_id) == charge
    assert await books.balance(customer_id) == micros("10")
    await books.check()


async def test_a_finished_order_does_not_move_back(conn, books: Books):
    customer_id, order_id, charge = await an_order(conn)
    await update_order(conn, order_id, status=CANCELED)
    for status in (COMPLETED, PARTIAL, IN_PROGRESS):
        with pytest.raises(Refusal) as caught:
            async with conn.begin_nested():
                await update_order(conn, order_id, status=status, remains=1)
        assert caught.value.kind is FINISHED_ORDER
        assert caught.value.params == {"id": order_id, "status": CANCELED, "new_status": status}
    assert (await order_row(conn, order_id)).status == CANCELED
    assert await refunded_total(conn, order_id) == charge
    await books.check()


async def test_partial_needs_remains_within_the_units(conn, books: Books):
    customer_id, order_id, _ = await an_order(conn, quantity=100)
    for remains in (0, 101, None):
        with pytest.raises(Refusal) as caught:
            async with conn.begin_nested():
                await update_order(conn, order_id, status=PARTIAL, remains=remains)
        assert caught.value.kind is PARTIAL_NEEDS_REMAINS
        assert caught.value.params == {"units": 100}
    with pytest.raises(Refusal) as caught:
        await update_order(conn, order_id, status="Lost")
    assert caught.value.kind is UNKNOWN_STATUS
    assert caught.value.params["status"] == "Lost"
    assert await refunds(conn, customer_id) == []
    await books.check()


async def test_settled_remains_cannot_change(conn, books: Books):
    _, order_id, _ = await an_order(conn, quantity=100)
    await update_order(conn, order_id, status=PARTIAL, remains=40)
    with pytest.raises(Refusal) as caught:
        async with conn.begin_nested():
            await update_order(conn, order_id, status=PARTIAL, remains=10)
    assert caught.value.kind is REMAINS_SETTLED
    assert caught.value.params == {"id": order_id, "status": PARTIAL}
    assert (await order_row(conn, order_id)).remains == 40
    await books.check()


async def test_an_unknown_order_is_refused(conn):
    with pytest.raises(Refusal) as caught:
        await update_order(conn, 987_654_321, status=COMPLETED)
    assert caught.value.kind is NO_ORDER
    assert caught.value.params == {"id": 987_654_321}


async def test_finishing_answers_an_open_cancel_request(conn, books: Books):
    customer_id, completed, _ = await an_order(conn, cancel=True)
    service_id = (await order_row(conn, completed)).service_id
    canceled = await place(conn, customer_id, service_id, quantity=100)
    await request_cancel(conn, customer_id, completed)
    await request_cancel(conn, customer_id, canceled)
    await update_order(conn, completed, status=COMPLETED)
    await update_order(conn, canceled, status=CANCELED)
    rows = await conn.execute(
        select(
            cancel_requests.c.order_id, cancel_requests.c.status, cancel_requests.c.open_order_id
        )
        .where(cancel_requests.c.customer_id == customer_id)
        .order_by(cancel_requests.c.order_id)
    )
    assert [tuple(row) for row in rows] == [
        (completed, "Rejected", None),
        (canceled, "Accepted", None),
    ]
    await books.check()
