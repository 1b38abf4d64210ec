"""Provider alerts with the fake upstream (tests/fakes/upstream.py in its own process): the funds
alert when a checked balance is below the provider's threshold, and the failures alert once its
catalogue syncs or order sends have failed FAILURES_TO_ALERT times in a row; each once a day."""

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select
from upstream_process import UPSTREAM_KEY, Upstream, running_upstream

from smmpanel.accounts.service import create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.orders.placement import place_order
from smmpanel.outbox.models import outbox
from smmpanel.providers.alerts import FAILURES_TO_ALERT, set_balance_threshold
from smmpanel.providers.catalog_sync import check_balance, sync_due_providers
from smmpanel.providers.client import UpstreamClient, upstream_session
from smmpanel.providers.forwarding import ForwardingTimes, forward_due_orders
from smmpanel.providers.models import providers
from smmpanel.providers.service import add_provider

CLOSED_PORT_API = "http://127.0.0.1:9/api/v2"  # nothing listens: each request is unreachable
LISTED = {
    "service": 1,
    "name": "Followers",
    "category": "Instagram - Followers",
    "rate": "1.00",
    "min": "10",
    "max": "10000",
    "type": "Default",
    "dripfeed": 0,
    "refill": False,
    "cancel": False,
}
TIMES = ForwardingTimes(
    first_poll=timedelta(seconds=1),
    retry_unreachable=timedelta(seconds=0),
    pause_short_of_funds=timedelta(seconds=1),
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    with running_upstream() as fake:
        yield fake


@pytest_asyncio.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    async with upstream_session() as http:
        yield UpstreamClient(http)


async def resold_provider(db: Database, api_url: str) -> tuple[int, int]:
    """A provider with one service of ours resold from it (its catalogue is synced when due):
    their ids."""
    tag = uuid.uuid4().hex[:8]
    async with db.write() as conn:
        provider_id = await add_provider(conn, f"up-{tag}", api_url, UPSTREAM_KEY, 1)
        service_id = await create_service(
            conn,
            await category_id_for(conn, "Forwarded"),
            name=f"Forwarded {tag}",
            type="Default",
            rate=1_000_000,
            min_quantity=10,
            max_quantity=100_000,
            fulfilment="provider",
            provider_id=provider_id,
            provider_service_id="1",
        )
    return provider_id, service_id


async def alerts_of(db: Database, kind: str) -> list[str]:
    async with db.read() as conn:
        return list(await conn.scalars(select(outbox.c.body).where(outbox.c.kind == kind)))


async def failures_in_a_row(db: Database, provider_id: int) -> int:
    async with db.read() as conn:
        query = select(providers.c.failures_in_a_row).where(providers.c.id == provider_id)
        return int(await conn.scalar(query))


async def test_a_balance_below_the_threshold_alerts_once_a_day(
    outbox_db: Database,
    upstream: Upstream,
    client: UpstreamClient,
    alert_settings: Callable[..., Settings],
) -> None:
    provider_id, _ = await resold_provider(outbox_db, upstream.api_url)
    upstream.control(balance="4.5", modes={"balance": "ok"})
    await check_balance(outbox_db, client, provider_id)
    assert await alerts_of(outbox_db, "provider_funds") == []  # no threshold: no alert

    async with outbox_db.write() as conn:
        await set_balance_threshold(conn, provider_id, 5_000_000)
    await check_balance(outbox_db, client, provider_id)
    await check_balance(outbox_db, client, provider_id)
    told = await alerts_of(outbox_db, "provider_funds")
    assert len(told) == 1 and "(balance: 4.50 USD)" in told[0]


async def test_a_balance_at_the_threshold_is_no_alert(
    outbox_db: Database,
    upstream: Upstream,
    client: UpstreamClient,
    alert_settings: Callable[..., Settings],
) -> None:
    provider_id, _ = await resold_provider(outbox_db, upstream.api_url)
    async with outbox_db.write() as conn:
        await set_balance_threshold(conn, provider_id, 5_000_000)
    upstream.control(balance="5", modes={"balance": "ok"})
    await check_balance(outbox_db, client, provider_id)
    assert await alerts_of(outbox_db, "provider_funds") == []


async def test_failed_syncs_in_a_row_alert_once_and_a_success_starts_again(
    outbox_db: Database,
    upstream: Upstream,
    client: UpstreamClient,
    alert_settings: Callable[..., Settings],
) -> None:
    provider_id, _ = await resold_provider(outbox_db, upstream.api_url)
    upstream.control(modes={"services": "http500"})
    for tries in range(1, FAILURES_TO_ALERT):
        await sync_due_providers(outbox_db, client)
        assert await failures_in_a_row(outbox_db, provider_id) == tries
    assert await alerts_of(outbox_db, "provider_failures") == []
    await sync_due_providers(outbox_db, client)
    await sync_due_providers(outbox_db, client)
    told = await alerts_of(outbox_db, "provider_failures")
    assert len(told) == 1 and "failed again at the catalogue sync" in told[0]

    upstream.control(modes={"services": "ok"}, services=[LISTED])
    assert await sync_due_providers(outbox_db, client) == 1
    assert await failures_in_a_row(outbox_db, provider_id) == 0


async def test_unreachable_sends_in_a_row_alert_once(
    outbox_db: Database, client: UpstreamClient, alert_settings: Callable[..., Settings]
) -> None:
    provider_id, service_id = await resold_provider(outbox_db, CLOSED_PORT_API)
    async with outbox_db.write() as conn:
        customer_id = await create_customer(conn, f"buyer-{uuid.uuid4().hex[:8]}", 10**9)
        for number in range(FAILURES_TO_ALERT + 1):
            link = f"https://example.com/p/{number}"
            fields = {"service": str(service_id), "link": link, "quantity": "100"}
            await place_order(conn, customer_id, fields)
    for tries in range(1, FAILURES_TO_ALERT + 2):
        assert await forward_due_orders(outbox_db, client, 1, TIMES) == 1
        assert await failures_in_a_row(outbox_db, provider_id) == tries
    told = await alerts_of(outbox_db, "provider_failures")
    assert len(told) == 1 and "failed again at sending orders" in told[0]
