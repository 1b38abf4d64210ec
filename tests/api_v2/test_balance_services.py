"""balance and services: exact shapes, the operator's order, per-customer prices, freshness."""

import asyncio
import time
import uuid

import pytest
from api_helpers import assert_success, new_link
from sqlalchemy import update

from smmpanel.catalog.models import services as services_table
from smmpanel.catalog.service import (
    bump_catalog_version,
    category_id_for,
    create_service,
    set_customer_price,
)

# API.md's type names, spelled exactly so.
TYPE_NAMES = [
    "Default",
    "Package",
    "Custom Comments",
    "Mentions with Hashtags",
    "Mentions Custom List",
    "Mentions Hashtag",
    "Mentions User Followers",
    "Mentions Media Likers",
    "Custom Comments Package",
    "Comment Likes",
    "Poll",
    "Comment Replies",
    "Invites from Groups",
    "Subscriptions",
]
SERVICE_KEYS = {
    "service", "name", "category", "rate", "min", "max", "type", "desc", "dripfeed", "refill",
    "cancel",
}  # fmt: skip


async def services_of(api, key: str) -> list[dict]:
    reply = await api.call(key=key, action="services")
    assert isinstance(reply, list)
    return reply


async def listed(api, key: str, service_ids: list[int]) -> list[dict]:
    """The entries of these services, in the order the list gives them."""
    wanted = set(service_ids)
    return [entry for entry in await services_of(api, key) if entry["service"] in wanted]


@pytest.mark.parametrize(
    ("balance", "shown"),
    [
        ("0", "0.00"),
        ("0.03", "0.03"),
        ("5", "5.00"),
        ("1.5", "1.50"),
        ("12.3456", "12.3456"),
        ("0.000001", "0.000001"),
        ("1000000", "1000000.00"),
        ("98765.4321", "98765.4321"),
    ],
)
async def test_balance_reply(api, shop, balance, shown):
    _, key = await shop.customer(balance)
    reply = await api.call(key=key, action="balance")
    assert_success(reply)
    assert reply == {"status": "success", "balance": shown, "currency": "USD"}


async def test_a_service_entry_has_exact_keys_types_and_values(api, shop, db):
    _, key = await shop.customer()
    async with db.write() as conn:
        category = await category_id_for(conn, f"Instagram - Followers {uuid.uuid4().hex[:6]}")
        with_all = await create_service(
            conn, category, name="Instagram Followers [15K]", type="Default", rate=1_020_000,
            min_quantity=500, max_quantity=10_000, description="Real <b>followers</b>\nFast",
            dripfeed=True, refill=True, cancel=True,
        )  # fmt: skip
        with_none = await create_service(
            conn, category, name="Poll votes", type="Poll", rate=40_000,
            min_quantity=1, max_quantity=300_000,
        )  # fmt: skip
    entries = await listed(api, key, [with_all, with_none])
    category_name = entries[0]["category"]
    assert category_name.startswith("Instagram - Followers")
    assert entries == [
        {
            "service": with_all,
            "name": "Instagram Followers [15K]",
            "category": category_name,
            "rate": "1.02",
            "min": "500",
            "max": "10000",
            "type": "Default",
            "desc": "Real <b>followers</b>\nFast",
            "dripfeed": 1,
            "refill": True,
            "cancel": True,
        },
        {
            "service": with_none,
            "name": "Poll votes",
            "category": category_name,
            "rate": "0.04",
            "min": "1",
            "max": "300000",
            "type": "Poll",
            "desc": "",
            "dripfeed": 0,
            "refill": False,
            "cancel": False,
        },
    ]


async def test_every_entry_has_the_same_keys_and_types(api, shop):
    _, key = await shop.customer()
    await shop.service()
    entries = await services_of(api, key)
    assert entries
    for entry in entries:
        assert entry.keys() == SERVICE_KEYS
        assert type(entry["service"]) is int
        for name in ("name", "category", "rate", "min", "max", "type", "desc"):
            assert type(entry[name]) is str, (name, entry)
        assert int(entry["min"]) <= int(entry["max"])
        assert entry["dripfeed"] in (0, 1) and type(entry["dripfeed"]) is int
        assert type(entry["refill"]) is bool and type(entry["cancel"]) is bool
        assert entry["type"] in TYPE_NAMES


