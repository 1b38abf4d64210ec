"""Providers on the pages: tested when added, their balance and last error on the list and the
dashboard, upstream trouble in plain words, and archiving."""

import re

from page_client import customer_with_password, text_of, unique
from sqlalchemy import select, update

# The fixtures imported from test_admin_providers are parameters of the tests below.
# ruff: noqa: F811
from test_admin_providers import (  # noqa: F401 - fixtures
    PROVIDERS,
    UPSTREAM_KEY,
    add_provider,
    added_provider,
    offered,
    rule,
    upstream,
    upstream_process,
)

from smmpanel.catalog.models import services
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.db.base import utcnow
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.orders.statuses import COMPLETED
from smmpanel.providers.models import providers
from smmpanel.providers.service import add_provider as store_provider
from smmpanel.providers.service import edit_provider

COMMANDS = ("smmpanel", "--key", "--url", "--timeout")


def provider_id_of(page: str) -> int:
    return int(page.rsplit("/", 1)[1])


async def stored(db, provider_id: int):
    async with db.read() as conn:
        return (await conn.execute(select(providers).where(providers.c.id == provider_id))).one()


def list_row(html: str, provider_id: int) -> str | None:
    found = re.search(rf'<tr id="provider-{provider_id}">(.*?)</tr>', html, re.S)
    return text_of(found.group(1)) if found else None


async def test_the_add_form_fills_in_the_default_timeout(operator):
    html = await operator.page(PROVIDERS)
    assert re.search(r'name="timeout_seconds" value="30"', html)


async def test_adding_a_provider_asks_its_balance_and_services_at_once(operator, upstream, db):
    upstream.control(balance="123.45", services=[offered(1, "1"), offered(2, "2.5")])
    response = await add_provider(operator, upstream.api_url)
    assert response.status_code == 303
    provider_id = provider_id_of(response.headers["location"])
    landed = text_of(await operator.follow(response))
    assert "It answered: our balance there is USD 123.45, and it lists 2 services." in landed
    row = await stored(db, provider_id)
    assert (row.balance, row.balance_currency) == (123_450_000, "USD")
    assert row.balance_checked_at is not None and row.last_success_at is not None
    assert row.last_error is None

    listed = list_row(await operator.page(PROVIDERS), provider_id)
    assert listed is not None and "USD 123.45" in listed and "Enabled" in listed
    assert re.search(r"\d+ seconds? ago", listed)

    await operator.get("/language/zh_TW")
    response = await add_provider(operator, upstream.api_url)
    landed = text_of(await operator.follow(response))
    assert "對方已回覆：我們在對方的餘額為 USD 123.45，對方列出 2 項服務。" in landed


async def test_a_provider_failing_its_first_test_is_kept_with_the_error_in_plain_words(
    operator, upstream, db
):
    response = await add_provider(operator, upstream.api_url, key="not-the-key")
    assert response.status_code == 303  # stored all the same: the key can be fixed
    provider_id = provider_id_of(response.headers["location"])
    landed = await operator.follow(response)
    said = text_of(landed)
    assert "refused our API key" in said and "Enter the key its panel gave you" in said
    assert not any(word in said for word in COMMANDS)
    assert "not-the-key" not in landed and "Traceback" not in landed
    row = await stored(db, provider_id)
    assert "refused our API key" in row.last_error and row.last_error_at is not None
    assert "smmpanel" not in row.last_error

    listed = list_row(await operator.page(PROVIDERS), provider_id)
    assert listed is not None and "refused our API key" in listed and "ago" in listed
    dashboard = await operator.page("/admin")
    attention = re.search(r'<ul id="providers-to-look-at">(.*?)</ul>', dashboard, re.S)
    assert attention and f'href="/admin/providers/{provider_id}"' in attention.group(1)

    # Set right and tested again: it no longer needs looking at.
    async with db.write() as conn:
        await edit_provider(conn, provider_id, api_key=UPSTREAM_KEY)
    page = f"{PROVIDERS}/{provider_id}"
    assert (await operator.submit(f"{page}/test", {}, page=page)).status_code == 200
    dashboard = await operator.page("/admin")
    assert f'<li><a href="/admin/providers/{provider_id}">' not in dashboard


