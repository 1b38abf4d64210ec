"""Importing an upstream's catalogue: every type, garbage skipped with reasons, priced by rule."""

import uuid
from decimal import Decimal

import pytest
from catalog_samples import (
    GARBAGE,
    GARBAGE_REASONS,
    every_type,
    free_port,
    new_provider,
    offered,
    provider_row,
    services_of,
)
from sqlalchemy import select

from smmpanel.catalog.service import catalog_version
from smmpanel.catalog.types import TYPE_NAMES
from smmpanel.errors import Refusal
from smmpanel.money import to_micros
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import FORWARD_QUEUED
from smmpanel.providers import catalog_sync
from smmpanel.providers.catalog_sync import PriceRule, import_services
from smmpanel.providers.models import service_changes

D = Decimal
RULE = PriceRule(percent=D(20), fixed=D("0.01"), decimals=2, floor=D("0.05"))


def micros(text: str) -> int:
    return to_micros(D(text))


async def test_every_type_is_imported_with_its_limits_flags_and_description(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer(every_type())
    summary = await import_services(db, catalog_client, catalog_provider, RULE)
    assert (summary.created, summary.updated, summary.skipped) == (14, 0, [])
    ours = await services_of(db, catalog_provider)
    assert sorted(row.type for row in ours.values()) == sorted(TYPE_NAMES)
    first = ours["101"]
    assert (first.name, first.category, first.description) == (
        "Default 101",
        "Instagram - Followers",
        "about 101",
    )
    assert (first.min_quantity, first.max_quantity) == (100, 50000)
    assert (first.dripfeed, first.upstream_dripfeed, first.refill, first.cancel) == (
        True,
        True,
        True,
        True,
    )
    assert (first.fulfilment, first.provider_id, first.enabled) == (
        "provider",
        catalog_provider,
        True,
    )
    package = ours["102"]
    assert (package.min_quantity, package.max_quantity, package.refill, package.cancel) == (
        1,
        1,
        True,
        True,
    )
    comments = ours["103"]
    assert (comments.type, comments.category, comments.dripfeed) == (
        "Custom Comments",
        "TikTok Comments",
        False,
    )
    assert summary.service_ids == {key: row.id for key, row in ours.items()}


async def test_rates_are_priced_by_the_rule_and_the_cost_is_kept(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer(
        [offered(1, rate="1.00"), offered(2, rate=0.5), offered(3, rate="0.0001")]
    )
    await import_services(db, catalog_client, catalog_provider, RULE)
    ours = await services_of(db, catalog_provider)
    # 1.00 × 1.2 + 0.01 = 1.21; 0.5 × 1.2 + 0.01 = 0.61; 0.0001 → 0.01012 → 0.02 < floor 0.05
    assert {k: (r.rate, r.upstream_rate) for k, r in ours.items()} == {
        "1": (micros("1.21"), micros("1.00")),
        "2": (micros("0.61"), micros("0.5")),
        "3": (micros("0.05"), micros("0.0001")),
    }
    saved = await provider_row(db, catalog_provider)
    assert PriceRule.from_json(saved.price_rule) == RULE


async def test_garbage_entries_are_skipped_with_a_reason_and_the_rest_imported(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer(every_type() + GARBAGE)
    summary = await import_services(db, catalog_client, catalog_provider, RULE)
    assert {entry.ref: entry.reason.message for entry in summary.skipped} == GARBAGE_REASONS
    assert summary.created == 14
    assert set(await services_of(db, catalog_provider)) == {str(101 + i) for i in range(14)}
    assert (await services_of(db, catalog_provider))["101"].name == "Default 101"


async def test_importing_again_updates_and_never_duplicates(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer([offered(1, rate="1.00"), offered(2)])
    await import_services(db, catalog_client, catalog_provider, RULE)
    before = await services_of(db, catalog_provider)
    version = await _catalog_version(db)

    catalog_upstream.offer([offered(1, rate="2.00", max="500"), offered(2), offered(3)])
    summary = await import_services(db, catalog_client, catalog_provider, PriceRule(percent=D(50)))
    after = await services_of(db, catalog_provider)
    # 4 changed fields of the services there were, and service 3 added.
    assert (summary.created, summary.updated, summary.changes) == (1, 2, 4 + 1)
    assert {k: row.id for k, row in after.items() if k != "3"} == {
        k: row.id for k, row in before.items()
    }
    assert (after["1"].rate, after["1"].upstream_rate, after["1"].max_quantity) == (
        micros("3"),
        micros("2"),
        500,
    )
    assert after["2"].rate == micros("1.5")  # the new rule re-prices the unchanged one too
    assert await _catalog_version(db) == version + 1
    assert await _logged_of(db, after["3"].id) == [("added", None, "1.5")]


async def test_only_the_chosen_ids_are_imported_and_missing_ones_are_reported(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer([offered(1), offered(2), offered(3), offered(4, rate="x")])
    summary = await import_services(
        db, catalog_client, catalog_provider, RULE, only_ids=["3", 1, "99", "4"]
    )
    assert set(await services_of(db, catalog_provider)) == {"1", "3"}
    assert {entry.ref: entry.reason.message for entry in summary.skipped} == {
        "99": "not in the upstream's list",
        "4": "no usable rate ('x')",
    }


async def test_progress_is_reported_after_each_batch_written(
    db, catalog_upstream, catalog_client, catalog_provider, monkeypatch
):
    monkeypatch.setattr(catalog_sync, "IMPORT_BATCH", 2)
    catalog_upstream.offer([offered(i) for i in range(1, 6)])
    seen: list[tuple[int, int]] = []
    await import_services(
        db, catalog_client, catalog_provider, RULE, progress=lambda *step: seen.append(step)
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert len(await services_of(db, catalog_provider)) == 5


async def test_without_a_rule_the_saved_one_is_used(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer([offered(1, rate="1.00")])
    await import_services(db, catalog_client, catalog_provider, RULE)
    catalog_upstream.offer([offered(1, rate="1.00"), offered(2, rate="2.00")])
    await import_services(db, catalog_client, catalog_provider)
    assert (await services_of(db, catalog_provider))["2"].rate == micros("2.41")


@pytest.mark.parametrize(
    ("mode", "advice"),
    [
        ("http500", "gave no usable answer"),
        ("html", "gave no usable answer"),
        ("garbage", "gave no usable answer"),
        ("error", "answered with an error: Service list unavailable"),
    ],
)
async def test_a_failing_upstream_imports_nothing_and_says_what_to_do(
    db, catalog_upstream, catalog_client, catalog_provider, mode, advice
):
    catalog_upstream.offer([offered(1)])
    catalog_upstream.control(modes={"services": mode})
    with pytest.raises(Refusal, match=advice) as refused:
        await import_services(db, catalog_client, catalog_provider, RULE)
    assert "nothing changed" in str(refused.value)
    assert await services_of(db, catalog_provider) == {}


async def test_a_wrong_key_says_to_set_the_right_one(db, catalog_upstream, catalog_client):
    provider_id = await new_provider(db, catalog_upstream.api_url, key="not-the-key")
    catalog_upstream.offer([offered(1)])
    with pytest.raises(Refusal, match="refused our API key") as refused:
        await import_services(db, catalog_client, provider_id, RULE)
    assert f"smmpanel provider edit {provider_id} --key" in str(refused.value)
    assert await services_of(db, provider_id) == {}


async def test_an_unreachable_upstream_says_to_check_the_url(db, catalog_client):
    provider_id = await new_provider(db, f"http://127.0.0.1:{free_port()}/api/v2")
    with pytest.raises(Refusal, match="cannot reach") as refused:
        await import_services(db, catalog_client, provider_id, RULE)
    assert f"smmpanel provider edit {provider_id} --url" in str(refused.value)


async def test_imported_services_can_be_ordered_and_are_queued_for_the_provider(
    db, api, shop, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer([offered(1, rate="2.00", min="10", max="1000")])
    summary = await import_services(db, catalog_client, catalog_provider, RULE)
    _, key = await shop.customer(balance="10")
    listed = await api.call(key=key, action="services")
    ours = next(s for s in listed if s["service"] == summary.service_ids["1"])
    assert (ours["rate"], ours["min"], ours["max"], ours["type"]) == (
        "2.41",
        "10",
        "1000",
        "Default",
    )
    reply = await api.call(
        key=key,
        action="add",
        service=summary.service_ids["1"],
        link=f"https://instagram.com/p/{uuid.uuid4().hex[:12]}",
        quantity=100,
    )
    assert reply.get("status") == "success", reply
    async with db.read() as conn:
        order = (await conn.execute(select(orders).where(orders.c.id == reply["order"]))).one()
    assert (order.forward_state, order.provider_id) == (FORWARD_QUEUED, catalog_provider)


async def _catalog_version(db) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return await catalog_version(conn)


async def _logged_of(db, service_id: int) -> list[tuple]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(
                service_changes.c.field, service_changes.c.old_value, service_changes.c.new_value
            )
            .where(service_changes.c.service_id == service_id)
            .order_by(service_changes.c.id)
        )
        return [tuple(row) for row in rows]
