"""The catalogue (catalog.service): what a service needs, what customers may order, at which
rate, and the version that tells the API its cached `services` reply is stale."""

import uuid
from decimal import Decimal

import pytest
from domain_helpers import micros, new_customer, new_service
from sqlalchemy import update

from smmpanel.catalog.models import FULFIL_PROVIDER, services
from smmpanel.catalog.service import (
    CUSTOM_RATE_NOT_POSITIVE,
    FIXED,
    NO_SERVICE,
    PERCENT,
    RATE_CHANGED_SINCE_PREVIEW,
    RATE_WOULD_FALL,
    SERVICE_LIMITS_INVALID,
    SERVICE_NEEDS_NAME,
    SERVICE_RATE_NOT_POSITIVE,
    UNKNOWN_SERVICE_TYPE,
    ServiceFilter,
    apply_repricing,
    catalog_version,
    categories_with_counts,
    category_id_for,
    changed_rate,
    count_services,
    create_service,
    edit_service,
    enabled_services,
    find_services,
    orderable_service,
    repricing,
    set_customer_price,
    set_service_enabled,
    set_services_enabled,
)
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.errors import Refusal
from smmpanel.providers.service import add_provider

NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")
pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def test_a_service_is_orderable_at_its_list_rate(conn):
    customer_id = await new_customer(conn)
    service_id = await new_service(
        conn, rate="0.75", min_quantity=50, max_quantity=900, refill=True, refill_days=14
    )
    service = await orderable_service(conn, service_id, customer_id)
    assert service is not None
    assert (service.type, service.rate, service.min_quantity, service.max_quantity) == (
        "Default",
        750_000,
        50,
        900,
    )
    assert (service.refill, service.refill_days, service.cancel, service.dripfeed) == (
        True,
        14,
        False,
        False,
    )
    assert service.provider_id is None


@pytest.mark.parametrize(
    ("fields", "kind", "params"),
    [
        (
            {"type": "Likes"},
            UNKNOWN_SERVICE_TYPE,
            {"type": "Likes", "types": ", ".join(SERVICE_TYPES)},
        ),
        ({"name": "  "}, SERVICE_NEEDS_NAME, {}),
        ({"rate": 0}, SERVICE_RATE_NOT_POSITIVE, {"name": "Likes"}),
        ({"min_quantity": 0}, SERVICE_LIMITS_INVALID, {"name": "Likes"}),
        ({"min_quantity": 200, "max_quantity": 100}, SERVICE_LIMITS_INVALID, {"name": "Likes"}),
    ],
)
async def test_a_service_must_make_sense(conn, fields, kind, params):
    category_id = await category_id_for(conn, "Checks")
    given = {"name": "Likes", "type": "Default", "rate": 1_000_000}
    given.update(min_quantity=10, max_quantity=100)
    with pytest.raises(Refusal) as caught:
        await create_service(conn, category_id, **{**given, **fields})
    assert caught.value.kind is kind
    assert caught.value.params == params


async def test_catalogue_changes_move_the_version(conn):
    before = await catalog_version(conn)
    service_id = await new_service(conn)
    assert await catalog_version(conn) == before + 1
    assert await set_service_enabled(conn, service_id, False)
    assert not await set_service_enabled(conn, service_id, False)  # already off: no change
    assert await catalog_version(conn) == before + 2
    await set_customer_price(conn, await new_customer(conn), service_id, micros("0.5"))
    edited = {"name": "Renamed", "rate": micros("2"), "min_quantity": 10, "max_quantity": 500}
    await edit_service(conn, service_id, **edited)
    assert await catalog_version(conn) == before + 4


async def test_disabled_services_are_neither_listed_nor_orderable(conn):
    customer_id = await new_customer(conn)
    shown, hidden = await new_service(conn), await new_service(conn)
    await set_service_enabled(conn, hidden, False)
    listed = {row.id for row in await enabled_services(conn, customer_id)}
    assert shown in listed and hidden not in listed
    assert await orderable_service(conn, hidden, customer_id) is None
    with pytest.raises(Refusal) as caught:
        await set_service_enabled(conn, 987_654_321, True)
    assert caught.value.kind is NO_SERVICE
    assert caught.value.params == {"id": 987_654_321}


async def test_a_customer_price_is_theirs_alone_until_removed(conn):
    customer_id, other = await new_customer(conn), await new_customer(conn)
    service_id = await new_service(conn, rate="2")
    await set_customer_price(conn, customer_id, service_id, micros("1.5"))
    assert (await orderable_service(conn, service_id, customer_id)).rate == 1_500_000
    assert (await orderable_service(conn, service_id, other)).rate == 2_000_000
    rates = {row.id: row.rate for row in await enabled_services(conn, customer_id)}
    assert rates[service_id] == 1_500_000
    await set_customer_price(conn, customer_id, service_id, None)
    assert (await orderable_service(conn, service_id, customer_id)).rate == 2_000_000
    with pytest.raises(Refusal) as caught:
        await set_customer_price(conn, customer_id, service_id, 0)
    assert caught.value.kind is CUSTOM_RATE_NOT_POSITIVE


