"""The public services page: the services on offer, searched and filtered, 50 a page, each with
its average completion time.

Anyone may read it; a signed-in customer sees their own rates where they have custom ones. A
page reads its 50 services, then the last completed orders of those services alone (through
the index on orders (service_id, status, id)): its cost grows neither with the catalogue's
other services nor with the orders.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any, Literal

from babel.dates import format_timedelta
from fastapi import APIRouter
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.catalog.models import categories, services
from smmpanel.catalog.service import (
    at_customer_rate,
    catalog_version,
    name_holds,
    service_description_in,
    service_name_in,
)
from smmpanel.catalog.types import TYPE_NAMES
from smmpanel.db.base import AnyRow, as_utc
from smmpanel.db.per_database import KeptWhileVersion, PerDatabase
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import COMPLETED
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit import i18n
from smmpanel.pagekit.pages import AnyVisit
from smmpanel.pagekit.pagination import Page, list_address, page_number, select_page
from smmpanel.web.customer_order_services import categories_on_offer

router = APIRouter()
PATH = "/services"
PAGE_SIZE = 50
SEARCH_LENGTH = 200
# The peers' rule: the average over a service's last 10 completed orders.
TIMED_ORDERS = 10
# Descriptions can run to pages; the list shows their start, the order form the whole.
DESCRIPTION_SHOWN = 300
Unit = Literal["day", "hour", "minute", "second"]
UNIT_SECONDS: dict[Unit, int] = {"day": 86_400, "hour": 3_600, "minute": 60, "second": 1}


@dataclass(frozen=True)
class ServiceSearch:
    """What the address asks for; a value that is not one of the choices does not filter."""

    search: str = ""  # part of the English or Chinese name, or the id
    category_id: int | None = None
    type: str = ""
    page: int = 1

    @property
    def any(self) -> bool:
        return bool(self.search or self.category_id or self.type)

    def address(self, number: int = 1) -> str:
        return list_address(PATH, number, q=self.search, category=self.category_id, type=self.type)


# What a process keeps between views, for each database: the page's ids and the categories on
# offer while the catalogue's version stays, and each service's average time for a minute (it
# moves with completed orders, which do not move the version, and a minute late is soon enough
# for an average of ten).
KEPT_PAGES = 1_000
KEPT_TIMES = 20_000
TIMES_KEPT_SECONDS = 60.0


@dataclass
class _Kept:
    pages: dict[ServiceSearch, tuple[int, Page]] = field(default_factory=dict)
    categories: KeptWhileVersion[list[AnyRow]] = field(default_factory=KeptWhileVersion)
    times: dict[int, tuple[float, timedelta | None]] = field(default_factory=dict)


_kept = PerDatabase(_Kept)


def read_search(q: str, category: str, type_name: str, page: str) -> ServiceSearch:
    return ServiceSearch(
        search=q.strip()[:SEARCH_LENGTH],
        category_id=parse_positive_int(category),
        type=type_name if type_name in TYPE_NAMES else "",
        page=page_number(page),
    )


def _matches(search: str) -> ColumnElement[bool]:
    by_name = name_holds(search)
    service_id = parse_positive_int(search.lstrip("#"))
    return or_(by_name, services.c.id == service_id) if service_id else by_name


def _on_offer(chosen: ServiceSearch) -> Select[Any]:
    """The ids of the enabled services the search keeps, in the order customers see them."""
    query = (
        select(services.c.id)
        .join(categories, categories.c.id == services.c.category_id)
        .where(services.c.enabled.is_(True))
        .order_by(categories.c.position, categories.c.id, services.c.position, services.c.id)
    )
    if chosen.search:
        query = query.where(_matches(chosen.search))
    if chosen.category_id is not None:
        query = query.where(services.c.category_id == chosen.category_id)
    if chosen.type:
        query = query.where(services.c.type == chosen.type)
    return query


async def services_page(
    conn: AsyncConnection,
    kept: _Kept,
    chosen: ServiceSearch,
    customer_id: int | None,
    language: str,
    version: int,
) -> Page:
    """One page of the services on offer, at this customer's rates (the list's without one),
    named and described in the page's language; `version` is the catalogue's, read just before.

    The page's ids are found first, then only those rows are read in full with their rates.
    """
    ids = await _page_ids(conn, kept.pages, chosen, version)
    rows = await _service_rows(conn, ids.rows, customer_id, language) if ids.rows else {}
    return Page(rows=[rows[i] for i in ids.rows], number=ids.number, has_next=ids.has_next)


async def _page_ids(
    conn: AsyncConnection,
    kept_pages: dict[ServiceSearch, tuple[int, Page]],
    chosen: ServiceSearch,
    version: int,
) -> Page:
    """The page's service ids, kept for as long as the catalogue's version stays: sorting every
    service on offer was most of the page's database time (4 ms of 12 at 5,000 services)."""
    kept = kept_pages.get(chosen)
    if kept is not None and kept[0] == version:
        return kept[1]
    found = await select_page(conn, _on_offer(chosen), chosen.page, PAGE_SIZE)
    ids = Page(rows=[row.id for row in found.rows], number=found.number, has_next=found.has_next)
    if len(kept_pages) >= KEPT_PAGES:
        kept_pages.clear()
    kept_pages[chosen] = (version, ids)
    return ids


