"""Placing an order charges it once, at the customer's rate; a refused order leaves nothing."""

import pytest
from domain_helpers import (
    Books,
    ledger_of,
    micros,
    new_customer,
    new_link,
    new_service,
    order_row,
    orders_of,
    place,
    refused,
)
from sqlalchemy.exc import IntegrityError

from smmpanel.catalog.service import set_customer_price, set_service_enabled
from smmpanel.orders.placement import explain_conflict, place_order
from smmpanel.orders.statuses import PENDING

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def test_an_order_is_charged_rate_per_thousand(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, rate="1.234567")
    order_id = await place(conn, customer_id, service_id, quantity=777)
    # 1.234567 × 777 / 1000 = 0.959258559: half up to the millionth.
    row = await order_row(conn, order_id)
    assert (row.status, row.quantity, row.charge, row.remains) == (PENDING, 777, 959_259, 0)
    assert await books.balance(customer_id) == micros("10") - 959_259
    assert (await ledger_of(conn, customer_id))[-1] == ("charge", -959_259, order_id, "charge")
    await books.check()


async def test_a_customer_price_replaces_the_list_rate(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, rate="2")
    await set_customer_price(conn, customer_id, service_id, micros("0.5"))
    order_id = await place(conn, customer_id, service_id, quantity=1000)
    assert (await order_row(conn, order_id)).charge == micros("0.5")
    other = await new_customer(conn, "10")
    other_order = await place(conn, other, service_id, quantity=1000)
    assert (await order_row(conn, other_order)).charge == micros("2")
    await books.check()


async def test_a_package_costs_its_rate_and_drip_feed_runs_multiply(conn, books: Books):
    customer_id = await new_customer(conn, "100")
    package = await new_service(conn, type="Package", rate="7.5", min_quantity=1, max_quantity=1)
    assert (await order_row(conn, await place(conn, customer_id, package))).charge == 7_500_000
    dripfeed = await new_service(conn, rate="2", dripfeed=True)
    order_id = await place(conn, customer_id, dripfeed, quantity=100, runs=5, interval=30)
    row = await order_row(conn, order_id)
    assert (row.quantity, row.runs, row.interval, row.charge) == (100, 5, 30, 1_000_000)
    await books.check()


async def test_custom_comments_count_their_lines(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, type="Custom Comments", rate="10", min_quantity=1)
    comments = "great\r\n\r\nlove it\nwow, nice\n"
    order_id = await place(conn, customer_id, service_id, comments=comments)
    row = await order_row(conn, order_id)
    assert (row.quantity, row.charge) == (3, 30_000)
    await books.check()


async def test_quantity_outside_the_limits_is_refused_in_the_contract_words(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, min_quantity=100, max_quantity=5000)
    below = await refused(conn, place(conn, customer_id, service_id, quantity=99))
    assert (below.code, below.message) == ("quantity_below_min", "Quantity less than minimal 100")
    assert below.params == {"min": 100}
    above = await refused(conn, place(conn, customer_id, service_id, quantity=5001))
    assert (above.code, above.message) == ("quantity_above_max", "Quantity more than maximum 5000")
    for text in ("", "ten", "-5", "0", "1.5", "١٠٠"):
        bad = await refused(conn, place(conn, customer_id, service_id, quantity=text))
        assert bad.code in ("incorrect_quantity", "field_required"), (text, bad.code)
    assert await orders_of(conn, customer_id) == []
    assert await books.balance(customer_id) == micros("10")
    await books.check()


async def test_unknown_disabled_and_missing_services_are_refused(conn):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn)
    for service in ("0", "abc", "999999999", ""):
        refusal = await refused(conn, place_order(conn, customer_id, {"service": service}))
        assert (refusal.code, refusal.message) == ("incorrect_service", "Incorrect service ID")
    await set_service_enabled(conn, service_id, False)
    refusal = await refused(conn, place(conn, customer_id, service_id, quantity=100))
    assert refusal.code == "incorrect_service"