async def test_upstream_trouble_is_translated_and_names_no_command(operator, upstream):
    page = await added_provider(operator, upstream.api_url, timeout="1")
    upstream.control(modes={"balance": "garbage", "services": "garbage"})
    await operator.get("/language/zh_TW", next=page)
    for asked, fields in (("test", {}), ("import-preview", rule())):
        response = await operator.submit(f"{page}/{asked}", fields, page=page)
        assert response.status_code == 502
        said = text_of(response.text)
        assert "沒有可用的回覆" in said and "在下方設定中把逾時調長" in said
        assert not any(word in said for word in COMMANDS)


async def test_the_dashboard_names_a_provider_whose_balance_is_under_its_threshold(
    operator, upstream, db
):
    upstream.control(balance="5.00")
    page = await added_provider(operator, upstream.api_url)
    provider_id = provider_id_of(page)
    async with db.write() as conn:
        await conn.execute(
            update(providers)
            .where(providers.c.id == provider_id)
            .values(balance_alert_below=10_000_000)
        )
    dashboard = await operator.page("/admin")
    attention = re.search(r'<ul id="providers-to-look-at">(.*?)</ul>', dashboard, re.S)
    assert attention
    entry = re.search(rf'href="/admin/providers/{provider_id}">.*?</li>', attention.group(1), re.S)
    assert entry and "its balance USD 5.00 is under USD 10.00." in text_of(entry.group(0))


async def test_archiving_hides_and_disables_a_provider_and_can_be_undone(operator, upstream, db):
    page = await added_provider(operator, upstream.api_url)
    provider_id = provider_id_of(page)
    archived = await operator.submit(f"{page}/archive", {}, page=page)
    assert archived.status_code == 303 and archived.headers["location"] == PROVIDERS
    row = await stored(db, provider_id)
    assert row.archived_at is not None and row.enabled is False
    assert list_row(await operator.page(PROVIDERS), provider_id) is None
    shown = list_row(await operator.page(PROVIDERS, archived="1"), provider_id)
    assert shown is not None and "Archived" in shown
    assert f'href="/admin/providers/{provider_id}"' not in await operator.page("/admin")

    settings = {"api_url": upstream.api_url, "timeout_seconds": "5", "sync_hours": "6"}
    enabling = await operator.submit(page, {**settings, "enabled": "1"}, page=page)
    assert enabling.status_code == 400 and "is archived" in text_of(enabling.text)
    importing = await operator.submit(f"{page}/import-preview", rule(), page=page)
    assert importing.status_code == 400
    assert (await stored(db, provider_id)).enabled is False

    back = await operator.submit(f"{page}/unarchive", {}, page=page)
    assert back.status_code == 303
    row = await stored(db, provider_id)
    assert row.archived_at is None and row.enabled is False
    assert list_row(await operator.page(PROVIDERS), provider_id) is not None


async def test_archiving_waits_for_its_services_and_orders(operator, db):
    async with db.write() as conn:
        provider_id = await store_provider(conn, unique("up"), "http://127.0.0.1:9/api/v2", "k")
        # Disabled: the panel's worker leaves its orders alone.
        await edit_provider(conn, provider_id, enabled=False)
        category_id = await category_id_for(conn, "Archiving tests")
        service_id = await create_service(
            conn,
            category_id,
            name=unique("forwarded"),
            type="Default",
            rate=1_000_000,
            min_quantity=10,
            max_quantity=10_000,
            fulfilment="provider",
            provider_id=provider_id,
            provider_service_id="1",
        )
    customer_id, _name = await customer_with_password(db, balance="10")
    async with db.write() as conn:
        fields = {
            "service": str(service_id),
            "link": unique("https://x.example/"),
            "quantity": "100",
        }
        order_id = await place_order(conn, customer_id, fields)
    page = f"{PROVIDERS}/{provider_id}"

    refused = await operator.submit(f"{page}/archive", {}, page=page)
    assert refused.status_code == 400
    assert "1 enabled services are forwarded to it" in text_of(refused.text)
    async with db.write() as conn:
        await conn.execute(
            update(services).where(services.c.id == service_id).values(enabled=False)
        )
    refused = await operator.submit(f"{page}/archive", {}, page=page)
    assert refused.status_code == 400
    assert "1 orders are still in progress there" in text_of(refused.text)
    assert (await stored(db, provider_id)).archived_at is None

    async with db.write() as conn:
        await conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(status=COMPLETED, active_link=None, finished_at=utcnow())
        )
    archived = await operator.submit(f"{page}/archive", {}, page=page)
    assert archived.status_code == 303
    async with db.read() as conn:
        named = await conn.scalar(select(orders.c.provider_id).where(orders.c.id == order_id))
    assert named == provider_id  # kept for the orders that name it
