"""Customer pages whose size does not grow with the catalogue or the orders: the new-order form
one category at a time (its services as JSON for the script), the order list paged by order id.
"""

import re

import httpx
from page_client import text_of, unique

from smmpanel.catalog.service import (
    category_id_for,
    create_service,
    find_service,
    set_customer_price,
)
from smmpanel.money import parse, to_micros
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.placement import place_order

ORDER_LINK = re.compile(r'href="/orders/(\d+)"')
SERVICE_OPTION = re.compile(r'<option value="(\d+)"[^>]*>\1 · ')
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')
PREVIOUS_LINK = re.compile(r'href="([^"]+)" rel="prev"')


async def category_with_services(db, count: int, rate: str = "1") -> tuple[int, list[int]]:
    """A new category holding `count` Default services: (category id, service ids)."""
    async with db.write() as conn:
        category_id = await category_id_for(conn, unique("category"))
        ids = [
            await create_service(
                conn,
                category_id,
                name=unique("service"),
                type="Default",
                rate=to_micros(parse(rate)),
                min_quantity=10,
                max_quantity=1000,
            )
            for _ in range(count)
        ]
    return category_id, ids


async def placed(db, customer_id: int, **fields: object) -> int:
    async with db.write() as conn:
        return await place_order(conn, customer_id, {k: str(v) for k, v in fields.items()})


def link_of(html: str, pattern: re.Pattern) -> str:
    return pattern.search(html).group(1).replace("&amp;", "&")


async def test_the_form_lists_the_chosen_categorys_services_only(customer, db):
    client, _ = customer
    first, first_services = await category_with_services(db, 2)
    second, second_services = await category_with_services(db, 3)

    html = await client.page("/order/new", category=second)
    assert SERVICE_OPTION.findall(html) == [str(s) for s in second_services]
    assert f'<option value="{second}" selected>' in html
    assert f'<option value="{first}">' in html  # every category stays on offer
    # A service in the address chooses its category, whatever category is asked for.
    html = await client.page("/order/new", service=first_services[1], category=second)
    assert SERVICE_OPTION.findall(html) == [str(s) for s in first_services]
    assert f'name="service" value="{first_services[1]}"' in html


async def test_an_unknown_category_shows_the_first_one(customer, db):
    client, _ = customer
    await category_with_services(db, 1)
    html = await client.page("/order/new", category="99999999")
    assert SERVICE_OPTION.findall(html) and "Show services" in text_of(html)


async def test_a_refused_order_shows_its_services_category_again(customer, db):
    client, _ = customer
    _category, services = await category_with_services(db, 2)
    fields = {"service": services[1], "link": "https://example.com/few", "quantity": 5}
    response = await client.submit("/order/new", fields, page="/order/new")
    assert response.status_code == 400
    assert SERVICE_OPTION.findall(response.text) == [str(s) for s in services]
    assert f'name="service" value="{services[1]}"' in response.text


async def test_the_services_of_a_category_come_as_json_at_the_customers_rates(customer, db):
    client, customer_id = customer
    category, services = await category_with_services(db, 2, rate="3")
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, services[0], 2_000_000)

    response = await client.get("/order/services", category=category)
    assert response.status_code == 200
    listed = response.json()["services"]
    assert [s["id"] for s in listed] == services
    assert [s["rate_text"] for s in listed] == ["USD\u00a02.00", "USD\u00a03.00"]
    assert listed[0]["fields"] == ["link", "quantity"] and listed[0]["min"] == 10

    etag = response.headers["etag"]
    again = await client.http.get(
        "/order/services", params={"category": category}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    async with db.write() as conn:  # a price changed: the catalogue's version moved on
        await set_customer_price(conn, customer_id, services[1], 1_000_000)
    changed = await client.http.get(
        "/order/services", params={"category": category}, headers={"If-None-Match": etag}
    )
    assert (
        changed.status_code == 200 and changed.json()["services"][1]["rate_text"] == "USD\u00a01.00"
    )


async def test_the_services_json_is_for_signed_in_customers_only(panel, db):
    category, _services = await category_with_services(db, 1)
    async with httpx.AsyncClient(base_url=panel.url) as stranger:
        response = await stranger.get("/order/services", params={"category": category})
    assert response.status_code in (302, 303) and "/signin" in response.headers["location"]


async def test_the_list_pages_by_order_id_forward_and_back(customer, shop, db):
    client, customer_id = customer
    service = await shop.service("Default", rate="1")
    ids = [
        await placed(db, customer_id, service=service, link=f"https://k.example/{n}", quantity=10)
        for n in range(60)
    ]
    newest_first = [str(i) for i in reversed(ids)]
    page_one = await client.page("/orders")
    assert ORDER_LINK.findall(page_one) == newest_first[:25]
    next_url = link_of(page_one, NEXT_LINK)
    assert f"before={newest_first[24]}" in next_url and "page=2" in next_url
    page_two = await client.page(next_url)
    assert ORDER_LINK.findall(page_two) == newest_first[25:50]
    page_three = await client.page(link_of(page_two, NEXT_LINK))
    assert ORDER_LINK.findall(page_three) == newest_first[50:]
    assert not NEXT_LINK.search(page_three)

    back_url = link_of(page_three, PREVIOUS_LINK)
    assert f"after={newest_first[50]}" in back_url and "page=2" in back_url
    assert ORDER_LINK.findall(await client.page(back_url)) == newest_first[25:50]
    assert link_of(page_two, PREVIOUS_LINK) == "/orders"

    # A page asked for by its number alone (an old or typed address) is the same page.
    assert ORDER_LINK.findall(await client.page("/orders", page=2)) == newest_first[25:50]
    assert ORDER_LINK.findall(await client.page("/orders", page=9)) == []


async def test_the_list_filters_by_status_and_by_service_name_or_id(customer, shop, db):
    client, customer_id = customer
    _category, (named, other) = await category_with_services(db, 2)
    mine = await placed(db, customer_id, service=named, link="https://s.example/1", quantity=10)
    theirs = await placed(db, customer_id, service=other, link="https://s.example/2", quantity=10)
    async with db.write() as conn:
        await update_order(conn, theirs, status="Completed")
    async with db.read() as conn:
        name = (await find_service(conn, named)).name

    assert ORDER_LINK.findall(await client.page("/orders", service=name.upper())) == [str(mine)]
    assert ORDER_LINK.findall(await client.page("/orders", service=str(other))) == [str(theirs)]
    by_status = await client.page("/orders", status="Completed", service=str(other))
    assert ORDER_LINK.findall(by_status) == [str(theirs)]
    assert ORDER_LINK.findall(await client.page("/orders", service="%")) == []
    assert '<select name="service"' not in by_status


async def test_a_customer_never_sees_another_customers_orders_in_any_page(customer, shop, db):
    client, _ = customer
    stranger, _key = await shop.customer(balance="10")
    service = await shop.service("Default")
    theirs = await placed(db, stranger, service=service, link="https://t.example", quantity=10)
    for params in ({}, {"page": 2}, {"before": theirs + 1}, {"after": theirs - 1, "page": 2}):
        assert str(theirs) not in ORDER_LINK.findall(await client.page("/orders", **params))