async def test_fields_are_checked_in_the_contract_order(conn):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn)
    missing = await refused(conn, place_order(conn, customer_id, {"service": str(service_id)}))
    assert (missing.code, missing.message) == ("field_required", "link is required")
    link = await refused(conn, place(conn, customer_id, service_id, link="not a link", quantity=50))
    assert (link.code, link.message) == ("incorrect_link", "Incorrect link")
    plain = await new_service(conn, dripfeed=False)
    runs = await refused(conn, place(conn, customer_id, plain, quantity=50, runs=2, interval=5))
    assert runs.code == "dripfeed_unsupported"


async def test_not_enough_funds_leaves_no_order_and_no_charge(conn, books: Books):
    customer_id = await new_customer(conn, "0.999")
    service_id = await new_service(conn, rate="1")
    refusal = await refused(conn, place(conn, customer_id, service_id, quantity=1000))
    assert (refusal.code, refusal.message) == ("not_enough_funds", "Not enough funds on balance")
    assert await orders_of(conn, customer_id) == []
    assert await ledger_of(conn, customer_id) == [("deposit", 999_000, None, "opening")]
    # Exactly the balance is enough.
    await place(conn, customer_id, service_id, quantity=999)
    assert await books.balance(customer_id) == 0
    await books.check()


async def test_an_idempotency_key_places_and_charges_once(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, rate="1")
    fields = {"link": new_link(), "quantity": 500, "idempotency_key": "retry-42"}
    first = await place(conn, customer_id, service_id, **fields)
    again = await place(conn, customer_id, service_id, **fields)
    assert first == again
    assert await orders_of(conn, customer_id) == [first]
    assert await books.balance(customer_id) == micros("9.5")
    too_long = await refused(
        conn, place(conn, customer_id, service_id, quantity=500, idempotency_key="k" * 101)
    )
    assert too_long.code == "incorrect_idempotency_key"
    await books.check()


async def test_a_second_active_order_for_the_same_link_is_refused(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn)
    link = new_link()
    await place(conn, customer_id, service_id, link=link, quantity=100)
    conflict = None
    try:
        async with conn.begin_nested():
            await place(conn, customer_id, service_id, link=link, quantity=100)
    except IntegrityError as error:
        conflict = error
    assert conflict is not None, "the unique active link must stop a second order"
    refusal = await refused(conn, explain_conflict(conn, customer_id, {"link": link}))
    assert refusal.code == "active_order_exists"
    # Another customer, or another service, may use the same link.
    await place(conn, await new_customer(conn, "1"), service_id, link=link, quantity=100)
    await place(conn, customer_id, await new_service(conn), link=link, quantity=100)
    await books.check()


async def test_a_subscription_is_charged_max_times_posts_up_front(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, type="Subscriptions", rate="2", max_quantity=1000)
    fields = {"username": "natgeo", "min": 100, "max": 500, "delay": 30}
    order_id = await place(conn, customer_id, service_id, posts=3, **fields)
    row = await order_row(conn, order_id)
    assert (row.type, row.status, row.quantity, row.charge) == (
        "Subscriptions",
        "Active",
        500,
        3_000_000,
    )
    # Without posts, nothing is charged up front.
    open_ended = await place(conn, customer_id, service_id, **{**fields, "username": "nasa"})
    assert (await order_row(conn, open_ended)).charge == 0
    assert await books.balance(customer_id) == micros("7")
    await books.check()


async def test_a_subscription_needs_sensible_min_max_and_delay(conn):
    customer_id = await new_customer(conn, "10")
    service_id = await new_service(conn, type="Subscriptions", min_quantity=50, max_quantity=1000)
    good = {"username": "natgeo", "min": 100, "max": 500, "delay": 0}
    for bad, code in [
        ({"min": 600}, "incorrect_min_max"),
        ({"min": 10}, "incorrect_min_max"),
        ({"max": 1001}, "incorrect_min_max"),
        ({"delay": 7}, "incorrect_delay"),
        ({"posts": 0}, "incorrect_posts"),
        ({"expiry": "01/01/2000"}, "incorrect_expiry"),
        ({"expiry": "2099-01-01"}, "incorrect_expiry"),
    ]:
        refusal = await refused(conn, place(conn, customer_id, service_id, **{**good, **bad}))
        assert refusal.code == code, bad
    assert await orders_of(conn, customer_id) == []
