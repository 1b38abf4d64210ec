"""cancel: a request per order, its shapes and refusals; the money comes back when it ends."""

from decimal import Decimal

import pytest
from api_helpers import assert_success, expected_charge, expected_refund, new_link
from sqlalchemy import select

from smmpanel.orders.models import cancel_requests
from smmpanel.orders.requests import resolve_cancel

INCORRECT_ORDER = {"error": "Incorrect order ID"}
UNAVAILABLE = {"error": "Cancel is not available for this order"}
ALREADY = {"error": "Cancel already requested"}


@pytest.fixture
def resolve(db):
    """The operator answers the open cancel request of an order."""

    async def resolve(order_id: int, *, accept: bool, remains: int | None = None) -> None:
        async with db.write() as conn:
            cancel_id = await conn.scalar(
                select(cancel_requests.c.id).where(cancel_requests.c.open_order_id == order_id)
            )
            await resolve_cancel(conn, cancel_id, accept=accept, remains=remains)

    return resolve


async def cancel(api, key: str, **ids: object) -> object:
    return await api.call(key=key, action="cancel", **ids)


async def test_cancel_is_a_request_and_canceled_refunds_in_full(
    api, shop, place, set_order, check_books
):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1.234567", cancel=True)
    order_id = await place(key, service, link=new_link(), quantity="777")
    charge = expected_charge("1.234567", 777)
    reply = await cancel(api, key, orders=str(order_id))
    assert_success(reply)
    assert reply == [{"order": order_id, "cancel": 1}]
    assert await api.balance(key) == Decimal("10") - charge  # asking refunds nothing yet
    status = await api.call(key=key, action="status", order=order_id)
    assert status["status"] == "Pending"

    await set_order(order_id, status="Canceled")
    assert await api.balance(key) == Decimal("10")
    assert (await api.call(key=key, action="status", order=order_id))["status"] == "Canceled"
    await check_books()


async def test_a_lone_order_field_is_accepted(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1", cancel=True)
    order_id = await place(key, service, link=new_link(), quantity="100")
    assert await cancel(api, key, order=order_id) == [{"order": order_id, "cancel": 1}]


async def test_cancel_twice_is_already_requested(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1", cancel=True)
    order_id = await place(key, service, link=new_link(), quantity="100")
    await cancel(api, key, orders=order_id)
    assert await cancel(api, key, orders=order_id) == [{"order": order_id, "cancel": ALREADY}]


async def test_a_rejected_request_can_be_made_again(api, shop, place, resolve):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1", cancel=True)
    order_id = await place(key, service, link=new_link(), quantity="100")
    await cancel(api, key, orders=order_id)
    await resolve(order_id, accept=False)
    assert await api.balance(key) == Decimal("9.9")
    assert await cancel(api, key, orders=order_id) == [{"order": order_id, "cancel": 1}]


async def test_an_accepted_request_with_remains_refunds_pro_rata_rounded_down(
    api, shop, place, resolve, check_books
):
    _, key = await shop.customer("10")
    service = await shop.service(rate="0.333333", cancel=True)
    order_id = await place(key, service, link=new_link(), quantity="30")
    charge = expected_charge("0.333333", 30)  # 0.00999999 → 0.010000
    await cancel(api, key, orders=order_id)
    await resolve(order_id, accept=True, remains=7)
    refund = expected_refund(charge, 7, 30)  # 0.0023333… → 0.002333
    assert refund == Decimal("0.002333")
    assert await api.balance(key) == Decimal("10") - charge + refund
    status = await api.call(key=key, action="status", order=order_id)
    assert (status["status"], status["remains"]) == ("Partial", "7")
    assert await cancel(api, key, orders=order_id) == [{"order": order_id, "cancel": UNAVAILABLE}]
    await check_books()


@pytest.mark.parametrize("status", ["Completed", "Partial", "Canceled"])
async def test_a_finished_order_cannot_be_canceled(api, shop, place, set_order, status):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1", cancel=True)
    order_id = await place(key, service, link=new_link(), quantity="100")
    await set_order(order_id, status=status, remains=10 if status == "Partial" else None)
    balance = await api.balance(key)
    assert await cancel(api, key, orders=order_id) == [{"order": order_id, "cancel": UNAVAILABLE}]
    assert await api.balance(key) == balance


@pytest.mark.parametrize("status", ["Pending", "In progress", "Processing"])
async def test_unfinished_orders_can_be_canceled(api, shop, place, set_order, status):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1", cancel=True)
    order_id = await place(key, service, link=new_link(), quantity="100")
    if status != "Pending":
        await set_order(order_id, status=status)
    assert await cancel(api, key, orders=order_id) == [{"order": order_id, "cancel": 1}]


async def test_a_service_without_cancel_refuses(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1", cancel=False)
    order_id = await place(key, service, link=new_link(), quantity="100")
    assert await cancel(api, key, orders=order_id) == [{"order": order_id, "cancel": UNAVAILABLE}]


async def test_multi_cancel_answers_each_id_in_order(api, shop, place, set_order):
    _, key = await shop.customer("10")
    cancelable = await shop.service(rate="1", cancel=True)
    fixed = await shop.service(rate="1", cancel=False)
    first = await place(key, cancelable, link=new_link(), quantity="100")
    finished = await place(key, cancelable, link=new_link(), quantity="100")
    await set_order(finished, status="Completed")
    no_cancel = await place(key, fixed, link=new_link(), quantity="100")
    last = await place(key, cancelable, link=new_link(), quantity="100")
    given = f"{first},{finished},abc,{no_cancel},999999999,{last}"
    assert await cancel(api, key, orders=given) == [
        {"order": first, "cancel": 1},
        {"order": finished, "cancel": UNAVAILABLE},
        {"order": "abc", "cancel": INCORRECT_ORDER},
        {"order": no_cancel, "cancel": UNAVAILABLE},
        {"order": 999999999, "cancel": INCORRECT_ORDER},
        {"order": last, "cancel": 1},
    ]


async def test_multi_cancel_takes_at_most_100_ids(api, shop):
    _, key = await shop.customer("10")
    ids = [str(700_000_000 + n) for n in range(101)]
    assert await cancel(api, key, orders=",".join(ids)) == {"error": "Too many ids, maximum is 100"}
    assert len(await cancel(api, key, orders=",".join(ids[:100]))) == 100


@pytest.mark.parametrize("fields", [{}, {"orders": ""}, {"order": ""}, {"orders": " , "}])
async def test_cancel_without_ids(api, shop, fields):
    _, key = await shop.customer("10")
    assert await cancel(api, key, **fields) == INCORRECT_ORDER


@pytest.mark.parametrize("given", ["999999999", "0", "-1", "1.5"])
async def test_cancel_of_no_order(api, shop, given):
    _, key = await shop.customer("10")
    reply = await cancel(api, key, order=given)
    assert reply == [
        {"order": int(given) if given == "999999999" else given, "cancel": INCORRECT_ORDER}
    ]
