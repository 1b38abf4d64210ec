"""A subscription across two of our panels: A resells B's Subscriptions service, B's operator
records each new post with `smmpanel order post` on B's command line, and A's worker mirrors
every post's order (provider polling), charging A's customer by A's rules.

The panels are test_chain.py's (its `chain` fixture, started for this module): A with its
worker, B without; both books are audited when the module ends.
"""

# The `chain` fixture imported from test_chain is a parameter of the tests below.
# ruff: noqa: F811

import re
from decimal import Decimal

from forwarding_fixtures import eventually, pro_rata
from sqlalchemy import select
from test_chain import (  # noqa: F401 - the fixture
    A_OPENING,
    A_RATE,
    B_RATE,
    FOLLOW_DEADLINE,
    Chain,
    chain,
)

from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import charge_micros, parse, to_micros
from smmpanel.orders.models import orders
from smmpanel.providers.models import providers

MIN, MAX = 100, 500


async def resold_subscriptions(chain: Chain) -> int:
    """A Subscriptions service of B's, and A's service reselling it; A's service id."""
    async with chain.b.db.write() as conn:
        b_service = await create_service(
            conn,
            await category_id_for(conn, "Chain"),
            name="Auto likes",
            type="Subscriptions",
            rate=to_micros(parse(B_RATE)),
            min_quantity=10,
            max_quantity=10_000,
        )
    async with chain.a.db.write() as conn:
        provider_id = await conn.scalar(select(providers.c.id).where(providers.c.name == "panel-b"))
        return await create_service(
            conn,
            await category_id_for(conn, "Chain"),
            name=f"Auto likes via B {b_service}",
            type="Subscriptions",
            rate=to_micros(parse(A_RATE)),
            min_quantity=10,
            max_quantity=10_000,
            fulfilment="provider",
            provider_id=provider_id,
            provider_service_id=str(b_service),
        )


async def subscribe_at_a(chain: Chain, key: str, **fields: object) -> int:
    service = await resold_subscriptions(chain)
    reply = await chain.call(
        chain.a,
        key=key,
        action="add",
        service=service,
        username=f"natgeo{service}",
        min=MIN,
        max=MAX,
        delay=0,
        **fields,
    )
    assert reply.get("status") == "success", reply
    return reply["order"]


async def post_at_b(chain: Chain, b_id: int, quantity: int) -> int:
    """B's operator records a new post; the id of its order at B."""
    output = await chain.b.run("order", "post", b_id, "--quantity", quantity)
    found = re.search(r": order (\d+) for ", output)
    assert found, output
    return int(found.group(1))


async def mirrored_at_a(chain: Chain, a_id: int, b_children: list[int]) -> list:
    """A's orders for the posts, once A mirrors exactly these orders of B's."""

    async def mirrored() -> list | None:
        rows = await chain.a.rows(
            select(orders).where(orders.c.parent_id == a_id).order_by(orders.c.id)
        )
        upstream_ids = [int(row.upstream_order_id) for row in rows]
        return rows if upstream_ids == b_children else None

    return await eventually(mirrored, FOLLOW_DEADLINE, f"A to mirror B's orders {b_children}")


def at_a(quantity: int) -> int:
    return charge_micros(to_micros(parse(A_RATE)), quantity)


def at_b(quantity: int) -> int:
    return charge_micros(to_micros(parse(B_RATE)), quantity)


