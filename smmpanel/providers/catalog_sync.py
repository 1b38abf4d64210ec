"""Importing an upstream's catalogue into ours, keeping it in step, and checking balances.

The upstream is asked outside any transaction; its answer is then applied in one, with the
provider's row locked, so two workers (or a worker and the operator) apply one at a time. Every
comparison is made inside that transaction: applying the same answer twice changes nothing.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import FULFIL_PROVIDER, services
from smmpanel.catalog.service import bump_catalog_version, check_service
from smmpanel.catalog.transfer import category_ids_for
from smmpanel.db import Database
from smmpanel.db.base import MAX_INT64, AnyRow, as_utc, utcnow
from smmpanel.db.dialect import locked, one_of
from smmpanel.errors import Refusal, refusal
from smmpanel.money import render_rate, to_micros
from smmpanel.panel.rates import NO_EXCHANGE_RATE, conversion, is_currency_code
from smmpanel.providers.alerts import SYNC, alert_if_below_threshold, count_failure, count_success
from smmpanel.providers.client import Endpoint, Rejected, Unreachable, UpstreamClient, UpstreamError
from smmpanel.providers.listing import Listing, Skipped, UpstreamService, read_listing
from smmpanel.providers.models import providers, service_changes
from smmpanel.providers.pricing import PriceRule, cost_micros
from smmpanel.providers.service import NO_PROVIDER, record_outcome

__all__ = [
    "CURRENCY_REFUSALS",
    "ImportSummary",
    "Landing",
    "PriceRule",
    "SyncSummary",
    "advice",
    "check_balance",
    "exchange_factor",
    "import_services",
    "saved_rule",
    "sync_due_providers",
    "sync_provider",
]

log = logging.getLogger("smmpanel.catalog_sync")

Progress = Callable[[int, int], None]  # (done, total)

# The `upstream` field of service_changes tells whether the upstream still lists a service.
LISTED, GONE, BACK = "listed", "gone", "back"
KEY_WORDS = ("key", "auth", "token")
MAX_CURRENCY_LENGTH = 3
SYNC_CONCURRENCY = 4  # providers synced at once: each holds a database connection a while
# Services an import writes at once (a few statements each), and reports progress after.
IMPORT_BATCH = 500

# What the upstream decides about a service we resell: change-log field -> column.
TRACKED = {
    "type": "type",
    "rate": "rate",
    "upstream_rate": "upstream_rate",
    "min": "min_quantity",
    "max": "max_quantity",
    "refill": "refill",
    "cancel": "cancel",
    "upstream_dripfeed": "upstream_dripfeed",
}
RATE_COLUMNS = ("rate", "upstream_rate")
# The change-log label of a service new to the catalogue, with its rate (customers' "Updates").
ADDED = "added"

# What went wrong with an upstream call, and what the operator can do about it.
UPSTREAM_UNREACHABLE = refusal(
    "provider_unreachable",
    "cannot reach provider %(name)s (%(url)s): %(problem)s."
    " Check the URL (`smmpanel provider edit %(ref)s --url URL`)"
    " and this machine's network, then try again",
)
UPSTREAM_REFUSED_KEY = refusal(
    "provider_refused_key",
    "provider %(name)s (%(url)s) refused our API key (%(problem)s)."
    " Set the key its panel gave you: `smmpanel provider edit %(ref)s --key KEY`",
)
UPSTREAM_ANSWERED_ERROR = refusal(
    "provider_answered_error",
    "provider %(name)s (%(url)s) answered with an error: %(problem)s."
    " Check your account on that panel",
)
UPSTREAM_NO_USABLE_ANSWER = refusal(
    "provider_no_usable_answer",
    "provider %(name)s (%(url)s) gave no usable answer (%(problem)s)."
    " Check that the URL is its API v2 address, or allow it more time"
    " (`smmpanel provider edit %(ref)s --timeout 60`), then try again",
)
LIST_UNAVAILABLE = refusal("provider_list_unavailable", "%(advice)s; nothing changed")
NO_USABLE_SERVICES = refusal(
    "provider_no_usable_services",
    "provider %(name)s listed no usable services (%(count)s entries); nothing changed."
    " If it really offers nothing now, disable its services by hand",
)
CURRENCY_UNAVAILABLE = refusal(
    "provider_currency_unavailable", "asked for its currency: %(advice)s; nothing changed"
)
PROVIDER_CURRENCY_UNKNOWN = refusal(
    "provider_currency_unknown",
    "provider %(name)s does not say which currency it charges in (its balance reply names"
    " %(said)r, not a currency code of ISO 4217), so its rates cannot be converted to the"
    " panel's currency; nothing changed",
)
# The operator's to set right here (an exchange rate), not the provider's trouble.
CURRENCY_REFUSALS = (NO_EXCHANGE_RATE, PROVIDER_CURRENCY_UNKNOWN)
IMPLAUSIBLE_BALANCE = refusal(
    "provider_implausible_balance", "provider %(name)s reported an implausible balance %(amount)s"
)
# Why one upstream service was left out of an import or a sync.
NOT_LISTED = refusal("upstream_entry_not_listed", "not in the upstream's list")
FULFILLED_BY_HAND = refusal(
    "upstream_entry_fulfilled_by_hand",
    "our service %(id)s has this upstream id but is fulfilled by hand; left alone",
)
RATE_TOO_LARGE_TO_SELL = refusal(
    "upstream_entry_rate_too_large", "rate %(rate)s is too large to sell"
)
DELETED_HERE = refusal(
    "upstream_entry_deleted_here", "our service %(id)s of this upstream id is deleted; left alone"
)


@dataclass(frozen=True)
class Provider:
    id: int
    name: str
    endpoint: Endpoint
    rule: PriceRule
    currency: str | None = None  # as its last balance reply named it


@dataclass(frozen=True)
class Landing:
    """Where the services an import creates land: off offer for the operator to review first,
    and in one category of ours instead of each in the provider's category."""

    disabled: bool = False
    category_id: int | None = None


