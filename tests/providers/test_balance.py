"""Checking a provider's balance: kept on the provider, or a refusal that says what to do."""

from datetime import timedelta

import pytest
from catalog_samples import new_provider, provider_row

from smmpanel.db.base import as_utc, utcnow
from smmpanel.errors import Refusal
from smmpanel.providers.catalog_sync import check_balance, refresh_due_balances


async def test_the_balance_is_kept_with_its_currency_and_time(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.control(balance="12.345678")
    balance = await check_balance(db, catalog_client, catalog_provider)
    assert (balance.micros, balance.currency) == (12_345_678, "USD")
    row = await provider_row(db, catalog_provider)
    assert (row.balance, row.balance_currency) == (12_345_678, "USD")
    assert utcnow() - as_utc(row.balance_checked_at) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("mode", "advice"),
    [("error", "answered with an error: Account suspended"), ("html", "no usable answer")],
)
async def test_a_failed_check_keeps_nothing(
    db, catalog_upstream, catalog_client, catalog_provider, mode, advice
):
    catalog_upstream.control(modes={"balance": mode})
    with pytest.raises(Refusal, match=advice):
        await check_balance(db, catalog_client, catalog_provider)
    row = await provider_row(db, catalog_provider)
    assert (row.balance, row.balance_checked_at) == (None, None)


async def test_the_worker_refreshes_only_balances_older_than_the_period(
    provider_fresh_db, catalog_upstream, catalog_client
):
    db = provider_fresh_db
    provider_id = await new_provider(db, catalog_upstream.api_url)
    catalog_upstream.control(balance="5")
    assert await refresh_due_balances(db, catalog_client, timedelta(minutes=15)) == 1
    assert (await provider_row(db, provider_id)).balance == 5_000_000

    catalog_upstream.control(balance="7")
    assert await refresh_due_balances(db, catalog_client, timedelta(minutes=15)) == 0
    assert (await provider_row(db, provider_id)).balance == 5_000_000
    assert await refresh_due_balances(db, catalog_client, timedelta(0)) == 1
    assert (await provider_row(db, provider_id)).balance == 7_000_000


async def test_a_failing_provider_does_not_stop_the_round(
    provider_fresh_db, catalog_upstream, catalog_client
):
    db = provider_fresh_db
    down = await new_provider(db, "http://127.0.0.1:9/api/v2")
    up = await new_provider(db, catalog_upstream.api_url)
    catalog_upstream.control(balance="3")
    assert await refresh_due_balances(db, catalog_client, timedelta(0)) == 1
    assert (await provider_row(db, down)).balance is None
    assert (await provider_row(db, up)).balance == 3_000_000
