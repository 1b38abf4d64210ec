"""Customer order pages' details: counts not known yet, a per-post charge, the drip-feed pair,
a reorder of a service no longer offered, and the new-order page's money as its script writes it.
"""

import json
import re
from html import unescape

from page_client import text_of
from sqlalchemy import select

from smmpanel.catalog.models import services
from smmpanel.catalog.service import set_customer_price, set_service_enabled
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.placement import place_order
from smmpanel.panel.service import LANGUAGES

NBSP = "\u00a0"
ORDER_DATA = re.compile(r'<script type="application/json" id="order-data">(.*?)</script>', re.S)
OUTPUT = re.compile(r'<output id="charge"[^>]*>(.*?)</output>', re.S)
SERVICE_RATE = re.compile(r'<span id="service-rate">(.*?)</span>')


async def placed(db, customer_id: int, **fields: object) -> int:
    async with db.write() as conn:
        return await place_order(conn, customer_id, {k: str(v) for k, v in fields.items()})


def cell(page: str, label: str) -> str:
    """The detail page's value of a row, as text."""
    found = re.search(rf"<tr><th>{re.escape(label)}</th><td[^>]*>(.*?)</td></tr>", page, re.S)
    assert found, label
    return text_of(found.group(1))


def list_row(page: str, order_id: int) -> str:
    found = re.search(rf'<tr>\s*<td[^>]*><a href="/orders/{order_id}">.*?</tr>', page, re.S)
    assert found
    return text_of(found.group(0))


async def test_an_order_not_started_shows_no_start_count_or_remains_until_reported(
    customer, shop, db
):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="1")
    order_id = await placed(db, customer_id, service=service_id, link="n.example", quantity=500)

    detail = await client.page(f"/orders/{order_id}")
    assert cell(detail, "Start count") == "—" and cell(detail, "Remains") == "—"
    row = list_row(await client.page("/orders"), order_id)
    assert row.endswith("— — Pending"), row

    async with db.write() as conn:  # sent upstream, which has not reported yet
        await update_order(conn, order_id, status="In progress")
    detail = await client.page(f"/orders/{order_id}")
    assert cell(detail, "Start count") == "—" and cell(detail, "Remains") == "—"

    async with db.write() as conn:
        await update_order(conn, order_id, status="In progress", start_count=1200, remains=300)
    detail = await client.page(f"/orders/{order_id}")
    assert cell(detail, "Start count") == "1,200" and cell(detail, "Remains") == "300"
    assert list_row(await client.page("/orders"), order_id).endswith("1,200 300 In progress")


async def test_a_finished_order_shows_its_counts_even_at_zero(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="1")
    order_id = await placed(db, customer_id, service=service_id, link="z.example", quantity=500)
    async with db.write() as conn:
        await update_order(conn, order_id, status="Completed", start_count=0, remains=0)
    detail = await client.page(f"/orders/{order_id}")
    assert cell(detail, "Start count") == "0" and cell(detail, "Remains") == "0"


async def test_a_subscription_without_a_post_limit_shows_its_charge_per_post(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Subscriptions", rate="1")
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, service_id, 1_350_000)
    fields = {"service": service_id, "username": "someone", "delay": 0}
    open_ended = await placed(db, customer_id, **fields, min=100, max=100)
    ranged = await placed(db, customer_id, **fields, min=100, max=200)
    limited = await placed(db, customer_id, **fields, min=100, max=100, posts=3)

    page = await client.page(f"/orders/{open_ended}")
    assert cell(page, "Charged per post") == "USD 0.135"
    page = await client.page(f"/orders/{ranged}")
    assert cell(page, "Charged per post") == "USD 0.135 to USD 0.27"
    assert "Charged per post" not in await client.page(f"/orders/{limited}")

    assert (await client.get("/language/zh_TW", next="/orders")).status_code == 303
    page = text_of(await client.page(f"/orders/{ranged}"))
    assert "每則貼文收費 USD 0.135 至 USD 0.27" in page