@dataclass
class ImportSummary:
    provider: str
    rule: PriceRule
    listed: int = 0
    created: int = 0
    updated: int = 0
    changes: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    service_ids: dict[str, int] = field(default_factory=dict)  # upstream id -> our id


@dataclass
class SyncSummary:
    provider: str
    listed: int = 0
    checked: int = 0  # our services of this provider
    changed: int = 0  # of which changed
    changes: int = 0  # rows written to the change log
    disabled: int = 0  # gone upstream, disabled now
    back: int = 0  # listed again upstream, left disabled for the operator
    not_imported: int = 0
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Balance:
    provider: str
    micros: int
    currency: str


# ---- import


async def import_services(
    db: Database,
    client: UpstreamClient,
    provider_id: int,
    rule: PriceRule | None = None,
    only_ids: Iterable[str | int] | None = None,
    progress: Progress | None = None,
    landing: Landing = Landing(),
) -> ImportSummary:
    """Create our services from the upstream's list, or update those imported before.

    `rule` left out means the provider's saved rule; the rule used is saved on the provider.
    `landing` places the services created; those imported before stay where they are.
    """
    provider = await load_provider(db, provider_id)
    rule = rule or provider.rule
    currency = await provider_currency(db, client, provider)
    entries = await _fetch_services(client, provider)
    listing = read_listing(entries)
    chosen, skipped = _choose(listing, only_ids)
    summary = ImportSummary(provider.name, rule, listed=len(entries), skipped=skipped)
    async with db.write() as conn:
        await lock_provider(conn, provider.id)
        factor = (await conversion(conn)).factor(currency)
        states = await _upstream_states(conn, provider.id)
        writer = CatalogWriter(conn, provider.id, rule, factor, states, landing=landing)
        ours = {row.provider_service_id: row for row in await _services_of(conn, provider.id)}
        for start in range(0, len(chosen), IMPORT_BATCH):
            batch = chosen[start : start + IMPORT_BATCH]
            for entry in batch:
                _import_one(writer, entry, ours.get(entry.id), summary)
            summary.service_ids.update(await writer.write())
            if progress is not None:
                progress(start + len(batch), len(chosen))
        summary.changes = await writer.save_changes()
        await conn.execute(
            update(providers).where(providers.c.id == provider.id).values(price_rule=rule.to_json())
        )
        await bump_catalog_version(conn)
    return summary


def _choose(
    listing: Listing, only_ids: Iterable[str | int] | None
) -> tuple[list[UpstreamService], list[Skipped]]:
    if only_ids is None:
        return list(listing.services.values()), list(listing.skipped)
    wanted = dict.fromkeys(str(service_id).strip() for service_id in only_ids)
    chosen = [listing.services[i] for i in wanted if i in listing.services]
    skipped = [entry for entry in listing.skipped if entry.ref in wanted]
    unlisted = set(wanted) - set(listing.services) - listing.unreadable_ids
    skipped += [Skipped(i, NOT_LISTED()) for i in wanted if i in unlisted]
    return chosen, skipped


