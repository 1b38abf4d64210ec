"""Categories, services and prices: what customers can order and at which rate."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.catalog.models import (
    FULFIL_MANUAL,
    FULFIL_PROVIDER,
    categories,
    customer_prices,
    services,
)
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.db.dialect import insert_or_ignore, one_of
from smmpanel.db.hotpath import HotReader
from smmpanel.db.placing import ORDERABLE_SQL
from smmpanel.errors import N_, check_fits, refusal
from smmpanel.money import BASIS_POINTS, LARGEST_MICROS, check_amount, discounted_micros
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import ALL_FINISHED
from smmpanel.panel.models import panel_settings
from smmpanel.providers.models import providers

SERVICE_FIELDS = (
    "name",
    "type",
    "rate",
    "min_quantity",
    "max_quantity",
    "description",
    "name_zh_tw",
    "description_zh_tw",
    "dripfeed",
    "refill",
    "cancel",
    "refill_days",
    "enabled",
    "position",
)

# What the operator may change on a service; type, fulfilment and provider stay as created.
EDITABLE = (
    "category_id",
    *(name for name in SERVICE_FIELDS if name not in ("type", "refill_days")),
)
PERCENT, FIXED = "percent", "fixed"  # the kinds of a bulk price change
CHINESE_TEXTS_LANGUAGE = "zh_TW"  # the pages' language that shows name_zh_tw, description_zh_tw

UNKNOWN_SERVICE_TYPE = refusal(
    "unknown_service_type", "unknown service type %(type)r; use one of: %(types)s"
)
SERVICE_NEEDS_NAME = refusal("service_needs_name", "a service needs a name")
SERVICE_RATE_NOT_POSITIVE = refusal(
    "service_rate_not_positive", "service %(name)r: the rate must be above zero"
)
SERVICE_LIMITS_INVALID = refusal("service_limits_invalid", "service %(name)r: need 1 <= min <= max")
NO_SERVICE = refusal("no_service", "no service %(id)s: see `smmpanel catalog export`")
CUSTOM_RATE_NOT_POSITIVE = refusal("custom_rate_not_positive", "a custom rate must be above zero")
CATEGORY_NAME_TAKEN = refusal(
    "category_name_taken", "a category of that name exists already; choose another name"
)
RATE_WOULD_FALL = refusal(
    "repricing_rate_not_positive", "a rate would fall to zero or below; nothing changed"
)
FALLBACK_NEEDS_RESOLD_SERVICE = refusal(
    "fallback_needs_resold_service",
    "service %(id)s is fulfilled by hand: only a service resold from a provider has a fallback",
)
FALLBACK_NEEDS_UPSTREAM_ID = refusal(
    "fallback_needs_upstream_id",
    "a fallback provider needs the id of the service to order there (1 to 50 characters)",
)
RATE_CHANGED_SINCE_PREVIEW = refusal(
    "repricing_rate_changed", "a rate changed since the preview; nothing changed"
)
SERVICE_DELETED = refusal(
    "service_deleted", "service %(id)s is deleted: it is kept only for its orders"
)
TYPE_CHANGE_WITH_OPEN_ORDERS = refusal(
    "service_type_open_orders",
    "service %(id)s has %(count)s orders not finished yet; its type can change once they are",
)


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
    """The category of this name, created (at `position`) if new.

    The unique name decides between two transactions creating it at once: the second insert
    waits for the first and is ignored, so both get the one category and neither fails.
    """
    query = select(categories.c.id).where(categories.c.name == name)
    existing = await conn.scalar(query)
    if existing is not None:
        return existing
    await conn.execute(insert_or_ignore(conn, categories).values(name=name, position=position))
    return (await conn.execute(query)).scalar_one()


def check_service(fields: Mapping[str, Any]) -> None:
    if fields.get("type") not in SERVICE_TYPES:
        raise UNKNOWN_SERVICE_TYPE(type=fields.get("type"), types=", ".join(SERVICE_TYPES))
    if not str(fields.get("name", "")).strip():
        raise SERVICE_NEEDS_NAME()
    if int(fields["rate"]) <= 0:
        raise SERVICE_RATE_NOT_POSITIVE(name=fields["name"])
    check_amount(int(fields["rate"]))
    if not 1 <= int(fields["min_quantity"]) <= int(fields["max_quantity"]):
        raise SERVICE_LIMITS_INVALID(name=fields["name"])


async def create_service(conn: AsyncConnection, category_id: int, **fields: object) -> int:
    check_service(fields)
    service_id = await conn.scalar(
        insert(services).values(category_id=category_id, **fields).returning(services.c.id)
    )
    await bump_catalog_version(conn)
    return service_id


async def _undeleted_service(conn: AsyncConnection, service_id: int, *columns: Column) -> AnyRow:
    """The service's `columns`, refused when there is no such service or it was deleted."""
    row = (
        await conn.execute(
            select(*columns, services.c.deleted_at).where(services.c.id == service_id)
        )
    ).first()
    if row is None:
        raise NO_SERVICE(id=service_id)
    if row.deleted_at is not None:
        raise SERVICE_DELETED(id=service_id)
    return row


