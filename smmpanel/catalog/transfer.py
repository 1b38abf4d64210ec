"""The catalogue as a JSON file: export, and import that upserts services by id.

Every column of a service is in the file, its providers by name, so exporting, importing into
an empty database that has the same providers and exporting again gives the same text. An
entry for a service that exists may give only the fields to change: the others stay as they
are. A new service needs REQUIRED_KEYS; what else it leaves out takes DEFAULTS. The file is
checked whole, its shape first, then against the database, before anything is written, so a
bad entry changes nothing.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Insert, Update, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import FULFIL_MANUAL, FULFIL_PROVIDER, categories, services
from smmpanel.catalog.service import bump_catalog_version, category_id_for, check_service
from smmpanel.db.base import MAX_INT32, MAX_INT64, AnyRow
from smmpanel.db.dialect import insert_or_ignore, move_sequence_past_ids, one_of
from smmpanel.errors import Refusal, refusal
from smmpanel.money import check_amount, parse, render_rate, to_micros
from smmpanel.providers.models import providers

MAX_PROBLEMS_SHOWN = 20
WRITE_BATCH = 500  # services written at once; progress is told after each batch

# File key -> column, in the order a service is written.
SERVICE_COLUMNS = {
    "id": "id",
    "name": "name",
    "type": "type",
    "rate": "rate",
    "min": "min_quantity",
    "max": "max_quantity",
    "description": "description",
    "name_zh_tw": "name_zh_tw",
    "description_zh_tw": "description_zh_tw",
    "dripfeed": "dripfeed",
    "refill": "refill",
    "cancel": "cancel",
    "refill_days": "refill_days",
    "enabled": "enabled",
    "position": "position",
    "fulfilment": "fulfilment",
    "provider": "provider_id",
    "provider_service_id": "provider_service_id",
    "upstream_rate": "upstream_rate",
    "upstream_dripfeed": "upstream_dripfeed",
    "fallback_provider": "fallback_provider_id",
    "fallback_provider_service_id": "fallback_provider_service_id",
}
REQUIRED_KEYS = ("id", "name", "type", "rate", "min", "max")
# What a new service may leave out, by column: the database's own defaults. Its fulfilment
# follows from whether it names a provider.
DEFAULTS: dict[str, Any] = {
    "description": "",
    "name_zh_tw": None,
    "description_zh_tw": None,
    "dripfeed": False,
    "refill": False,
    "cancel": False,
    "refill_days": 30,
    "enabled": True,
    "position": 0,
    "provider_id": None,
    "provider_service_id": None,
    "upstream_rate": None,
    "upstream_dripfeed": False,
    "fallback_provider_id": None,
    "fallback_provider_service_id": None,
}
FLAGS = ("dripfeed", "refill", "cancel", "enabled", "upstream_dripfeed")
COUNTS = ("min", "max", "refill_days", "position")
PROVIDER_KEYS = ("provider", "fallback_provider")
PROVIDER_COLUMNS = ("provider_id", "fallback_provider_id")
UPSTREAM_ID_KEYS = ("provider_service_id", "fallback_provider_service_id")
MAX_UPSTREAM_ID = 50  # services.provider_service_id is String(50)
# An upstream id and the provider it belongs to: both or neither.
PAIRS = (
    ("provider_id", "provider_service_id"),
    ("fallback_provider_id", "fallback_provider_service_id"),
)
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
class ServiceEntry:
    label: str  # how a problem names the entry
    columns: dict[str, Any]  # what the file gives, by column; providers still by name


@dataclass(frozen=True)
class CategoryEntry:
    name: str
    position: int | None  # None: as it is (0 for a new category)
    services: list[ServiceEntry] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    categories: int
    created: int
    updated: int


# ---- export


async def export_catalog(conn: AsyncConnection) -> dict[str, Any]:
    """Every category and service, enabled or not, in the operator's order; deleted services
    are left out (an import refuses them)."""
    provider = providers.alias("provider")
    fallback = providers.alias("fallback")
    rows = await conn.execute(
        select(categories.c.id.label("category_id"), categories.c.name.label("category"))
        .add_columns(
            categories.c.position.label("category_position"),
            services,
            provider.c.name.label("provider_name"),
            fallback.c.name.label("fallback_name"),
        )
        .outerjoin(
            services,
            (services.c.category_id == categories.c.id) & services.c.deleted_at.is_(None),
        )
        .outerjoin(provider, provider.c.id == services.c.provider_id)
        .outerjoin(fallback, fallback.c.id == services.c.fallback_provider_id)
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
    if row.upstream_rate is not None:
        document["upstream_rate"] = render_rate(row.upstream_rate)
    document["provider"] = row.provider_name
    document["fallback_provider"] = row.fallback_name
    for flag in FLAGS:
        document[flag] = bool(document[flag])
    return document


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---- reading a file and checking its shape


def read_catalog(text: str) -> list[CategoryEntry]:
    """The file's categories, each service as the columns it gives; refused with what is wrong."""
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
            read = _read_service(service_index, category_name, service, seen_ids, problems)
            if entry is not None and read is not None:
                entry.services.append(read)
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
    position = item.get("position")
    if position is not None and not _is_int(position, 0, MAX_INT32):
        problems.append(f"{label}: position must be a whole number from 0")
    if not isinstance(item.get("services", []), list):
        problems.append(f"{label}: services must be a list")
    if len(problems) > before:
        return None
    return CategoryEntry(name=str(name), position=position)