async def test_posts_recorded_at_b_are_mirrored_and_charged_per_post_at_a(chain: Chain):
    key = await chain.buyer()
    b_before = await chain.balance(chain.b, chain.b_key)
    a_id = await subscribe_at_a(chain, key)
    [b_id] = await chain.sent_to_b([a_id])
    assert await chain.charge(chain.a, key, a_id) == 0  # paid per post
    assert await chain.charge(chain.b, chain.b_key, b_id) == 0

    first = await post_at_b(chain, b_id, 200)
    [mirror] = await mirrored_at_a(chain, a_id, [first])
    # B lists its posts' orders by id only: A counts each at `max`, the most agreed per post.
    assert (mirror.quantity, mirror.charge, mirror.forward_state) == (MAX, at_a(MAX), "sent")
    second = await post_at_b(chain, b_id, 300)
    mirrors = await mirrored_at_a(chain, a_id, [first, second])

    replies = await chain.follows(key, [a_id], ["Active"])
    assert (replies[str(a_id)]["posts"], replies[str(a_id)]["orders"]) == (
        "2",
        [row.id for row in mirrors],
    )
    assert await chain.balance(chain.a, key) == to_micros(A_OPENING) - 2 * at_a(MAX)
    assert await chain.balance(chain.b, chain.b_key) == b_before - at_b(200) - at_b(300)

    # B delivers both posts, then ends the subscription: A follows each, moving no money.
    for b_child in (first, second):
        await chain.b.run("order", "update", b_child, "--status", "Completed")
    await chain.follows(key, [row.id for row in mirrors], ["Completed", "Completed"])
    await chain.b.run("order", "update", b_id, "--status", "Completed")
    replies = await chain.follows(key, [a_id], ["Completed"])
    assert replies[str(a_id)]["posts"] == "2"
    assert await chain.balance(chain.a, key) == to_micros(A_OPENING) - 2 * at_a(MAX)
    assert await chain.balance(chain.b, chain.b_key) == b_before - at_b(200) - at_b(300)


async def test_a_paid_up_front_subscription_completes_on_both_sides_at_its_last_post(
    chain: Chain,
):
    key = await chain.buyer()
    b_before = await chain.balance(chain.b, chain.b_key)
    a_id = await subscribe_at_a(chain, key, posts=2)
    [b_id] = await chain.sent_to_b([a_id])
    a_charge = await chain.charge(chain.a, key, a_id)
    assert a_charge == at_a(2 * MAX)
    assert await chain.charge(chain.b, chain.b_key, b_id) == at_b(2 * MAX)

    posts = [await post_at_b(chain, b_id, 150)]
    await mirrored_at_a(chain, a_id, posts)
    posts.append(await post_at_b(chain, b_id, 450))  # the last: B's subscription completes
    mirrors = await mirrored_at_a(chain, a_id, posts)

    replies = await chain.follows(key, [a_id], ["Completed"])
    assert (replies[str(a_id)]["posts"], replies[str(a_id)]["remains"]) == ("2", "0")
    assert [row.charge for row in mirrors] == [0, 0]
    b_reply = await chain.statuses(chain.b, chain.b_key, [b_id])
    assert (b_reply[str(b_id)]["status"], b_reply[str(b_id)]["posts"]) == ("Completed", "2")
    # Every post paid for was delivered: nothing refunded on either side.
    assert await chain.a.refunded(a_id) == 0 and await chain.b.refunded(b_id) == 0
    assert await chain.balance(chain.a, key) == to_micros(A_OPENING) - a_charge
    assert await chain.balance(chain.b, chain.b_key) == b_before - at_b(2 * MAX)
    assert Decimal(replies[str(a_id)]["charge"]) == Decimal(a_charge) / 1_000_000


async def test_a_paid_up_front_subscription_ended_early_at_b_refunds_its_undelivered_post(
    chain: Chain,
):
    key = await chain.buyer()
    b_before = await chain.balance(chain.b, chain.b_key)
    a_id = await subscribe_at_a(chain, key, posts=2)
    [b_id] = await chain.sent_to_b([a_id])
    a_charge = await chain.charge(chain.a, key, a_id)
    b_charge = await chain.charge(chain.b, chain.b_key, b_id)
    await mirrored_at_a(chain, a_id, [await post_at_b(chain, b_id, 250)])

    # B's operator ends it after one post of two: each side refunds the post not delivered.
    await chain.b.run("order", "update", b_id, "--status", "Completed")
    replies = await chain.follows(key, [a_id], ["Completed"])

    assert (replies[str(a_id)]["posts"], replies[str(a_id)]["remains"]) == ("1", str(MAX))
    assert await chain.b.refunded(b_id) == pro_rata(b_charge, MAX, 2 * MAX) > 0
    assert await chain.a.refunded(a_id) == pro_rata(a_charge, MAX, 2 * MAX) > 0
    assert await chain.balance(chain.a, key) == (
        to_micros(A_OPENING) - a_charge + pro_rata(a_charge, MAX, 2 * MAX)
    )
    assert await chain.balance(chain.b, chain.b_key) == (
        b_before - b_charge + pro_rata(b_charge, MAX, 2 * MAX)
    )