def _import_one(
    writer: "CatalogWriter",
    entry: UpstreamService,
    ours: AnyRow | None,
    summary: ImportSummary,
) -> None:
    """Create our service of this upstream service, or update the one there is (never two);
    written at the writer's next `write`."""
    if ours is not None and ours.fulfilment != FULFIL_PROVIDER:
        summary.skipped.append(Skipped(entry.id, FULFILLED_BY_HAND(id=ours.id)))
        return
    if ours is not None and ours.deleted_at is not None:
        summary.skipped.append(Skipped(entry.id, DELETED_HERE(id=ours.id)))
        return
    try:
        if ours is None:
            writer.create(entry)
            summary.created += 1
            return
        writer.update(ours, entry)
        writer.note_listed(ours)
    except Refusal as unusable:
        summary.skipped.append(Skipped(entry.id, unusable))
        return
    summary.service_ids[entry.id] = ours.id
    summary.updated += 1


# ---- sync


async def sync_provider(db: Database, client: UpstreamClient, provider_id: int) -> SyncSummary:
    """Bring our services of this provider in line with its list, re-priced by the saved rule.

    A service gone upstream is disabled, never deleted and never re-priced; one listed again
    stays disabled, and the change log says so for the operator.
    """
    provider = await load_provider(db, provider_id)
    currency = await provider_currency(db, client, provider)
    entries = await _fetch_services(client, provider)
    listing = read_listing(entries)
    if not listing.services:
        raise NO_USABLE_SERVICES(name=provider.name, count=len(entries))
    summary = SyncSummary(provider.name, listed=len(entries), skipped=list(listing.skipped))
    async with db.write() as conn:
        await lock_provider(conn, provider.id)
        rule = await saved_rule(conn, provider.id)
        factor = (await conversion(conn)).factor(currency)
        states = await _upstream_states(conn, provider.id)
        writer = CatalogWriter(conn, provider.id, rule, factor, states)
        ours = await _resold_services(conn, provider.id)
        for row in ours:
            _sync_one(writer, row, listing, summary)
        await writer.write()
        summary.checked = len(ours)
        summary.not_imported = len(set(listing.services) - {r.provider_service_id for r in ours})
        summary.changes = await writer.save_changes()
        await conn.execute(
            update(providers).where(providers.c.id == provider.id).values(synced_at=writer.now)
        )
        await count_success(conn, provider.id)
        if summary.changes:
            await bump_catalog_version(conn)
    return summary


def _sync_one(writer: "CatalogWriter", row: AnyRow, listing: Listing, summary: SyncSummary) -> None:
    noted = len(writer.changes)
    entry = listing.services.get(row.provider_service_id)
    if entry is not None:
        try:
            writer.update(row, entry)
        except Refusal as unusable:
            summary.skipped.append(Skipped(entry.id, unusable))
        summary.back += writer.note_listed(row)
    elif row.provider_service_id not in listing.unreadable_ids:
        summary.disabled += writer.disable_gone(row)
    summary.changed += len(writer.changes) > noted


async def sync_due_providers(db: Database, client: UpstreamClient) -> int:
    """Sync every enabled provider whose last sync is older than its sync_hours; how many did."""
    due = await due_providers(db, utcnow())
    limit = asyncio.Semaphore(SYNC_CONCURRENCY)

    async def sync(provider_id: int) -> int:
        async with limit:
            return await _sync_and_log(db, client, provider_id)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(sync(provider_id)) for provider_id in due]
    return sum(task.result() for task in tasks)


async def due_providers(db: Database, now: datetime) -> list[int]:
    resold = exists().where(
        services.c.provider_id == providers.c.id, services.c.fulfilment == FULFIL_PROVIDER
    )
    async with db.read() as conn:
        rows = await conn.execute(
            select(providers.c.id, providers.c.sync_hours, providers.c.synced_at)
            .where(providers.c.enabled.is_(True), resold)
            .order_by(providers.c.id)
        )
        return [row.id for row in rows if _is_due(row.sync_hours, row.synced_at, now)]


def _is_due(sync_hours: int, synced_at: datetime | None, now: datetime) -> bool:
    if sync_hours <= 0:  # automatic sync switched off
        return False
    return synced_at is None or as_utc(synced_at) + timedelta(hours=sync_hours) <= now


