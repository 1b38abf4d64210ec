"""Customer pages: funds (instructions and ledger) and the API page with its keys."""

import re

import httpx
from page_client import text_of
from sqlalchemy import select

from smmpanel.accounts.models import api_keys
from smmpanel.accounts.service import adjust_funds
from smmpanel.orders.placement import place_order
from smmpanel.panel.service import change_settings, get_settings

NEW_KEY = re.compile(
    r'<div class="flash ok" role="status" id="new-key">.*?<code id="new-key-value">(\w+)</code>',
    re.S,
)


async def api_balance(panel, key: str) -> dict:
    async with httpx.AsyncClient() as http:
        response = await http.post(panel.api_url, data={"key": key, "action": "balance"})
    return response.json()


async def create_key(client, name: str = "") -> str:
    """A new key, read from the page the creating form leads to (shown there once)."""
    response = await client.submit("/api/keys", {"name": name}, page="/api")
    return NEW_KEY.search(await client.follow(response)).group(1)


async def test_funds_show_the_instructions_escaped_and_the_ledger_newest_first(customer, shop, db):
    client, customer_id = customer
    instructions = "Wire to IBAN X-123\nThen write to <pay@example.com>"
    service_id = await shop.service("Default", rate="2")
    async with db.write() as conn:
        before = (await get_settings(conn)).payment_instructions
        await change_settings(conn, payment_instructions=instructions)
        await adjust_funds(conn, customer_id, 5_000_000, "bonus for March")
        order_id = await place_order(
            conn, customer_id, {"service": str(service_id), "link": "f.example", "quantity": "500"}
        )
    try:
        html = await client.page("/funds")
    finally:
        async with db.write() as conn:
            await change_settings(conn, payment_instructions=before)
    assert "Wire to IBAN X-123<br>Then write to &lt;pay@example.com&gt;" in html
    text = text_of(html)
    assert "Balance USD 104.00" in text
    charge = text.index(f"Order charge -USD 1.00 {order_id} Order {order_id}")
    bonus = text.index("Deposit +USD 5.00 bonus for March")
    opening = text.index("Deposit +USD 100.00 Opening balance")
    assert charge < bonus < opening
    assert f'href="/orders/{order_id}"' in html


async def test_the_ledger_pages_by_fifty(customer, db):
    client, customer_id = customer
    async with db.write() as conn:
        for n in range(55):
            await adjust_funds(conn, customer_id, 10_000, f"entry {n}")
    # 56 entries with the opening balance: the newest 50 (entries 54 to 5) on the first page.
    first = await client.page("/funds")
    assert "entry 54 " in text_of(first) and "entry 5 " in text_of(first)
    assert "entry 4 " not in text_of(first)
    assert 'href="/funds?page=2" rel="next"' in first
    second = text_of(await client.page("/funds", page=2))
    assert "entry 4 " in second and "Opening balance" in second and "entry 5 " not in second


async def test_the_api_page_documents_every_action_and_this_panels_types(customer, shop, panel):
    client, _ = customer
    poll = await shop.service("Poll", rate="4")
    html = await client.page("/api")
    text = text_of(html)
    assert f"{panel.url}/api/v2" in text and "POST" in text and "JSON" in text
    actions = re.findall(r"<td><code>action</code></td><td>(\w+)</td>", html)
    for action in ("services", "add", "status", "refill", "refill_status", "cancel", "balance"):
        assert action in actions
    assert "New order: Poll" in text and "answer_number" in text
    assert re.search(rf"Services of this type: [\d, ]*\b{poll}\b", text)
    assert "Order IDs separated by comma" in text and "Example response:" in text
    assert '"order": 23501' in text


async def test_a_new_key_is_shown_once_and_opens_the_api_until_revoked(customer, panel, db):
    client, customer_id = customer
    key = await create_key(client)
    assert await api_balance(panel, key) == {
        "status": "success",
        "balance": "100.00",
        "currency": "USD",
    }
    later = await client.page("/api")
    assert key not in later and key[:6] in later
    async with db.read() as conn:
        key_id = await conn.scalar(
            select(api_keys.c.id).where(api_keys.c.customer_id == customer_id)
        )
    response = await client.submit(f"/api/keys/{key_id}/revoke", {}, page="/api")
    assert "Key revoked" in await client.follow(response)
    assert await api_balance(panel, key) == {"error": "Invalid API key"}
    again = await client.submit(f"/api/keys/{key_id}/revoke", {}, page="/api")
    assert "revoked already" in await client.follow(again)


async def test_another_customers_key_cannot_be_revoked(customer, shop, panel, db):
    client, _ = customer
    stranger, their_key = await shop.customer(balance="3")
    async with db.read() as conn:
        key_id = await conn.scalar(select(api_keys.c.id).where(api_keys.c.customer_id == stranger))
    for path in (f"/api/keys/{key_id}/revoke", "/api/keys/nope/revoke"):
        response = await client.submit(path, {}, page="/api")
        assert response.status_code == 404
    assert (await api_balance(panel, their_key))["balance"] == "3.00"
    assert their_key[:6] not in await client.page("/api")


async def test_the_api_page_reads_like_the_users_chinese_document(customer):
    client, _ = customer
    await client.get("/language/zh_TW", next="/api")
    text = text_of(await client.page("/api"))
    for words in ("API 文件", "回應格式", "參數", "說明", "回應範例", "訂單狀態", "多筆訂單狀態"):
        assert words in text
    assert "以逗號分隔的訂單 ID" in text and "服務清單" in text and "餘額" in text
