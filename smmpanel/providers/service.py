"""Providers: adding, editing, disabling, and what the worker needs to reach them."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import FULFIL_PROVIDER, services
from smmpanel.db.base import AnyRow, as_utc, utcnow
from smmpanel.errors import N_, check_fits, refusal
from smmpanel.integers import typed_id
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import ALL_FINISHED
from smmpanel.providers.models import DEFAULT_TIMEOUT_SECONDS, providers

MIN_TIMEOUT, MAX_TIMEOUT = 1, 300
MIN_SYNC_HOURS, MAX_SYNC_HOURS = 1, 720  # an hour to a month between catalogue syncs

NO_PROVIDER = refusal("no_provider", "no provider %(ref)r: see `smmpanel provider list`")
NOT_AN_API_URL = refusal(
    "provider_url_not_http", "%(url)r is not an http(s) URL; give the panel's API v2 address"
)
TIMEOUT_OUT_OF_RANGE = refusal(
    "provider_timeout_out_of_range", "the timeout must be %(low)s to %(high)s seconds"
)
SYNC_HOURS_OUT_OF_RANGE = refusal(
    "provider_sync_hours_out_of_range",
    "the catalogue is synced every %(low)s to %(high)s hours; %(hours)s is out of range",
)
PROVIDER_NEEDS_NAME_AND_KEY = refusal(
    "provider_needs_name_and_key", "a provider needs a name and the API key its panel gave you"
)
PROVIDER_NAME_TAKEN = refusal("provider_name_taken", "a provider named %(name)r exists already")
EMPTY_KEY = refusal(
    "provider_key_empty", "the key is empty; give the API key the provider's panel shows"
)
NOTHING_TO_CHANGE = refusal("provider_nothing_to_change", "nothing to change")
STILL_FORWARDED_TO = refusal(
    "provider_archive_services_forwarded",
    "%(name)s cannot be archived: %(count)s enabled services are forwarded to it (or fall back"
    " to it). Disable them or forward them to another provider first",
)
ORDERS_STILL_THERE = refusal(
    "provider_archive_orders_in_progress",
    "%(name)s cannot be archived: %(count)s orders are still in progress there."
    " Wait until they finish, or settle them by hand, first",
)
ARCHIVED = refusal(
    "provider_archived", "%(name)s is archived: take it out of the archive to enable it"
)


@dataclass(frozen=True)
class ProviderStats:
    id: int
    name: str
    enabled: bool
    sent: int
    rejected: int
    in_doubt: int
    polled: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    paused_until: datetime | None
    balance: int | None
    balance_currency: str | None
    synced_at: datetime | None = None
    sync_hours: int | None = None
    balance_alert_below: int | None = None
    archived_at: datetime | None = None

    @property
    def below_threshold(self) -> bool:
        """The balance last read is under the provider's alert threshold."""
        threshold, balance = self.balance_alert_below, self.balance
        return threshold is not None and balance is not None and balance < threshold

    @property
    def failing(self) -> bool:
        """Its last error came after its last success (or it never succeeded)."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or as_utc(self.last_error_at) > as_utc(
            self.last_success_at
        )


def _check_url(api_url: str) -> None:
    if not api_url.startswith(("http://", "https://")):
        raise NOT_AN_API_URL(url=api_url)


def _check_timeout(timeout: int) -> None:
    if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        raise TIMEOUT_OUT_OF_RANGE(low=MIN_TIMEOUT, high=MAX_TIMEOUT)


def _check_sync_hours(hours: int) -> None:
    if not MIN_SYNC_HOURS <= hours <= MAX_SYNC_HOURS:
        raise SYNC_HOURS_OUT_OF_RANGE(low=MIN_SYNC_HOURS, high=MAX_SYNC_HOURS, hours=hours)


async def add_provider(
    conn: AsyncConnection,
    name: str,
    api_url: str,
    api_key: str,
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
) -> int:
    name, api_url, api_key = name.strip(), api_url.strip(), api_key.strip()
    if not name or not api_key:
        raise PROVIDER_NEEDS_NAME_AND_KEY()
    _check_url(api_url)
    _check_timeout(timeout_seconds)
    for column, value, label in (
        (providers.c.name, name, N_("the name")),
        (providers.c.api_url, api_url, N_("the URL")),
        (providers.c.api_key, api_key, N_("the key")),
    ):
        check_fits(column, value, label)
    if await conn.scalar(select(providers.c.id).where(providers.c.name == name)) is not None:
        raise PROVIDER_NAME_TAKEN(name=name)
    return await conn.scalar(
        insert(providers)
        .values(
            name=name,
            api_url=api_url,
            api_key=api_key,
            timeout_seconds=timeout_seconds,
            created_at=utcnow(),
        )
        .returning(providers.c.id)
    )


async def edit_provider(
    conn: AsyncConnection,
    provider_id: int,
    *,
    api_url: str | None = None,
    api_key: str | None = None,
    timeout_seconds: int | None = None,
    enabled: bool | None = None,
    sync_hours: int | None = None,
) -> None:
    values: dict[str, object] = {}
    if api_url is not None:
        _check_url(api_url.strip())
        check_fits(providers.c.api_url, api_url.strip(), N_("the URL"))
        values["api_url"] = api_url.strip()
    if api_key is not None:
        if not api_key.strip():
            raise EMPTY_KEY()
        check_fits(providers.c.api_key, api_key.strip(), N_("the key"))
        values["api_key"] = api_key.strip()
    if timeout_seconds is not None:
        _check_timeout(timeout_seconds)
        values["timeout_seconds"] = timeout_seconds
    if enabled is not None:
        if enabled:
            await _refuse_if_archived(conn, provider_id)
        values["enabled"] = enabled
    if sync_hours is not None:
        _check_sync_hours(sync_hours)
        values["sync_hours"] = sync_hours
    if not values:
        raise NOTHING_TO_CHANGE()
    result = await conn.execute(
        update(providers).where(providers.c.id == provider_id).values(**values)
    )
    if result.rowcount != 1:
        raise NO_PROVIDER(ref=provider_id)


async def find_provider(conn: AsyncConnection, ref: str) -> int:
    """A provider by id or name."""
    given_id = typed_id(ref)
    provider_id = await conn.scalar(
        select(providers.c.id).where(
            providers.c.name == ref if given_id is None else providers.c.id == given_id
        )
    )
    if provider_id is None:
        raise NO_PROVIDER(ref=ref)
    return provider_id


async def provider_stats(
    conn: AsyncConnection, *, with_archived: bool = True
) -> list[ProviderStats]:
    query = select(
        providers.c.id,
        providers.c.name,
        providers.c.enabled,
        providers.c.sent_count,
        providers.c.rejected_count,
        providers.c.in_doubt_count,
        providers.c.polled_count,
        providers.c.last_error,
        providers.c.last_error_at,
        providers.c.last_success_at,
        providers.c.paused_until,
        providers.c.balance,
        providers.c.balance_currency,
        providers.c.synced_at,
        providers.c.sync_hours,
        providers.c.balance_alert_below,
        providers.c.archived_at,
    ).order_by(providers.c.id)
    if not with_archived:
        query = query.where(providers.c.archived_at.is_(None))
    return [ProviderStats(*tuple(row)) for row in await conn.execute(query)]


async def record_outcome(
    conn: AsyncConnection,
    provider_id: int,
    *,
    sent: int = 0,
    rejected: int = 0,
    in_doubt: int = 0,
    polled: int = 0,
    error: str | None = None,
    success: bool = False,
) -> None:
    """Count what a batch did with one provider, and note its last error or success."""
    now = utcnow()
    values: dict[str, object] = {
        "sent_count": providers.c.sent_count + sent,
        "rejected_count": providers.c.rejected_count + rejected,
        "in_doubt_count": providers.c.in_doubt_count + in_doubt,
        "polled_count": providers.c.polled_count + polled,
    }
    if error is not None:
        values.update(last_error=error[:1000], last_error_at=now)
    if success:
        values["last_success_at"] = now
    await conn.execute(update(providers).where(providers.c.id == provider_id).values(**values))


async def pause_provider(
    conn: AsyncConnection, provider_id: int, until: datetime, why: str
) -> None:
    await conn.execute(
        update(providers)
        .where(providers.c.id == provider_id)
        .values(paused_until=until, last_error=why[:1000], last_error_at=utcnow())
    )


# ---- archiving: out of the way, kept for the orders that name it


async def archive_provider(conn: AsyncConnection, provider_id: int) -> None:
    """Archived and disabled: never sent to, synced or polled again. Refused while a service
    on offer forwards to it or an order is still in progress there."""
    name = await _name(conn, provider_id)
    forwarded = await conn.scalar(
        select(func.count())
        .select_from(services)
        .where(
            services.c.enabled.is_(True),
            services.c.deleted_at.is_(None),
            or_(
                (services.c.provider_id == provider_id)
                & (services.c.fulfilment == FULFIL_PROVIDER),
                services.c.fallback_provider_id == provider_id,
            ),
        )
    )
    if forwarded:
        raise STILL_FORWARDED_TO(name=name, count=forwarded)
    unfinished = await conn.scalar(
        select(func.count())
        .select_from(orders)
        .where(orders.c.provider_id == provider_id, orders.c.status.not_in(ALL_FINISHED))
    )
    if unfinished:
        raise ORDERS_STILL_THERE(name=name, count=unfinished)
    await conn.execute(
        update(providers)
        .where(providers.c.id == provider_id)
        .values(archived_at=utcnow(), enabled=False)
    )


async def unarchive_provider(conn: AsyncConnection, provider_id: int) -> None:
    """Back in the list, still disabled: the operator enables it when it is ready."""
    await _name(conn, provider_id)
    await conn.execute(
        update(providers).where(providers.c.id == provider_id).values(archived_at=None)
    )


async def _name(conn: AsyncConnection, provider_id: int) -> str:
    name = await conn.scalar(select(providers.c.name).where(providers.c.id == provider_id))
    if name is None:
        raise NO_PROVIDER(ref=provider_id)
    return str(name)


async def _refuse_if_archived(conn: AsyncConnection, provider_id: int) -> None:
    row = (
        await conn.execute(
            select(providers.c.name, providers.c.archived_at).where(providers.c.id == provider_id)
        )
    ).first()
    if row is not None and row.archived_at is not None:
        raise ARCHIVED(name=row.name)


# ---- what the operator's pages read: never the API key

_SETTINGS = (
    providers.c.id,
    providers.c.name,
    providers.c.api_url,
    providers.c.timeout_seconds,
    providers.c.enabled,
    providers.c.sync_hours,
    providers.c.balance_checked_at,
    providers.c.archived_at,
)


async def provider_settings(conn: AsyncConnection, provider_id: int) -> AnyRow | None:
    """A provider's address, timeout and switch; None if there is no such provider."""
    query = select(*_SETTINGS).where(providers.c.id == provider_id)
    return (await conn.execute(query)).first()


async def every_provider_settings(conn: AsyncConnection) -> dict[int, AnyRow]:
    rows = await conn.execute(select(*_SETTINGS))
    return {row.id: row for row in rows}


async def imported_services(conn: AsyncConnection, provider_id: int) -> dict[str, int]:
    """Our services with an upstream id at this provider: upstream id -> our id."""
    rows = await conn.execute(
        select(services.c.provider_service_id, services.c.id).where(
            services.c.provider_id == provider_id, services.c.provider_service_id.is_not(None)
        )
    )
    return {upstream_id: service_id for upstream_id, service_id in rows}
