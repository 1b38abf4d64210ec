"""The public services page (`/services`: filters, search, pages, each customer's own rates, the
average completion time) and the customers' updates page (`/updates`: the catalogue's change log).
"""

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from harness import migrated
from page_client import PageClient, customer_with_password, text_of, unique
from sqlalchemy import insert, select, update

from smmpanel.app import create_app
from smmpanel.catalog.models import services
from smmpanel.catalog.service import (
    category_id_for,
    create_service,
    set_customer_price,
    set_service_enabled,
)
from smmpanel.config import Settings
from smmpanel.db.base import utcnow
from smmpanel.money import parse, to_micros
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.orders.statuses import CANCELED, COMPLETED
from smmpanel.providers.catalog_sync import ServiceChange
from smmpanel.providers.models import service_changes
from smmpanel.providers.service import add_provider

SERVICE_LINK = re.compile(r'href="/order/new\?service=(\d+)"')
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')
PREVIOUS_LINK = re.compile(r'href="([^"]+)" rel="prev"')
COLUMNS = ("id", "name", "category", "type", "rate", "min", "max", "refill", "cancel", "took")


def listed(html: str) -> list[int]:
    return [int(found) for found in SERVICE_LINK.findall(html)]


def rows_of(html: str) -> dict[int, dict[str, str]]:
    """Each service row of the page's table: its cells by column, as text."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        found[int(cells[0])] = dict(zip(COLUMNS, cells, strict=False))
    return found


def link_of(html: str, pattern: re.Pattern) -> str:
    return pattern.search(html).group(1).replace("&amp;", "&")


async def new_services(db, count: int, type: str = "Default", **fields: object) -> tuple[int, list]:
    """A new category holding `count` services of this type, named after it: (category, ids)."""
    async with db.write() as conn:
        category_id = await category_id_for(conn, unique("category"))
        ids = [
            await create_service(
                conn,
                category_id,
                name=unique(f"{type} service"),
                type=type,
                rate=to_micros(parse(str(fields.pop("rate", "1")))),
                min_quantity=10,
                max_quantity=1000,
                **fields,
            )
            for _ in range(count)
        ]
    return category_id, ids


async def test_visitors_page_through_a_category_and_filter_by_type(browser, db):
    category, defaults = await new_services(db, 52)
    async with db.write() as conn:
        comments = [
            await create_service(
                conn,
                category,
                name=unique("comments service"),
                type="Custom Comments",
                rate=to_micros(parse("2")),
                min_quantity=10,
                max_quantity=1000,
                refill=True,
            )
            for _ in range(2)
        ]
        await set_service_enabled(conn, defaults[5], False)
    on_offer = [i for i in defaults + comments if i != defaults[5]]

    first = await browser.page("/services", category=category)
    assert listed(first) == on_offer[:50]
    assert "/signin" in first  # not signed in: the page answers all the same
    second = await browser.page(link_of(first, NEXT_LINK))
    assert listed(second) == on_offer[50:]
    assert NEXT_LINK.search(second) is None
    assert listed(await browser.page(link_of(second, PREVIOUS_LINK))) == on_offer[:50]

    typed = await browser.page("/services", category=category, type="Custom Comments")
    assert listed(typed) == comments
    row = rows_of(typed)[comments[0]]
    assert (row["type"], row["rate"], row["refill"], row["cancel"]) == (
        "Custom Comments",
        "USD 2.00",
        "Yes",
        "No",
    )
    assert (row["min"], row["max"], row["took"]) == ("10", "1,000", "—")


async def test_search_by_name_or_id_and_a_disabled_service_is_never_shown(browser, db):
    category, ids = await new_services(db, 3)
    async with db.write() as conn:
        await set_service_enabled(conn, ids[2], False)
        query = select(services.c.id, services.c.name).where(services.c.id.in_(ids))
        names = {row.id: row.name for row in (await conn.execute(query)).all()}

    assert listed(await browser.page("/services", q=names[ids[1]].upper())) == [ids[1]]
    assert ids[1] in listed(await browser.page("/services", q=str(ids[1])))
    assert listed(await browser.page("/services", q=names[ids[2]])) == []
    assert ids[2] not in listed(await browser.page("/services", q=str(ids[2])))

    category_page = {"category": category}
    assert listed(await browser.page("/services", **category_page)) == ids[:2]
    async with db.write() as conn:  # taken off offer after the page was seen: gone at once
        await set_service_enabled(conn, ids[0], False)
    assert listed(await browser.page("/services", **category_page)) == ids[1:2]


async def test_values_that_mean_nothing_are_ignored(browser, db):
    category, ids = await new_services(db, 1)
    for params in (
        {"category": "abc", "type": "Nope", "page": "-3"},
        {"category": "99999999999999999999", "page": "x"},
        {"q": "%_\\", "type": ""},
    ):
        assert (await browser.get("/services", **params)).status_code == 200
    html = await browser.page("/services", category=category, type="Nope", page="0")
    assert listed(html) == ids  # an unknown type does not filter; page 0 is the first
    far = await browser.page("/services", category=category, page="999999")
    assert listed(far) == [] and "No services match." in text_of(far)


async def test_a_custom_price_is_shown_to_its_customer_only(customer, browser, panel, db):
    client, customer_id = customer
    _category, (service,) = await new_services(db, 1, rate="3")
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, service, to_micros(parse("2.5")))
    _other_id, other_name = await customer_with_password(db)

    assert rows_of(await client.page("/services", q=str(service)))[service]["rate"] == "USD 2.50"
    assert rows_of(await browser.page("/services", q=str(service)))[service]["rate"] == "USD 3.00"
    other = type(client)(panel.url)
    try:
        assert (await other.sign_in(other_name)).status_code == 303
        assert rows_of(await other.page("/services", q=str(service)))[service]["rate"] == "USD 3.00"
    finally:
        await other.close()


async def finished_orders(db, service: int, took: list[timedelta], status: str = COMPLETED):
    """Orders of the service, placed and finished `took` apart, in this order."""
    customer_id, _name = await customer_with_password(db, balance="10")
    now = utcnow()
    for number, duration in enumerate(took):
        async with db.write() as conn:
            order_id = await place_order(
                conn,
                customer_id,
                {"service": str(service), "link": f"https://e.com/{number}", "quantity": "10"},
            )
            await update_order(conn, order_id, status=status)  # refunds a canceled one
            await conn.execute(
                update(orders)
                .where(orders.c.id == order_id)
                .values(created_at=now - duration, finished_at=now)
            )


async def test_the_average_time_is_over_the_last_ten_completed_orders(browser, db):
    _category, (timed, untimed) = await new_services(db, 2)
    slow, usual = timedelta(days=9), timedelta(hours=2, minutes=10)
    # The two oldest are left out; the last ten average 2 hours 15 minutes.
    await finished_orders(db, timed, [slow, slow] + [usual] * 9 + [usual + timedelta(minutes=50)])
    await finished_orders(db, timed, [timedelta(days=30)], status=CANCELED)  # not completed
    await finished_orders(db, untimed, [timedelta(hours=1)], status=CANCELED)

    rows = rows_of(await browser.page("/services", q=str(timed)))
    assert rows[timed]["took"] == "2 hours 15 minutes"
    assert rows_of(await browser.page("/services", q=str(untimed)))[untimed]["took"] == "—"

    await browser.get("/language/zh_TW", next="/services")
    chinese = rows_of(await browser.page("/services", q=str(timed)))
    assert chinese[timed]["took"] == "2 小時 15 分鐘"


async def test_the_menu_links_the_services_page_for_everyone(browser, customer):
    client, _ = customer
    assert 'href="/services"' in await browser.page("/")
    dashboard = await client.page("/dashboard")
    assert 'href="/services"' in dashboard and 'href="/updates"' in dashboard


# ---- updates


async def logged(db, *changes: tuple[int, str, str | None, str | None]) -> None:
    """Change-log rows as an import or a sync writes them: (service, field, old, new)."""
    async with db.write() as conn:
        provider = await add_provider(conn, unique("up"), "https://up.example/api/v2", "key", 5)
        now = utcnow()
        rows = [
            ServiceChange(service, provider, field, old, new, now)._asdict()
            for service, field, old, new in changes
        ]
        await conn.execute(insert(service_changes), rows)


async def test_updates_show_added_services_and_new_rates_of_those_on_offer(customer, db):
    client, customer_id = customer
    _category, (added, repriced, gone, own) = await new_services(db, 4)
    async with db.write() as conn:
        await set_service_enabled(conn, gone, False)
        await set_customer_price(conn, customer_id, own, to_micros(parse("0.9")))
    await logged(
        db,
        (added, "added", None, None),
        (repriced, "rate", "1.21", "1.81"),
        (repriced, "upstream_rate", "1", "1.5"),  # the upstream's own rate: not the customers'
        (gone, "rate", "1", "7"),  # off offer: only that it was taken off is shown
        (gone, "enabled", "yes", "no"),
        (own, "rate", "1", "1.2"),
    )

    html = await client.page("/updates")
    # Other tests' changes may show on the shared panel: read this test's services' rows.
    rows = {
        service: [
            text_of(row)
            for row in re.findall(r"<tr>.*?</tr>", html, re.S)
            if f">{service} · " in row or f"<td>{service} · " in row
        ]
        for service in (added, repriced, gone, own)
    }
    assert ["New service" in row for row in rows[added]] == [True]
    assert ["Rate: 1.21 → 1.81" in row for row in rows[repriced]] == [True]  # not its upstream rate
    assert ["Taken off offer" in row and "no longer offered" in row for row in rows[gone]] == [True]
    assert ["Rate: 1 → 1.2 (your price: USD 0.90)" in row for row in rows[own]] == [True]
    # Newest first: the rows in the order written come last to first.
    order = [html.index(f"{i} · ") for i in (own, gone, repriced, added)]
    assert order == sorted(order)


async def test_updates_come_in_pages_of_fifty(customer, db):
    client, _ = customer
    _category, (service,) = await new_services(db, 1)
    await logged(db, *[(service, "rate", str(n), str(n + 1)) for n in range(1, 56)])

    first = text_of(html := await client.page("/updates"))
    assert "Rate: 55 → 56" in first and "Rate: 6 → 7" in first and "Rate: 5 → 6" not in first
    older = await client.page(link_of(html, NEXT_LINK))
    assert "Rate: 5 → 6" in text_of(older) and "Rate: 6 → 7" not in text_of(older)
    back = await client.page(link_of(older, PREVIOUS_LINK))
    assert "Rate: 55 → 56" in text_of(back)


async def test_updates_need_a_signed_in_customer(panel):
    async with httpx.AsyncClient(base_url=panel.url) as stranger:
        response = await stranger.get("/updates")
    assert response.status_code in (302, 303) and "/signin" in response.headers["location"]


async def _shop_offering_one_of_two(tmp_path, shop: str, on_offer: str) -> FastAPI:
    """A panel of its own in this process: two services, only `on_offer` enabled."""
    (tmp_path / shop).mkdir()
    url = await migrated("sqlite", tmp_path / shop)
    app = create_app(Settings(database_url=url), with_worker=False)
    async with app.state.db.write() as conn:
        category = await category_id_for(conn, f"Category of the {shop} shop")
        for name in ("Likes", "Views"):
            service_id = await create_service(
                conn,
                category,
                name=f"{name} of the {shop} shop",
                type="Default",
                rate=1_000_000,
                min_quantity=10,
                max_quantity=1000,
            )
            if name != on_offer:
                await set_service_enabled(conn, service_id, False)
    return app


@pytest.mark.fast
async def test_panels_in_one_process_keep_their_own_services_pages(tmp_path):
    """A process keeps a page's services while the catalogue's version stays; two databases at
    the same version, offering different services, must each show their own."""
    offers = {"first": "Likes", "second": "Views"}
    apps = {
        shop: await _shop_offering_one_of_two(tmp_path, shop, on) for shop, on in offers.items()
    }
    try:
        for _round in range(2):
            for shop, app in apps.items():
                client = PageClient("http://panel", transport=httpx.ASGITransport(app=app))
                page = text_of(await client.page("/services"))
                await client.close()
                shown = set(re.findall(r"(\w+) of the (\w+) shop", page))
                assert shown == {(offers[shop], shop), ("Category", shop)}
    finally:
        for app in apps.values():
            await app.state.db.dispose()
