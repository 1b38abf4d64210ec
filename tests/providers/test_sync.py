"""The periodic re-sync: re-priced rates, new limits, services gone and back, all recorded."""

from datetime import timedelta
from decimal import Decimal

import pytest
from catalog_samples import changes_of, new_provider, offered, provider_row, services_of
from sqlalchemy import update

from smmpanel.catalog.service import catalog_version
from smmpanel.db.base import as_utc, utcnow
from smmpanel.errors import Refusal
from smmpanel.money import to_micros
from smmpanel.providers.catalog_sync import (
    PriceRule,
    due_providers,
    import_services,
    sync_due_providers,
    sync_provider,
)
from smmpanel.providers.models import providers
from smmpanel.providers.service import edit_provider

D = Decimal
RULE = PriceRule(percent=D(20), fixed=D("0.01"), decimals=2)
FIRST = [offered(1, rate="1.00"), offered(2, rate="2.00", refill=True), offered(3)]


def micros(text: str) -> int:
    return to_micros(D(text))


@pytest.fixture
async def imported(db, catalog_upstream, catalog_client, catalog_provider) -> int:
    """The provider, with FIRST imported by RULE."""
    catalog_upstream.offer(FIRST)
    await import_services(db, catalog_client, catalog_provider, RULE)
    return catalog_provider


async def test_a_new_upstream_rate_is_re_priced_by_the_saved_rule_and_recorded(
    db, catalog_upstream, catalog_client, imported
):
    catalog_upstream.offer([offered(1, rate="1.50"), *FIRST[1:]])
    summary = await sync_provider(db, catalog_client, imported)
    ours = await services_of(db, imported)
    assert (ours["1"].rate, ours["1"].upstream_rate) == (micros("1.81"), micros("1.5"))
    assert await changes_of(db, imported) == [
        ("1", "rate", "1.21", "1.81"),
        ("1", "upstream_rate", "1", "1.5"),
    ]
    assert (summary.checked, summary.changed, summary.changes, summary.disabled) == (3, 1, 2, 0)
    synced_at = (await provider_row(db, imported)).synced_at
    assert synced_at is not None and utcnow() - as_utc(synced_at) < timedelta(minutes=1)


async def test_new_limits_flags_and_type_are_taken_and_recorded(
    db, catalog_upstream, catalog_client, imported
):
    catalog_upstream.offer(
        [
            offered(1, rate="1.00", min="50", max="900", cancel=1),
            offered(2, rate="2.00", refill=False, type="Poll"),
            offered(3),
        ]
    )
    await sync_provider(db, catalog_client, imported)
    ours = await services_of(db, imported)
    assert (ours["1"].min_quantity, ours["1"].max_quantity, ours["1"].cancel) == (50, 900, True)
    assert (ours["2"].refill, ours["2"].type) == (False, "Poll")
    assert await changes_of(db, imported) == [
        ("1", "min", "10", "50"),
        ("1", "max", "10000", "900"),
        ("1", "cancel", "no", "yes"),
        ("2", "type", "Default", "Poll"),
        ("2", "refill", "yes", "no"),
    ]


async def test_a_service_gone_upstream_is_disabled_kept_and_recorded(
    db, catalog_upstream, catalog_client, imported
):
    before = await services_of(db, imported)
    catalog_upstream.offer(FIRST[:2])
    summary = await sync_provider(db, catalog_client, imported)
    gone = (await services_of(db, imported))["3"]
    assert gone.enabled is False
    assert gone.rate == before["3"].rate > 0
    assert gone.upstream_rate == before["3"].upstream_rate
    assert await changes_of(db, imported) == [
        ("3", "upstream", "listed", "gone"),
        ("3", "enabled", "yes", "no"),
    ]
    assert (summary.disabled, summary.changed) == (1, 1)

    again = await sync_provider(db, catalog_client, imported)
    assert (again.changes, again.disabled) == (0, 0)
    assert len(await changes_of(db, imported)) == 2


async def test_a_service_back_upstream_is_recorded_but_stays_disabled(
    db, catalog_upstream, catalog_client, imported
):
    catalog_upstream.offer(FIRST[:2])
    await sync_provider(db, catalog_client, imported)
    catalog_upstream.offer([*FIRST[:2], offered(3, rate="4.00")])
    summary = await sync_provider(db, catalog_client, imported)
    back = (await services_of(db, imported))["3"]
    assert back.enabled is False
    assert back.rate == micros("4.81")
    assert summary.back == 1
    assert (await changes_of(db, imported))[-3:] == [
        ("3", "rate", "1.21", "4.81"),
        ("3", "upstream_rate", "1", "4"),
        ("3", "upstream", "gone", "back"),
    ]


