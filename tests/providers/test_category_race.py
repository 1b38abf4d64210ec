"""Two imports creating one new category at once: both succeed, with one category between them.

On PostgreSQL the second import's insert of the category waits for the first transaction; a
look-up then insert failed there on the unique name once the first committed.
"""

import asyncio
import json
import uuid

from catalog_samples import new_provider, offered, services_of
from sqlalchemy import func, select

from smmpanel.catalog.models import categories
from smmpanel.catalog.transfer import import_catalog, read_catalog
from smmpanel.db import Database
from smmpanel.providers.catalog_sync import import_services


async def category_count(db: Database, name: str) -> int:
    async with db.read() as conn:
        return await conn.scalar(
            select(func.count()).select_from(categories).where(categories.c.name == name)
        )


async def while_first_is_open(db: Database, first, second) -> None:  # type: ignore[no-untyped-def]
    """Run `first` in a transaction left open until `second`, in another, has started and
    had the time to reach the same category; then commit the first and wait for the second."""
    async with db.write() as conn:
        await first(conn)
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.5)
    await waiting


async def test_two_provider_imports_create_one_category_and_both_succeed(
    db, catalog_upstream, catalog_client
):
    category = f"Race {uuid.uuid4().hex[:8]}"
    catalog_upstream.offer([offered(1, category=category), offered(2, category=category)])
    first, second = [await new_provider(db, catalog_upstream.api_url) for _ in range(2)]

    summaries = await asyncio.gather(
        import_services(db, catalog_client, first), import_services(db, catalog_client, second)
    )

    assert [summary.created for summary in summaries] == [2, 2]
    assert await category_count(db, category) == 1
    for provider_id in (first, second):
        assert {row.category for row in (await services_of(db, provider_id)).values()} == {category}


async def test_a_catalogue_file_and_an_import_meeting_on_a_new_category_both_succeed(
    db, catalog_upstream, catalog_client
):
    category = f"Race {uuid.uuid4().hex[:8]}"
    catalog_upstream.offer([offered(1, category=category)])
    provider_id = await new_provider(db, catalog_upstream.api_url)
    service = {"id": 900_000 + uuid.uuid4().int % 99_999, "name": "Filed", "type": "Default"}
    service.update(rate="1", min=1, max=9)
    entries = read_catalog(json.dumps({"categories": [{"name": category, "services": [service]}]}))

    async def file_import(conn) -> None:  # type: ignore[no-untyped-def]
        await import_catalog(conn, entries)

    async def provider_import() -> None:
        await import_services(db, catalog_client, provider_id)

    await while_first_is_open(db, file_import, provider_import)

    assert await category_count(db, category) == 1
    assert len(await services_of(db, provider_id)) == 1