async def _service_rows(
    conn: AsyncConnection, ids: list[int], customer_id: int | None, language: str
) -> dict[int, AnyRow]:
    description = service_description_in(language)
    query = select(
        services.c.id,
        service_name_in(language).label("name"),
        categories.c.name.label("category"),
        services.c.type,
        services.c.min_quantity,
        services.c.max_quantity,
        services.c.refill,
        services.c.cancel,
        func.substr(description, 1, DESCRIPTION_SHOWN + 1).label("description"),
    ).join(categories, categories.c.id == services.c.category_id)
    query = at_customer_rate(query, customer_id).where(services.c.id.in_(ids))
    return {row.id: row for row in (await conn.execute(query)).all()}


async def completion_times(
    conn: AsyncConnection,
    kept_times: dict[int, tuple[float, timedelta | None]],
    service_ids: list[int],
) -> dict[int, timedelta | None]:
    """Each service's average time from placing to finishing over its last completed orders
    (None if it has none), as read at most TIMES_KEPT_SECONDS ago."""
    now = time.monotonic()
    stale = [i for i in service_ids if kept_times.get(i, (0.0, None))[0] <= now]
    if stale:
        found = await _completion_times(conn, stale)
        if len(kept_times) >= KEPT_TIMES:
            kept_times.clear()
        for service_id in stale:
            kept_times[service_id] = (now + TIMES_KEPT_SECONDS, found.get(service_id))
    return {service_id: kept_times[service_id][1] for service_id in service_ids}


async def _completion_times(conn: AsyncConnection, service_ids: list[int]) -> dict[int, timedelta]:
    """One statement of a part per service, each reading its newest completed orders from the
    index on orders (service_id, status, id): however many orders a service has, ten are read.
    """
    ids = {f"service_{number}": service_id for number, service_id in enumerate(service_ids)}
    rows = (await conn.execute(_last_completed_of(len(service_ids)), ids)).all()
    durations: dict[int, list[timedelta]] = {}
    for service_id, created_at, finished_at in rows:
        took = as_utc(finished_at) - as_utc(created_at)
        durations.setdefault(service_id, []).append(max(took, timedelta(0)))
    return {i: sum(times, timedelta(0)) / len(times) for i, times in durations.items()}


@lru_cache(maxsize=PAGE_SIZE)
def _last_completed_of(count: int) -> CompoundSelect:
    # Built once for each number of services: building 50 parts and their cache key anew took
    # most of the page's CPU (some 13 ms of 19, measured).
    parts = [_last_completed(bindparam(f"service_{n}")).subquery() for n in range(count)]
    return union_all(*(select(part) for part in parts))


def _last_completed(service_id: BindParameter[int]) -> Select[Any]:
    return (
        select(orders.c.service_id, orders.c.created_at, orders.c.finished_at)
        .where(
            orders.c.service_id == service_id,
            orders.c.status == COMPLETED,
            orders.c.finished_at.is_not(None),
        )
        .order_by(orders.c.id.desc())
        .limit(TIMED_ORDERS)
    )


def duration_text(duration: timedelta | None) -> str:
    """In the page's language, "2 hours 15 minutes": the two largest units; "—" for none."""
    if duration is None:
        return "—"
    rest = round(duration.total_seconds())
    parts: list[tuple[int, Unit]] = []
    for unit, unit_seconds in UNIT_SECONDS.items():
        value, rest = divmod(rest, unit_seconds)
        parts.append((value, unit))
    shown = [(value, unit) for value, unit in parts if value][:2] or [(0, "second")]
    language = i18n.current_language.get()
    return " ".join(_unit_text(value, unit, language) for value, unit in shown)


@lru_cache(maxsize=1024)
def _unit_text(value: int, unit: Unit, language: str) -> str:
    # Babel's wording of the unit for the language ("2 hours", "2 小時"); each costs some tens of
    # µs, and pages show the same few values again and again.
    amount = timedelta(seconds=value * UNIT_SECONDS[unit])
    return format_timedelta(amount, threshold=1_000_000, granularity=unit, locale=language)


def _shortened(description: str) -> str:
    if len(description) <= DESCRIPTION_SHOWN:
        return description
    return description[:DESCRIPTION_SHOWN].rstrip() + "…"


@router.get(PATH)
async def services_list(
    current: AnyVisit, q: str = "", category: str = "", type: str = "", page: str = ""
) -> Response:
    chosen = read_search(q, category, type, page)
    customer_id = current.customer.account_id if current.customer else None
    kept = _kept.of(current.db)
    async with current.db.read() as conn:
        version = await catalog_version(conn)
        found = await services_page(conn, kept, chosen, customer_id, current.language, version)
        times = await completion_times(conn, kept.times, [row.id for row in found.rows])
        category_list = await kept.categories.get(version, lambda: categories_on_offer(conn))
    page_url: Callable[[int], str] = chosen.address
    return current.render(
        "web/services.html",
        chosen=chosen,
        found=found,
        took={row.id: duration_text(times[row.id]) for row in found.rows},
        descriptions={row.id: _shortened(row.description) for row in found.rows},
        categories=category_list,
        types=TYPE_NAMES,
        page_url=page_url,
    )