async def test_the_drip_feed_fields_are_a_pair_with_the_least_runs(customer, shop):
    client, _ = customer
    dripfeed = await shop.service("Default", dripfeed=True)
    plain = await shop.service("Default")

    form = (await client.page("/order/new", service=dripfeed)).split("<template", 1)[0]
    pair = re.search(r"<fieldset class=\"dripfeed\" data-dripfeed>(.*?)</fieldset>", form, re.S)
    assert pair
    assert 'name="runs"' in pair.group(1) and 'name="interval"' in pair.group(1)
    assert "<legend>Drip-feed (optional)</legend>" in pair.group(1)
    assert "at least 2 runs" in text_of(pair.group(1))
    assert 'name="quantity"' not in pair.group(1)

    form = (await client.page("/order/new", service=plain)).split("<template", 1)[0]
    assert "<fieldset" not in form


async def test_reordering_a_disabled_service_says_so_and_offers_its_category(customer, shop, db):
    client, customer_id = customer
    gone = await shop.service("Default", rate="1")
    still_offered = await shop.service("Default", rate="1")
    await placed(db, customer_id, service=gone, link="r.example", quantity=100)
    async with db.write() as conn:
        await set_service_enabled(conn, gone, False)
        category_id = await conn.scalar(select(services.c.category_id).where(services.c.id == gone))

    response = await client.get("/order/new", service=str(gone))
    assert response.status_code == 400
    assert f"Service {gone} is no longer offered." in text_of(response.text)
    assert f'<a href="/order/new?category={category_id}">' in response.text
    service_choices = response.text.split('<select name="service"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{still_offered}"' in service_choices
    assert f'<option value="{gone}"' not in service_choices

    unknown = await client.get("/order/new", service="999999999")
    assert unknown.status_code == 400
    assert "Choose a service from the list" in unknown.text and "no longer" not in unknown.text


def charge_as_the_script_writes_it(micros: int, money: dict[str, str]) -> str:
    """order-form.js's renderCharge, step by step."""
    fraction = f"{micros % 1_000_000:06d}".rstrip("0").ljust(2, "0")
    whole = f"{micros // 1_000_000:,}".replace(",", money["group"])
    return money["prefix"] + whole + money["decimal"] + fraction + money["suffix"]


async def test_the_new_order_page_and_its_script_write_money_alike(customer, shop, db):
    client, customer_id = customer
    service_id = await shop.service("Default", rate="1", max_quantity=10_000_000)
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, service_id, 135_000)
    for language in LANGUAGES:
        assert (await client.get(f"/language/{language}", next="/orders")).status_code == 303
        page = await client.page("/order/new", service=service_id)
        data = json.loads(unescape(ORDER_DATA.search(page).group(1)))
        (service,) = [s for s in data["services"] if s["id"] == service_id]
        assert service["rate_text"] == f"USD{NBSP}0.135"
        assert unescape(SERVICE_RATE.search(page).group(1)) == service["rate_text"]
        assert f"{service_id} · {service['name']} · USD{NBSP}0.135</option>" in unescape(page)
        assert data["money"] == {"prefix": f"USD{NBSP}", "group": ",", "decimal": ".", "suffix": ""}

        fields = {"service": service_id, "link": "m.example", "quantity": 9_876_543}
        preview = await client.submit(
            "/order/new", {**fields, "intent": "preview"}, page=f"/order/new?service={service_id}"
        )
        shown = unescape(OUTPUT.search(preview.text).group(1))
        assert shown == f"USD{NBSP}1,333.333305"
        assert charge_as_the_script_writes_it(1_333_333_305, data["money"]) == shown
        assert charge_as_the_script_writes_it(2_500_000, data["money"]) == f"USD{NBSP}2.50"

    listed = (await client.get("/order/services", category=data_category(page))).json()
    (service,) = [s for s in listed["services"] if s["id"] == service_id]
    assert service["rate_text"] == f"USD{NBSP}0.135"


def data_category(page: str) -> str:
    return re.search(r'<option value="(\d+)" selected>', page).group(1)
