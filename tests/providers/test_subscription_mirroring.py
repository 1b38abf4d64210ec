"""Forwarded subscriptions: the upstream's post orders mirrored once each, charged by our rules.

The fake upstream places a post's order on demand (POST /_post) and lists it in the
subscription's status; each poll of ours mirrors what is new as a child of our subscription.
"""

# The fixtures imported from forwarding_fixtures are parameters of the tests below.
# ruff: noqa: F811

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import harness
import httpx
import pytest
import pytest_asyncio
from forwarding_fixtures import (  # noqa: F401 - fixtures
    UPSTREAM_KEY,
    FakeUpstream,
    Route,
    forwarding_db,
    pro_rata,
    shared_upstream,
    upstream_client,
    upstream_fake,
)
from sqlalchemy import select

from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import adjust_funds, create_api_key, create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.db import Database
from smmpanel.money import charge_micros, from_micros, parse, to_micros
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.placement import place_order
from smmpanel.orders.subscriptions import Forwarded, Placed, place_post_order, subscription
from smmpanel.providers.client import UpstreamClient
from smmpanel.providers.service import add_provider
from smmpanel.providers.subscriptions import UpstreamChild, upstream_children

RATE = "1.234567"
MAX = 500


@pytest.fixture(scope="module")
def panel(forwarding_db: Database) -> Iterator[harness.PanelProcess]:
    """Our panel's API on the forwarding tests' database, without a worker: the tests poll."""
    process = harness.PanelProcess(forwarding_db.url)
    yield process
    process.stop()


async def subscription_route(db: Database, api_url: str, opening: str) -> Route:
    """A provider at the fake upstream, a Subscriptions service it fulfils, and a customer."""
    tag = uuid.uuid4().hex[:8]
    async with db.write() as conn:
        provider_id = await add_provider(
            conn, f"upstream-{tag}", api_url, UPSTREAM_KEY, timeout_seconds=2
        )
        service_id = await create_service(
            conn,
            await category_id_for(conn, "Forwarded subscriptions"),
            name=f"Auto likes {tag}",
            type="Subscriptions",
            rate=to_micros(parse(RATE)),
            min_quantity=10,
            max_quantity=10_000,
            fulfilment="provider",
            provider_id=provider_id,
            provider_service_id="7",
        )
        customer_id = await create_customer(conn, f"subscriber-{tag}", to_micros(parse(opening)))
    return Route(db, provider_id, service_id, customer_id, to_micros(parse(opening)))


@pytest_asyncio.fixture
async def route(forwarding_db: Database, upstream_fake: FakeUpstream) -> AsyncIterator[Route]:
    route = await subscription_route(forwarding_db, upstream_fake.api_url, "10")
    yield route
    assert await route.audit() == []
    await route.disable()


async def subscribe(
    route: Route, client: UpstreamClient, upstream: FakeUpstream, **fields: str
) -> tuple[int, str]:
    """A subscription of ours, forwarded and Active upstream: our id and the upstream's."""
    wanted = {"service": str(route.service_id), "username": "natgeo", "min": "100"}
    wanted.update(max=str(MAX), delay="0", **fields)
    async with route.db.write() as conn:
        order_id = await place_order(conn, route.customer_id, wanted)
    assert await route.forward(client) >= 1
    upstream_id = (await route.order(order_id)).upstream_order_id
    upstream.set_order(upstream_id, status="Active")
    return order_id, upstream_id


def new_post(upstream: FakeUpstream, subscription_id: str, quantity: int) -> str:
    reply = httpx.post(
        f"{upstream.url}/_post", json={"id": subscription_id, "quantity": quantity}, timeout=5
    )
    reply.raise_for_status()
    return str(reply.json()["order"])


async def poll_again(route: Route, client: UpstreamClient, order_id: int) -> None:
    await route.make_due(order_id)
    assert await route.poll(client) >= 1


async def children(route: Route, order_id: int) -> list:
    async with route.db.read() as conn:
        query = select(orders).where(orders.c.parent_id == order_id).order_by(orders.c.id)
        return list((await conn.execute(query)).all())


async def charges(route: Route, order_id: int) -> list[int]:
    async with route.db.read() as conn:
        return list(
            await conn.scalars(
                select(ledger_entries.c.amount).where(
                    ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "charge"
                )
            )
        )


async def pause_reason(route: Route, order_id: int) -> str | None:
    async with route.db.read() as conn:
        return await conn.scalar(
            select(subscriptions.c.pause_reason).where(subscriptions.c.order_id == order_id)
        )


def per_post() -> int:
    return charge_micros(to_micros(parse(RATE)), MAX)


async def test_pay_per_post_orders_are_mirrored_once_and_charged_each(
    route: Route, upstream_client: UpstreamClient, upstream_fake: FakeUpstream, panel
):
    order_id, upstream_id = await subscribe(route, upstream_client, upstream_fake)
    assert (await route.order(order_id)).charge == 0
    sent = upstream_fake.calls("add")
    posts = [new_post(upstream_fake, upstream_id, quantity) for quantity in (120, 450)]

    await poll_again(route, upstream_client, order_id)
    await poll_again(route, upstream_client, order_id)  # nothing new: nothing placed twice

    mirrored = await children(route, order_id)
    assert [(c.upstream_order_id, c.provider_id) for c in mirrored] == [
        (post, route.provider_id) for post in posts
    ]
    assert {(c.quantity, c.charge, c.status, c.forward_state) for c in mirrored} == {
        (MAX, per_post(), "Pending", "sent")
    }
    assert [await charges(route, c.id) for c in mirrored] == [[-per_post()]] * 2
    assert await route.balance() == route.opening - 2 * per_post()
    assert upstream_fake.calls("add") == sent  # the post orders were never sent upstream
    subscription_row = await route.order(order_id)
    assert subscription_row.status == "Active"

    key = await _api_key(route)
    async with httpx.AsyncClient() as http:
        reply = (
            await http.post(panel.api_url, data={"key": key, "action": "status", "order": order_id})
        ).json()
    assert (reply["status"], reply["posts"], reply["orders"]) == (
        "Active",
        "2",
        [c.id for c in mirrored],
    )


