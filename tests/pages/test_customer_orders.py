"""Customer order pages: new order, mass order, the list, the detail, refill and cancel."""

import re

from page_client import text_of
from sqlalchemy import func, select

from smmpanel.accounts.service import balance_of
from smmpanel.catalog.service import set_customer_price
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import cancel_requests, orders, refills
from smmpanel.orders.placement import place_order

ORDER_LINK = re.compile(r'href="/orders/(\d+)"')


async def balance(db, customer_id: int) -> int:
    async with db.read() as conn:
        return await balance_of(conn, customer_id)


async def order_count(db, customer_id: int) -> int:
    async with db.read() as conn:
        query = select(func.count()).where(orders.c.customer_id == customer_id)
        return await conn.scalar(query)


async def placed(db, customer_id: int, **fields: object) -> int:
    """An order placed as the API places it, to set up a page."""
    async with db.write() as conn:
        return await place_order(conn, customer_id, {k: str(v) for k, v in fields.items()})


async def move(db, order_id: int, status: str, **changes: int) -> None:
    async with db.write() as conn:
        await update_order(conn, order_id, status=status, **changes)


def visible_form(html: str) -> str:
    """The page without the field templates the script swaps in."""
    return html.split("<template", 1)[0]


async def order_new(client, service_id: int, **fields: object):
    page = f"/order/new?service={service_id}"
    return await client.submit("/order/new", {"service": service_id, **fields}, page=page)


async def test_the_form_shows_exactly_the_fields_of_the_chosen_type(customer, shop):
    client, _ = customer
    dripfeed = await shop.service("Default", dripfeed=True)
    plain = await shop.service("Default")
    comments = await shop.service("Custom Comments")
    poll = await shop.service("Poll")
    subscription = await shop.service("Subscriptions")

    form = visible_form(await client.page("/order/new", service=dripfeed))
    assert all(f'name="{name}"' in form for name in ("link", "quantity", "runs", "interval"))
    form = visible_form(await client.page("/order/new", service=plain))
    assert 'name="quantity"' in form and 'name="runs"' not in form
    form = visible_form(await client.page("/order/new", service=comments))
    assert '<textarea name="comments"' in form and 'name="quantity"' not in form
    form = visible_form(await client.page("/order/new", service=poll))
    assert 'name="answer_number"' in form
    form = visible_form(await client.page("/order/new", service=subscription))
    for name in ("username", "min", "max", "delay", "posts", "expiry"):
        assert f'name="{name}"' in form
    assert 'name="link"' not in form


async def test_the_form_shows_the_customers_own_rate_and_the_service_terms(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="3", min_quantity=50, max_quantity=5000)
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, service_id, 2_000_000)
    text = text_of(await client.page("/order/new", service=service_id))
    assert "Rate per 1000 USD 2.00" in text
    assert "Min 50" in text and "Max 5,000" in text
    assert "Show fields" in text and "Place order" in text


async def test_an_unknown_service_in_the_address_is_a_clear_error(customer):
    client, _ = customer
    response = await client.get("/order/new", service="999999")
    assert response.status_code == 400
    assert "Choose a service from the list" in response.text


async def test_placing_an_order_charges_exactly_the_charge_and_shows_it(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="1.5")
    response = await order_new(client, service_id, link="https://example.com/p/1", quantity=1234)
    assert response.status_code == 303
    order_id = int(response.headers["location"].rsplit("/", 1)[1])
    detail = text_of(await client.follow(response))
    assert f"Order {order_id} placed" in detail
    # 1.5 per 1000 × 1234 = 1.851
    assert "Charge USD 1.851 " in detail and "https://example.com/p/1" in detail
    assert await balance(db, customer_id) == 100_000_000 - 1_851_000
    listing = text_of(await client.page("/orders"))
    assert str(order_id) in listing and "USD 1.851 " in listing


async def test_drip_feed_and_list_types_are_charged_by_their_units(customer, shop, db):
    client, customer_id = customer
    dripfeed = await shop.service("Default", rate="2", dripfeed=True)
    comments = await shop.service("Custom Comments", rate="10", min_quantity=1)
    before = await balance(db, customer_id)
    fields = {"link": "example.com/a", "quantity": 100, "runs": 3, "interval": 15}
    assert (await order_new(client, dripfeed, **fields)).status_code == 303
    lines = "Nice, great\r\n\r\nSecond\nThird\n"
    response = await order_new(client, comments, link="example.com/b", comments=lines)
    assert response.status_code == 303
    # 2 × 300 / 1000 = 0.6, then 10 × 3 lines / 1000 = 0.03
    assert before - await balance(db, customer_id) == 600_000 + 30_000
    detail = text_of(await client.follow(response))
    assert "Nice, great" in detail and "Charge USD 0.03 " in detail


