"""The operator steering forwarded orders from the command line: what happens upstream, pauses,
fallbacks. The real command, on a fresh database, against the fake upstream."""

from datetime import timedelta

import pytest
from catalog_samples import new_provider
from harness import Shop
from sqlalchemy import update

from smmpanel.catalog.models import services
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_in_transaction
from smmpanel.orders.statuses import FORWARD_SENT
from smmpanel.providers.models import providers


@pytest.fixture
async def fresh_db(provider_fresh_cli):  # type: ignore[no-untyped-def]
    database = Database(provider_fresh_cli.database_url, pool_size=1)
    yield database
    await database.dispose()


async def forwarded_order(db: Database, provider_id: int, upstream_id: str) -> int:
    """An order of a resold service, placed and charged, as the upstream took it."""
    shop = Shop(db)
    customer_id, _ = await shop.customer("10")
    service_id = await shop.service(
        rate="1", fulfilment="provider", provider_id=provider_id, provider_service_id=upstream_id
    )
    fields = {"service": str(service_id), "link": "https://x.test/p", "quantity": "100"}
    order_id = await place_in_transaction(db, customer_id, fields)
    async with db.write() as conn:
        await conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(forward_state=FORWARD_SENT, upstream_order_id=upstream_id)
        )
    return order_id


async def test_changing_a_forwarded_order_says_what_happens_upstream(
    provider_fresh_cli, fresh_db, catalog_upstream
):
    cli = provider_fresh_cli
    provider_id = await new_provider(fresh_db, catalog_upstream.api_url)
    kept, accepted, refused = [
        await forwarded_order(fresh_db, provider_id, upstream_id) for upstream_id in "789"
    ]

    output = cli.ok("order", "update", kept, "--start-count", 5)
    assert f"order {kept} is forwarded to provider up-" in output
    assert "as 7 (sent): the upstream order is not changed" in output

    output = cli.ok("order", "update", accepted, "--status", "Canceled")
    assert f"order {accepted} is Canceled; refunded 0.1" in output
    assert "as 8 (sent): asked it to cancel there, and it accepted" in output

    catalog_upstream.control(cancel="error")
    output = cli.ok("order", "update", refused, "--status", "Canceled")
    assert "asked it to cancel there, and it did not" in output
    assert "Cancel is not available" in output and "it may still deliver" in output


async def test_provider_list_shows_until_when_sending_is_paused(provider_fresh_cli, fresh_db):
    cli = provider_fresh_cli
    paused = await new_provider(fresh_db, "http://127.0.0.1:9/api/v2")
    await new_provider(fresh_db, "http://127.0.0.1:9/api/v2")
    until = utcnow() + timedelta(minutes=30)
    async with fresh_db.write() as conn:
        await conn.execute(
            update(providers).where(providers.c.id == paused).values(paused_until=until)
        )

    listed = cli.ok("provider", "list").splitlines()
    assert "paused until" in listed[0]
    assert until.strftime("%Y-%m-%d %H:%M") in listed[1]
    assert until.strftime("%Y-%m-%d %H:%M") not in listed[2]


async def test_a_resold_service_gets_a_fallback_provider_and_loses_it(provider_fresh_cli, fresh_db):
    cli = provider_fresh_cli
    main, spare = [await new_provider(fresh_db, "http://127.0.0.1:9/api/v2") for _ in range(2)]
    shop = Shop(fresh_db)
    resold = await shop.service(fulfilment="provider", provider_id=main, provider_service_id="1")
    by_hand = await shop.service()

    output = cli.ok("catalog", "service-fallback", resold, "--provider", spare, "--service-id", 42)
    assert f"falls back to provider {spare}, service 42" in output
    assert await fallback_of(fresh_db, resold) == (spare, "42")
    assert "fulfilled by hand" in cli.refused(
        "catalog", "service-fallback", by_hand, "--provider", spare, "--service-id", 42
    )
    assert "needs the id of the service" in cli.refused(
        "catalog", "service-fallback", resold, "--provider", spare, "--service-id", " "
    )
    assert "no provider 'nowhere'" in cli.refused(
        "catalog", "service-fallback", resold, "--provider", "nowhere", "--service-id", 1
    )
    assert "has no fallback" in cli.ok("catalog", "service-fallback", resold, "--clear")
    assert await fallback_of(fresh_db, resold) == (None, None)


async def fallback_of(db: Database, service_id: int) -> tuple:
    async with db.read() as conn:
        row = (
            await conn.execute(
                services.select()
                .with_only_columns(
                    services.c.fallback_provider_id, services.c.fallback_provider_service_id
                )
                .where(services.c.id == service_id)
            )
        ).one()
    return tuple(row)