def _cause(refused: Refusal) -> str:
    """What went wrong, as the pages show it beside the provider: the upstream's problem
    where the refusal names one, without the command-line advice of its full text."""
    advice = refused.params.get("advice")  # LIST_UNAVAILABLE wraps the refusal that says why
    if isinstance(advice, Refusal):
        return _cause(advice)
    problem = refused.params.get("problem")
    return str(problem) if problem is not None else str(refused)


async def _sync_and_log(db: Database, client: UpstreamClient, provider_id: int) -> int:
    try:
        summary = await sync_provider(db, client, provider_id)
    except Refusal as exc:
        log.warning("catalogue sync failed", extra={"provider_id": provider_id, "why": str(exc)})
        async with db.write() as conn:
            await record_outcome(conn, provider_id, error=f"catalogue sync: {_cause(exc)}")
            await count_failure(conn, provider_id, SYNC, str(exc), utcnow())
        return 0
    log.info(
        "catalogue synced",
        extra={
            "provider_id": provider_id,
            "changes": summary.changes,
            "disabled": summary.disabled,
            "back": summary.back,
            "skipped": len(summary.skipped),
        },
    )
    return 1


# ---- balance


async def check_balance(db: Database, client: UpstreamClient, provider_id: int) -> Balance:
    """Ask the upstream for our balance there, and keep it on the provider."""
    provider = await load_provider(db, provider_id)
    try:
        amount, currency = await client.balance(provider.endpoint)
    except UpstreamError as exc:
        raise advice(provider, exc) from None
    micros = to_micros(amount)
    if abs(micros) > MAX_INT64:
        raise IMPLAUSIBLE_BALANCE(name=provider.name, amount=amount)
    currency = currency.strip().upper()
    async with db.write() as conn:
        await conn.execute(
            update(providers)
            .where(providers.c.id == provider.id)
            .values(
                balance=micros,
                balance_currency=currency if len(currency) <= MAX_CURRENCY_LENGTH else None,
                balance_checked_at=utcnow(),
            )
        )
        await alert_if_below_threshold(conn, provider.id, utcnow())
    return Balance(provider.name, micros, currency)


async def refresh_due_balances(db: Database, client: UpstreamClient, every: timedelta) -> int:
    """Check the balance of each enabled provider not checked for `every`, so the operator's
    dashboard shows a recent one; how many were checked. A failed check is logged and left
    for the next round."""
    stale_before = utcnow() - every
    async with db.read() as conn:
        due = await conn.scalars(
            select(providers.c.id)
            .where(
                providers.c.enabled.is_(True),
                (providers.c.balance_checked_at.is_(None))
                | (providers.c.balance_checked_at < stale_before),
            )
            .order_by(providers.c.id)
        )
        provider_ids = list(due)
    checked = 0
    for provider_id in provider_ids:
        try:
            await check_balance(db, client, provider_id)
            checked += 1
        except Refusal as exc:
            log.warning("balance check failed", extra={"provider_id": provider_id, "why": str(exc)})
    return checked


# ---- the provider and its upstream


async def load_provider(db: Database, provider_id: int) -> Provider:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(
                    providers.c.name,
                    providers.c.api_url,
                    providers.c.api_key,
                    providers.c.timeout_seconds,
                    providers.c.price_rule,
                    providers.c.balance_currency,
                ).where(providers.c.id == provider_id)
            )
        ).first()
    if row is None:
        raise NO_PROVIDER(ref=provider_id)
    endpoint = Endpoint(provider_id, row.api_url, row.api_key, row.timeout_seconds)
    rule = PriceRule.from_json(row.price_rule)
    return Provider(provider_id, row.name, endpoint, rule, row.balance_currency)


async def provider_currency(db: Database, client: UpstreamClient, provider: Provider) -> str:
    """The currency the provider lists its rates in: the one its balance reply names, asked
    now if it was never checked."""
    currency = provider.currency
    if not currency:
        try:
            currency = (await check_balance(db, client, provider.id)).currency
        except Refusal as trouble:
            raise CURRENCY_UNAVAILABLE(advice=trouble) from None
    if not is_currency_code(currency):
        raise PROVIDER_CURRENCY_UNKNOWN(name=provider.name, said=currency)
    return currency


