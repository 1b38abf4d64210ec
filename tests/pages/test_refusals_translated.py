"""One refusal, two readers: the API answers the contract's English, the pages the visitor's
language, both from the same code and params."""

from page_client import text_of
from sqlalchemy import func, select

from smmpanel.accounts.service import balance_of, create_api_key
from smmpanel.orders.models import orders


async def books(db, customer_id: int) -> tuple[int, int]:
    async with db.read() as conn:
        count = await conn.scalar(select(func.count()).where(orders.c.customer_id == customer_id))
        return count, await balance_of(conn, customer_id)


async def order_below_minimum(client, service_id: int):
    fields = {"service": service_id, "link": "https://example.com/p/1", "quantity": 99}
    return await client.submit("/order/new", fields, page=f"/order/new?service={service_id}")


async def test_an_order_below_the_minimum_reads_as_chinese_on_the_page(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", min_quantity=100)
    before = await books(db, customer_id)

    await client.get("/language/zh_TW")
    response = await order_below_minimum(client, service_id)

    assert response.status_code == 400
    assert "數量低於最低限制 100" in text_of(response.text)
    assert "Quantity less than minimal" not in response.text
    assert await books(db, customer_id) == before


async def test_the_same_refusal_in_english_on_the_page(customer, shop):
    client, _customer_id = customer
    service_id = await shop.service("Default", min_quantity=100)

    await client.get("/language/en")
    response = await order_below_minimum(client, service_id)

    assert response.status_code == 400
    assert "Quantity less than minimal 100" in text_of(response.text)


async def test_the_api_answers_the_contracts_words_whatever_the_pages_speak(
    customer, shop, db, api
):
    client, customer_id = customer
    service_id = await shop.service("Default", min_quantity=100)
    async with db.write() as conn:
        key = await create_api_key(conn, customer_id)
    await client.get("/language/zh_TW")

    reply = await api.call(
        key=key, action="add", service=service_id, link="https://example.com/p/1", quantity=99
    )

    assert reply == {"error": "Quantity less than minimal 100"}
