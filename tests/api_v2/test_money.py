"""Money: charges rounded half up and rendered exactly; refunds follow the order, at most once."""

from decimal import Decimal

import pytest
from api_helpers import expected_charge, expected_refund, new_link
from sqlalchemy import update

from smmpanel.orders.models import subscriptions


@pytest.mark.parametrize(
    ("rate", "quantity", "shown"),
    [
        ("1.2", 30, "0.0360"),
        ("1.2", 1050, "1.2600"),
        ("3", 1000, "3.0000"),
        ("2.5", 10001, "25.0025"),
        ("0.1", 5, "0.0005"),
        ("0.002001", 250, "0.0005"),  # 0.00050025 → down
        ("1.234567", 333, "0.411111"),  # 0.411110811 → up
        ("0.000001", 500, "0.000001"),  # exactly half → up (half-even would give 0)
        ("0.000003", 500, "0.000002"),  # 0.0000015 → up
        ("0.123465", 100, "0.012347"),  # 0.0123465 → up (half-even would give …46)
        ("0.000001", 499, "0.0000"),
        ("7.777777", 999, "7.769999"),
        ("999.999999", 10000, "9999.99999"),
    ],
)
async def test_charge_is_rate_times_quantity_over_1000_rounded_half_up(
    api, shop, place, check_books, rate, quantity, shown
):
    _, key = await shop.customer("10000")
    service = await shop.service(rate=rate, min_quantity=1, max_quantity=100_000)
    order_id = await place(key, service, link=new_link(), quantity=str(quantity))
    charge = expected_charge(rate, quantity)
    status = await api.call(key=key, action="status", order=order_id)
    assert status["charge"] == shown
    assert Decimal(shown) == charge
    assert await api.balance(key) == Decimal("10000") - charge
    await check_books()


async def test_balance_shows_every_millionth_after_charges(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(rate="0.000001", min_quantity=1)
    await place(key, service, link=new_link(), quantity="500")
    assert (await api.call(key=key, action="balance"))["balance"] == "9.999999"
    other = await shop.service(rate="0.9999", min_quantity=1)
    await place(key, other, link=new_link(), quantity="10")  # 0.009999
    assert (await api.call(key=key, action="balance"))["balance"] == "9.99"


async def placed(shop, place, rate: str, quantity: int, balance: str = "100", **fields):
    _, key = await shop.customer(balance)
    service = await shop.service(rate=rate, min_quantity=1, dripfeed=True)
    order_id = await place(key, service, link=new_link(), quantity=str(quantity), **fields)
    return key, order_id


async def test_partial_refunds_the_remains_pro_rata_rounded_down(
    api, shop, place, set_order, check_books
):
    key, order_id = await placed(shop, place, "1.234567", 777)
    charge = expected_charge("1.234567", 777)
    await set_order(order_id, status="In progress", start_count=50)
    await set_order(order_id, status="Partial", remains=123)
    refund = expected_refund(charge, 123, 777)
    assert refund != charge * 123 / 777  # the case needs the rounding
    assert await api.balance(key) == Decimal("100") - charge + refund
    await set_order(order_id, status="Partial")  # the same status again refunds nothing more
    assert await api.balance(key) == Decimal("100") - charge + refund
    await check_books()


async def test_canceled_refunds_the_whole_charge(api, shop, place, set_order, check_books):
    key, order_id = await placed(shop, place, "1.234567", 777)
    await set_order(order_id, status="Canceled")
    assert await api.balance(key) == Decimal("100")
    await check_books()


async def test_partial_then_canceled_refunds_only_the_rest(
    api, shop, place, set_order, check_books
):
    key, order_id = await placed(shop, place, "0.333333", 30)
    await set_order(order_id, status="Partial", remains=7)
    await set_order(order_id, status="Canceled")
    assert await api.balance(key) == Decimal("100")
    await check_books()


async def test_completed_then_canceled_refunds_once(api, shop, place, set_order, check_books):
    key, order_id = await placed(shop, place, "2", 500)
    await set_order(order_id, status="Completed")
    assert await api.balance(key) == Decimal("99")
    await set_order(order_id, status="Canceled")
    assert await api.balance(key) == Decimal("100")
    await check_books()


async def test_drip_feed_remains_count_against_every_run(api, shop, place, set_order, check_books):
    key, order_id = await placed(shop, place, "1", 100, runs="3", interval="5")
    assert await api.balance(key) == Decimal("99.7")
    await set_order(order_id, status="Partial", remains=150)  # half of 300
    assert await api.balance(key) == Decimal("99.85")
    await check_books()


async def test_subscription_refunds_undelivered_posts_when_it_ends(
    api, shop, place, set_order, execute, check_books
):
    _, key = await shop.customer("10")
    service = await shop.service(type="Subscriptions", rate="1", min_quantity=10)
    order_id = await place(key, service, username="u", min="50", max="100", delay="0", posts="4")
    assert await api.balance(key) == Decimal("9.6")  # max 100 × 4 posts
    await execute(  # one post of four delivered: 300 units not
        update(subscriptions).where(subscriptions.c.order_id == order_id).values(posts_delivered=1)
    )
    await set_order(order_id, status="Expired")
    assert await api.balance(key) == Decimal("9.9")
    canceled = await place(key, service, username="u", min="50", max="100", delay="0", posts="2")
    await set_order(canceled, status="Canceled")
    unpaid = await place(key, service, username="u", min="50", max="100", delay="0")
    await set_order(unpaid, status="Canceled")
    assert await api.balance(key) == Decimal("9.9")
    await check_books()


async def test_canceled_package_refunds_its_price(api, shop, place, set_order, check_books):
    _, key = await shop.customer("10")
    service = await shop.service(type="Package", rate="4.5")
    order_id = await place(key, service, link=new_link())
    assert await api.balance(key) == Decimal("5.5")
    await set_order(order_id, status="Canceled")
    assert await api.balance(key) == Decimal("10")
    await check_books()
