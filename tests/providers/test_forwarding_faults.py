"""Sending orders upstream when the upstream misbehaves: at most once, and the money right.

Every way of getting no usable answer to `add` leaves the order in doubt for the operator and
never re-sends it; a definite rejection cancels and refunds; an upstream short of funds or out of
reach makes the order wait. Runs the forwarding functions directly against tests/fakes/upstream.py
(providers with a 1 s timeout), on SQLite and PostgreSQL.
"""

# The fixtures imported from forwarding_fixtures are parameters of the tests below.
# ruff: noqa: F811

import pytest
from forwarding_fixtures import (  # noqa: F401 - fixtures
    FAST_FORWARDING,
    FakeUpstream,
    forwarding_db,
    forwarding_route,
    free_port,
    lone_upstream_fake,
    make_route,
    shared_upstream,
    upstream_client,
    upstream_fake,
)
from sqlalchemy import update

from smmpanel.db.base import as_utc, utcnow
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import (
    CANCELED,
    FORWARD_IN_DOUBT,
    FORWARD_QUEUED,
    FORWARD_REJECTED,
    FORWARD_SENT,
    PENDING,
)
from smmpanel.providers.forwarding import claim_orders, record_outcomes, send_all

# "busy": HTTP 503 with {"error": "Temporary error..."}, what our own panel says when a request
# fails, perhaps after its commit. Not a rejection: the API gives its errors with HTTP 200.
NO_ANSWER = [
    "slow",
    "html",
    "garbage",
    "empty",
    "http500",
    "drop",
    "busy",
]


@pytest.mark.parametrize("mode", NO_ANSWER)
async def test_no_usable_answer_to_add_puts_the_order_in_doubt_for_good(
    forwarding_route, upstream_fake, upstream_client, mode
):
    upstream_fake.control(add=mode)
    order = await forwarding_route.place()

    await forwarding_route.forward(upstream_client)

    row = await forwarding_route.order(order.id)
    assert row.forward_state == FORWARD_IN_DOUBT, row.last_error
    assert row.status == PENDING
    assert row.upstream_order_id is None
    assert "no answer" in row.last_error
    assert upstream_fake.times_sent(order.link) == 1
    # Even with the upstream healthy again, nothing re-sends it on its own.
    upstream_fake.control(add="ok")
    for _ in range(3):
        await forwarding_route.forward(upstream_client)
    row = await forwarding_route.order(order.id)
    assert row.forward_state == FORWARD_IN_DOUBT
    assert upstream_fake.times_sent(order.link) == 1
    # Still charged: the operator decides, nothing is refunded yet.
    assert await forwarding_route.refunds(order.id) == []
    assert await forwarding_route.balance() == forwarding_route.opening - row.charge
    stats = await forwarding_route.stats()
    assert (stats.in_doubt, stats.sent, stats.rejected) == (1, 0, 0)
    assert await forwarding_route.audit() == []


async def test_a_healthy_upstream_takes_the_order_once(
    forwarding_route, upstream_fake, upstream_client
):
    order = await forwarding_route.place()

    await forwarding_route.forward(upstream_client)
    for _ in range(2):
        await forwarding_route.forward(upstream_client)

    row = await forwarding_route.order(order.id)
    assert row.forward_state == FORWARD_SENT
    assert row.upstream_order_id and row.last_error is None
    assert upstream_fake.times_sent(order.link) == 1
    assert upstream_fake.state()["orders"][row.upstream_order_id]["fields"]["link"] == order.link
    assert await forwarding_route.balance() == forwarding_route.opening - row.charge
    assert await forwarding_route.audit() == []


async def test_a_definite_rejection_cancels_and_refunds_in_full(
    forwarding_route, upstream_fake, upstream_client
):
    upstream_fake.control(add="error")
    order = await forwarding_route.place()

    await forwarding_route.forward(upstream_client)

    row = await forwarding_route.order(order.id)
    assert (row.status, row.forward_state) == (CANCELED, FORWARD_REJECTED)
    assert "Incorrect link" in row.last_error
    assert await forwarding_route.refunds(order.id) == [row.charge]
    assert await forwarding_route.balance() == forwarding_route.opening
    # Nothing more happens to it: no second send, no second refund.
    upstream_fake.control(add="ok")
    for _ in range(2):
        await forwarding_route.forward(upstream_client)
    assert (await forwarding_route.order(order.id)).forward_state == FORWARD_REJECTED
    assert upstream_fake.times_sent(order.link) == 0
    assert await forwarding_route.refunds(order.id) == [row.charge]
    assert (await forwarding_route.stats()).rejected == 1
    assert await forwarding_route.audit() == []


