"""A provider in another currency than the panel's: imports and syncs convert its rates with the
exchange rate the operator set, before the markup, and refuse without one; an order sent to it
records its cost in the panel's currency, which the dashboard's profit subtracts.

Each test has a database of its own (a panel's currency changes only while no money exists):
the panel is in TWD, the fake upstream says its balance is in USD.
"""

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from catalog_samples import changes_of, new_provider, offered, provider_row, services_of
from forwarding_fixtures import FAST_FORWARDING, FAST_POLLING
from sqlalchemy import select, update

from smmpanel.accounts.service import create_customer
from smmpanel.catalog.models import services
from smmpanel.db.base import utcnow
from smmpanel.errors import Refusal
from smmpanel.money import to_micros
from smmpanel.orders.figures import count_days
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.panel.rates import NO_EXCHANGE_RATE, set_rate
from smmpanel.panel.service import change_settings
from smmpanel.providers.catalog_sync import (
    PROVIDER_CURRENCY_UNKNOWN,
    PriceRule,
    import_services,
    sync_due_providers,
    sync_provider,
)
from smmpanel.providers.dripfeed import place_due_runs
from smmpanel.providers.forwarding import forward_due_orders
from smmpanel.providers.models import providers
from smmpanel.providers.polling import poll_due_orders

D = Decimal
RULE = PriceRule(percent=D(20), decimals=2)


def micros(text: str) -> int:
    return to_micros(D(text))


@pytest.fixture
async def twd_db(provider_fresh_db):  # type: ignore[no-untyped-def]
    async with provider_fresh_db.write() as conn:
        await change_settings(conn, currency="TWD")
    return provider_fresh_db


async def usd_rate(db, rate: str) -> None:  # type: ignore[no-untyped-def]
    async with db.write() as conn:
        await set_rate(conn, "USD", micros(rate))


async def test_an_import_without_an_exchange_rate_is_refused_and_changes_nothing(
    twd_db, catalog_upstream, catalog_client
):
    provider_id = await new_provider(twd_db, catalog_upstream.api_url)
    catalog_upstream.offer([offered(1, rate="1.00")])
    with pytest.raises(Refusal) as refused:
        await import_services(twd_db, catalog_client, provider_id, RULE)
    assert refused.value.kind is NO_EXCHANGE_RATE
    assert str(refused.value).startswith(
        "no exchange rate for USD: set one with smmpanel settings set --rate USD=RATE"
    )
    assert await services_of(twd_db, provider_id) == {}
    # Never checked before: the import asked the upstream for its balance, and its currency.
    assert (await provider_row(twd_db, provider_id)).balance_currency == "USD"


async def test_an_import_converts_before_the_markup_and_keeps_the_upstream_rate_as_listed(
    twd_db, catalog_upstream, catalog_client
):
    await usd_rate(twd_db, "31.5")
    provider_id = await new_provider(twd_db, catalog_upstream.api_url)
    catalog_upstream.offer([offered(1, rate="1.00"), offered(2, rate="0.333")])
    await import_services(twd_db, catalog_client, provider_id, RULE)
    ours = await services_of(twd_db, provider_id)
    # 1.00 USD = 31.5 TWD, +20 % = 37.80. 0.333 USD = 10.4895 TWD, +20 % = 12.5874, rounded up
    # to 12.59 (marked up in USD first it would be 0.40 USD, 12.60 TWD).
    assert (ours["1"].rate, ours["2"].rate) == (micros("37.80"), micros("12.59"))
    assert (ours["1"].upstream_rate, ours["2"].upstream_rate) == (micros("1"), micros("0.333"))

    await usd_rate(twd_db, "32")
    await sync_provider(twd_db, catalog_client, provider_id)
    ours = await services_of(twd_db, provider_id)
    assert (ours["1"].rate, ours["1"].upstream_rate) == (micros("38.40"), micros("1"))
    assert ("1", "rate", "37.8", "38.4") in await changes_of(twd_db, provider_id)


async def test_a_sync_without_an_exchange_rate_is_refused_and_noted_on_the_provider(
    twd_db, catalog_upstream, catalog_client
):
    await usd_rate(twd_db, "31.5")
    provider_id = await new_provider(twd_db, catalog_upstream.api_url)
    catalog_upstream.offer([offered(1, rate="1.00")])
    await import_services(twd_db, catalog_client, provider_id, RULE)
    before = await services_of(twd_db, provider_id)
    await _set_provider(twd_db, provider_id, balance_currency="EUR")  # its account changed
    catalog_upstream.offer([offered(1, rate="2.00")])

    with pytest.raises(Refusal, match="no exchange rate for EUR"):
        await sync_provider(twd_db, catalog_client, provider_id)
    assert await sync_due_providers(twd_db, catalog_client) == 0
    assert await services_of(twd_db, provider_id) == before
    row = await provider_row(twd_db, provider_id)
    assert row.last_error.startswith("catalogue sync: no exchange rate for EUR")


async def test_a_provider_naming_no_currency_code_is_refused(
    provider_fresh_db, catalog_upstream, catalog_client
):
    provider_id = await new_provider(provider_fresh_db, catalog_upstream.api_url)
    await _set_provider(provider_fresh_db, provider_id, balance_currency="$")
    catalog_upstream.offer([offered(1)])
    with pytest.raises(Refusal) as refused:
        await import_services(provider_fresh_db, catalog_client, provider_id, RULE)
    assert refused.value.kind is PROVIDER_CURRENCY_UNKNOWN
    assert "'$'" in str(refused.value) and "nothing changed" in str(refused.value)


