"""What a visitor cannot do to the pages: inject markup, forge forms, reach others' pages."""

from urllib.parse import urlencode

import httpx
import pytest
from page_client import PageClient, customer_with_password, operator_account, text_of, unique
from sqlalchemy import func, select

from smmpanel.accounts.models import api_keys, customers
from smmpanel.accounts.service import adjust_funds
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import parse, to_micros
from smmpanel.orders.models import cancel_requests, orders, refills
from smmpanel.orders.placement import place_order
from smmpanel.pagekit.pages import OPERATOR_COOKIE, SESSION_COOKIE
from smmpanel.panel.service import get_settings
from smmpanel.providers.service import add_provider

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
# Links may not hold spaces: the same attack, written without them.
LINK = f"https://example.com/{IMAGE.replace(' ', '/')}{SCRIPT}"


def assert_shown_as_text(html: str, *texts: str) -> None:
    """Each text is on the page as text, and no markup of ours came through as markup."""
    for raw in (SCRIPT, "<img src=x", "<img/src=x"):
        assert raw not in html, f"unescaped {raw!r} on the page"
    visible = text_of(html)
    for text in texts:
        assert text in visible, f"{text!r} is not shown"


async def customer_service(db) -> tuple[int, str]:
    """A Custom Comments service whose category and name carry markup; (id, name)."""
    name = f"{IMAGE} {SCRIPT} {unique('service')}"
    async with db.write() as conn:
        category_id = await category_id_for(conn, f"{SCRIPT} {unique('category')}")
        service_id = await create_service(
            conn,
            category_id,
            name=name,
            type="Custom Comments",
            rate=to_micros(parse("1")),
            min_quantity=1,
            max_quantity=100,
        )
    return service_id, name


@pytest.fixture
async def hostile(panel, db):
    """A customer named with markup, with an order whose link and comments carry markup too."""
    tag = unique("c")
    name = f"{SCRIPT}{tag}"
    client = PageClient(panel.url)
    assert (await client.sign_up(name)).status_code == 303
    async with db.read() as conn:
        customer_id = await conn.scalar(select(customers.c.id).where(customers.c.name == name))
    reason = f"{IMAGE} refund by hand"
    async with db.write() as conn:
        await adjust_funds(conn, customer_id, to_micros(parse("20")), reason)
    service_id, service_name = await customer_service(db)
    comments = f"{SCRIPT}\n{IMAGE}"
    placed = await client.submit(
        "/order/new",
        {"service": service_id, "link": LINK, "comments": comments},
        page=f"/order/new?service={service_id}",
    )
    assert placed.status_code == 303, placed.text[:500]
    order_id = int(placed.headers["location"].rsplit("/", 1)[1])
    yield {
        "client": client,
        "id": customer_id,
        "name": name,
        "tag": tag,
        "order": order_id,
        "service": service_name,
        "service_id": service_id,
        "reason": reason,
    }
    await client.close()


async def test_markup_typed_by_customers_shows_as_text_on_their_pages(hostile):
    client, order_id = hostile["client"], hostile["order"]
    expected = {
        "/dashboard": (hostile["name"], LINK, hostile["service"]),
        "/orders": (hostile["name"], LINK, hostile["service"]),
        f"/orders/{order_id}": (LINK, SCRIPT, IMAGE, hostile["service"]),
        "/funds": (hostile["reason"],),
        # The form lists one category's services: the one of the service in the address.
        f"/order/new?service={hostile['service_id']}": (hostile["service"],),
    }
    for path, texts in expected.items():
        assert_shown_as_text(await client.page(path), *texts)


async def test_markup_typed_by_customers_shows_as_text_on_operator_pages(hostile, operator):
    customer_id, order_id, tag = hostile["id"], hostile["order"], hostile["tag"]
    expected = {
        f"/admin/customers?q={tag}": (hostile["name"],),
        f"/admin/customers/{customer_id}": (hostile["name"], hostile["reason"]),
        f"/admin/orders?q={tag}": (LINK,),
        f"/admin/orders/{order_id}": (hostile["name"], LINK, SCRIPT, IMAGE, hostile["service"]),
        f"/admin/catalog?{urlencode({'q': hostile['service']})}": (hostile["service"],),
    }
    for path, texts in expected.items():
        assert_shown_as_text(await operator.page(path), *texts)


async def test_a_provider_named_with_markup_shows_as_text(operator, db):
    name = f"{IMAGE} {unique('provider')}"
    async with db.write() as conn:
        await add_provider(conn, name, "http://127.0.0.1:9/api/v2", "key")
    for path in ("/admin/providers", "/admin"):
        assert_shown_as_text(await operator.page(path), name)


async def count(db, table, *where) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(*where))


async def balance(db, customer_id: int) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(customers.c.balance).where(customers.c.id == customer_id))


async def forged(client: PageClient, action: str, fields: dict, page: str) -> int:
    """Posts the form without its CSRF token, after loading its page as a browser would."""
    await client.page(page)
    response = await client.http.post(action, data=fields)
    return response.status_code


