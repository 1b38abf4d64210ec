"""One polling run claims several batches, the next while the one before is read and applied.

Each order due when the run starts is polled once in it, however soon it is due again; at most
two batches are in flight, and none is claimed once the run is a second old (a slow upstream
keeps runs short); a batch that fails ends the run: the batch read beside it is still
applied, no other is claimed, and its own orders wait for their next poll, with no money moved
twice. On SQLite and PostgreSQL, against
tests/fakes/upstream.py.
"""

# The fixtures imported from forwarding_fixtures are parameters of the tests below.
# ruff: noqa: F811

import asyncio
from types import SimpleNamespace

import pytest
from forwarding_fixtures import (  # noqa: F401 - fixtures
    FAST_POLLING,
    WORKER_POLLING,
    forwarding_db,
    forwarding_route,
    pro_rata,
    shared_upstream,
    upstream_client,
    upstream_fake,
)

from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.statuses import COMPLETED, FORWARD_SENT, IN_PROGRESS, PARTIAL, PENDING
from smmpanel.providers import polling
from smmpanel.providers.polling import BATCHES_IN_FLIGHT, poll_due_orders

BATCH = 5
QUANTITY = 100


async def sent_orders(route, client, count: int) -> list:  # type: ignore[no-untyped-def]
    placed = await route.place_many(count, quantity=QUANTITY)
    await route.forward(client)
    rows = [await route.order(p.id) for p in placed]
    assert {row.forward_state for row in rows} == {FORWARD_SENT}
    return rows


def count_reads_in_flight(monkeypatch, lasting: float = 0.0) -> list[int]:  # type: ignore[no-untyped-def]
    """How many batches were being read at once, at the start of each read; each read lasts
    at least `lasting` seconds, inside this process (no upstream timeout can cut it short)."""
    seen: list[int] = []
    reading = 0
    original = polling.read_statuses

    async def counted(client, tracked):  # type: ignore[no-untyped-def]
        nonlocal reading
        reading += 1
        seen.append(reading)
        try:
            await asyncio.sleep(lasting)
            return await original(client, tracked)
        finally:
            reading -= 1

    monkeypatch.setattr(polling, "read_statuses", counted)
    return seen