async def test_every_type_is_listed_by_its_exact_name(api, shop):
    _, key = await shop.customer()
    ids = [await shop.service(type=name) for name in TYPE_NAMES]
    assert [entry["type"] for entry in await listed(api, key, ids)] == TYPE_NAMES


@pytest.mark.parametrize(
    ("rate", "shown"),
    [("1.02", "1.02"), ("1.20", "1.2"), ("3.000000", "3"), ("0.04", "0.04"),
     ("0.000001", "0.000001"), ("1000", "1000"), ("12.345678", "12.345678")],
)  # fmt: skip
async def test_rates_are_trimmed_plain_decimals(api, shop, rate, shown):
    _, key = await shop.customer()
    service = await shop.service(rate=rate)
    [entry] = await listed(api, key, [service])
    assert entry["rate"] == shown


async def test_services_come_in_the_operators_order(api, shop, db):
    """Category position, then service position, then id."""
    _, key = await shop.customer()
    tag = uuid.uuid4().hex[:6]

    async def service(category: int, position: int) -> int:
        return await create_service(
            conn, category, name=f"s{position}", type="Default", rate=1_000_000,
            min_quantity=1, max_quantity=10, position=position,
        )  # fmt: skip

    async with db.write() as conn:
        later = await category_id_for(conn, f"B later {tag}", position=900_002)
        earlier = await category_id_for(conn, f"A earlier {tag}", position=900_001)
        l_second = await service(later, 2)
        l_first = await service(later, 1)
        e_third_a = await service(earlier, 3)
        e_third_b = await service(earlier, 3)
        e_first = await service(earlier, -1)
    ids = [l_second, l_first, e_third_a, e_third_b, e_first]
    order = [entry["service"] for entry in await listed(api, key, ids)]
    assert order == [e_first, e_third_a, e_third_b, l_first, l_second]


async def test_a_custom_price_shows_for_that_customer_only(api, shop, db):
    customer_id, key = await shop.customer()
    _, other_key = await shop.customer()
    service = await shop.service(rate="2.5")
    neighbour = await shop.service(rate="1.5")
    assert [e["rate"] for e in await listed(api, key, [service, neighbour])] == ["2.5", "1.5"]

    async with db.write() as conn:
        await set_customer_price(conn, customer_id, service, 1_750_000)
    assert [e["rate"] for e in await listed(api, key, [service, neighbour])] == ["1.75", "1.5"]
    assert [e["rate"] for e in await listed(api, other_key, [service, neighbour])] == [
        "2.5",
        "1.5",
    ]
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, service, None)
    assert [e["rate"] for e in await listed(api, key, [service, neighbour])] == ["2.5", "1.5"]


async def test_new_services_appear_at_once(api, shop):
    _, key = await shop.customer()
    first = await shop.service()
    assert len(await listed(api, key, [first])) == 1  # the list is now cached
    second = await shop.service()
    assert [entry["service"] for entry in await listed(api, key, [first, second])] == [
        first,
        second,
    ]


async def test_a_disabled_service_is_neither_listed_nor_orderable(api, shop, db, execute):
    _, key = await shop.customer("10")
    service = await shop.service()
    never_enabled = await shop.service(enabled=False)
    assert len(await listed(api, key, [service, never_enabled])) == 1
    async with db.write() as conn:
        await conn.execute(
            update(services_table).where(services_table.c.id == service).values(enabled=False)
        )
        await bump_catalog_version(conn)
    assert await listed(api, key, [service]) == []
    reply = await api.call(key=key, action="add", service=service, link=new_link(), quantity=100)
    assert reply == {"error": "Incorrect service ID"}


async def test_a_change_made_straight_in_the_table_shows_within_seconds(api, shop, disable_service):
    """Without the version bump (a hand-made SQL change), the cached list still heals soon."""
    _, key = await shop.customer()
    service = await shop.service()
    assert len(await listed(api, key, [service])) == 1
    await disable_service(service)
    deadline = time.monotonic() + 10
    while await listed(api, key, [service]):
        assert time.monotonic() < deadline, "the services list kept a disabled service"
        await asyncio.sleep(0.2)
