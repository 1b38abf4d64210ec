"""A service's Traditional Chinese name and description: the operator writes them, customers
reading the pages in Traditional Chinese see them (the English where none is written), and the
API keeps the English."""

from html import unescape

from page_client import PageClient, text_of, unique
from sqlalchemy import select

from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.service import create_api_key
from smmpanel.catalog.models import services
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import parse, to_micros
from smmpanel.orders.placement import place_order

CATALOGUE = "/admin/catalog"


async def reading_in(client: PageClient, language: str) -> PageClient:
    """The client after the language switch, as a person choosing the language."""
    switched = await client.get(f"/language/{language}")
    assert switched.status_code == 303
    return client


async def new_category(db) -> int:
    async with db.write() as conn:
        return await category_id_for(conn, unique("category"))


async def new_service(db, **fields: object) -> int:
    async with db.write() as conn:
        return await create_service(
            conn,
            await category_id_for(conn, unique("category")),
            type="Default",
            rate=to_micros(parse("1")),
            min_quantity=10,
            max_quantity=1000,
            **fields,
        )


async def service_row(db, service_id: int):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        query = select(services).where(services.c.id == service_id)
        return (await conn.execute(query)).one()


async def place(db, customer_id: int, service_id: int) -> int:
    fields = {"service": str(service_id), "link": f"https://x.com/{unique('p')}", "quantity": "100"}
    async with db.write() as conn:
        return await place_order(conn, customer_id, fields)


def listed(html: str) -> str:
    """The services table of the page, without the search box that repeats the search."""
    return unescape(html.split("<tbody>", 1)[1].split("</tbody>", 1)[0])


def service_form(category: int, name: str, /, **changes: object) -> dict[str, object]:
    return {
        "name": name,
        "category_id": category,
        "type": "Default",
        "rate": "1.25",
        "min_quantity": "10",
        "max_quantity": "5000",
        "description": "Real people",
        **changes,
    }


async def test_the_operator_adds_and_edits_the_chinese_texts_and_the_edit_is_audited(operator, db):
    category, english = await new_category(db), unique("Followers")
    fields = service_form(category, english, name_zh_tw="粉絲", description_zh_tw="真人粉絲")
    added = await operator.submit(f"{CATALOGUE}/services", fields, page=f"{CATALOGUE}/services/new")
    assert added.status_code == 303, added.text[:500]
    async with db.read() as conn:
        service_id = await conn.scalar(select(services.c.id).where(services.c.name == english))
    row = await service_row(db, service_id)
    assert (row.name_zh_tw, row.description_zh_tw) == ("粉絲", "真人粉絲")

    page = f"{CATALOGUE}/services/{service_id}"
    assert 'value="粉絲"' in await operator.page(page)
    changed = service_form(
        category, english, position="0", name_zh_tw="追蹤者", description_zh_tw=""
    )
    assert (await operator.submit(page, changed, page=page)).status_code == 303
    row = await service_row(db, service_id)
    assert (row.name_zh_tw, row.description_zh_tw) == ("追蹤者", None)
    async with db.read() as conn:
        details = await conn.scalars(
            select(operator_audit.c.detail).where(
                operator_audit.c.action == "service.edit",
                operator_audit.c.subject == f"service:{service_id}",
            )
        )
        assert any("name_zh_tw=追蹤者" in detail for detail in details)


async def test_a_chinese_name_longer_than_the_english_may_be_is_refused(operator, db):
    category = await new_category(db)
    fields = service_form(category, unique("Likes"), name_zh_tw="讚" * 301)
    refused = await operator.submit(
        f"{CATALOGUE}/services", fields, page=f"{CATALOGUE}/services/new"
    )
    assert refused.status_code == 400
    assert "at most 300 characters" in text_of(refused.text)


async def test_customers_reading_chinese_see_the_chinese_texts_and_the_api_the_english(
    customer, browser, db, api
):
    client, customer_id = customer
    english = unique("Views")
    chinese = f"觀看次數 {unique('zh')}"
    service_id = await new_service(
        db,
        name=english,
        description="Fast views",
        name_zh_tw=chinese,
        description_zh_tw="快速觀看",
    )
    category = (await service_row(db, service_id)).category_id
    order_id = await place(db, customer_id, service_id)
    zh = await reading_in(client, "zh_TW")

    for search in (chinese, english):  # either name finds it
        shown = listed(await zh.page("/services", q=search))
        assert chinese in shown and "快速觀看" in shown and english not in shown
        assert "一般" in shown and "Default" not in shown  # the type's name too
    order_form = unescape(await zh.page("/order/new", service=service_id))
    assert chinese in order_form and "快速觀看" in order_form and english not in order_form
    [loaded] = (await zh.get("/order/services", category=category)).json()["services"]
    assert (loaded["name"], loaded["description"]) == (chinese, "快速觀看")
    order_page = unescape(await zh.page(f"/orders/{order_id}"))
    assert chinese in order_page and english not in order_page and "(一般)" in order_page
    assert f'href="/orders/{order_id}"' in await zh.page("/orders", service=chinese)
    for order_list in ("/orders", "/dashboard"):
        shown = listed(await zh.page(order_list))
        assert chinese in shown and english not in shown

    en = listed(await (await reading_in(browser, "en")).page("/services", q=chinese))
    assert english in en and "Fast views" in en and chinese not in en and "Default" in en

    async with db.write() as conn:
        key = await create_api_key(conn, customer_id)
    reply = await api.call(key=key, action="services")
    [entry] = [entry for entry in reply if entry["service"] == service_id]
    assert (entry["name"], entry["type"]) == (english, "Default")


async def test_a_blank_chinese_text_falls_back_to_the_english(customer, db):
    client, customer_id = customer
    english = unique("Comments")
    service_id = await new_service(
        db, name=english, description="Real comments", name_zh_tw="", description_zh_tw=None
    )
    order_id = await place(db, customer_id, service_id)
    zh = await reading_in(client, "zh_TW")

    shown = listed(await zh.page("/services", q=english))
    assert english in shown and "Real comments" in shown
    order_form = unescape(await zh.page("/order/new", service=service_id))
    assert english in order_form and "Real comments" in order_form
    assert english in unescape(await zh.page(f"/orders/{order_id}"))