def test_rates_change_by_percent_or_fixed_half_up():
    assert changed_rate(1_234_567, PERCENT, Decimal("10")) == 1_358_024  # 1358023.7
    assert changed_rate(1_000_000, PERCENT, Decimal("-33.3333335")) == 666_667
    assert changed_rate(1_000_000, FIXED, Decimal("0.25")) == 1_250_000
    assert changed_rate(1_000_000, FIXED, Decimal("-1")) == 0


async def test_repricing_applies_only_what_was_previewed(conn):
    first, second = await new_service(conn, rate="1"), await new_service(conn, rate="3")
    preview = await repricing(conn, [first, second], PERCENT, Decimal("50"))
    assert [(change.id, change.old, change.new) for change in preview] == [
        (first, 1_000_000, 1_500_000),
        (second, 3_000_000, 4_500_000),
    ]
    await apply_repricing(conn, preview)
    assert (await orderable_service(conn, first, await new_customer(conn))).rate == 1_500_000
    # The preview is stale now: applying it again changes nothing.
    with pytest.raises(Refusal) as caught:
        async with conn.begin_nested():
            await apply_repricing(conn, preview)
    assert caught.value.kind is RATE_CHANGED_SINCE_PREVIEW
    to_zero = await repricing(conn, [first], FIXED, Decimal("-1.5"))
    assert to_zero[0].refused
    with pytest.raises(Refusal) as caught:
        await apply_repricing(conn, to_zero)
    assert caught.value.kind is RATE_WOULD_FALL


async def test_checked_services_are_switched_in_one_change_that_moves_the_version_once(conn):
    first, second, third = [await new_service(conn) for _ in range(3)]
    await set_service_enabled(conn, third, False)
    before = await catalog_version(conn)
    assert await set_services_enabled(conn, [first, third, 987_654_321], False) == 1
    assert await catalog_version(conn) == before + 1
    assert await set_services_enabled(conn, [first, third], False) == 0  # nothing to change
    assert await set_services_enabled(conn, [], True) == 0
    assert await catalog_version(conn) == before + 1
    customer_id = await new_customer(conn)
    assert [await orderable_service(conn, i, customer_id) is None for i in (first, second)] == [
        True,
        False,
    ]
    assert await set_services_enabled(conn, [first, second, third], True) == 2
    assert await catalog_version(conn) == before + 2


async def new_catalogue_part(conn) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    """A category of its own with four services: two by hand, one resold, one disabled."""
    tag = uuid.uuid4().hex[:8].translate(NO_DIGITS)  # an id searched for matches no name
    category_id = await category_id_for(conn, f"Listing {tag}")
    fields = {"rate": 1_000_000, "min_quantity": 10, "max_quantity": 100}
    made = [
        await create_service(conn, category_id, name=f"{tag} Likes", type="Default", **fields),
        await create_service(
            conn, category_id, name=f"{tag} COMMENTS", type="Custom Comments", **fields
        ),
        await create_service(conn, category_id, name=f"{tag} views", type="Default", **fields),
        await create_service(conn, category_id, name=f"{tag} real %", type="Default", **fields),
    ]
    await set_service_enabled(conn, made[2], False)
    return category_id, made


async def test_the_operators_list_keeps_what_each_filter_asks_for(conn):
    category_id, (likes, comments, views, real) = await new_catalogue_part(conn)
    provider_id = await new_provider(conn)
    await edit_resold(conn, views, provider_id)

    async def found(**chosen: object) -> list[int]:
        kept = ServiceFilter(category_id=category_id, **chosen)  # type: ignore[arg-type]
        rows = await find_services(conn, kept, 0, 10)
        assert await count_services(conn, kept) == len(rows)
        return [row.id for row in rows]

    assert await found() == [likes, comments, views, real]
    assert await found(search="comments") == [comments]
    assert await found(search="%") == [real]  # a search is text, not a pattern
    assert await found(search=str(views)) == [views]
    assert await found(type="Custom Comments") == [comments]
    assert await found(enabled=False) == [views]
    assert await found(enabled=True) == [likes, comments, real]
    assert await found(by_hand=True) == [likes, comments, real]
    assert await found(provider_id=provider_id) == [views]
    page = await find_services(conn, ServiceFilter(category_id=category_id), 1, 2)
    assert [row.id for row in page] == [comments, views]
    assert page[0].category.startswith("Listing ")


async def test_categories_are_counted_with_their_services_on_offer(conn):
    category_id, _ = await new_catalogue_part(conn)
    empty = await category_id_for(conn, f"Empty {uuid.uuid4().hex[:8]}")
    counts = {row.id: (row.services, row.enabled) for row in await categories_with_counts(conn)}
    assert counts[category_id] == (4, 3) and counts[empty] == (0, 0)


async def new_provider(conn) -> int:  # type: ignore[no-untyped-def]
    return await add_provider(conn, f"up {uuid.uuid4().hex[:8]}", "http://127.0.0.1:9/api/v2", "k")


async def edit_resold(conn, service_id: int, provider_id: int) -> None:  # type: ignore[no-untyped-def]
    """Make a service one resold from this provider, as an import would have made it."""
    await conn.execute(
        update(services)
        .where(services.c.id == service_id)
        .values(fulfilment=FULFIL_PROVIDER, provider_id=provider_id, provider_service_id="1")
    )
