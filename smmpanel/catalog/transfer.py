"""The catalogue as a JSON file: export, and import that upserts services by id.

Exporting, importing into an empty database and exporting again gives the same text. A file is
read and checked whole before anything is written, so a bad entry changes nothing.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import categories, services
from smmpanel.catalog.service import bump_catalog_version, check_service
from smmpanel.db.base import MAX_INT32, MAX_INT64, AnyRow
from smmpanel.db.dialect import move_sequence_past_ids
from smmpanel.errors import Refusal, refusal
from smmpanel.money import parse, render_rate, to_micros

MAX_PROBLEMS_SHOWN = 20

# File key -> column, in the order a service is written.
SERVICE_COLUMNS = {
    "id": "id",
    "name": "name",
    "type": "type",
    "rate": "rate",
    "min": "min_quantity",
    "max": "max_quantity",
    "description": "description",
    "dripfeed": "dripfeed",
    "refill": "refill",
    "cancel": "cancel",
    "refill_days": "refill_days",
    "enabled": "enabled",
    "position": "position",
}
REQUIRED_KEYS = ("id", "name", "type", "rate", "min", "max")
# What a hand-written file may leave out: the database's own defaults.
DEFAULTS = {
    "description": "",
    "dripfeed": False,
    "refill": False,
    "cancel": False,
    "refill_days": 30,
    "enabled": True,
    "position": 0,
}
CATEGORY_KEYS = ("name", "position", "services")

CATALOG_FILE_REFUSED = refusal(
    "catalog_file_refused", "the file was not imported, nothing changed:\n  %(problems)s"
)


def file_refused(problems: list[str]) -> Refusal:
    """A catalogue file that cannot be imported, with every problem found (the first few)."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > len(shown):
        shown.append(f"... and {len(problems) - len(shown)} more")
    return CATALOG_FILE_REFUSED(problems="\n  ".join(shown))


@dataclass(frozen=True)
class CategoryEntry:
    name: str
    position: int
    services: list[dict[str, Any]] = field(default_factory=list)  # column -> value


@dataclass(frozen=True)
class ImportSummary:
    categories: int
    created: int
    updated: int


# ---- export


async def export_catalog(conn: AsyncConnection) -> dict[str, Any]:
    """Every category and service, enabled or not, in the operator's order."""
    rows = await conn.execute(
        select(categories.c.id.label("category_id"), categories.c.name.label("category"))
        .add_columns(categories.c.position.label("category_position"), services)
        .outerjoin(services, services.c.category_id == categories.c.id)
        .order_by(categories.c.position, categories.c.id, services.c.position, services.c.id)
    )
    exported: dict[int, dict[str, Any]] = {}
    for row in rows:
        category = exported.setdefault(
            row.category_id,
            {"name": row.category, "position": row.category_position, "services": []},
        )
        if row.id is not None:
            category["services"].append(_service_document(row))
    return {"categories": list(exported.values())}


def _service_document(row: AnyRow) -> dict[str, Any]:
    document = {key: getattr(row, column) for key, column in SERVICE_COLUMNS.items()}
    document["rate"] = render_rate(row.rate)
    for flag in ("dripfeed", "refill", "cancel", "enabled"):
        document[flag] = bool(document[flag])
    return document


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---- reading and checking a file


