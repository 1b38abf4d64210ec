"""What importing a catalogue file would do, shown before it is done: the import rehearsed in a
savepoint that is rolled back, and the catalogue compared before and after."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.transfer import CategoryEntry, ImportSummary, export_catalog, import_catalog


@dataclass(frozen=True)
class ServiceChange:
    id: int
    name: str
    fields: list[tuple[str, object, object]]  # (file key, before, after)


@dataclass(frozen=True)
class Preview:
    summary: ImportSummary
    new_categories: list[str]
    added: list[dict[str, Any]]  # the new services, as the file gives them
    changed: list[ServiceChange]
    unchanged: int


async def preview_import(
    conn: AsyncConnection, entries: list[CategoryEntry], shown: int
) -> Preview:
    """The import run in a savepoint and undone: what it would add and change, exactly (at
    most `shown` new services listed; all are counted)."""
    savepoint = await conn.begin_nested()
    try:
        before = await export_catalog(conn)
        summary = await import_catalog(conn, entries)
        after = await export_catalog(conn)
    finally:
        await savepoint.rollback()
    return _compared(summary, before, after, entries, shown)


def _by_id(document: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {
        service["id"]: {**service, "category": category["name"]}
        for category in document["categories"]
        for service in category["services"]
    }


def _compared(
    summary: ImportSummary,
    before: dict[str, Any],
    after: dict[str, Any],
    entries: list[CategoryEntry],
    shown: int,
) -> Preview:
    old, new = _by_id(before), _by_id(after)
    in_file = [service.columns["id"] for entry in entries for service in entry.services]
    added = [new[service_id] for service_id in in_file if service_id not in old]
    changed = []
    for service_id in in_file:
        if service_id in old and old[service_id] != new[service_id]:
            fields = [
                (key, old[service_id][key], value)
                for key, value in new[service_id].items()
                if old[service_id][key] != value
            ]
            changed.append(ServiceChange(service_id, new[service_id]["name"], fields))
    old_categories = {category["name"] for category in before["categories"]}
    return Preview(
        summary=summary,
        new_categories=[
            category["name"]
            for category in after["categories"]
            if category["name"] not in old_categories
        ],
        added=added[:shown],
        changed=changed,
        unchanged=summary.updated - len(changed),
    )