async def test_refused_orders_show_why_keep_what_was_typed_and_change_nothing(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="1", min_quantity=10, max_quantity=1000)
    costly = await shop.service("Default", rate="500000")
    before = (await balance(db, customer_id), await order_count(db, customer_id))
    cases = [
        (service_id, {"link": "https://example.com/x", "quantity": 5}, "less than minimal 10"),
        (service_id, {"link": "https://example.com/x", "quantity": 5000}, "more than maximum"),
        (service_id, {"link": "https://example.com/x", "quantity": "ten"}, "Incorrect quantity"),
        (service_id, {"link": "", "quantity": 100}, "Link is required"),
        (costly, {"link": "https://example.com/x", "quantity": 1000}, "Not enough funds"),
    ]
    for service, fields, error in cases:
        response = await order_new(client, service, **fields)
        assert response.status_code == 400, (fields, response.status_code)
        assert error in text_of(response.text), (error, text_of(response.text)[:600])
        assert f'value="{fields["quantity"]}"' in response.text
    after = (await balance(db, customer_id), await order_count(db, customer_id))
    assert after == before


async def test_show_charge_tells_the_charge_and_places_nothing(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="0.7")
    before = await order_count(db, customer_id)
    fields = {"link": "https://example.com/c", "quantity": 3000, "intent": "preview"}
    response = await order_new(client, service_id, **fields)
    assert response.status_code == 200
    assert "This order will cost USD 2.10." in text_of(response.text)
    assert await order_count(db, customer_id) == before


