"""Categories, services and prices: what customers can order and at which rate."""

from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import FULFIL_PROVIDER, categories, customer_prices, services
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.errors import DomainError
from smmpanel.panel.models import panel_settings

SERVICE_FIELDS = (
    "name",
    "type",
    "rate",
    "min_quantity",
    "max_quantity",
    "description",
    "dripfeed",
    "refill",
    "cancel",
    "refill_days",
    "enabled",
    "position",
)


class CatalogError(DomainError):
    """A catalogue change refused; the message says what to fix."""


@dataclass(frozen=True)
class OrderableService:
    """A service as one customer may order it: enabled, at that customer's rate."""

    id: int
    type: str
    rate: int
    min_quantity: int
    max_quantity: int
    dripfeed: bool
    refill: bool
    cancel: bool
    refill_days: int
    provider_id: int | None = None  # set when an upstream provider fulfils it
    upstream_dripfeed: bool = False


async def bump_catalog_version(conn: AsyncConnection) -> None:
    await conn.execute(
        update(panel_settings).values(catalog_version=panel_settings.c.catalog_version + 1)
    )


async def catalog_version(conn: AsyncConnection) -> int:
    return await conn.scalar(select(panel_settings.c.catalog_version)) or 0


async def category_id_for(conn: AsyncConnection, name: str, position: int = 0) -> int:
    """The category of this name, created if new."""
    existing = await conn.scalar(select(categories.c.id).where(categories.c.name == name))
    if existing is not None:
        return existing
    return await conn.scalar(
        insert(categories).values(name=name, position=position).returning(categories.c.id)
    )


def check_service(fields: dict) -> None:
    if fields.get("type") not in SERVICE_TYPES:
        raise CatalogError(
            f"unknown service type {fields.get('type')!r}; use one of: {', '.join(SERVICE_TYPES)}"
        )
    if not str(fields.get("name", "")).strip():
        raise CatalogError("a service needs a name")
    if int(fields["rate"]) <= 0:
        raise CatalogError(f"service {fields['name']!r}: the rate must be above zero")
    if not 1 <= int(fields["min_quantity"]) <= int(fields["max_quantity"]):
        raise CatalogError(f"service {fields['name']!r}: need 1 <= min <= max")


async def create_service(conn: AsyncConnection, category_id: int, **fields: object) -> int:
    check_service(fields)
    service_id = await conn.scalar(
        insert(services).values(category_id=category_id, **fields).returning(services.c.id)
    )
    await bump_catalog_version(conn)
    return service_id


async def set_service_enabled(conn: AsyncConnection, service_id: int, enabled: bool) -> bool:
    """Put a service on offer or take it off; False if it already was so.

    The catalogue version moves on, so the API's cached `services` reply is rebuilt.
    """
    was_enabled = await conn.scalar(select(services.c.enabled).where(services.c.id == service_id))
    if was_enabled is None:
        raise CatalogError(f"no service {service_id}: `smmpanel catalog export` lists the ids")
    if was_enabled == enabled:
        return False
    await conn.execute(update(services).where(services.c.id == service_id).values(enabled=enabled))
    await bump_catalog_version(conn)
    return True


async def set_customer_price(
    conn: AsyncConnection, customer_id: int, service_id: int, rate: int | None
) -> None:
    """A customer's own rate for a service; None returns them to the list price."""
    await conn.execute(
        customer_prices.delete().where(
            customer_prices.c.customer_id == customer_id,
            customer_prices.c.service_id == service_id,
        )
    )
    if rate is not None:
        if rate <= 0:
            raise CatalogError("a custom rate must be above zero")
        await conn.execute(
            insert(customer_prices).values(
                customer_id=customer_id, service_id=service_id, rate=rate
            )
        )
    await bump_catalog_version(conn)


async def orderable_service(
    conn: AsyncConnection, service_id: int, customer_id: int
) -> OrderableService | None:
    custom_rate = (
        select(customer_prices.c.rate)
        .where(
            customer_prices.c.customer_id == customer_id,
            customer_prices.c.service_id == services.c.id,
        )
        .scalar_subquery()
    )
    row = (
        await conn.execute(
            select(
                services.c.id,
                services.c.type,
                custom_rate.label("custom_rate"),
                services.c.rate,
                services.c.min_quantity,
                services.c.max_quantity,
                services.c.dripfeed,
                services.c.refill,
                services.c.cancel,
                services.c.refill_days,
                services.c.fulfilment,
                services.c.provider_id,
                services.c.upstream_dripfeed,
            ).where(services.c.id == service_id, services.c.enabled.is_(True))
        )
    ).first()
    if row is None:
        return None
    return OrderableService(
        id=row.id,
        type=row.type,
        rate=row.custom_rate or row.rate,
        min_quantity=row.min_quantity,
        max_quantity=row.max_quantity,
        dripfeed=row.dripfeed,
        refill=row.refill,
        cancel=row.cancel,
        refill_days=row.refill_days,
        provider_id=row.provider_id if row.fulfilment == FULFIL_PROVIDER else None,
        upstream_dripfeed=row.upstream_dripfeed,
    )


async def enabled_services(conn: AsyncConnection, customer_id: int | None) -> list:
    """Enabled services in the operator's order, with this customer's rates."""
    rate = services.c.rate
    query = select(
        services.c.id,
        services.c.name,
        categories.c.name.label("category"),
        services.c.type,
        services.c.min_quantity,
        services.c.max_quantity,
        services.c.description,
        services.c.dripfeed,
        services.c.refill,
        services.c.cancel,
    ).join(categories, categories.c.id == services.c.category_id)
    if customer_id is not None:
        query = query.outerjoin(
            customer_prices,
            (customer_prices.c.service_id == services.c.id)
            & (customer_prices.c.customer_id == customer_id),
        )
        rate = func.coalesce(customer_prices.c.rate, services.c.rate)
    query = query.add_columns(rate.label("rate")).where(services.c.enabled.is_(True))
    query = query.order_by(
        categories.c.position, categories.c.id, services.c.position, services.c.id
    )
    return list((await conn.execute(query)).all())


async def find_service(conn: AsyncConnection, service_id: int):  # type: ignore[no-untyped-def]
    """A service's id, name and list rate, enabled or not; refused if there is none."""
    row = (
        await conn.execute(
            select(services.c.id, services.c.name, services.c.rate).where(
                services.c.id == service_id
            )
        )
    ).first()
    if row is None:
        raise CatalogError(f"no service {service_id}: see `smmpanel catalog export`")
    return row


async def custom_rate(conn: AsyncConnection, customer_id: int, service_id: int) -> int | None:
    return await conn.scalar(
        select(customer_prices.c.rate).where(
            customer_prices.c.customer_id == customer_id,
            customer_prices.c.service_id == service_id,
        )
    )