async def test_a_provider_in_the_panels_currency_needs_no_rate(
    provider_fresh_db, catalog_upstream, catalog_client
):
    provider_id = await new_provider(provider_fresh_db, catalog_upstream.api_url)
    catalog_upstream.offer([offered(1, rate="1.00")])
    await import_services(provider_fresh_db, catalog_client, provider_id, RULE)
    assert (await services_of(provider_fresh_db, provider_id))["1"].rate == micros("1.20")


async def test_a_sent_order_records_its_cost_at_the_rate_of_then_and_profit_subtracts_it(
    twd_db, catalog_upstream, catalog_client
):
    await usd_rate(twd_db, "31.5")
    provider_id = await new_provider(twd_db, catalog_upstream.api_url)
    catalog_upstream.offer([offered(1, rate="1.00")])
    summary = await import_services(twd_db, catalog_client, provider_id, RULE)
    async with twd_db.write() as conn:
        customer_id = await create_customer(conn, "buyer", micros("1000"))
        fields = {"service": str(summary.service_ids["1"]), "link": "https://x.example/a"}
        order_id = await place_order(conn, customer_id, {**fields, "quantity": "500"})

    assert await forward_due_orders(twd_db, catalog_client, 10, FAST_FORWARDING) == 1
    await usd_rate(twd_db, "40")  # later rates leave a sent order's cost alone
    # 500 at 37.80 TWD is 18.90; the upstream's 500 at 1.00 USD is 0.50 USD, 15.75 TWD.
    assert await _order(twd_db, order_id) == ("sent", micros("18.90"), micros("15.75"))
    async with twd_db.read() as conn:
        today = utcnow().date()
        [today_figures] = await count_days(conn, today, today)
    assert (today_figures.revenue, today_figures.profit) == (micros("18.90"), micros("3.15"))


async def test_a_dripfeed_run_here_costs_its_first_run_times_its_runs(
    twd_db, catalog_upstream, catalog_client
):
    await usd_rate(twd_db, "31.5")
    provider_id = await new_provider(twd_db, catalog_upstream.api_url)
    catalog_upstream.offer([offered(1, rate="1.00")])  # no drip-feed upstream
    summary = await import_services(twd_db, catalog_client, provider_id, RULE)
    service_id = summary.service_ids["1"]
    async with twd_db.write() as conn:
        await conn.execute(
            update(services).where(services.c.id == service_id).values(dripfeed=True)
        )
        customer_id = await create_customer(conn, "dripper", micros("1000"))
        fields = {"service": str(service_id), "link": "https://x.example/d", "quantity": "100"}
        parent = await place_order(conn, customer_id, {**fields, "runs": "3", "interval": "5"})

    assert await place_due_runs(twd_db, timedelta(0)) == 1
    assert await forward_due_orders(twd_db, catalog_client, 10, FAST_FORWARDING) == 1
    async with twd_db.read() as conn:
        run_cost = await conn.scalar(select(orders.c.cost).where(orders.c.parent_id == parent))
    # A run: 100 at 1.00 USD, 0.10 USD, 3.15 TWD; the three runs the parent charged for, 9.45.
    assert run_cost == micros("3.15")
    assert await _order(twd_db, parent) == ("dripfeed", micros("11.34"), micros("9.45"))


async def test_a_mirrored_post_paid_by_itself_records_its_cost(
    twd_db, catalog_upstream, catalog_client
):
    await usd_rate(twd_db, "31.5")
    provider_id = await new_provider(twd_db, catalog_upstream.api_url)
    catalog_upstream.offer([offered(3, type="Subscriptions", rate="1.00", max="1000")])
    summary = await import_services(twd_db, catalog_client, provider_id, RULE)
    async with twd_db.write() as conn:
        customer_id = await create_customer(conn, "subscriber", micros("1000"))
        fields = {"service": str(summary.service_ids["3"]), "username": "natgeo"}
        fields.update(min="100", max="200", delay="0")  # no posts: each post is paid for
        order_id = await place_order(conn, customer_id, fields)
    assert await forward_due_orders(twd_db, catalog_client, 10, FAST_FORWARDING) == 1
    async with twd_db.read() as conn:
        upstream_id = await conn.scalar(
            select(orders.c.upstream_order_id).where(orders.c.id == order_id)
        )
    for path, change in (("_order", {"status": "Active"}), ("_post", {"quantity": 200})):
        reply = httpx.post(f"{catalog_upstream.url}/{path}", json={"id": upstream_id, **change})
        reply.raise_for_status()

    assert await poll_due_orders(twd_db, catalog_client, 100, FAST_POLLING) >= 1
    async with twd_db.read() as conn:
        posts = (
            await conn.execute(
                select(orders.c.charge, orders.c.cost).where(orders.c.parent_id == order_id)
            )
        ).all()
    # The fake lists the post's id alone, so it counts as the subscription's max, 200: at
    # 37.80 TWD, 7.56; the upstream's 200 at 1.00 USD is 0.20 USD, 6.30 TWD.
    assert posts == [(micros("7.56"), micros("6.30"))]


async def _order(db, order_id: int) -> tuple[str, int, int | None]:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(orders.c.forward_state, orders.c.charge, orders.c.cost).where(
                    orders.c.id == order_id
                )
            )
        ).one()
    return row.forward_state, row.charge, row.cost


async def _set_provider(db, provider_id: int, **values: object) -> None:  # type: ignore[no-untyped-def]
    async with db.write() as conn:
        await conn.execute(update(providers).where(providers.c.id == provider_id).values(**values))
