"""One of our services per upstream service: the database holds it, imports respect it, and
migration 0004 refuses (changing nothing) a database where it does not hold yet."""

import asyncio
import uuid
from pathlib import Path

import harness
import pytest
from alembic import command
from catalog_samples import offered, services_of
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from smmpanel.catalog.models import services
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.db import Database
from smmpanel.db.migrate import UPSTREAM_SERVICE_RESOLD, alembic_config, upgrade
from smmpanel.errors import Refusal
from smmpanel.providers.catalog_sync import import_services
from smmpanel.providers.service import add_provider


def fields(**mapping: object) -> dict:
    return {
        "name": f"Service {uuid.uuid4().hex[:6]}",
        "type": "Default",
        "rate": 1_000_000,
        "min_quantity": 10,
        "max_quantity": 1000,
        **mapping,
    }


async def add_service(db: Database, **mapping: object) -> int:
    async with db.write() as conn:
        category = await category_id_for(conn, "Uniqueness")
        return await create_service(conn, category, **fields(**mapping))


async def test_a_second_service_for_one_upstream_service_is_refused(db, catalog_provider):
    resold = {"fulfilment": "provider", "provider_id": catalog_provider}
    await add_service(db, provider_service_id="7", **resold)
    with pytest.raises(IntegrityError):
        await add_service(db, provider_service_id="7", **resold)
    await add_service(db, provider_service_id="8", **resold)
    for _ in range(2):  # services fulfilled by hand have no upstream id: any number of them
        await add_service(db)


async def test_importing_again_updates_and_never_adds_a_second(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer([offered(1), offered(2)])
    first = await import_services(db, catalog_client, catalog_provider)
    catalog_upstream.offer([offered(1, rate="2.00"), offered(2), offered(3)])
    again = await import_services(db, catalog_client, catalog_provider)
    assert (again.created, again.updated) == (1, 2)
    assert {k: again.service_ids[k] for k in first.service_ids} == first.service_ids
    assert sorted(await services_of(db, catalog_provider)) == ["1", "2", "3"]


async def test_a_service_turned_to_manual_fulfilment_is_left_alone_not_doubled(
    db, catalog_upstream, catalog_client, catalog_provider
):
    catalog_upstream.offer([offered(1), offered(2)])
    first = await import_services(db, catalog_client, catalog_provider)
    by_hand = first.service_ids["1"]
    async with db.write() as conn:
        await conn.execute(
            update(services).where(services.c.id == by_hand).values(fulfilment="manual")
        )
    catalog_upstream.offer([offered(1, rate="5.00"), offered(2)])
    again = await import_services(db, catalog_client, catalog_provider)
    assert (again.created, again.updated) == (0, 1)
    [skipped] = again.skipped
    assert skipped.ref == "1" and f"our service {by_hand}" in skipped.reason.message
    assert "fulfilled by hand" in skipped.reason.message
    ours = await services_of(db, catalog_provider)
    assert (ours["1"].id, ours["1"].rate) == (by_hand, 1_000_000)


async def test_migration_0004_refuses_duplicates_and_changes_nothing(backend: str, tmp_path: Path):
    url = await harness.new_database_url(backend, tmp_path)
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0003")
        db = Database(url, pool_size=1)
        try:
            first, second = await _two_services_reselling_one(db)
            with pytest.raises(Refusal) as refusal:
                await asyncio.to_thread(upgrade, url)
            assert refusal.value.kind is UPSTREAM_SERVICE_RESOLD
            message = str(refusal.value)
            assert "service '5': 2 of ours" in message and f"the first is {first}" in message
            assert "Nothing was changed" in message and "provider_service_id = NULL" in message
            assert await _revision(db) == "0003"

            async with db.write() as conn:
                await conn.execute(
                    update(services)
                    .where(services.c.id == second)
                    .values(provider_service_id=None, enabled=False)
                )
            await asyncio.to_thread(command.upgrade, alembic_config(url), "0004")
            assert await _revision(db) == "0004"
            async with db.read() as conn:
                assert await conn.scalar(select(func.count()).select_from(services)) == 2
        finally:
            await db.dispose()
    finally:
        if backend == "postgresql":
            await harness.drop_postgres_database(url)


async def _two_services_reselling_one(db: Database) -> tuple[int, int]:
    async with db.write() as conn:
        provider = await add_provider(conn, "up", "http://127.0.0.1:9/api/v2", "key")
    resold = {"fulfilment": "provider", "provider_id": provider, "provider_service_id": "5"}
    return await add_service(db, **resold), await add_service(db, **resold)


async def _revision(db: Database) -> str:
    async with db.read() as conn:
        return await conn.scalar(text("SELECT version_num FROM alembic_version"))