async def set_service_enabled(conn: AsyncConnection, service_id: int, enabled: bool) -> bool:
    """Put a service on offer or take it off; False if it already was so.

    The catalogue version moves on, so the API's cached `services` reply is rebuilt.
    """
    row = await _undeleted_service(conn, service_id, services.c.enabled)
    if row.enabled == enabled:
        return False
    await conn.execute(update(services).where(services.c.id == service_id).values(enabled=enabled))
    await bump_catalog_version(conn)
    return True


async def set_services_enabled(conn: AsyncConnection, service_ids: list[int], enabled: bool) -> int:
    """Put these services on offer or take them off, in one statement; how many changed.

    Ids of no service, or of a deleted one, are passed over. The version moves on only if a
    service changed.
    """
    if not service_ids:
        return 0
    result = await conn.execute(
        update(services)
        .where(
            one_of(conn, services.c.id, service_ids),
            services.c.enabled.is_(not enabled),
            services.c.deleted_at.is_(None),
        )
        .values(enabled=enabled)
    )
    if result.rowcount:
        await bump_catalog_version(conn)
    return result.rowcount


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
            raise CUSTOM_RATE_NOT_POSITIVE()
        check_amount(rate)
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
                _discount_of(customer_id).label("discount_bp"),
            ).where(services.c.id == service_id, services.c.enabled.is_(True))
        )
    ).first()
    return None if row is None else _orderable(tuple(row))


async def orderable_service_hot(
    reader: HotReader, service_id: int, customer_id: int
) -> OrderableService | None:
    """`orderable_service` read below SQLAlchemy, outside any transaction (`db/placing.py`)."""
    row = await reader.fetch_one(ORDERABLE_SQL, customer_id, service_id)
    return None if row is None else _orderable(row)


def _orderable(row: tuple) -> OrderableService:
    """From the columns `orderable_service` and `ORDERABLE_SQL` select, in their order."""
    (
        id_,
        type_,
        custom_rate,
        rate,
        min_quantity,
        max_quantity,
        dripfeed,
        refill,
        cancel,
        refill_days,
        fulfilment,
        provider_id,
        upstream_dripfeed,
        discount_bp,
    ) = row
    return OrderableService(
        id=id_,
        type=type_,
        rate=discounted_micros(rate, discount_bp) if custom_rate is None else custom_rate,
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        dripfeed=bool(dripfeed),
        refill=bool(refill),
        cancel=bool(cancel),
        refill_days=refill_days,
        provider_id=provider_id if fulfilment == FULFIL_PROVIDER else None,
        upstream_dripfeed=bool(upstream_dripfeed),
    )