async def exchange_factor(db: Database, client: UpstreamClient, provider: Provider) -> Decimal:
    """What one unit of the provider's currency is worth in the panel's; refused when no
    exchange rate is set for it."""
    currency = await provider_currency(db, client, provider)
    async with db.read() as conn:
        return (await conversion(conn)).factor(currency)


async def saved_rule(conn: AsyncConnection, provider_id: int) -> PriceRule:
    return PriceRule.from_json(
        await conn.scalar(select(providers.c.price_rule).where(providers.c.id == provider_id))
    )


async def lock_provider(conn: AsyncConnection, provider_id: int) -> None:
    """Hold the provider's row until commit: one import or sync of it at a time."""
    query = select(providers.c.id).where(providers.c.id == provider_id)
    query = locked(conn, query)
    if await conn.scalar(query) is None:
        raise NO_PROVIDER(ref=provider_id)


async def _fetch_services(client: UpstreamClient, provider: Provider) -> list[dict[str, Any]]:
    try:
        return await client.services(provider.endpoint)
    except UpstreamError as exc:
        raise LIST_UNAVAILABLE(advice=advice(provider, exc)) from None


def advice(provider: Provider, exc: UpstreamError) -> Refusal:
    """What went wrong with an upstream call, and what the operator can do about it."""
    if isinstance(exc, Unreachable):
        kind = UPSTREAM_UNREACHABLE
    elif isinstance(exc, Rejected) and any(word in str(exc).lower() for word in KEY_WORDS):
        kind = UPSTREAM_REFUSED_KEY
    elif isinstance(exc, Rejected):
        kind = UPSTREAM_ANSWERED_ERROR
    else:
        kind = UPSTREAM_NO_USABLE_ANSWER
    return kind(
        name=provider.name, url=provider.endpoint.api_url, problem=str(exc), ref=provider.id
    )


# ---- writing our services


async def _services_of(conn: AsyncConnection, provider_id: int) -> list[AnyRow]:
    """Our services with an upstream id at this provider, resold or (now) fulfilled by hand."""
    columns = [services.c[column] for column in TRACKED.values()]
    rows = await conn.execute(
        select(
            services.c.id,
            services.c.provider_service_id,
            services.c.enabled,
            services.c.fulfilment,
            services.c.deleted_at,
            *columns,
        )
        .where(services.c.provider_id == provider_id, services.c.provider_service_id.is_not(None))
        .order_by(services.c.id)
    )
    return list(rows)


async def _resold_services(conn: AsyncConnection, provider_id: int) -> list[AnyRow]:
    """The services a sync keeps in step: a deleted one is left as it was deleted."""
    rows = await _services_of(conn, provider_id)
    return [row for row in rows if row.fulfilment == FULFIL_PROVIDER and row.deleted_at is None]


async def _upstream_states(conn: AsyncConnection, provider_id: int) -> dict[int, str]:
    """Whether each service was last seen listed, gone or back, from the change log."""
    rows = await conn.execute(
        select(service_changes.c.service_id, service_changes.c.new_value)
        .where(service_changes.c.provider_id == provider_id, service_changes.c.field == "upstream")
        .order_by(service_changes.c.id)
    )
    return {service_id: state for service_id, state in rows}


class ServiceChange(NamedTuple):
    """One row of the change log; the names are its columns."""

    service_id: int
    provider_id: int
    field: str
    old_value: str | None
    new_value: str | None
    created_at: datetime


