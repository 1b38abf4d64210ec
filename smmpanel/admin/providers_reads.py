"""What the provider pages read beyond providers.service: never the API key."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import services
from smmpanel.providers.models import providers

SETTINGS = (
    providers.c.id,
    providers.c.name,
    providers.c.api_url,
    providers.c.timeout_seconds,
    providers.c.enabled,
    providers.c.balance_checked_at,
)


async def provider_settings(conn: AsyncConnection, provider_id: int):  # type: ignore[no-untyped-def]
    """A provider's address, timeout and switch; None if there is no such provider."""
    query = select(*SETTINGS).where(providers.c.id == provider_id)
    return (await conn.execute(query)).first()


async def every_provider_settings(conn: AsyncConnection) -> dict[int, object]:
    rows = await conn.execute(select(*SETTINGS))
    return {row.id: row for row in rows}


async def imported_services(conn: AsyncConnection, provider_id: int) -> dict[str, int]:
    """Our services with an upstream id at this provider: upstream id -> our id."""
    rows = await conn.execute(
        select(services.c.provider_service_id, services.c.id).where(
            services.c.provider_id == provider_id, services.c.provider_service_id.is_not(None)
        )
    )
    return {upstream_id: service_id for upstream_id, service_id in rows}
