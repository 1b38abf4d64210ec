"""A service fulfilled by hand handed to a provider's service, and taken back by hand.

Only new orders follow: each order keeps the fulfilment it was placed with (orders.provider_id),
so those placed before stay by hand, or forwarded.
"""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import FULFIL_MANUAL, FULFIL_PROVIDER, services
from smmpanel.catalog.service import NO_SERVICE, SERVICE_DELETED, bump_catalog_version
from smmpanel.db import Database
from smmpanel.db.base import AnyRow
from smmpanel.db.dialect import locked
from smmpanel.errors import Refusal, refusal
from smmpanel.providers.catalog_sync import Provider, advice, load_provider
from smmpanel.providers.client import UpstreamClient, UpstreamError
from smmpanel.providers.listing import UpstreamService, read_id, read_listing
from smmpanel.providers.models import providers
from smmpanel.providers.pricing import cost_micros

PROVIDER_DISABLED = refusal(
    "mapping_provider_disabled",
    "provider %(provider)s is disabled: enable it first, or choose another provider",
)
UPSTREAM_SERVICE_NOT_LISTED = refusal(
    "mapping_not_listed",
    "provider %(provider)s does not list a usable service %(upstream)s:"
    " check the id in its list of services",
)
UPSTREAM_TYPE_DIFFERS = refusal(
    "mapping_type_differs",
    "service %(upstream)s of provider %(provider)s is of the type %(theirs)s, ours of the type"
    " %(ours)s: choose a service of the same type",
)
UPSTREAM_LIMITS_NARROWER = refusal(
    "mapping_limits_narrower",
    "service %(upstream)s of provider %(provider)s takes %(min)s to %(max)s, narrower than"
    " ours (%(our_min)s to %(our_max)s): choose another service, or narrow ours first",
)
ALREADY_FORWARDED = refusal(
    "mapping_already_forwarded",
    "service %(id)s is forwarded to a provider already: fulfil it by hand first",
)
UPSTREAM_SERVICE_TAKEN = refusal(
    "mapping_upstream_taken",
    "our service %(owner)s resells service %(upstream)s of provider %(provider)s already;"
    " one service per upstream service",
)


async def ask_provider(
    db: Database, client: UpstreamClient, service_id: int, provider_id: int, upstream_id: str
) -> tuple[Provider, UpstreamService]:
    """The provider and its listed service the operator chose, asked outside any transaction
    (with the provider's timeout); refused if either cannot take the service's orders."""
    provider = await load_provider(db, provider_id)
    async with db.read() as conn:
        if not await conn.scalar(select(providers.c.enabled).where(providers.c.id == provider_id)):
            raise PROVIDER_DISABLED(provider=provider.name)
        _check_by_hand(service_id, await _service(conn, service_id))
    return provider, await _listed(client, provider, upstream_id)


async def _listed(client: UpstreamClient, provider: Provider, upstream_id: str) -> UpstreamService:
    try:
        wanted = read_id(upstream_id)
    except Refusal:
        raise UPSTREAM_SERVICE_NOT_LISTED(provider=provider.name, upstream=upstream_id) from None
    try:
        entries = await client.services(provider.endpoint)
    except UpstreamError as exc:
        raise advice(provider, exc) from None
    entry = read_listing(entries).services.get(wanted)
    if entry is None:
        raise UPSTREAM_SERVICE_NOT_LISTED(provider=provider.name, upstream=wanted)
    return entry


async def forward(
    conn: AsyncConnection, service_id: int, provider: Provider, entry: UpstreamService
) -> None:
    """New orders of the service go to the provider's `entry`; checked again, the service
    locked, as `ask_provider` may have seen it before a change."""
    service = await _service(conn, service_id, lock=True)
    _check_by_hand(service_id, service)
    _check_fits(service, provider, entry)
    forwarded = (
        update(services)
        .where(services.c.id == service_id)
        .values(
            fulfilment=FULFIL_PROVIDER,
            provider_id=provider.id,
            provider_service_id=entry.id,
            upstream_rate=cost_micros(entry.rate),
            upstream_dripfeed=entry.dripfeed,
        )
    )
    # The unique key (provider, upstream service) decides, in a savepoint so that the refusal
    # leaves the transaction usable.
    try:
        async with conn.begin_nested():
            await conn.execute(forwarded)
    except IntegrityError:
        raise await _taken(conn, provider, entry) from None
    await bump_catalog_version(conn)


def _check_by_hand(service_id: int, service: AnyRow) -> None:
    if service.fulfilment != FULFIL_MANUAL:
        raise ALREADY_FORWARDED(id=service_id)


def _check_fits(service: AnyRow, provider: Provider, entry: UpstreamService) -> None:
    """The upstream must take every order ours takes: same type, limits at least as wide."""
    names = {"provider": provider.name, "upstream": entry.id}
    if entry.type != service.type:
        raise UPSTREAM_TYPE_DIFFERS(**names, theirs=entry.type, ours=service.type)
    if entry.min_quantity > service.min_quantity or entry.max_quantity < service.max_quantity:
        raise UPSTREAM_LIMITS_NARROWER(
            **names,
            min=entry.min_quantity,
            max=entry.max_quantity,
            our_min=service.min_quantity,
            our_max=service.max_quantity,
        )


async def _taken(conn: AsyncConnection, provider: Provider, entry: UpstreamService) -> Refusal:
    owner = await conn.scalar(
        select(services.c.id).where(
            services.c.provider_id == provider.id, services.c.provider_service_id == entry.id
        )
    )
    return UPSTREAM_SERVICE_TAKEN(owner=owner, upstream=entry.id, provider=provider.name)


async def fulfil_by_hand(conn: AsyncConnection, service_id: int) -> bool:
    """New orders of the service are left to the operator; False if they were already."""
    service = await _service(conn, service_id, lock=True)
    if service.fulfilment == FULFIL_MANUAL:
        return False
    await conn.execute(
        update(services)
        .where(services.c.id == service_id)
        .values(
            fulfilment=FULFIL_MANUAL,
            provider_id=None,
            provider_service_id=None,
            upstream_rate=None,
            upstream_dripfeed=False,
            fallback_provider_id=None,
            fallback_provider_service_id=None,
        )
    )
    await bump_catalog_version(conn)
    return True


async def _service(conn: AsyncConnection, service_id: int, lock: bool = False) -> AnyRow:
    """What the mapping checks of a service; refused if there is none, or it is deleted."""
    query = select(
        services.c.type,
        services.c.min_quantity,
        services.c.max_quantity,
        services.c.fulfilment,
        services.c.deleted_at,
    ).where(services.c.id == service_id)
    service = (await conn.execute(locked(conn, query) if lock else query)).first()
    if service is None:
        raise NO_SERVICE(id=service_id)
    if service.deleted_at is not None:
        raise SERVICE_DELETED(id=service_id)
    return service