@dataclass
class CatalogWriter:
    """The writes of one import or sync, with the change-log rows they add.

    `create`, `update` and `disable_gone` only note what to write; `write` writes it in a few
    statements, whatever the count: one per service is what made a large import slow.
    """

    conn: AsyncConnection
    provider_id: int
    rule: PriceRule
    factor: Decimal  # one unit of the provider's currency in the panel's
    states: dict[int, str]
    changes: list[ServiceChange] = field(default_factory=list)
    category_ids: dict[str, int] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)
    new: list[tuple[str, dict[str, object]]] = field(default_factory=list)  # (category, columns)
    changed: list[dict[str, object]] = field(default_factory=list)  # UPSTREAM_SET's parameters
    gone: list[int] = field(default_factory=list)  # our services to take off offer
    landing: Landing = Landing()

    def create(self, entry: UpstreamService) -> None:
        fields = {
            **self.upstream_values(entry),
            "name": entry.name,
            "description": entry.description,
            "dripfeed": entry.dripfeed,
        }
        check_service(fields)
        columns = {
            **fields,
            "fulfilment": FULFIL_PROVIDER,
            "provider_id": self.provider_id,
            "provider_service_id": entry.id,
            "enabled": not self.landing.disabled,
        }
        self.new.append((entry.category, columns))

    def update(self, row: AnyRow, entry: UpstreamService) -> None:
        """Take what the upstream decides (price, limits, type, flags); keep what we decide."""
        values = self.upstream_values(entry)
        changed = {column for column, value in values.items() if getattr(row, column) != value}
        if not changed:
            return
        self.changed.append(
            {"service_id": row.id, **{f"new_{column}": value for column, value in values.items()}}
        )
        for label, column in TRACKED.items():
            if column in changed:
                old, new = getattr(row, column), values[column]
                self.note(row.id, label, _shown(column, old), _shown(column, new))

    def note_listed(self, row: AnyRow) -> bool:
        """A service listed again after it was gone: noted, not re-enabled."""
        if self.states.get(row.id) != GONE:
            return False
        self.note(row.id, "upstream", GONE, BACK)
        self.states[row.id] = BACK
        return True

    def disable_gone(self, row: AnyRow) -> bool:
        """Gone upstream: disabled, rate and row kept. True if it was on offer until now."""
        if self.states.get(row.id) != GONE:
            self.note(row.id, "upstream", self.states.get(row.id, LISTED), GONE)
            self.states[row.id] = GONE
        if not row.enabled:
            return False
        self.gone.append(row.id)
        self.note(row.id, "enabled", _shown("enabled", True), _shown("enabled", False))
        return True

    def upstream_values(self, entry: UpstreamService) -> dict[str, object]:
        """Ours priced by the rule from the upstream's rate in the panel's currency; its own
        rate kept as listed, in its currency."""
        try:
            rate = self.rule.price_micros(entry.rate * self.factor)
        except ValueError:
            raise RATE_TOO_LARGE_TO_SELL(rate=entry.rate) from None
        return {
            "type": entry.type,
            "rate": rate,
            "upstream_rate": cost_micros(entry.rate),
            "min_quantity": entry.min_quantity,
            "max_quantity": entry.max_quantity,
            "refill": entry.refill,
            "cancel": entry.cancel,
            "upstream_dripfeed": entry.dripfeed,
        }

    async def write(self) -> dict[str, int]:
        """Write what was noted since the last write; the new services' ids by upstream id."""
        created = await self._insert_new()
        if self.changed:
            await self.conn.execute(UPSTREAM_SET, self.changed)
        if self.gone:
            await self.conn.execute(
                update(services)
                .where(one_of(self.conn, services.c.id, self.gone))
                .values(enabled=False)
            )
        self.new, self.changed, self.gone = [], [], []
        return created

    async def _insert_new(self) -> dict[str, int]:
        if not self.new:
            return {}
        rows = [
            {"category_id": category_id, **columns}
            for category_id, (_, columns) in zip(
                await self._categories_of_new(), self.new, strict=True
            )
        ]
        inserted = await self.conn.execute(
            insert(services).returning(
                services.c.provider_service_id, services.c.id, services.c.rate
            ),
            rows,
        )
        created = {}
        for upstream_id, service_id, rate in inserted:
            created[upstream_id] = service_id
            self.note(service_id, ADDED, None, _shown("rate", rate))
        return created

    async def _categories_of_new(self) -> list[int]:
        """The category of each new service: the landing's, or ours of the provider's name."""
        if self.landing.category_id is not None:
            return [self.landing.category_id] * len(self.new)
        names = {category for category, _ in self.new} - set(self.category_ids)
        self.category_ids.update(await category_ids_for(self.conn, names))
        return [self.category_ids[category] for category, _ in self.new]

    def note(self, service_id: int, label: str, old: str | None, new: str | None) -> None:
        self.changes.append(ServiceChange(service_id, self.provider_id, label, old, new, self.now))

    async def save_changes(self) -> int:
        if self.changes:
            rows = [change._asdict() for change in self.changes]
            await self.conn.execute(insert(service_changes), rows)
        return len(self.changes)


# One statement for every changed service: the upstream's columns, by our service's id.
UPSTREAM_SET = (
    update(services)
    .where(services.c.id == bindparam("service_id"))
    .values({column: bindparam(f"new_{column}") for column in TRACKED.values()})
)


def _shown(column: str, value: object) -> str | None:
    if value is None:
        return None
    if column in RATE_COLUMNS and isinstance(value, int):
        return render_rate(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
