"""refill and refill_status: who may ask, when, the single and multi shapes, every refusal."""

import pytest
from api_helpers import assert_success, new_link

from smmpanel.orders.requests import update_refill

INCORRECT_ORDER = {"error": "Incorrect order ID"}
UNAVAILABLE = {"error": "Refill is not available for this order"}
PERIOD_OVER = {"error": "Refill period is over"}
ALREADY = {"error": "Refill already requested"}
NOT_FOUND = {"error": "Refill not found"}
TOO_MANY = {"error": "Too many ids, maximum is 100"}


@pytest.fixture
def order_in(shop, place, set_order):
    """A new order of a customer on a new service, moved to `status`."""

    async def order_in(key: str, status: str = "Completed", **service_flags: object) -> int:
        flags = {"refill": True, "refill_days": 30, **service_flags}
        service = await shop.service(rate="1", **flags)
        order_id = await place(key, service, link=new_link(), quantity="100")
        if status != "Pending":
            await set_order(order_id, status=status, remains=40 if status == "Partial" else None)
        return order_id

    return order_in


@pytest.fixture
def set_refill(db):
    async def set_refill(refill_id: int, status: str) -> None:
        async with db.write() as conn:
            await update_refill(conn, refill_id, status)

    return set_refill


async def refill(api, key: str, order_id: object) -> dict:
    return await api.call(key=key, action="refill", order=order_id)


async def new_refill(api, key: str, order_id: int) -> int:
    reply = await refill(api, key, order_id)
    assert_success(reply)
    assert reply.keys() == {"refill"} and type(reply["refill"]) is int, reply
    return reply["refill"]


@pytest.mark.parametrize("status", ["Completed", "Partial"])
async def test_refill_of_a_finished_order_and_its_status(api, shop, order_in, status):
    _, key = await shop.customer("10")
    refill_id = await new_refill(api, key, await order_in(key, status))
    reply = await api.call(key=key, action="refill_status", refill=refill_id)
    assert_success(reply)
    assert reply == {"status": "Pending"}


@pytest.mark.parametrize("status", ["Pending", "In progress", "Processing", "Canceled"])
async def test_refill_needs_a_completed_or_partial_order(api, shop, order_in, status):
    _, key = await shop.customer("10")
    assert await refill(api, key, await order_in(key, status)) == UNAVAILABLE


async def test_refill_needs_a_refill_service_whatever_the_date(
    api, shop, order_in, finished_days_ago
):
    _, key = await shop.customer("10")
    order_id = await order_in(key, refill=False)
    assert await refill(api, key, order_id) == UNAVAILABLE
    await finished_days_ago(order_id, 400)
    assert await refill(api, key, order_id) == UNAVAILABLE


async def test_refill_period_counts_from_the_finish(api, shop, order_in, finished_days_ago):
    _, key = await shop.customer("10")
    within, over = await order_in(key), await order_in(key)
    await finished_days_ago(within, 29.9)
    await finished_days_ago(over, 30.1)
    await new_refill(api, key, within)
    assert await refill(api, key, over) == PERIOD_OVER


async def test_refill_days_zero_means_no_period(api, shop, order_in):
    _, key = await shop.customer("10")
    assert await refill(api, key, await order_in(key, refill_days=0)) == PERIOD_OVER


async def test_an_open_refill_blocks_another_until_it_closes(api, shop, order_in, set_refill):
    _, key = await shop.customer("10")
    order_id = await order_in(key)
    first = await new_refill(api, key, order_id)
    assert await refill(api, key, order_id) == ALREADY
    await set_refill(first, "In progress")
    assert await refill(api, key, order_id) == ALREADY
    assert await api.call(key=key, action="refill_status", refill=first) == {
        "status": "In progress"
    }
    await set_refill(first, "Completed")
    assert await api.call(key=key, action="refill_status", refill=first) == {"status": "Completed"}
    second = await new_refill(api, key, order_id)
    assert second != first
    await set_refill(second, "Rejected")
    assert await api.call(key=key, action="refill_status", refill=second) == {"status": "Rejected"}
    assert await new_refill(api, key, order_id) not in (first, second)


async def test_period_over_is_reported_before_an_open_refill(
    api, shop, order_in, finished_days_ago
):
    _, key = await shop.customer("10")
    order_id = await order_in(key)
    await new_refill(api, key, order_id)
    await finished_days_ago(order_id, 31)
    assert await refill(api, key, order_id) == PERIOD_OVER


@pytest.mark.parametrize("given", ["999999999", "abc", "0", "-2", "", "1,2"])
async def test_refill_of_no_order(api, shop, given):
    _, key = await shop.customer("10")
    assert await refill(api, key, given) == INCORRECT_ORDER


async def test_refill_without_an_order_field(api, shop):
    _, key = await shop.customer("10")
    assert await api.call(key=key, action="refill") == INCORRECT_ORDER


async def test_multi_refill_answers_each_id_in_order(api, shop, order_in):
    _, key = await shop.customer("10")
    completed = await order_in(key)
    pending = await order_in(key, "Pending")
    requested = await order_in(key)
    await new_refill(api, key, requested)
    given = [completed, pending, requested, "abc", 999999999]
    reply = await api.call(key=key, action="refill", orders=",".join(map(str, given)))
    assert isinstance(reply, list) and len(reply) == 5
    new_id = reply[0]["refill"]
    assert type(new_id) is int
    assert reply == [
        {"order": completed, "refill": new_id},
        {"order": pending, "refill": UNAVAILABLE},
        {"order": requested, "refill": ALREADY},
        {"order": "abc", "refill": INCORRECT_ORDER},
        {"order": 999999999, "refill": INCORRECT_ORDER},
    ]
    assert await api.call(key=key, action="refill_status", refill=new_id) == {"status": "Pending"}


async def test_multi_refill_status_answers_each_id_in_order(api, shop, order_in, set_refill):
    _, key = await shop.customer("10")
    done = await new_refill(api, key, await order_in(key))
    waiting = await new_refill(api, key, await order_in(key))
    await set_refill(done, "Completed")
    reply = await api.call(key=key, action="refill_status", refills=f"{done},{waiting},999999999,x")
    assert reply == [
        {"refill": done, "status": "Completed"},
        {"refill": waiting, "status": "Pending"},
        {"refill": 999999999, "status": NOT_FOUND},
        {"refill": "x", "status": NOT_FOUND},
    ]


@pytest.mark.parametrize("given", ["999999999", "abc", "0", ""])
async def test_refill_status_of_no_refill(api, shop, given):
    _, key = await shop.customer("10")
    assert await api.call(key=key, action="refill_status", refill=given) == NOT_FOUND


async def test_refill_status_without_a_refill_field(api, shop):
    _, key = await shop.customer("10")
    assert await api.call(key=key, action="refill_status") == NOT_FOUND


@pytest.mark.parametrize(("action", "field"), [("refill", "orders"), ("refill_status", "refills")])
async def test_multi_forms_take_at_most_100_ids(api, shop, order_in, action, field):
    _, key = await shop.customer("10")
    ids = ",".join(str(800_000_000 + n) for n in range(101))
    assert await api.call(key=key, action=action, **{field: ids}) == TOO_MANY
    hundred = ids.rsplit(",", 1)[0]
    reply = await api.call(key=key, action=action, **{field: hundred})
    assert isinstance(reply, list) and len(reply) == 100