def at_customer_rate(query: Select[Any], customer_id: int | None) -> Select[Any]:
    """`query` over services with a `rate` column: the customer's own price where one is set,
    else the list rate less their discount (`customer_id` None: every service's own rate)."""
    if customer_id is None:
        return query.add_columns(services.c.rate.label("rate"))
    own_price = (customer_prices.c.service_id == services.c.id) & (
        customer_prices.c.customer_id == customer_id
    )
    listed = discounted_rate(services.c.rate, _discount_of(customer_id))
    rate = func.coalesce(customer_prices.c.rate, listed)
    return query.outerjoin(customer_prices, own_price).add_columns(rate.label("rate"))


def discounted_rate(
    rate: ColumnElement[int], discount_bp: ColumnElement[int]
) -> ColumnElement[int]:
    """`money.discounted_micros` in SQL, to the same integer. The rate is split in whole ten
    thousands and the rest: rate × 10000 overflows a BIGINT for the largest rates."""
    kept = BASIS_POINTS - discount_bp
    whole = (rate // BASIS_POINTS) * kept
    return whole + ((rate % BASIS_POINTS) * kept + BASIS_POINTS // 2) // BASIS_POINTS


def _discount_of(customer_id: int) -> ColumnElement[int]:
    return select(customers.c.discount_bp).where(customers.c.id == customer_id).scalar_subquery()


async def enabled_services(conn: AsyncConnection, customer_id: int | None) -> list[AnyRow]:
    """Enabled services in the operator's order, with this customer's rates."""
    return list((await conn.execute(_enabled_services_query(customer_id))).all())


_OPERATORS_ORDER = (categories.c.position, categories.c.id, services.c.position, services.c.id)


async def first_enabled_services(
    conn: AsyncConnection, customer_id: int | None, count: int
) -> list[AnyRow]:
    """The first `count` rows of `enabled_services` (the same columns, in the same order)."""
    return list((await conn.execute(_enabled_services_query(customer_id).limit(count))).all())


async def enabled_ids_by_type(conn: AsyncConnection) -> dict[str, list[int]]:
    """The enabled services' ids by type, types and ids in the operator's order."""
    query = (
        select(services.c.type, services.c.id)
        .join(categories, categories.c.id == services.c.category_id)
        .where(services.c.enabled.is_(True))
        .order_by(*_OPERATORS_ORDER)
    )
    ids_by_type: dict[str, list[int]] = {}
    for service_type, service_id in await conn.execute(query):
        ids_by_type.setdefault(service_type, []).append(service_id)
    return ids_by_type


def _enabled_services_query(customer_id: int | None) -> Select[Any]:
    query: Select[Any] = select(
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
    query = at_customer_rate(query, customer_id).where(services.c.enabled.is_(True))
    return query.order_by(*_OPERATORS_ORDER)


async def find_service(conn: AsyncConnection, service_id: int) -> AnyRow:
    """A service's id, name and list rate, enabled or not; refused if there is none."""
    row = (
        await conn.execute(
            select(services.c.id, services.c.name, services.c.rate).where(
                services.c.id == service_id
            )
        )
    ).first()
    if row is None:
        raise NO_SERVICE(id=service_id)
    return row


async def customer_rate(conn: AsyncConnection, customer_id: int, service_id: int) -> int:
    """The customer's rate for a service now, enabled or not: their own price, else the list
    rate less their discount; refused if there is no such service."""
    query = select().select_from(services).where(services.c.id == service_id)
    rate: int | None = await conn.scalar(at_customer_rate(query, customer_id))
    if rate is None:
        raise NO_SERVICE(id=service_id)
    return rate


async def custom_rate(conn: AsyncConnection, customer_id: int, service_id: int) -> int | None:
    return await conn.scalar(
        select(customer_prices.c.rate).where(
            customer_prices.c.customer_id == customer_id,
            customer_prices.c.service_id == service_id,
        )
    )


def service_name_in(language: str) -> ColumnElement[str]:
    """The service's name as a page in `language` shows it (label it)."""
    return _in_language(services.c.name, services.c.name_zh_tw, language)


def service_description_in(language: str) -> ColumnElement[str]:
    """The service's description as a page in `language` shows it (label it)."""
    return _in_language(services.c.description, services.c.description_zh_tw, language)


def _in_language(
    english: Column[str], chinese: Column[str | None], language: str
) -> ColumnElement[str]:
    """The Traditional Chinese text on a page in that language when the operator wrote one."""
    if language != CHINESE_TEXTS_LANGUAGE:
        return english
    return func.coalesce(func.nullif(chinese, ""), english)


def name_holds(search: str) -> ColumnElement[bool]:
    """The service's English or Chinese name holds `search`, in any case."""
    lowered = search.lower()
    return or_(
        func.lower(services.c.name).contains(lowered, autoescape=True),
        func.lower(services.c.name_zh_tw).contains(lowered, autoescape=True),
    )


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
        return not 0 < self.new <= LARGEST_MICROS


# ---- the catalogue as the operator edits it


def _service_columns() -> list[ColumnElement[Any]]:
    return [
        services.c.id,
        services.c.category_id,
        services.c.name,
        services.c.type,
        services.c.rate,
        services.c.min_quantity,
        services.c.max_quantity,
        services.c.dripfeed,
        services.c.refill,
        services.c.cancel,
        services.c.enabled,
        services.c.position,
        services.c.provider_service_id,
        services.c.deleted_at,
        providers.c.name.label("provider"),
    ]


@dataclass(frozen=True)
class ServiceFilter:
    """Which services the operator's list shows; an empty field does not filter."""

    search: str = ""  # part of the name, or the id
    category_id: int | None = None
    provider_id: int | None = None  # the services this provider fulfils
    by_hand: bool = False  # only the services fulfilled by hand
    type: str = ""
    enabled: bool | None = None
    deleted: bool = False  # only the deleted services, instead of only those not deleted


def _filtered(query: Select[Any], chosen: ServiceFilter) -> Select[Any]:
    deleted = services.c.deleted_at
    query = query.where(deleted.is_not(None) if chosen.deleted else deleted.is_(None))
    if chosen.search:
        query = query.where(_search_matches(chosen.search))
    if chosen.category_id is not None:
        query = query.where(services.c.category_id == chosen.category_id)
    if chosen.by_hand:
        query = query.where(services.c.fulfilment == FULFIL_MANUAL)
    if chosen.provider_id is not None:
        query = query.where(services.c.provider_id == chosen.provider_id)
    if chosen.type:
        query = query.where(services.c.type == chosen.type)
    if chosen.enabled is not None:
        query = query.where(services.c.enabled.is_(chosen.enabled))
    return query


def _search_matches(search: str) -> ColumnElement[bool]:
    found = name_holds(search)
    if search.isdigit() and len(search) <= 18:
        return or_(found, services.c.id == int(search))
    return found


async def find_services(
    conn: AsyncConnection, chosen: ServiceFilter, offset: int, limit: int
) -> list[AnyRow]:
    """`limit` services the filter keeps, from `offset`, in the order customers see them.

    The page's ids are sorted and cut first, then only they are read in full: sorting whole
    rows of thousands of services costs several times more.
    """
    in_order = (categories.c.position, categories.c.id, services.c.position, services.c.id)
    page = (
        _filtered(select(services.c.id), chosen)
        .join(categories, categories.c.id == services.c.category_id)
        .order_by(*in_order)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    query = (
        select(*_service_columns(), categories.c.name.label("category"))
        .join(page, page.c.id == services.c.id)
        .join(categories, categories.c.id == services.c.category_id)
        .outerjoin(providers, providers.c.id == services.c.provider_id)
        .order_by(*in_order)
    )
    return list((await conn.execute(query)).all())


async def count_services(conn: AsyncConnection, chosen: ServiceFilter) -> int:
    query = _filtered(select(func.count()).select_from(services), chosen)
    return await conn.scalar(query) or 0


async def category_names(conn: AsyncConnection) -> list[AnyRow]:
    """Every category's id and name, in the order customers see them."""
    query = select(categories.c.id, categories.c.name)
    return list((await conn.execute(query.order_by(categories.c.position, categories.c.id))).all())


async def categories_with_counts(conn: AsyncConnection) -> list[AnyRow]:
    """Every category in its order, with how many services it holds and how many are on offer
    (deleted services left out)."""
    enabled = func.count(services.c.id).filter(services.c.enabled.is_(True))
    held = (services.c.category_id == categories.c.id) & services.c.deleted_at.is_(None)
    query = (
        select(
            categories.c.id,
            categories.c.name,
            func.count(services.c.id).label("services"),
            enabled.label("enabled"),
        )
        .outerjoin(services, held)
        .group_by(categories.c.id, categories.c.name, categories.c.position)
        .order_by(categories.c.position, categories.c.id)
    )
    return list((await conn.execute(query)).all())


async def service_row(conn: AsyncConnection, service_id: int) -> AnyRow | None:
    """A service as its edit page shows it: the listing's columns, its fulfilment and fallback."""
    query = select(
        *_service_columns(),
        services.c.description,
        services.c.name_zh_tw,
        services.c.description_zh_tw,
        services.c.fulfilment,
        services.c.fallback_provider_id,
        services.c.fallback_provider_service_id,
    ).outerjoin(providers, providers.c.id == services.c.provider_id)
    return (await conn.execute(query.where(services.c.id == service_id))).first()


async def category_exists(conn: AsyncConnection, category_id: int) -> bool:
    return (
        await conn.scalar(select(categories.c.id).where(categories.c.id == category_id)) is not None
    )


# ---- categories, in the order customers see them


async def add_category(conn: AsyncConnection, name: str) -> int:
    """A new category, placed last; refused if the name is taken.

    The unique name decides, not a look-up: an operator adding the same name at the same time
    makes this insert wait for their transaction, then do nothing, and the name is refused.
    """
    last = await conn.scalar(select(func.max(categories.c.position)))
    category_id = await conn.scalar(
        insert_or_ignore(conn, categories)
        .values(name=name, position=(last or 0) + 1)
        .returning(categories.c.id)
    )
    if category_id is None:
        raise CATEGORY_NAME_TAKEN()
    await bump_catalog_version(conn)
    return category_id


async def rename_category(conn: AsyncConnection, category_id: int, name: str) -> None:
    """Refused if another category has the name, or takes it meanwhile: the unique name
    decides, in a savepoint so that the refusal leaves the transaction usable."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                update(categories).where(categories.c.id == category_id).values(name=name)
            )
    except IntegrityError:
        raise CATEGORY_NAME_TAKEN() from None
    await bump_catalog_version(conn)


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


# ---- editing a service


async def edit_service(conn: AsyncConnection, service_id: int, **values: object) -> None:
    unknown = set(values) - set(EDITABLE)
    assert not unknown, f"not editable here: {unknown}"
    row = await _undeleted_service(conn, service_id, services.c.type)
    check_service({**values, "type": row.type})
    await conn.execute(update(services).where(services.c.id == service_id).values(**values))
    await bump_catalog_version(conn)


async def set_fallback(
    conn: AsyncConnection, service_id: int, provider_id: int | None, upstream_id: str | None
) -> None:
    """The provider (and its service) an order goes to when the service's own provider rejects
    it; None for no fallback."""
    fulfilment = await conn.scalar(select(services.c.fulfilment).where(services.c.id == service_id))
    if fulfilment is None:
        raise NO_SERVICE(id=service_id)
    if provider_id is not None and fulfilment != FULFIL_PROVIDER:
        raise FALLBACK_NEEDS_RESOLD_SERVICE(id=service_id)
    upstream_id = upstream_id.strip() if upstream_id is not None else None
    if provider_id is not None and not upstream_id:
        raise FALLBACK_NEEDS_UPSTREAM_ID()
    if upstream_id is not None:
        check_fits(services.c.fallback_provider_service_id, upstream_id, N_("the service id"))
    await conn.execute(
        update(services)
        .where(services.c.id == service_id)
        .values(
            fallback_provider_id=provider_id,
            fallback_provider_service_id=upstream_id if provider_id is not None else None,
        )
    )


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
        .where(one_of(conn, services.c.id, service_ids), services.c.deleted_at.is_(None))
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
    query = select(services.c.id).where(
        services.c.category_id == category_id, services.c.deleted_at.is_(None)
    )
    return list(await conn.scalars(query.order_by(services.c.id)))


async def apply_repricing(conn: AsyncConnection, changes: list[Repricing]) -> None:
    """Set each new rate, only where the rate is still the one previewed."""
    for change in changes:
        if change.refused:
            raise RATE_WOULD_FALL()
        result = await conn.execute(
            update(services)
            .where(services.c.id == change.id, services.c.rate == change.old)
            .values(rate=change.new)
        )
        if result.rowcount != 1:
            raise RATE_CHANGED_SINCE_PREVIEW()
    await bump_catalog_version(conn)


# ---- the checked services at once: moved, deleted


async def move_services(conn: AsyncConnection, service_ids: list[int], category_id: int) -> int:
    """Move these services (deleted ones passed over) into the category; how many moved."""
    if not service_ids:
        return 0
    result = await conn.execute(
        update(services)
        .where(
            one_of(conn, services.c.id, service_ids),
            services.c.category_id != category_id,
            services.c.deleted_at.is_(None),
        )
        .values(category_id=category_id)
    )
    if result.rowcount:
        await bump_catalog_version(conn)
    return result.rowcount


async def delete_services(conn: AsyncConnection, service_ids: list[int]) -> int:
    """Delete these services softly; how many were deleted now.

    They are disabled as well: every read of what customers may order already asks for an
    enabled service, the API's hot path included, so none of them needs to know of deletion.
    The rows stay for the orders that refer to them.
    """
    if not service_ids:
        return 0
    result = await conn.execute(
        update(services)
        .where(one_of(conn, services.c.id, service_ids), services.c.deleted_at.is_(None))
        .values(deleted_at=utcnow(), enabled=False)
    )
    if result.rowcount:
        await bump_catalog_version(conn)
    return result.rowcount


# ---- a service's type


async def open_orders_of(conn: AsyncConnection, service_id: int) -> int:
    """How many orders of this service are not finished yet."""
    query = select(func.count()).where(
        orders.c.service_id == service_id, orders.c.status.not_in(sorted(ALL_FINISHED))
    )
    return await conn.scalar(query) or 0


async def change_service_type(conn: AsyncConnection, service_id: int, service_type: str) -> bool:
    """Give the service another of the known types; False if it had that type already.

    Refused while an order of it is not finished: its fields and charge were read by the old
    type, and its refills, cancels and status updates would be read by the new one.
    """
    if service_type not in SERVICE_TYPES:
        raise UNKNOWN_SERVICE_TYPE(type=service_type, types=", ".join(SERVICE_TYPES))
    row = await _undeleted_service(conn, service_id, services.c.type)
    if row.type == service_type:
        return False
    still_open = await open_orders_of(conn, service_id)
    if still_open:
        raise TYPE_CHANGE_WITH_OPEN_ORDERS(id=service_id, count=still_open)
    await conn.execute(
        update(services).where(services.c.id == service_id).values(type=service_type)
    )
    await bump_catalog_version(conn)
    return True
