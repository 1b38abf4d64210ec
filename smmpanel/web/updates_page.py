"""The customers' "Updates" page: what changed in the catalogue, newest first, from the change
log the providers' imports and syncs write (`service_changes`).

A customer sees services added, taken off offer, and rate changes (the `rate` column, what
customers pay; never the upstream's own rate), of the services on offer; of a service no longer
offered, only that it was taken off. Pages are found by the neighbouring change's id (keyset).
"""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.catalog.models import customer_prices, services
from smmpanel.catalog.service import service_name_in
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit.pages import CustomerVisit
from smmpanel.pagekit.pagination import list_address
from smmpanel.providers.catalog_sync import ADDED
from smmpanel.providers.models import service_changes

router = APIRouter()
PATH = "/updates"
PAGE_SIZE = 50
# The change log's fields a customer is shown; "added" is a service new to the catalogue.
ENABLED, RATE = "enabled", "rate"
SHOWN_FIELDS = (ADDED, ENABLED, RATE)


@dataclass(frozen=True)
class UpdatesPage:
    rows: list
    newer: bool  # whether newer changes come before this page
    older: bool

    @property
    def first_id(self) -> int | None:
        return self.rows[0].id if self.rows else None

    @property
    def last_id(self) -> int | None:
        return self.rows[-1].id if self.rows else None


def _changes(customer_id: int, language: str) -> Select[Any]:
    return (
        select(
            service_changes.c.id,
            service_changes.c.created_at,
            service_changes.c.field,
            service_changes.c.old_value,
            service_changes.c.new_value,
            services.c.id.label("service_id"),
            service_name_in(language).label("name"),
            services.c.enabled,
            customer_prices.c.rate.label("own_rate"),
        )
        .join(services, services.c.id == service_changes.c.service_id)
        .outerjoin(
            customer_prices,
            (customer_prices.c.service_id == services.c.id)
            & (customer_prices.c.customer_id == customer_id),
        )
        .where(
            service_changes.c.field.in_(SHOWN_FIELDS),
            # A service off offer shows only that it was taken off: nothing else of it.
            or_(services.c.enabled.is_(True), service_changes.c.field == ENABLED),
        )
    )


async def updates_page(
    conn: AsyncConnection, customer_id: int, before: int | None, after: int | None, language: str
) -> UpdatesPage:
    """PAGE_SIZE changes older than `before`, or newer than `after`, or the newest; each
    service named in the page's language."""
    query = _changes(customer_id, language)
    if after is not None:
        newer = await _read(conn, query.where(service_changes.c.id > after), oldest_first=True)
        if len(newer) > PAGE_SIZE:
            return UpdatesPage(rows=newer[:PAGE_SIZE][::-1], newer=True, older=True)
        before = None  # fewer than a page newer: that is the first page
    if before is not None:
        query = query.where(service_changes.c.id < before)
    rows = await _read(conn, query, oldest_first=False)
    return UpdatesPage(rows=rows[:PAGE_SIZE], newer=before is not None, older=len(rows) > PAGE_SIZE)


async def _read(conn: AsyncConnection, query: Select[Any], oldest_first: bool) -> list:
    order = service_changes.c.id.asc() if oldest_first else service_changes.c.id.desc()
    return list((await conn.execute(query.order_by(order).limit(PAGE_SIZE + 1))).all())


@router.get(PATH)
async def updates_list(current: CustomerVisit, before: str = "", after: str = "") -> Response:
    async with current.db.read() as conn:
        found = await updates_page(
            conn,
            current.customer_id,
            parse_positive_int(before),
            parse_positive_int(after),
            current.language,
        )
    return current.render(
        "web/updates.html",
        found=found,
        older_url=list_address(PATH, 1, before=found.last_id),
        newer_url=list_address(PATH, 1, after=found.first_id),
        added=ADDED,
        enabled=ENABLED,
    )