def _read_service(
    index: int, category: str, item: object, seen_ids: set[int], problems: list[str]
) -> ServiceEntry | None:
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
    columns = {SERVICE_COLUMNS[key]: value for key, value in item.items()}
    for key in UPSTREAM_ID_KEYS:
        if item.get(key) is not None:
            columns[key] = str(item[key])
    for key in ("rate", "upstream_rate"):
        if item.get(key) is not None:
            columns[key] = to_micros(parse(item[key]))
    return ServiceEntry(label, columns)


def _service_problems(item: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    _unknown_keys("", item, tuple(SERVICE_COLUMNS), problems)
    if "id" not in item:
        return [*problems, "missing id"]
    problems += _shape_problems(item)
    if problems or any(key not in item for key in REQUIRED_KEYS):
        return problems  # a service named in part is checked whole against the database
    try:
        check_service(
            {
                "name": item["name"],
                "type": item["type"],
                "rate": to_micros(parse(item["rate"])),
                "min_quantity": item["min"],
                "max_quantity": item["max"],
            }
        )
    except Refusal as exc:
        return [str(exc)]
    return []


def _shape_problems(item: dict[str, Any]) -> list[str]:
    """What is wrong with the fields given, each on its own."""
    problems = []
    if not _is_int(item["id"], 1, MAX_INT64):
        problems.append("id must be a whole number from 1")
    problems += [f"{key} must be a whole number from 0" for key in COUNTS if _bad_count(item, key)]
    problems += [f"{key} must be true or false" for key in FLAGS if _bad_flag(item, key)]
    if "name" in item and (not isinstance(item["name"], str) or len(item["name"]) > 300):
        problems.append("name must be text of at most 300 characters")
    if "description" in item and not isinstance(item["description"], str):
        problems.append("description must be text")
    name_zh_tw = item.get("name_zh_tw")
    if not isinstance(name_zh_tw, str | None) or len(name_zh_tw or "") > 300:
        problems.append("name_zh_tw must be text of at most 300 characters, or null")
    if not isinstance(item.get("description_zh_tw"), str | None):
        problems.append("description_zh_tw must be text, or null")
    if item.get("fulfilment", FULFIL_MANUAL) not in (FULFIL_MANUAL, FULFIL_PROVIDER):
        problems.append(f"fulfilment must be {FULFIL_MANUAL!r} or {FULFIL_PROVIDER!r}")
    for key in PROVIDER_KEYS:
        if not isinstance(item.get(key, ""), str | None) or item.get(key) == "":
            problems.append(f"{key} must be a provider's name, or null")
    for key in UPSTREAM_ID_KEYS:
        if _bad_upstream_id(item.get(key)):
            problems.append(f"{key} must be text of 1 to {MAX_UPSTREAM_ID} characters, or null")
    problems += _amount_problems(item)
    return problems


def _amount_problems(item: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("rate", "upstream_rate"):
        value = item.get(key)
        if key not in item or (value is None and key == "upstream_rate"):
            continue
        if not isinstance(value, str | int | Decimal) or isinstance(value, bool):
            problems.append(f'{key} must be a decimal number, best written as text ("1.02")')
            continue
        try:
            micros = to_micros(parse(value))
            check_amount(micros)
        except Refusal as exc:
            problems.append(f"{key}: {exc}" if key != "rate" else str(exc))
            continue
        if key == "upstream_rate" and micros < 0:
            problems.append("upstream_rate cannot be negative")
    return problems


def _bad_count(item: dict[str, Any], key: str) -> bool:
    return key in item and not _is_int(item[key], 0, MAX_INT32)


def _bad_flag(item: dict[str, Any], key: str) -> bool:
    return key in item and not isinstance(item[key], bool)


def _bad_upstream_id(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool) or not isinstance(value, str | int):
        return True
    return not 1 <= len(str(value).strip()) <= MAX_UPSTREAM_ID


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


class ServiceWrite(NamedTuple):
    label: str
    id: int
    values: dict[str, Any]  # the columns to write: what the file gives, or all for a new one
    new: bool
    merged: dict[str, Any]  # the service as it will be
    moves_upstream: bool  # an existing service whose (provider, upstream id) changes


async def import_catalog(
    conn: AsyncConnection,
    entries: list[CategoryEntry],
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Check the entries against the database, then upsert them in the caller's transaction;
    services keep their ids. Refused, writing nothing, if one entry is wrong. `progress` is
    told (written, total) after each batch of services written."""
    plans = await _plan(conn, entries)
    await _release_moving_upstream_ids(conn, [write for _, writes in plans for write in writes])
    placed = []
    for entry, writes in plans:
        category_id = await _upsert_category(conn, entry)
        placed += [(category_id, write) for write in writes]
    for start in range(0, len(placed), WRITE_BATCH):
        await _write_services(conn, placed[start : start + WRITE_BATCH])
        if progress is not None:
            progress(min(start + WRITE_BATCH, len(placed)), len(placed))
    created = sum(write.new for _, write in placed)
    if created:
        await move_sequence_past_ids(conn, "services")
    await bump_catalog_version(conn)
    return ImportSummary(categories=len(entries), created=created, updated=len(placed) - created)


async def _write_services(conn: AsyncConnection, placed: list[tuple[int, ServiceWrite]]) -> None:
    """Insert the new services and update the others, one statement per set of columns
    written (an exported file gives every column: one insert and one update)."""
    groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for category_id, write in placed:
        columns = tuple(sorted(write.values))
        row = {f"new_{column}": value for column, value in write.values.items()}
        row.update(service_id=write.id, new_category_id=category_id)
        groups.setdefault((write.new, columns), []).append(row)
    for (new, columns), rows in groups.items():
        values: dict[str, Any] = {
            column: bindparam(f"new_{column}") for column in ("category_id", *columns)
        }
        statement: Insert | Update
        if new:
            statement = insert(services).values(id=bindparam("service_id"), **values)
        else:
            by_id = services.c.id == bindparam("service_id")
            statement = update(services).where(by_id).values(values)
        await conn.execute(statement, rows)


async def _release_moving_upstream_ids(conn: AsyncConnection, writes: list[ServiceWrite]) -> None:
    """Clear the upstream id of every service the file moves, before any write: two services
    swapping theirs, or a service taking one another gives up, then never meet on the unique
    (provider, upstream id) on the way. Each gets its new one back in its own write."""
    moving = [write.id for write in writes if write.moves_upstream]
    if moving:
        await conn.execute(
            update(services)
            .where(one_of(conn, services.c.id, moving))
            .values(provider_service_id=None)
        )


async def _upsert_category(conn: AsyncConnection, entry: CategoryEntry) -> int:
    category_id = await category_id_for(conn, entry.name, entry.position or 0)
    if entry.position is not None:
        await conn.execute(
            update(categories).where(categories.c.id == category_id).values(position=entry.position)
        )
    return category_id


async def _plan(
    conn: AsyncConnection, entries: list[CategoryEntry]
) -> list[tuple[CategoryEntry, list[ServiceWrite]]]:
    """What to write for each entry, each service checked whole as it will be."""
    given = [service for entry in entries for service in entry.services]
    names = {s.columns[c] for s in given for c in PROVIDER_COLUMNS if s.columns.get(c) is not None}
    provider_ids = await _provider_ids(conn, names)
    existing = await _existing_services(conn, [service.columns["id"] for service in given])
    problems = await _deleted_problems(conn, given)
    plans = []
    for entry in entries:
        writes = [_planned(s, provider_ids, existing, problems) for s in entry.services]
        plans.append((entry, [write for write in writes if write is not None]))
    every_write = [write for _, writes in plans for write in writes]
    problems += _upstream_ids_taken(every_write, await _upstream_ids(conn))
    if problems:
        raise file_refused(problems)
    return plans


def _planned(
    service: ServiceEntry,
    provider_ids: dict[str, int],
    existing: dict[int, dict[str, Any]],
    problems: list[str],
) -> ServiceWrite | None:
    values = dict(service.columns)
    service_id = values.pop("id")
    for column in PROVIDER_COLUMNS:
        name = values.get(column)
        if name is not None and name not in provider_ids:
            problems.append(
                f"{service.label}: no provider named {name!r}; add it first"
                " (`smmpanel provider add`) or correct the name"
            )
            return None
        if name is not None:
            values[column] = provider_ids[name]
    before = existing.get(service_id)
    if before is None:
        missing = [
            key for key in REQUIRED_KEYS if key != "id" and SERVICE_COLUMNS[key] not in values
        ]
        if missing:
            problems.append(
                f"{service.label}: service {service_id} is new and needs {', '.join(missing)}"
            )
            return None
        fulfilment = FULFIL_PROVIDER if values.get("provider_id") else FULFIL_MANUAL
        values = {"fulfilment": fulfilment, **DEFAULTS, **values}
    merged = {**(before or {}), **values}
    found = _whole_service_problems(merged)
    problems.extend(f"{service.label}: {problem}" for problem in found)
    if found:
        return None
    moves = before is not None and _upstream_pair(before) != _upstream_pair(merged)
    if moves:
        values["provider_service_id"] = merged["provider_service_id"]
    return ServiceWrite(service.label, service_id, values, before is None, merged, moves)


def _upstream_pair(service: dict[str, Any]) -> tuple[int | None, str | None]:
    return service["provider_id"], service["provider_service_id"]


def _whole_service_problems(merged: dict[str, Any]) -> list[str]:
    try:
        check_service(merged)
    except Refusal as exc:
        return [str(exc)]
    keys = {column: key for key, column in SERVICE_COLUMNS.items()}
    problems = [
        f"{keys[provider]} and {keys[upstream_id]} go together: give both, or neither"
        for provider, upstream_id in PAIRS
        if (merged[provider] is None) != (merged[upstream_id] is None)
    ]
    if merged["fulfilment"] == FULFIL_PROVIDER and merged["provider_id"] is None:
        problems.append("a service fulfilled by a provider needs provider and provider_service_id")
    return problems


def _upstream_ids_taken(writes: list[ServiceWrite], taken: dict[tuple, int]) -> list[str]:
    """One of our services per upstream service, as the file would leave them."""
    rewritten = {write.id for write in writes}
    owners = {pair: owner for pair, owner in taken.items() if owner not in rewritten}
    problems = []
    for write in writes:
        pair = _upstream_pair(write.merged)
        if pair[0] is None:
            continue
        owner = owners.setdefault(pair, write.id)
        if owner != write.id:
            problems.append(
                f"{write.label}: our service {owner} resells upstream service {pair[1]} of"
                " that provider already; one service per upstream service"
            )
    return problems


async def _provider_ids(conn: AsyncConnection, names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    rows = await conn.execute(
        select(providers.c.name, providers.c.id).where(one_of(conn, providers.c.name, names))
    )
    return {name: provider_id for name, provider_id in rows}


async def _existing_services(conn: AsyncConnection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The services of these ids that exist, as their columns (id and category left out)."""
    if not ids:
        return {}
    rows = await conn.execute(select(services).where(one_of(conn, services.c.id, ids)))
    kept = set(SERVICE_COLUMNS.values()) - {"id"}
    return {row.id: {k: v for k, v in row._mapping.items() if k in kept} for row in rows}


async def _deleted_problems(conn: AsyncConnection, given: list[ServiceEntry]) -> list[str]:
    """A deleted service stays deleted: a file may not bring it back on offer."""
    ids = [service.columns["id"] for service in given]
    if not ids:
        return []
    query = select(services.c.id).where(
        one_of(conn, services.c.id, ids), services.c.deleted_at.is_not(None)
    )
    deleted = set(await conn.scalars(query))
    return [
        f"{service.label}: service {service.columns['id']} is deleted; leave it out of the file"
        for service in given
        if service.columns["id"] in deleted
    ]


async def _upstream_ids(conn: AsyncConnection) -> dict[tuple, int]:
    """(provider id, upstream id) -> our service reselling it."""
    rows = await conn.execute(
        select(services.c.provider_id, services.c.provider_service_id, services.c.id).where(
            services.c.provider_service_id.is_not(None)
        )
    )
    return {(provider_id, upstream_id): service_id for provider_id, upstream_id, service_id in rows}


# ---- categories in bulk


async def category_ids_for(conn: AsyncConnection, names: Iterable[str]) -> dict[str, int]:
    """The categories of these names, those missing created (at position 0), in three
    statements whatever their count.

    As `category_id_for`, the unique name decides between two transactions creating one at
    once; the names are inserted in sorted order, so two such inserts cannot deadlock.
    """
    wanted = sorted(set(names))
    if not wanted:
        return {}
    found = await _category_ids(conn, wanted)
    missing = [{"name": name, "position": 0} for name in wanted if name not in found]
    if missing:
        await conn.execute(insert_or_ignore(conn, categories), missing)
        found = await _category_ids(conn, wanted)
    return found


async def _category_ids(conn: AsyncConnection, names: list[str]) -> dict[str, int]:
    rows = await conn.execute(
        select(categories.c.name, categories.c.id).where(one_of(conn, categories.c.name, names))
    )
    return {name: category_id for name, category_id in rows}
