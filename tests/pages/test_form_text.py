"""Text the pages read, from forms and from query strings: UTF-8 the database can store, or a
400 page that says so and changes nothing, on both databases."""

import pytest
from page_client import PageClient, csrf_token, customer_with_password, unique
from sqlalchemy import func, select

from smmpanel.accounts.models import customers, ledger_entries, sign_in_failures
from smmpanel.orders.models import orders

REFUSED = "not readable text"
REFUSED_ZH = "無法讀取的文字"
# Percent-encoded, as a browser sends a form: a NUL, bytes that are not UTF-8, a lone surrogate.
UNREADABLE = ["%00", "%FF%FE", "%ED%A0%80"]


async def post_raw(client: PageClient, action: str, body: str, *, page: str):
    """A form body sent as written, after the page's CSRF token."""
    token = csrf_token(await client.page(page))
    return await client.http.post(
        action,
        content=f"csrf_token={token}&{body}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def refused(response, says: str = REFUSED) -> bool:
    return response.status_code == 400 and says in response.text


async def scalar(db, query) -> int:
    async with db.read() as conn:
        return await conn.scalar(query)


async def customers_named(db, prefix: str) -> int:
    return await scalar(
        db, select(func.count()).where(customers.c.name.startswith(prefix, autoescape=True))
    )


@pytest.mark.parametrize("unreadable", UNREADABLE)
async def test_sign_up_with_an_unreadable_name_is_refused_and_creates_nobody(
    browser, db, unreadable
):
    prefix = unique("nul")
    body = f"name={prefix}{unreadable}&password=long+enough+1&password_again=long+enough+1"
    response = await post_raw(browser, "/signup", body, page="/signup")
    assert refused(response), (response.status_code, response.text[:300])
    assert await customers_named(db, prefix) == 0


async def test_sign_in_with_a_nul_in_the_name_is_refused_and_counts_no_failure(browser, db):
    _, name = await customer_with_password(db)
    response = await browser.sign_in(name + "\x00")
    assert refused(response)
    failures = select(func.count()).where(sign_in_failures.c.name.startswith(name))
    assert await scalar(db, failures) == 0


@pytest.mark.parametrize("field", ["link", "quantity"])
async def test_a_new_order_with_a_nul_in_a_field_places_nothing(customer, shop, db, field):
    client, customer_id = customer
    service_id = await shop.service()
    fields = {"service": service_id, "link": f"https://x.com/{unique('p')}", "quantity": "100"}
    fields[field] = str(fields[field]) + "\x00"
    page = f"/order/new?service={service_id}"
    response = await client.submit("/order/new", fields, page=page)
    assert refused(response)
    placed = select(func.count()).where(orders.c.customer_id == customer_id)
    assert await scalar(db, placed) == 0


@pytest.mark.parametrize("unreadable", UNREADABLE)
async def test_a_customer_search_with_unreadable_text_is_refused(customer, unreadable):
    client, _ = customer
    response = await client.http.get(f"/orders?q=abc{unreadable}")
    assert refused(response), (response.status_code, response.text[:300])


@pytest.mark.parametrize("unreadable", UNREADABLE)
async def test_an_operator_search_with_unreadable_text_is_refused(operator, unreadable):
    response = await operator.http.get(f"/admin/orders?q=abc{unreadable}&status=")
    assert refused(response), (response.status_code, response.text[:300])


@pytest.mark.parametrize("unreadable", UNREADABLE)
async def test_a_funds_reason_with_unreadable_text_changes_no_balance(operator, db, unreadable):
    customer_id, _ = await customer_with_password(db, balance="10")
    page = f"/admin/customers/{customer_id}"
    body = f"amount=5&reason=bank{unreadable}transfer"
    response = await post_raw(operator, f"{page}/funds", body, page=page)
    assert refused(response)
    entries = select(func.count()).where(ledger_entries.c.customer_id == customer_id)
    assert await scalar(db, entries) == 1  # the opening balance only
    balance = select(customers.c.balance).where(customers.c.id == customer_id)
    assert await scalar(db, balance) == 10_000_000


async def test_an_unreadable_field_name_is_refused_too(operator, db):
    customer_id, _ = await customer_with_password(db, balance="10")
    page = f"/admin/customers/{customer_id}"
    response = await post_raw(operator, f"{page}/funds", "amount=5&reason=ok&x%00=1", page=page)
    assert refused(response)


async def test_the_refusal_reads_in_traditional_chinese(customer):
    client, _ = customer
    await client.get("/language/zh_TW", next="/orders")
    response = await client.http.get("/orders?q=%00")
    assert refused(response, REFUSED_ZH)


async def test_a_page_not_found_with_unreadable_text_in_its_address_is_still_a_404(browser):
    response = await browser.http.get("/no-such-page?q=%00")
    assert response.status_code == 404


async def test_ordinary_text_in_every_script_still_goes_through(customer):
    client, _ = customer
    response = await client.get("/orders", q="名前 é ✓ \ufffd")
    assert response.status_code == 200


async def test_a_form_too_large_to_read_is_refused_whole(browser, db):
    name = unique("large")
    padding = "x" * 600_000  # two fields, each under Starlette's own limit of a field
    body = f"name={name}&password={padding}&note={padding}"
    response = await post_raw(browser, "/signin", body, page="/signin")
    assert response.status_code == 413 and "too large" in response.text
    failures = select(func.count()).where(sign_in_failures.c.name.startswith(name))
    assert await scalar(db, failures) == 0