async def test_an_unreadable_entry_is_reported_and_its_service_left_alone(
    db, catalog_upstream, catalog_client, imported
):
    catalog_upstream.offer([offered(1, rate="free"), *FIRST[1:]])
    summary = await sync_provider(db, catalog_client, imported)
    assert [(s.ref, s.reason.message) for s in summary.skipped] == [
        ("1", "no usable rate ('free')")
    ]
    assert (await services_of(db, imported))["1"].enabled is True
    assert await changes_of(db, imported) == []


async def test_nothing_new_upstream_changes_nothing_here(
    db, catalog_upstream, catalog_client, imported
):
    version = await _catalog_version(db)
    summary = await sync_provider(db, catalog_client, imported)
    assert (summary.checked, summary.changes) == (3, 0)
    assert await changes_of(db, imported) == []
    assert await _catalog_version(db) == version


async def test_services_not_imported_are_counted_not_added(
    db, catalog_upstream, catalog_client, imported
):
    catalog_upstream.offer([*FIRST, offered(4), offered(5)])
    summary = await sync_provider(db, catalog_client, imported)
    assert summary.not_imported == 2
    assert set(await services_of(db, imported)) == {"1", "2", "3"}


@pytest.mark.parametrize(
    "misbehaviour",
    [
        {"modes": {"services": "http500"}},
        {"modes": {"services": "html"}},
        {"modes": {"services": "garbage"}},
        {"modes": {"services": "empty"}},
        {"modes": {"services": "drop"}},
        {"modes": {"services": "error"}},
        {"services": []},
        {"services": [{"service": 1, "rate": "oops"}]},
        {"services": {"not": "a list"}},
    ],
)
async def test_a_failing_upstream_changes_nothing(
    db, catalog_upstream, catalog_client, imported, misbehaviour
):
    before = await services_of(db, imported)
    synced_at = (await provider_row(db, imported)).synced_at
    catalog_upstream.control(**misbehaviour)
    with pytest.raises(Refusal, match="nothing changed"):
        await sync_provider(db, catalog_client, imported)
    assert await services_of(db, imported) == before
    assert await changes_of(db, imported) == []
    assert (await provider_row(db, imported)).synced_at == synced_at


async def test_a_wrong_key_changes_nothing_and_says_to_set_the_key(
    db, catalog_upstream, catalog_client, imported
):
    async with db.write() as conn:
        await edit_provider(conn, imported, api_key="revoked-key")
    before = await services_of(db, imported)
    with pytest.raises(Refusal, match="refused our API key"):
        await sync_provider(db, catalog_client, imported)
    assert await services_of(db, imported) == before


async def test_due_providers_are_the_enabled_ones_not_synced_for_sync_hours(
    db, catalog_upstream, catalog_client, imported
):
    never_imported = await new_provider(db, catalog_upstream.api_url)
    now = utcnow()
    assert imported in await due_providers(db, now)
    assert never_imported not in await due_providers(db, now)

    await _set_provider(db, imported, synced_at=now - timedelta(hours=5), sync_hours=6)
    assert imported not in await due_providers(db, now)
    await _set_provider(db, imported, synced_at=now - timedelta(hours=7))
    assert imported in await due_providers(db, now)
    await _set_provider(db, imported, sync_hours=0)
    assert imported not in await due_providers(db, now)
    await _set_provider(db, imported, sync_hours=6, enabled=False)
    assert imported not in await due_providers(db, now)


async def test_the_worker_job_syncs_each_due_provider_once(
    provider_fresh_db, catalog_upstream, catalog_client
):
    db = provider_fresh_db
    first, second = [await new_provider(db, catalog_upstream.api_url) for _ in range(2)]
    catalog_upstream.offer(FIRST)
    for provider_id in (first, second):
        await import_services(db, catalog_client, provider_id, RULE)
    await _set_provider(db, second, synced_at=utcnow())
    catalog_upstream.offer([offered(1, rate="1.50"), *FIRST[1:]])

    assert await sync_due_providers(db, catalog_client) == 1
    assert (await services_of(db, first))["1"].rate == micros("1.81")
    assert (await services_of(db, second))["1"].rate == micros("1.21")
    assert await sync_due_providers(db, catalog_client) == 0


async def test_the_worker_job_notes_a_failed_sync_on_the_provider(
    provider_fresh_db, catalog_upstream, catalog_client
):
    db = provider_fresh_db
    provider_id = await new_provider(db, catalog_upstream.api_url)
    catalog_upstream.offer(FIRST)
    await import_services(db, catalog_client, provider_id, RULE)
    catalog_upstream.control(modes={"services": "http500"})
    assert await sync_due_providers(db, catalog_client) == 0
    row = await provider_row(db, provider_id)
    assert row.synced_at is None
    assert row.last_error.startswith("catalogue sync: ")
    assert "500" in row.last_error and "smmpanel" not in row.last_error, row.last_error


async def _set_provider(db, provider_id: int, **values: object) -> None:  # type: ignore[no-untyped-def]
    async with db.write() as conn:
        await conn.execute(update(providers).where(providers.c.id == provider_id).values(**values))


async def _catalog_version(db) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return await catalog_version(conn)
