"""What the catalogue pages read and change that catalog.service does not offer (yet).

Every change bumps the catalogue version in the caller's transaction, so the API's cached
`services` reply is rebuilt.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import categories, services
from smmpanel.catalog.service import CatalogError, bump_catalog_version, check_service
from smmpanel.providers.models import providers

MAX_RATE_MICROS = 2**63 - 1
PERCENT, FIXED = "percent", "fixed"

# What the operator may change on a service; type, fulfilment and provider stay as created.
EDITABLE = (
    "category_id",
    "name",
    "rate",
    "min_quantity",
    "max_quantity",
    "description",
    "dripfeed",
    "refill",
    "cancel",
    "position",
    "enabled",
)


@dataclass
class Category:
    id: int
    name: str
    services: list = field(default_factory=list)


@dataclass(frozen=True)
class Repricing:
    """A service's rate before and after a bulk change."""

    id: int
    name: str
    category: str
    old: int
    new: int
    forwarded: bool

    @property
    def refused(self) -> bool:
        return not 0 < self.new <= MAX_RATE_MICROS


# ---- reading


def _service_columns() -> list:
    return [
        services.c.id,
        services.c.category_id,
        services.c.name,
        services.c.type,
        services.c.rate,
        services.c.min_quantity,
        services.c.max_quantity,
        services.c.description,
        services.c.dripfeed,
        services.c.refill,
        services.c.cancel,
        services.c.enabled,
        services.c.position,
        services.c.provider_service_id,
        providers.c.name.label("provider"),
    ]


async def catalogue(conn: AsyncConnection) -> list[Category]:
    """Every category in its order, each with its services (enabled or not) in theirs."""
    rows = await conn.execute(
        select(categories.c.id.label("of_category"), categories.c.name.label("category"))
        .add_columns(*_service_columns())
        .outerjoin(services, services.c.category_id == categories.c.id)
        .outerjoin(providers, providers.c.id == services.c.provider_id)
        .order_by(categories.c.position, categories.c.id, services.c.position, services.c.id)
    )
    listed: dict[int, Category] = {}
    for row in rows:
        category = listed.setdefault(row.of_category, Category(row.of_category, row.category))
        if row.id is not None:
            category.services.append(row)
    return list(listed.values())


async def service_row(conn: AsyncConnection, service_id: int):  # type: ignore[no-untyped-def]
    query = select(*_service_columns()).outerjoin(
        providers, providers.c.id == services.c.provider_id
    )
    return (await conn.execute(query.where(services.c.id == service_id))).first()


async def category_exists(conn: AsyncConnection, category_id: int) -> bool:
    return (
        await conn.scalar(select(categories.c.id).where(categories.c.id == category_id)) is not None
    )


# ---- categories


async def add_category(conn: AsyncConnection, name: str) -> int:
    """A new category, placed last."""
    await _refuse_taken_name(conn, name)
    last = await conn.scalar(select(func.max(categories.c.position)))
    category_id = await conn.scalar(
        insert(categories).values(name=name, position=(last or 0) + 1).returning(categories.c.id)
    )
    await bump_catalog_version(conn)
    return category_id


async def rename_category(conn: AsyncConnection, category_id: int, name: str) -> None:
    await _refuse_taken_name(conn, name, category_id)
    await conn.execute(update(categories).where(categories.c.id == category_id).values(name=name))
    await bump_catalog_version(conn)


async def _refuse_taken_name(conn: AsyncConnection, name: str, category_id: int = 0) -> None:
    query = select(categories.c.id).where(categories.c.name == name, categories.c.id != category_id)
    if await conn.scalar(query) is not None:
        raise CatalogError("a category of that name exists already; choose another name")


async def move_category(conn: AsyncConnection, category_id: int, step: int) -> None:
    """Move a category `step` places (-1 up, +1 down); every position is renumbered 1..n."""
    order = list(
        await conn.scalars(select(categories.c.id).order_by(categories.c.position, categories.c.id))
    )
    place = order.index(category_id)
    target = min(max(place + step, 0), len(order) - 1)
    order.insert(target, order.pop(place))
    for position, each in enumerate(order, start=1):
        await conn.execute(
            update(categories).where(categories.c.id == each).values(position=position)
        )
    await bump_catalog_version(conn)


# ---- services


async def edit_service(conn: AsyncConnection, service_id: int, **values: object) -> None:
    unknown = set(values) - set(EDITABLE)
    assert not unknown, f"not editable here: {unknown}"
    service_type = await conn.scalar(select(services.c.type).where(services.c.id == service_id))
    check_service({**values, "type": service_type})
    await conn.execute(update(services).where(services.c.id == service_id).values(**values))
    await bump_catalog_version(conn)


# ---- bulk price change


def changed_rate(rate: int, kind: str, change: Decimal) -> int:
    """A rate after a percent or a fixed change per 1000, to the millionth, half up."""
    if kind == PERCENT:
        exact = Decimal(rate) * (100 + change) / 100
    else:
        exact = Decimal(rate) + change * 1_000_000
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


async def repricing(
    conn: AsyncConnection, service_ids: list[int], kind: str, change: Decimal
) -> list[Repricing]:
    """What the change would make of each of these services' list rates, in catalogue order."""
    rows = await conn.execute(
        select(
            services.c.id,
            services.c.name,
            categories.c.name.label("category"),
            services.c.rate,
            services.c.provider_id,
        )
        .join(categories, categories.c.id == services.c.category_id)
        .where(services.c.id.in_(service_ids))
        .order_by(categories.c.position, categories.c.id, services.c.position, services.c.id)
    )
    return [
        Repricing(
            row.id,
            row.name,
            row.category,
            row.rate,
            changed_rate(row.rate, kind, change),
            row.provider_id is not None,
        )
        for row in rows
    ]


async def services_of_category(conn: AsyncConnection, category_id: int) -> list[int]:
    query = select(services.c.id).where(services.c.category_id == category_id)
    return list(await conn.scalars(query.order_by(services.c.id)))


async def apply_repricing(conn: AsyncConnection, changes: list[Repricing]) -> None:
    """Set each new rate, only where the rate is still the one previewed."""
    for change in changes:
        if change.refused:
            raise CatalogError("a rate would fall to zero or below; nothing changed")
        result = await conn.execute(
            update(services)
            .where(services.c.id == change.id, services.c.rate == change.old)
            .values(rate=change.new)
        )
        if result.rowcount != 1:
            raise CatalogError("a rate changed since the preview; nothing changed")
    await bump_catalog_version(conn)