async def test_a_mirrored_orders_partial_refunds_exactly_its_share(
    route: Route, upstream_client: UpstreamClient, upstream_fake: FakeUpstream
):
    order_id, upstream_id = await subscribe(route, upstream_client, upstream_fake)
    post = new_post(upstream_fake, upstream_id, 300)
    await poll_again(route, upstream_client, order_id)
    [child] = await children(route, order_id)

    upstream_fake.set_order(post, status="Partial", remains=123)
    await poll_again(route, upstream_client, child.id)
    await poll_again(route, upstream_client, child.id)  # read again: refunded once

    assert ((await route.order(child.id)).status, await route.refunds(child.id)) == (
        "Partial",
        [pro_rata(per_post(), 123, MAX)],
    )
    assert await route.balance() == route.opening - per_post() + pro_rata(per_post(), 123, MAX)


async def test_a_short_balance_pauses_instead_of_going_negative(
    forwarding_db: Database, upstream_client: UpstreamClient, upstream_fake: FakeUpstream
):
    opening = str(from_micros(per_post() * 3 // 2))  # one post and a half
    route = await subscription_route(forwarding_db, upstream_fake.api_url, opening)
    order_id, upstream_id = await subscribe(route, upstream_client, upstream_fake)
    posts = [new_post(upstream_fake, upstream_id, 200) for _ in range(3)]

    await poll_again(route, upstream_client, order_id)
    await poll_again(route, upstream_client, order_id)  # the upstream says Active: still Paused

    assert [c.upstream_order_id for c in await children(route, order_id)] == posts[:1]
    assert (await route.order(order_id)).status == "Paused"
    assert "balance short" in (await pause_reason(route, order_id) or "")
    assert await route.balance() == route.opening - per_post()

    async with route.db.write() as conn:  # the customer tops up: the next poll pays the rest
        await adjust_funds(conn, route.customer_id, 2 * per_post(), "top-up")
    await poll_again(route, upstream_client, order_id)

    assert [c.upstream_order_id for c in await children(route, order_id)] == posts
    assert (await route.order(order_id)).status == "Active"
    assert await pause_reason(route, order_id) is None
    assert await route.balance() == route.opening - per_post()
    assert await route.audit() == []
    await route.disable()


async def test_up_front_posts_are_not_charged_again_and_the_end_refunds_the_rest(
    route: Route, upstream_client: UpstreamClient, upstream_fake: FakeUpstream
):
    order_id, upstream_id = await subscribe(route, upstream_client, upstream_fake, posts="3")
    charge = (await route.order(order_id)).charge
    assert charge == charge_micros(to_micros(parse(RATE)), 3 * MAX)
    posts = [new_post(upstream_fake, upstream_id, 400) for _ in range(2)]
    await poll_again(route, upstream_client, order_id)

    mirrored = await children(route, order_id)
    assert [(c.upstream_order_id, c.charge) for c in mirrored] == [(post, 0) for post in posts]
    assert [await charges(route, c.id) for c in mirrored] == [[], []]
    assert await route.balance() == route.opening - charge

    # Expired upstream after 2 of 3 posts: one post's `max` comes back, whatever it reports.
    upstream_fake.set_order(upstream_id, status="Expired", remains=0)
    await poll_again(route, upstream_client, order_id)
    assert (await route.order(order_id)).status == "Expired"
    assert await route.refunds(order_id) == [pro_rata(charge, MAX, 3 * MAX)]
    assert await route.balance() == route.opening - charge + pro_rata(charge, MAX, 3 * MAX)


async def test_two_workers_mirroring_the_same_post_place_it_once(route: Route):
    async with route.db.write() as conn:
        order_id = await place_order(
            conn,
            route.customer_id,
            {
                "service": str(route.service_id),
                "username": "u",
                "min": "100",
                "max": str(MAX),
                "delay": "0",
            },
        )

    async def mirror() -> Placed:
        async with route.db.write() as conn:
            sub = await subscription(conn, order_id)
            return await place_post_order(conn, sub, MAX, Forwarded(route.provider_id, "77"))

    outcomes = await asyncio.gather(mirror(), mirror())
    assert sorted(outcome.value for outcome in outcomes) == ["already", "placed"]
    [child] = await children(route, order_id)
    assert await charges(route, child.id) == [-per_post()]
    assert await route.balance() == route.opening - per_post()


def test_the_post_orders_a_status_reply_lists():
    entry = {
        "orders": [12, "13", {"order": 14, "quantity": "250"}, {"id": "15"}, True, None, "", []]
    }
    assert upstream_children(entry) == (
        UpstreamChild("12"),
        UpstreamChild("13"),
        UpstreamChild("14", 250),
        UpstreamChild("15"),
    )
    assert upstream_children({"orders": "12,13"}) == ()
    assert upstream_children({}) == ()


async def _api_key(route: Route) -> str:
    async with route.db.write() as conn:
        return await create_api_key(conn, route.customer_id)
