"""status: one order, many orders, drip-feed runs and subscription posts."""

import pytest
from api_helpers import assert_success, new_link

INCORRECT_ORDER = {"error": "Incorrect order ID"}


def status_reply(order_id: int, status: str, charge: str, start_count="0", remains="0") -> dict:
    return {
        "order": str(order_id),
        "status": status,
        "charge": charge,
        "start_count": start_count,
        "remains": remains,
        "currency": "USD",
    }


async def test_single_status_follows_the_order(api, shop, place, set_order):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1.2")
    order_id = await place(key, service, link=new_link(), quantity="1050")
    reply = await api.call(key=key, action="status", order=order_id)
    assert_success(reply)
    assert reply == status_reply(order_id, "Pending", "1.2600")

    for status in ("In progress", "Processing"):
        await set_order(order_id, status=status, start_count=4321, remains=1050)
        assert await api.call(key=key, action="status", order=order_id) == status_reply(
            order_id, status, "1.2600", "4321", "1050"
        )
    await set_order(order_id, status="Partial", remains=50)
    assert await api.call(key=key, action="status", order=order_id) == status_reply(
        order_id, "Partial", "1.2600", "4321", "50"
    )


@pytest.mark.parametrize(("status", "remains"), [("Completed", None), ("Canceled", None)])
async def test_finished_statuses_are_spelled_exactly(api, shop, place, set_order, status, remains):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1")
    order_id = await place(key, service, link=new_link(), quantity="100")
    await set_order(order_id, status=status, remains=remains)
    assert (await api.call(key=key, action="status", order=order_id))["status"] == status


async def test_over_delivery_renders_negative_remains(api, shop, place, set_order):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1")
    order_id = await place(key, service, link=new_link(), quantity="100")
    await set_order(order_id, status="Completed", start_count=7, remains=-12)
    assert await api.call(key=key, action="status", order=order_id) == status_reply(
        order_id, "Completed", "0.1000", "7", "-12"
    )


@pytest.mark.parametrize("given", ["999999999", "abc", "0", "-1", "", " ", "1.0", "1,2"])
async def test_single_status_of_no_order(api, shop, given):
    _, key = await shop.customer("1")
    assert await api.call(key=key, action="status", order=given) == INCORRECT_ORDER


async def test_single_status_without_an_order_field(api, shop):
    _, key = await shop.customer("1")
    assert await api.call(key=key, action="status") == INCORRECT_ORDER


async def test_multi_status_is_keyed_by_the_ids_as_given(api, shop, place, set_order):
    _, key = await shop.customer("10")
    _, other_key = await shop.customer("10")
    service = await shop.service(rate="1.2")
    mine = await place(key, service, link=new_link(), quantity="30")
    second = await place(key, service, link=new_link(), quantity="525")
    theirs = await place(other_key, service, link=new_link(), quantity="30")
    await set_order(second, status="Processing")

    given = [str(mine), "abc", str(second), "999999999", str(theirs), "0", "-4"]
    reply = await api.call(key=key, action="status", orders=",".join(given))
    assert reply == {
        str(mine): status_reply(mine, "Pending", "0.0360"),
        "abc": INCORRECT_ORDER,
        str(second): status_reply(second, "Processing", "0.6300"),
        "999999999": INCORRECT_ORDER,
        str(theirs): INCORRECT_ORDER,
        "0": INCORRECT_ORDER,
        "-4": INCORRECT_ORDER,
    }
    assert list(reply) == given  # keys in the order given


async def test_multi_status_trims_spaces_around_ids(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1")
    first = await place(key, service, link=new_link(), quantity="100")
    second = await place(key, service, link=new_link(), quantity="100")
    reply = await api.call(key=key, action="status", orders=f" {first} ,{second}, ")
    assert list(reply) == [str(first), str(second)]
    assert reply[str(second)]["order"] == str(second)


async def test_multi_status_allows_100_ids_not_101(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1")
    order_id = await place(key, service, link=new_link(), quantity="100")
    hundred = [str(order_id)] + [str(900_000_000 + n) for n in range(99)]
    reply = await api.call(key=key, action="status", orders=",".join(hundred))
    assert len(reply) == 100 and reply[str(order_id)]["status"] == "Pending"
    assert sum(value == INCORRECT_ORDER for value in reply.values()) == 99
    too_many = await api.call(key=key, action="status", orders=",".join([*hundred, "5"]))
    assert too_many == {"error": "Too many ids, maximum is 100"}


async def test_drip_feed_adds_runs_and_child_orders(api, shop, place, add_child_orders):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1", dripfeed=True)
    order_id = await place(key, service, link=new_link(), quantity="100", runs="4", interval="30")
    assert await api.call(key=key, action="status", order=order_id) == {
        **status_reply(order_id, "Pending", "0.4000"),
        "runs": "4",
        "orders": [],
    }
    children = await add_child_orders(order_id, 2)
    reply = await api.call(key=key, action="status", orders=str(order_id))
    assert reply[str(order_id)]["orders"] == children
    assert all(type(child) is int for child in reply[str(order_id)]["orders"])


async def test_subscription_adds_posts_and_child_orders(
    api, shop, place, set_order, add_child_orders, set_posts_delivered
):
    _, key = await shop.customer("10")
    service = await shop.service(type="Subscriptions", rate="1", min_quantity=10)
    order_id = await place(key, service, username="natgeo", min="50", max="100", delay="5")
    assert await api.call(key=key, action="status", order=order_id) == {
        **status_reply(order_id, "Active", "0.0000"),
        "posts": "0",
        "orders": [],
    }
    children = await add_child_orders(order_id, 3)
    await set_posts_delivered(order_id, 3)
    await set_order(order_id, status="Paused")
    reply = await api.call(key=key, action="status", order=order_id)
    assert (reply["status"], reply["posts"], reply["orders"]) == ("Paused", "3", children)
    for status in ("Active", "Completed"):
        await set_order(order_id, status=status)
        assert (await api.call(key=key, action="status", order=order_id))["status"] == status


@pytest.mark.parametrize("status", ["Expired", "Canceled"])
async def test_subscription_end_statuses(api, shop, place, set_order, status):
    _, key = await shop.customer("10")
    service = await shop.service(type="Subscriptions", rate="1", min_quantity=10)
    order_id = await place(key, service, username="u", min="10", max="20", delay="0", posts="2")
    await set_order(order_id, status=status)
    reply = await api.call(key=key, action="status", order=order_id)
    assert (reply["status"], reply["posts"], reply["orders"]) == (status, "0", [])