async def test_a_second_submit_of_the_same_form_places_one_order(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Subscriptions", rate="1")
    html = await client.page("/order/new", service=service_id)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    fields = {"service": service_id, "idempotency_key": key, "username": "someone"}
    fields |= {"min": 10, "max": 20, "delay": 0, "posts": 2}
    first = await client.submit("/order/new", fields, page=f"/order/new?service={service_id}")
    again = await client.submit("/order/new", fields, page=f"/order/new?service={service_id}")
    assert first.headers["location"] == again.headers["location"]
    detail = text_of(await client.follow(first))
    assert "someone" in detail and "Active" in detail
    assert await balance(db, customer_id) == 100_000_000 - 40_000


async def test_mass_order_places_the_good_lines_and_reports_each_bad_one(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="1", min_quantity=10)
    before = await balance(db, customer_id)
    lines = "\n".join(
        [
            f"{service_id}|https://example.com/mass|1000",
            "not a line",
            "999999|https://example.com/y|100",
            f"{service_id}|https://example.com/z|5",
        ]
    )
    response = await client.submit("/order/mass", {"orders": lines}, page="/order/mass")
    assert response.status_code == 200
    text = text_of(response.text)
    assert await order_count(db, customer_id) == 1
    assert await balance(db, customer_id) == before - 1_000_000
    (order_id,) = ORDER_LINK.findall(response.text)
    assert f"Order {order_id} placed" in text
    assert "Wrong format" in text and "Incorrect service ID" in text
    assert "Quantity less than minimal 10" in text
    assert "Total charged: USD 1.00" in text


async def test_mass_order_refuses_more_than_100_lines_and_places_none(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default")
    lines = "\n".join(f"{service_id}|https://example.com/{n}|100" for n in range(101))
    response = await client.submit("/order/mass", {"orders": lines}, page="/order/mass")
    assert response.status_code == 400 and "At most 100 lines" in response.text
    assert await order_count(db, customer_id) == 0


async def test_the_list_searches_filters_and_pages_keeping_the_filters(customer, shop, db):
    client, customer_id = customer
    first = await shop.service("Default", rate="1")
    second = await shop.service("Default", rate="1")
    ids = [
        await placed(db, customer_id, service=first, link=f"https://site.example/p{n}", quantity=10)
        for n in range(30)
    ]
    other = await placed(
        db, customer_id, service=second, link="https://other.example/x", quantity=10
    )
    await move(db, ids[0], "Completed")

    page_one = await client.page("/orders", service=first)
    assert len(ORDER_LINK.findall(page_one)) == 25 and str(other) not in ORDER_LINK.findall(
        page_one
    )
    next_url = re.search(r'href="([^"]+)" rel="next"', page_one).group(1).replace("&amp;", "&")
    assert f"service={first}" in next_url and "page=2" in next_url
    page_two = await client.page(next_url)
    assert len(ORDER_LINK.findall(page_two)) == 5 and 'rel="prev"' in page_two
    assert 'rel="next"' not in page_two

    found = ORDER_LINK.findall(await client.page("/orders", q="SITE.example/p17"))
    assert found == [str(ids[17])]
    assert ORDER_LINK.findall(await client.page("/orders", q=str(other))) == [str(other)]
    completed = ORDER_LINK.findall(await client.page("/orders", status="Completed"))
    assert completed == [str(ids[0])]
    assert ORDER_LINK.findall(await client.page("/orders", q="%")) == []


async def test_another_customers_order_is_not_found_and_cannot_be_asked_about(customer, shop, db):
    client, _ = customer
    stranger, _key = await shop.customer(balance="10")
    service_id = await shop.service("Default", refill=True, cancel=True)
    theirs = await placed(db, stranger, service=service_id, link="https://x.example", quantity=10)
    for path in (f"/orders/{theirs}", "/orders/99999999", "/orders/abc"):
        assert (await client.get(path)).status_code == 404
    for action in ("refill", "cancel"):
        response = await client.submit(f"/orders/{theirs}/{action}", {}, page="/orders")
        assert response.status_code == 404
    async with db.read() as conn:
        for table in (refills, cancel_requests):
            count = select(func.count()).where(table.c.order_id == theirs)
            assert await conn.scalar(count) == 0


async def test_cancel_and_refill_are_offered_where_allowed_and_create_requests(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", refill=True, cancel=True)
    order_id = await placed(
        db, customer_id, service=service_id, link="https://r.example", quantity=10
    )
    detail = await client.page(f"/orders/{order_id}")
    assert f"/orders/{order_id}/cancel" in detail and f"/orders/{order_id}/refill" not in detail

    response = await client.submit(f"/orders/{order_id}/cancel", {}, page=f"/orders/{order_id}")
    detail = await client.follow(response)
    assert "Cancel requested" in detail and f"/orders/{order_id}/cancel" not in detail
    assert "Cancel requests" in detail and "Pending" in text_of(detail)

    await move(db, order_id, "Completed")
    detail = await client.page(f"/orders/{order_id}")
    assert f"/orders/{order_id}/refill" in detail
    response = await client.submit(f"/orders/{order_id}/refill", {}, page=f"/orders/{order_id}")
    assert "Refill" in text_of(await client.follow(response))
    again = await client.submit(f"/orders/{order_id}/refill", {}, page=f"/orders/{order_id}")
    assert "Refill already requested" in await client.follow(again)
    refused = await client.submit(f"/orders/{order_id}/cancel", {}, page=f"/orders/{order_id}")
    assert "Cancel is not available for this order" in await client.follow(refused)
    async with db.read() as conn:
        assert await conn.scalar(select(func.count()).where(refills.c.order_id == order_id)) == 1


async def test_the_detail_shows_refunds_and_drip_feed_runs(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="1", dripfeed=True)
    fields = {"service": service_id, "link": "https://d.example", "quantity": 100}
    order_id = await placed(db, customer_id, runs=4, interval=30, **fields)
    await move(db, order_id, "Partial", remains=200)
    text = text_of(await client.page(f"/orders/{order_id}"))
    assert "Runs 4" in text and "Interval (minutes) 30" in text
    # 0.4 charged, half of the 400 units undelivered
    assert "Refunded USD 0.20 " in text and "Partial" in text


async def test_the_dashboard_shows_balance_counts_and_recent_orders(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="10")
    order_id = await placed(
        db, customer_id, service=service_id, link="https://h.example", quantity=100
    )
    text = text_of(await client.page("/dashboard"))
    assert "Balance USD 99.00" in text
    assert "Pending 1" in text
    assert f"{order_id}" in text and "https://h.example" in text
    html = await client.page("/dashboard")
    assert f'href="/orders/{order_id}"' in html and 'href="/order/new"' in html


async def test_new_order_page_reads_in_traditional_chinese(customer, shop):
    client, _ = customer
    service_id = await shop.service("Poll")
    await client.get("/language/zh_TW", next="/order/new")
    text = text_of(await client.page("/order/new", service=service_id))
    assert "新訂單" in text and "每千次單價" in text and "下單" in text and "選項編號" in text