def count_status_calls(client, monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """How many ids each status call of `client` asked for."""
    asked: list[int] = []
    original = client.statuses

    async def counted(endpoint, ids):  # type: ignore[no-untyped-def]
        asked.append(len(ids))
        return await original(endpoint, ids)

    monkeypatch.setattr(client, "statuses", counted)
    return asked


def slow_upstream_clock(monkeypatch, seconds_per_read: float) -> None:  # type: ignore[no-untyped-def]
    """The polling run's clock moves on `seconds_per_read` each time a read ends, as with a
    slow upstream, while the reads themselves are quick (the event loop keeps the real clock)."""
    now = 0.0
    original = polling.read_statuses

    async def slow(client, tracked):  # type: ignore[no-untyped-def]
        nonlocal now
        try:
            return await original(client, tracked)
        finally:
            now += seconds_per_read

    monkeypatch.setattr(polling, "read_statuses", slow)
    monkeypatch.setattr(polling, "time", SimpleNamespace(monotonic=lambda: now))


async def test_a_run_polls_each_due_order_once_two_batches_at_a_time(
    forwarding_route, upstream_fake, upstream_client, monkeypatch
):
    rows = await sent_orders(forwarding_route, upstream_client, 4 * BATCH)
    for n, row in enumerate(rows):
        upstream_fake.set_order(row.upstream_order_id, status="In progress", start_count=n)
    monkeypatch.setattr(polling, "CLAIMING_SECONDS", 60)  # however slow this machine is
    reads = count_reads_in_flight(monkeypatch, lasting=0.2)  # long enough for the next claim
    asked = count_status_calls(upstream_client, monkeypatch)

    # FAST_POLLING makes every polled order due again at once: the run still reads it once.
    polled = await poll_due_orders(forwarding_route.db, upstream_client, BATCH, FAST_POLLING)

    assert polled == len(rows)
    assert asked == [BATCH] * 4, "one call per batch of 5 ids"
    assert len(reads) == 4 and max(reads) == BATCHES_IN_FLIGHT
    for n, row in enumerate(rows):
        after = await forwarding_route.order(row.id)
        assert (after.status, after.start_count) == (IN_PROGRESS, n)
    # They are due again: the next run reads them again.
    polled = await poll_due_orders(forwarding_route.db, upstream_client, BATCH, FAST_POLLING)
    assert polled == len(rows)


async def test_a_run_stops_at_its_batch_count_and_leaves_the_rest_due(
    forwarding_route, upstream_client
):
    await sent_orders(forwarding_route, upstream_client, 3 * BATCH)

    first = await poll_due_orders(
        forwarding_route.db, upstream_client, BATCH, WORKER_POLLING, batches=2
    )
    second = await poll_due_orders(
        forwarding_route.db, upstream_client, BATCH, WORKER_POLLING, batches=2
    )
    third = await poll_due_orders(
        forwarding_route.db, upstream_client, BATCH, WORKER_POLLING, batches=2
    )

    assert (first, second, third) == (2 * BATCH, BATCH, 0)


async def test_a_failing_batch_ends_the_run_and_each_order_is_refunded_once(
    forwarding_route, upstream_fake, upstream_client, monkeypatch
):
    rows = await sent_orders(forwarding_route, upstream_client, 3 * BATCH)
    remains = {row.id: 10 + n for n, row in enumerate(rows)}
    for row in rows:
        upstream_fake.set_order(row.upstream_order_id, status="Partial", remains=remains[row.id])
    original = polling.apply_readings
    applied = 0

    async def first_batch_fails(conn, tracked, readings, times):  # type: ignore[no-untyped-def]
        nonlocal applied
        applied += 1
        if applied == 1:
            raise RuntimeError("the database went away")
        await original(conn, tracked, readings, times)

    monkeypatch.setattr(polling, "apply_readings", first_batch_fails)
    with pytest.raises(RuntimeError, match="went away"):
        await poll_due_orders(forwarding_route.db, upstream_client, BATCH, FAST_POLLING)
    assert applied == 2, "the batch in flight beside it was applied, none claimed after"

    statuses = [(await forwarding_route.order(row.id)).status for row in rows]
    assert sorted(statuses) == [PARTIAL] * BATCH + [PENDING] * 2 * BATCH
    monkeypatch.setattr(polling, "apply_readings", original)
    await asyncio.gather(*(forwarding_route.make_due(row.id) for row in rows))
    await forwarding_route.poll(upstream_client)

    for row in rows:
        after = await forwarding_route.order(row.id)
        assert (after.status, after.remains) == (PARTIAL, remains[row.id])
        refund = pro_rata(row.charge, remains[row.id], QUANTITY)
        assert await forwarding_route.refunds(row.id) == [refund]
    assert await forwarding_route.audit() == []


async def test_an_order_the_operator_finished_is_dropped_from_the_schedule_unread(
    forwarding_route, upstream_client
):
    finished, polled = await sent_orders(forwarding_route, upstream_client, 2)
    async with forwarding_route.db.write() as conn:
        await update_order(conn, finished.id, status=COMPLETED)

    assert await forwarding_route.poll(upstream_client) == 1, "only the unfinished one is read"

    assert await forwarding_route.poll_schedule(finished.id) is None
    assert await forwarding_route.poll_schedule(polled.id) is not None
    assert (await forwarding_route.order(finished.id)).status == COMPLETED


async def test_a_run_claims_no_batch_once_it_is_old_and_leaves_the_rest_due(
    forwarding_route, upstream_client, monkeypatch
):
    await sent_orders(forwarding_route, upstream_client, 4 * BATCH)
    # Each read outlasts the claiming time: the batches in flight are claimed, no more.
    slow_upstream_clock(monkeypatch, seconds_per_read=2 * polling.CLAIMING_SECONDS)

    first = await poll_due_orders(forwarding_route.db, upstream_client, BATCH, WORKER_POLLING)
    rest = await poll_due_orders(forwarding_route.db, upstream_client, BATCH, WORKER_POLLING)

    assert (first, rest) == (BATCHES_IN_FLIGHT * BATCH, 2 * BATCH)