async def test_customer_forms_without_their_token_are_refused_and_change_nothing(
    customer, shop, db
):
    client, customer_id = customer
    service_id = await shop.service(rate="1")
    order = {"service": service_id, "link": "https://example.com/forged", "quantity": 100}
    status = await forged(client, "/order/new", order, f"/order/new?service={service_id}")
    assert status == 403
    mass = {"orders": f"{service_id}|https://example.com/forged-mass|100"}
    assert await forged(client, "/order/mass", mass, "/order/mass") == 403
    assert await count(db, orders, orders.c.customer_id == customer_id) == 0
    assert await balance(db, customer_id) == to_micros(parse("100"))
    assert await forged(client, "/api/keys", {}, "/api") == 403
    assert await count(db, api_keys, api_keys.c.customer_id == customer_id) == 0


async def test_operator_forms_without_their_token_are_refused_and_change_nothing(
    operator, shop, db
):
    customer_id, _ = await shop.customer(balance="10")
    service_id = await shop.service(rate="1")
    async with db.write() as conn:
        order_id = await place_order(
            conn,
            customer_id,
            {"service": str(service_id), "link": "https://example.com/x", "quantity": "100"},
        )
    detail = f"/admin/customers/{customer_id}"
    funds = {"amount": "1000", "reason": "forged"}
    assert await forged(operator, f"{detail}/funds", funds, detail) == 403
    change = {"status": "Canceled", "start_count": "", "remains": ""}
    order_page = f"/admin/orders/{order_id}"
    assert await forged(operator, order_page, change, order_page) == 403
    settings = {"name": "Forged", "currency": "EUR", "payment_instructions": "forged"}
    assert await forged(operator, "/admin/settings", settings, "/admin/settings") == 403

    assert await balance(db, customer_id) == to_micros(parse("9.9"))
    async with db.read() as conn:
        assert await conn.scalar(select(orders.c.status).where(orders.c.id == order_id)) == (
            "Pending"
        )
        panel = await get_settings(conn)
    assert panel.name != "Forged" and panel.currency != "EUR"


async def test_a_customer_reaches_no_operator_page(customer, db):
    client, customer_id = customer
    for path in (
        "/admin",
        "/admin/customers",
        f"/admin/customers/{customer_id}",
        "/admin/orders",
        "/admin/catalog",
        "/admin/providers",
        "/admin/settings",
        "/admin/refills",
    ):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/admin/signin"), path
    token_page = "/dashboard"
    funds = {"amount": "1000", "reason": "self-service"}
    response = await client.submit(f"/admin/customers/{customer_id}/funds", funds, page=token_page)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/signin")
    assert await balance(db, customer_id) == to_micros(parse("100"))


async def test_a_customer_reaches_no_order_or_key_of_another(customer, panel, shop, db):
    client, _ = customer
    service_id = await shop.service(rate="1", refill=True, cancel=True)
    other_id, other_name = await customer_with_password(db, balance="10")
    async with db.write() as conn:
        theirs = await place_order(
            conn,
            other_id,
            {"service": str(service_id), "link": "https://example.com/theirs", "quantity": "100"},
        )
    assert (await client.get(f"/orders/{theirs}")).status_code == 404
    for action in ("refill", "cancel"):
        response = await client.submit(f"/orders/{theirs}/{action}", {}, page="/dashboard")
        assert response.status_code == 404, action
    assert await count(db, refills, refills.c.order_id == theirs) == 0
    assert await count(db, cancel_requests, cancel_requests.c.order_id == theirs) == 0

    other = PageClient(panel.url)
    await other.sign_in(other_name)
    await other.submit("/api/keys", {}, page="/api")
    await other.close()
    async with db.read() as conn:
        key_id = await conn.scalar(select(api_keys.c.id).where(api_keys.c.customer_id == other_id))
    response = await client.submit(f"/api/keys/{key_id}/revoke", {}, page="/api")
    assert response.status_code == 404
    assert await count(db, api_keys, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)) == 1


async def test_ids_beyond_any_stored_id_are_pages_not_found(customer, operator):
    client, _ = customer
    too_big = "9" * 20
    for path in (f"/orders/{too_big}", "/orders/abc"):
        assert (await client.get(path)).status_code == 404, path
    for path in (
        f"/admin/orders/{too_big}",
        f"/admin/customers/{too_big}",
        f"/admin/catalog/services/{too_big}",
        f"/admin/providers/{too_big}",
    ):
        assert (await operator.get(path)).status_code == 404, path


async def test_an_operator_session_does_not_sign_in_a_customer(panel, operator):
    token = operator.http.cookies.get(OPERATOR_COOKIE)
    assert token
    for cookies in ({OPERATOR_COOKIE: token}, {SESSION_COOKIE: token}):
        async with httpx.AsyncClient(base_url=panel.url, cookies=cookies) as stranger:
            for path in ("/dashboard", "/orders", "/funds", "/api"):
                response = await stranger.get(path)
                assert response.status_code == 303, (path, cookies)
                assert response.headers["location"].startswith("/signin")


async def test_every_cookie_the_pages_set_is_http_only_and_same_site_lax(browser, db):
    responses = [
        await browser.get("/language/zh_TW", next="/signin"),
        await browser.sign_up(unique("cookies")),
        await browser.operator_sign_in(await operator_account(db)),
    ]
    set_cookies = [
        cookie
        for response in responses
        for cookie in response.headers.get_list("set-cookie")
        if "Max-Age=0" not in cookie  # a deletion carries no value
    ]
    names = {cookie.split("=", 1)[0] for cookie in set_cookies}
    assert {"smm_visitor", "smm_lang", "smm_session", "smm_flash", "smm_operator"} <= names
    for cookie in set_cookies:
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie, cookie