def read_catalog(text: str) -> list[CategoryEntry]:
    """The file's categories, each service as columns; refused with what is wrong."""
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise file_refused([f"not JSON: {exc}"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("categories"), list):
        raise file_refused(['expected an object {"categories": [...]}, as export writes'])
    problems: list[str] = []
    entries = _read_categories(document["categories"], problems)
    if problems:
        raise file_refused(problems)
    return entries


def _read_categories(items: list[object], problems: list[str]) -> list[CategoryEntry]:
    entries: list[CategoryEntry] = []
    seen_names: set[str] = set()
    seen_ids: set[int] = set()
    service_index = 0
    for index, item in enumerate(items, start=1):
        entry = _read_category(index, item, problems)
        if entry is not None and entry.name in seen_names:
            problems.append(f"category {index} ({entry.name!r}): the name appears twice")
        category_name = entry.name if entry else str(_get(item, "name"))
        for service in _services_of(item):
            service_index += 1
            columns = _read_service(service_index, category_name, service, seen_ids, problems)
            if entry is not None and columns is not None:
                entry.services.append(columns)
        if entry is not None:
            seen_names.add(entry.name)
            entries.append(entry)
    return entries


def _get(item: object, key: str) -> object:
    return item.get(key) if isinstance(item, dict) else None


def _services_of(item: object) -> list[object]:
    services_ = _get(item, "services")
    return services_ if isinstance(services_, list) else []


def _read_category(index: int, item: object, problems: list[str]) -> CategoryEntry | None:
    if not isinstance(item, dict):
        problems.append(f"category {index}: expected an object with name, position, services")
        return None
    label = f"category {index} ({item.get('name')!r})"
    before = len(problems)
    _unknown_keys(label, item, CATEGORY_KEYS, problems)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        problems.append(f"{label}: name must be text of 1 to 200 characters")
    position = item.get("position", 0)
    if not _is_int(position, 0, MAX_INT32):
        problems.append(f"{label}: position must be a whole number from 0")
    if not isinstance(item.get("services", []), list):
        problems.append(f"{label}: services must be a list")
    if len(problems) > before:
        return None
    return CategoryEntry(name=str(name), position=int(position))


def _read_service(
    index: int, category: str, item: object, seen_ids: set[int], problems: list[str]
) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(f"service entry {index} in category {category!r}: expected an object")
        return None
    label = f"service entry {index} ({item.get('name')!r} in category {category!r})"
    found = _service_problems(item)
    if not found and item["id"] in seen_ids:
        found.append(f"id {item['id']} appears twice in the file")
    if found:
        problems.extend(f"{label}: {problem}" for problem in found)
        return None
    seen_ids.add(item["id"])
    document = {**DEFAULTS, **item}
    columns = {SERVICE_COLUMNS[key]: value for key, value in document.items()}
    columns["rate"] = to_micros(parse(document["rate"]))
    return columns


def _service_problems(item: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    _unknown_keys("", item, tuple(SERVICE_COLUMNS), problems)
    missing = [key for key in REQUIRED_KEYS if key not in item]
    if missing:
        return [*problems, f"missing {', '.join(missing)}"]
    document = {**DEFAULTS, **item}
    problems += _shape_problems(document)
    if problems:
        return problems
    try:
        rate = to_micros(parse(document["rate"]))
        check_service(
            {
                "name": document["name"],
                "type": document["type"],
                "rate": rate,
                "min_quantity": document["min"],
                "max_quantity": document["max"],
            }
        )
    except Refusal as exc:
        return [str(exc)]
    return []


def _shape_problems(document: dict[str, Any]) -> list[str]:
    problems = []
    if not _is_int(document["id"], 1, MAX_INT64):
        problems.append("id must be a whole number from 1")
    for key in ("min", "max", "refill_days", "position"):
        if not _is_int(document[key], 0, MAX_INT32):
            problems.append(f"{key} must be a whole number from 0")
    for key in ("dripfeed", "refill", "cancel", "enabled"):
        if not isinstance(document[key], bool):
            problems.append(f"{key} must be true or false")
    if not isinstance(document["name"], str) or len(document["name"]) > 300:
        problems.append("name must be text of at most 300 characters")
    if not isinstance(document["description"], str):
        problems.append("description must be text")
    if not isinstance(document["rate"], str | int | Decimal) or isinstance(document["rate"], bool):
        problems.append('rate must be a decimal number, best written as text ("1.02")')
    return problems


def _unknown_keys(
    label: str, item: dict[str, Any], known: tuple[str, ...], problems: list[str]
) -> None:
    unknown = sorted(set(item) - set(known))
    if unknown:
        prefix = f"{label}: " if label else ""
        problems.append(f"{prefix}unknown field {', '.join(unknown)} (known: {', '.join(known)})")


def _is_int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


# ---- import


async def import_catalog(
    conn: AsyncConnection,
    entries: list[CategoryEntry],
    on_service: Callable[[], None] = lambda: None,
) -> ImportSummary:
    """Upsert the checked entries in the caller's transaction; services keep their ids."""
    created = updated = 0
    for entry in entries:
        category_id = await _upsert_category(conn, entry)
        for columns in entry.services:
            if await _upsert_service(conn, category_id, columns):
                created += 1
            else:
                updated += 1
            on_service()
    if created:
        await move_sequence_past_ids(conn, "services")
    await bump_catalog_version(conn)
    return ImportSummary(categories=len(entries), created=created, updated=updated)


async def _upsert_category(conn: AsyncConnection, entry: CategoryEntry) -> int:
    category_id = await conn.scalar(
        update(categories)
        .where(categories.c.name == entry.name)
        .values(position=entry.position)
        .returning(categories.c.id)
    )
    if category_id is not None:
        return category_id
    return await conn.scalar(
        insert(categories)
        .values(name=entry.name, position=entry.position)
        .returning(categories.c.id)
    )


async def _upsert_service(conn: AsyncConnection, category_id: int, columns: dict[str, Any]) -> bool:
    """Update the service with this id, or insert it with this id; True if inserted."""
    values = {key: value for key, value in columns.items() if key != "id"}
    result = await conn.execute(
        update(services)
        .where(services.c.id == columns["id"])
        .values(category_id=category_id, **values)
    )
    if result.rowcount == 1:
        return False
    await conn.execute(insert(services).values(category_id=category_id, **columns))
    return True
