"""Isolation: another customer's orders and refills answer exactly like ones that do not exist."""

from decimal import Decimal

import pytest
from api_helpers import new_link

INCORRECT_ORDER = {"error": "Incorrect order ID"}
NOT_FOUND = {"error": "Refill not found"}
MISSING_ORDER = 999_999_999


@pytest.fixture
async def owner(shop, place, set_order):
    """The first customer, with orders in every state."""
    _, key = await shop.customer("100")
    service = await shop.service(rate="1", refill=True, cancel=True, dripfeed=True)
    orders = {}
    for status in ("Pending", "In progress", "Completed", "Partial", "Canceled"):
        orders[status] = await place(key, service, link=new_link(), quantity="100")
        if status != "Pending":
            remains = 10 if status == "Partial" else None
            await set_order(orders[status], status=status, remains=remains)
    orders["drip-feed"] = await place(
        key, service, link=new_link(), quantity="100", runs="2", interval="5"
    )
    return {"key": key, "orders": orders}


@pytest.fixture
async def intruder(shop):
    _, key = await shop.customer("100")
    return key


@pytest.fixture
async def owners_refill(api, owner):
    """An open refill of the owner's completed order."""
    reply = await api.call(key=owner["key"], action="refill", order=owner["orders"]["Completed"])
    return reply["refill"]


async def test_status_of_anothers_order_is_an_unknown_order(api, owner, intruder):
    for order_id in owner["orders"].values():
        reply = await api.call(key=intruder, action="status", order=order_id)
        assert (
            reply
            == INCORRECT_ORDER
            == await api.call(key=intruder, action="status", order=MISSING_ORDER)
        )
    ids = [*owner["orders"].values(), MISSING_ORDER]
    reply = await api.call(key=intruder, action="status", orders=",".join(map(str, ids)))
    assert reply == {str(order_id): INCORRECT_ORDER for order_id in ids}


async def test_refill_of_anothers_order_is_an_unknown_order(api, owner, owners_refill, intruder):
    for order_id in [*owner["orders"].values(), MISSING_ORDER]:
        assert await api.call(key=intruder, action="refill", order=order_id) == INCORRECT_ORDER
    ids = list(owner["orders"].values())
    reply = await api.call(key=intruder, action="refill", orders=",".join(map(str, ids)))
    assert reply == [{"order": order_id, "refill": INCORRECT_ORDER} for order_id in ids]
    # the owner's refill is untouched and only theirs
    assert await api.call(key=owner["key"], action="refill_status", refill=owners_refill) == {
        "status": "Pending"
    }
    partial = owner["orders"]["Partial"]
    assert type((await api.call(key=owner["key"], action="refill", order=partial))["refill"]) is int


async def test_refill_status_of_anothers_refill_is_not_found(api, owners_refill, intruder):
    assert await api.call(key=intruder, action="refill_status", refill=owners_refill) == NOT_FOUND
    reply = await api.call(key=intruder, action="refill_status", refills=f"{owners_refill},x")
    assert reply == [
        {"refill": owners_refill, "status": NOT_FOUND},
        {"refill": "x", "status": NOT_FOUND},
    ]


async def test_cancel_of_anothers_order_is_an_unknown_order(api, owner, intruder):
    ids = [*owner["orders"].values(), MISSING_ORDER]
    reply = await api.call(key=intruder, action="cancel", orders=",".join(map(str, ids)))
    assert reply == [{"order": order_id, "cancel": INCORRECT_ORDER} for order_id in ids]
    # nothing was requested on the owner's behalf: the owner's own request goes through
    pending = owner["orders"]["Pending"]
    assert await api.call(key=owner["key"], action="cancel", orders=pending) == [
        {"order": pending, "cancel": 1}
    ]


async def test_the_intruders_money_and_the_owners_are_apart(api, owner, intruder, place, shop):
    service = await shop.service(rate="1")
    order_id = await place(intruder, service, link=new_link(), quantity="1000")
    assert await api.balance(intruder) == Decimal("99")
    assert await api.call(key=owner["key"], action="status", order=order_id) == INCORRECT_ORDER
