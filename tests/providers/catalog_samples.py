"""Upstream catalogues as real panels send them: every type, and the garbage some add."""

import socket
import uuid

from sqlalchemy import select

from smmpanel.catalog.models import categories, services
from smmpanel.catalog.types import TYPE_NAMES
from smmpanel.db import Database
from smmpanel.providers import catalog_sync
from smmpanel.providers.models import providers, service_changes
from smmpanel.providers.service import add_provider

UPSTREAM_KEY = "upstream-test-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def new_provider(db: Database, api_url: str, key: str = UPSTREAM_KEY) -> int:
    async with db.write() as conn:
        return await add_provider(conn, f"up-{uuid.uuid4().hex[:10]}", api_url, key, 5)


def offered(service_id: object, type: str = "Default", **fields: object) -> dict:
    """One entry of a `services` reply, with the standard's field spellings."""
    entry = {
        "service": service_id,
        "name": f"{type} {service_id}",
        "category": "Instagram - Followers",
        "rate": "1.00",
        "min": "10",
        "max": "10000",
        "type": type,
        "desc": f"about {service_id}",
        "dripfeed": 0,
        "refill": False,
        "cancel": False,
    }
    entry.update(fields)
    return entry


def every_type() -> list[dict]:
    """One service of each of the 14 types, ids 101..114, in the forms upstreams send them."""
    entries = [offered(101 + i, name) for i, name in enumerate(TYPE_NAMES)]
    entries[0].update(rate=0.5, dripfeed=1, refill=True, cancel=True, min=100, max=50000)
    entries[1].update(service="102", rate="12", min="1", max="1", refill="1", cancel="true")
    entries[2].update(type="custom comments", category="TikTok Comments", dripfeed="0")
    return entries


GARBAGE = [
    {"name": "no id at all", "type": "Default", "rate": "1", "min": "1", "max": "2"},
    offered(201, rate=None),
    offered(202, rate="cheap"),
    offered(203, rate="0"),
    offered(204, type="Telepathy"),
    offered(205, name=""),
    offered(206, min="500", max="100"),
    offered(207, min="ten"),
    offered(208, type=None),
    offered(True),
    offered(101, name="the same id again"),
    "not even an object",
]

GARBAGE_REASONS = {
    "entry 15": "no service id",
    "201": "no usable rate (None)",
    "202": "no usable rate ('cheap')",
    "203": "rate '0' is not above zero",
    "204": "unknown type 'Telepathy'",
    "205": "no name",
    "206": "min 500 is above max 100",
    "207": "no usable min ('ten')",
    "208": "no type",
    "entry 24": "no service id",
    "101": "listed twice; the first one is used",
}


async def services_of(db: Database, provider_id: int) -> dict[str, object]:
    """Our services of a provider by upstream id, with their category's name."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(services, categories.c.name.label("category"))
            .join(categories, categories.c.id == services.c.category_id)
            .where(services.c.provider_id == provider_id)
            .order_by(services.c.id)
        )
        return {row.provider_service_id: row for row in rows}


async def changes_of(db: Database, provider_id: int) -> list[tuple]:
    """(upstream id, field, old, new) of each recorded change, oldest first, but for the
    "added" row an import writes for each new service (tests/providers/test_import.py)."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(
                services.c.provider_service_id,
                service_changes.c.field,
                service_changes.c.old_value,
                service_changes.c.new_value,
            )
            .join(services, services.c.id == service_changes.c.service_id)
            .where(
                service_changes.c.provider_id == provider_id,
                service_changes.c.field != catalog_sync.ADDED,
            )
            .order_by(service_changes.c.id)
        )
        return [tuple(row) for row in rows]


async def provider_row(db: Database, provider_id: int):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return (await conn.execute(select(providers).where(providers.c.id == provider_id))).one()
