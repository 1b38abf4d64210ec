"""Checking a provider's balance: kept on the provider, or a refusal that says what to do."""

from datetime import timedelta

import pytest
from catalog_samples import provider_row

from smmpanel.db.base import as_utc, utcnow
from smmpanel.providers.catalog_sync import check_balance
from smmpanel.providers.service import ProviderError


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
    with pytest.raises(ProviderError, match=advice):
        await check_balance(db, catalog_client, catalog_provider)
    row = await provider_row(db, catalog_provider)
    assert (row.balance, row.balance_checked_at) == (None, None)