async def test_an_upstream_short_of_funds_pauses_the_provider_and_the_order_waits(
    forwarding_route, upstream_fake, upstream_client
):
    upstream_fake.control(add="funds")
    order = await forwarding_route.place()

    await forwarding_route.forward(upstream_client)

    row = await forwarding_route.order(order.id)
    assert (row.status, row.forward_state) == (PENDING, FORWARD_QUEUED)
    assert "funds" in row.last_error
    stats = await forwarding_route.stats()
    assert stats.paused_until is not None and as_utc(stats.paused_until) > utcnow()
    assert await forwarding_route.refunds(order.id) == []
    assert await forwarding_route.balance() == forwarding_route.opening - row.charge
    # While paused, the provider is not called at all.
    upstream_fake.control(add="ok")
    adds = upstream_fake.calls("add")
    await forwarding_route.forward(upstream_client)
    assert upstream_fake.calls("add") == adds
    assert (await forwarding_route.order(order.id)).forward_state == FORWARD_QUEUED
    # After the pause, the order goes, once.
    await forwarding_route.end_pause()
    await forwarding_route.make_due(order.id)
    await forwarding_route.forward(upstream_client)
    row = await forwarding_route.order(order.id)
    assert row.forward_state == FORWARD_SENT and row.last_error is None
    assert upstream_fake.times_sent(order.link) == 1
    assert await forwarding_route.audit() == []


async def test_an_unreachable_upstream_leaves_the_order_queued_until_it_answers(
    forwarding_db, upstream_fake, upstream_client
):
    nobody = f"http://127.0.0.1:{free_port()}/api/v2"
    route = await make_route(forwarding_db, nobody)
    order = await route.place()
    try:
        for _ in range(3):
            await route.forward(upstream_client)
            row = await route.order(order.id)
            assert (row.status, row.forward_state) == (PENDING, FORWARD_QUEUED)
            assert "unreachable" in row.last_error
        stats = await route.stats()
        assert (stats.in_doubt, stats.sent) == (0, 0)
        assert stats.last_error  # the connection error, for the operator
        assert await route.refunds(order.id) == []
        assert await route.balance() == route.opening - row.charge
        # The upstream comes back: the order is sent, once.
        await route.point_at(upstream_fake.api_url)
        await route.forward(upstream_client)
        row = await route.order(order.id)
        assert row.forward_state == FORWARD_SENT and row.last_error is None
        assert upstream_fake.times_sent(order.link) == 1
        assert await route.audit() == []
    finally:
        await route.disable()


async def test_an_upstream_id_given_twice_puts_the_second_order_in_doubt(
    forwarding_db, lone_upstream_fake: FakeUpstream, upstream_client
):
    route = await make_route(forwarding_db, lone_upstream_fake.api_url)
    try:
        lone_upstream_fake.control(add="same_id")
        # In one batch: both get the same id, one order keeps it.
        first, second = await route.place(), await route.place()
        await route.forward(upstream_client)
        rows = [await route.order(first.id), await route.order(second.id)]
        states = sorted(row.forward_state for row in rows)
        assert states == [FORWARD_IN_DOUBT, FORWARD_SENT], [r.last_error for r in rows]
        holder = next(row for row in rows if row.forward_state == FORWARD_SENT)
        doubtful = next(row for row in rows if row.forward_state == FORWARD_IN_DOUBT)
        assert doubtful.upstream_order_id is None
        assert holder.upstream_order_id in doubtful.last_error
        # In a later batch: the id is taken by a stored order.
        third = await route.place()
        await route.forward(upstream_client)
        row = await route.order(third.id)
        assert row.forward_state == FORWARD_IN_DOUBT and row.upstream_order_id is None
        # None of them is sent again, none refunded.
        lone_upstream_fake.control(add="ok")
        await route.forward(upstream_client)
        for placed in (first, second, third):
            assert lone_upstream_fake.times_sent(placed.link) == 1
            assert await route.refunds(placed.id) == []
        stats = await route.stats()
        assert (stats.sent, stats.in_doubt) == (1, 2)
        assert "again" in stats.last_error
        assert await route.audit() == []
    finally:
        await route.disable()


async def test_a_batch_is_recorded_whole_each_order_with_its_own_id(
    forwarding_route, upstream_fake, upstream_client
):
    """The orders of a batch the upstream took are written at once: each with the id the
    upstream gave it; one put in doubt by the sweeper meanwhile takes its late answer, one
    the operator settled meanwhile is left as the operator left it."""
    placed = await forwarding_route.place_many(5)
    ids = [order.id for order in placed]
    async with forwarding_route.db.write() as conn:
        claimed = [item for item in await claim_orders(conn, 100) if item.order_id in ids]
    assert sorted(item.order_id for item in claimed) == ids
    outcomes = await send_all(upstream_client, claimed)
    swept, settled = ids[3], ids[4]
    async with forwarding_route.db.write() as conn:
        for order_id, state in ((swept, FORWARD_IN_DOUBT), (settled, FORWARD_REJECTED)):
            await conn.execute(
                update(orders).where(orders.c.id == order_id).values(forward_state=state)
            )

    async with forwarding_route.db.write() as conn:
        await record_outcomes(conn, outcomes, FAST_FORWARDING)

    upstream_orders = upstream_fake.state()["orders"]
    for order in placed[:4]:
        row = await forwarding_route.order(order.id)
        assert (row.forward_state, row.sending_since, row.last_error) == (FORWARD_SENT, None, None)
        assert upstream_orders[row.upstream_order_id]["fields"]["link"] == order.link
    row = await forwarding_route.order(settled)
    assert (row.forward_state, row.upstream_order_id) == (FORWARD_REJECTED, None)
    assert all(upstream_fake.times_sent(order.link) == 1 for order in placed)
    assert (await forwarding_route.stats()).sent == 5
    assert await forwarding_route.audit() == []
