"""Keeping forwarded orders in step with the upstream, and refunding what it did not deliver.

A status call that fails or says something unknown changes no order and no money: it is noted
and tried again later, less and less often. A final status is applied with its exact refund,
once, however often it is read. On SQLite and PostgreSQL, against tests/fakes/upstream.py.
"""

# The fixtures imported from forwarding_fixtures are parameters of the tests below.
# ruff: noqa: F811

from datetime import timedelta

import pytest
from forwarding_fixtures import (  # noqa: F401 - fixtures
    FAST_POLLING,
    forwarding_db,
    forwarding_route,
    pro_rata,
    shared_upstream,
    upstream_client,
    upstream_fake,
)
from sqlalchemy import insert, select

from smmpanel.db.base import utcnow
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import cancel_requests
from smmpanel.orders.models import orders as orders_table
from smmpanel.orders.statuses import (
    CANCELED,
    COMPLETED,
    FORWARD_SENT,
    IN_PROGRESS,
    PARTIAL,
    PENDING,
)
from smmpanel.providers import polling
from smmpanel.providers.polling import PollingTimes, apply_readings, claim_polls, read_statuses

BACKING_OFF = PollingTimes(fastest=timedelta(seconds=1), slowest=timedelta(hours=1))
QUANTITY = 777  # with the route's rate, a charge that does not divide evenly


async def sent_order(forwarding_route, upstream_client, quantity: int = QUANTITY):  # type: ignore[no-untyped-def]
    order = await forwarding_route.place(quantity=quantity)
    await forwarding_route.forward(upstream_client)
    row = await forwarding_route.order(order.id)
    assert row.forward_state == FORWARD_SENT, row.last_error
    return row


@pytest.mark.parametrize("mode", ["garbage", "html", "http500", "busy", "unknown_status", "drop"])
async def test_a_failing_status_call_changes_nothing_and_backs_off(
    forwarding_route, upstream_fake, upstream_client, mode
):
    before = await sent_order(forwarding_route, upstream_client)
    upstream_fake.control(status=mode)
    intervals = []

    for _ in range(4):
        await forwarding_route.make_due(before.id)
        await forwarding_route.poll(upstream_client, BACKING_OFF)
        row = await forwarding_route.order(before.id)
        assert (row.status, row.remains, row.start_count) == (
            before.status,
            before.remains,
            before.start_count,
        )
        schedule = await forwarding_route.poll_schedule(before.id)
        assert row.forward_state == FORWARD_SENT and schedule is not None
        assert row.last_error, "the problem is noted on the order"
        intervals.append(schedule.every)

    assert intervals == [1, 2, 4, 8]
    assert await forwarding_route.refunds(before.id) == []
    assert await forwarding_route.balance() == forwarding_route.opening - before.charge
    stats = await forwarding_route.stats()
    assert stats.last_error and stats.polled == 4
    # Once it answers again, the order follows and the pace resets.
    upstream_fake.control(status="ok")
    upstream_fake.set_order(before.upstream_order_id, status="In progress", start_count=120)
    await forwarding_route.make_due(before.id)
    await forwarding_route.poll(upstream_client, BACKING_OFF)
    row = await forwarding_route.order(before.id)
    assert (row.status, row.start_count) == (IN_PROGRESS, 120)
    assert row.last_error is None
    assert (await forwarding_route.poll_schedule(before.id)).every == 1
    assert await forwarding_route.audit() == []


FINAL_STATUSES = [
    # upstream spelling, remains it reports, our status, remains kept
    ("Completed", 0, COMPLETED, 0),
    ("completed", 5, COMPLETED, 0),  # Completed refunds nothing, whatever remains says
    ("Partial", 333, PARTIAL, 333),
    ("partial", 1, PARTIAL, 1),
    ("Canceled", QUANTITY, CANCELED, QUANTITY),
    ("cancelled", QUANTITY, CANCELED, QUANTITY),
]


def expected_refund(status: str, charge: int, remains: int) -> int:
    if status == CANCELED:
        return charge
    if status == PARTIAL:
        return pro_rata(charge, remains, QUANTITY)
    return 0


@pytest.mark.parametrize(("spelling", "reported", "status", "remains"), FINAL_STATUSES)
async def test_a_final_status_is_applied_with_its_exact_refund_once(
    forwarding_route, upstream_fake, upstream_client, spelling, reported, status, remains
):
    row = await sent_order(forwarding_route, upstream_client)
    upstream_fake.set_order(row.upstream_order_id, status="In_progress", start_count=50)
    await forwarding_route.poll(upstream_client)
    assert (await forwarding_route.order(row.id)).status == IN_PROGRESS

    upstream_fake.set_order(row.upstream_order_id, status=spelling, remains=reported)
    await forwarding_route.poll(upstream_client)

    done = await forwarding_route.order(row.id)
    assert (done.status, done.remains, done.start_count) == (status, remains, 50)
    assert done.finished_at is not None
    assert await forwarding_route.poll_schedule(row.id) is None, "a finished order is not polled"
    # Polled again (were it due), nothing changes and nothing is refunded twice.
    for _ in range(2):
        await forwarding_route.make_due(row.id)
        await forwarding_route.poll(upstream_client)
    again = await forwarding_route.order(row.id)
    assert (again.status, again.remains) == (status, remains)
    refund = expected_refund(status, row.charge, remains)
    assert await forwarding_route.refunds(row.id) == ([refund] if refund else [])
    assert await forwarding_route.balance() == forwarding_route.opening - row.charge + refund
    assert await forwarding_route.audit() == []


@pytest.mark.parametrize(("spelling", "remains"), [("Partial", 400), ("Canceled", QUANTITY)])
async def test_the_same_reading_applied_twice_refunds_once(
    forwarding_route, upstream_fake, upstream_client, spelling, remains
):
    """Two workers that read the same status (a lease ran out) both apply it."""
    row = await sent_order(forwarding_route, upstream_client)
    upstream_fake.set_order(row.upstream_order_id, status=spelling, remains=remains)
    async with forwarding_route.db.write() as conn:
        tracked = [t for t in await claim_polls(conn, 1000, FAST_POLLING) if t.order_id == row.id]
    readings = await read_statuses(upstream_client, tracked)

    for _ in range(2):
        async with forwarding_route.db.write() as conn:
            await apply_readings(conn, tracked, readings, FAST_POLLING)

    done = await forwarding_route.order(row.id)
    assert (done.status, done.remains) == (spelling, remains)
    refund = expected_refund(spelling, row.charge, remains)
    assert await forwarding_route.refunds(row.id) == [refund]
    assert await forwarding_route.balance() == forwarding_route.opening - row.charge + refund
    assert await forwarding_route.audit() == []


async def test_an_order_the_upstream_does_not_know_is_kept_and_polled_later(
    forwarding_route, upstream_fake, upstream_client
):
    row = await sent_order(forwarding_route, upstream_client)
    # Ours names an id the upstream never gave: it answers {"error": "Incorrect order ID"}.
    async with forwarding_route.db.write() as conn:
        await conn.execute(
            orders_table.update()
            .where(orders_table.c.id == row.id)
            .values(upstream_order_id="999999999")
        )

    await forwarding_route.poll(upstream_client, BACKING_OFF)

    done = await forwarding_route.order(row.id)
    assert (done.status, done.forward_state) == (PENDING, FORWARD_SENT)
    assert "Incorrect order ID" in done.last_error
    assert await forwarding_route.poll_schedule(row.id) is not None
    assert await forwarding_route.refunds(row.id) == []


# One batch, every kind of reading: (upstream status, start_count, remains) -> what we keep.
MIXED_BATCH = {
    "quiet": (("Pending", 0, QUANTITY), (PENDING, 0, QUANTITY)),
    "started": (("In progress", 50, QUANTITY), (IN_PROGRESS, 50, QUANTITY)),
    "progressing": (("Processing", 50, 300), ("Processing", 50, 300)),
    "completed": (("Completed", 60, 0), (COMPLETED, 60, 0)),
    "completed, remains left": (("complete", 60, 5), (COMPLETED, 60, 0)),
    "partial": (("Partial", 60, 333), (PARTIAL, 60, 333)),
    "canceled": (("cancelled", 0, QUANTITY), (CANCELED, 0, QUANTITY)),
}


async def test_a_mixed_batch_gets_exact_statuses_remains_and_refunds(
    forwarding_route, upstream_fake, upstream_client, monkeypatch
):
    rows = {name: await sent_order(forwarding_route, upstream_client) for name in MIXED_BATCH}
    for name, ((status, start_count, remains), _) in MIXED_BATCH.items():
        upstream_fake.set_order(
            rows[name].upstream_order_id, status=status, start_count=start_count, remains=remains
        )
    await _open_cancel_request(forwarding_route, rows["completed"])
    one_by_one = _count_calls(monkeypatch, polling, "update_order")

    await forwarding_route.poll(upstream_client, BACKING_OFF)

    assert one_by_one == [], "refunds too are applied in bulk"
    for name, (_, expected) in MIXED_BATCH.items():
        row = await forwarding_route.order(rows[name].id)
        assert (row.status, row.start_count, row.remains) == expected, name
        finished = expected[0] in (COMPLETED, PARTIAL, CANCELED)
        schedule = await forwarding_route.poll_schedule(rows[name].id)
        assert (schedule is None, row.finished_at is not None) == (finished, finished)
        assert row.active_link is None if finished else row.active_link == rows[name].link
        assert row.last_error is None and (finished or schedule.every == 1), name
    assert await _cancel_request_status(forwarding_route, rows["completed"]) == "Rejected"
    await _assert_refunds(forwarding_route, rows)

    # Read again (were they due), nothing moves and nothing is refunded twice.
    for row in rows.values():
        await forwarding_route.make_due(row.id)
    await forwarding_route.poll(upstream_client, BACKING_OFF)
    await _assert_refunds(forwarding_route, rows)
    assert await forwarding_route.audit() == []


async def _assert_refunds(route, rows: dict) -> None:  # type: ignore[no-untyped-def]
    refunds = {name: await route.refunds(row.id) for name, row in rows.items()}
    partial, canceled = rows["partial"], rows["canceled"]
    expected = {name: [] for name in rows}
    expected["partial"] = [pro_rata(partial.charge, 333, QUANTITY)]
    expected["canceled"] = [canceled.charge]
    assert refunds == expected
    charged = sum(row.charge for row in rows.values())
    refunded = sum(sum(amounts) for amounts in expected.values())
    assert await route.balance() == route.opening - charged + refunded


def _count_calls(monkeypatch, module, name: str) -> list[int]:  # type: ignore[no-untyped-def]
    """The order ids `module.name` is called with from now on."""
    calls: list[int] = []
    original = getattr(module, name)

    async def counted(conn, order_id, **changes):  # type: ignore[no-untyped-def]
        calls.append(order_id)
        return await original(conn, order_id, **changes)

    monkeypatch.setattr(module, name, counted)
    return calls


async def _open_cancel_request(route, row) -> None:  # type: ignore[no-untyped-def]
    async with route.db.write() as conn:
        await conn.execute(
            insert(cancel_requests).values(
                order_id=row.id,
                customer_id=row.customer_id,
                status="Pending",
                open_order_id=row.id,
                created_at=utcnow(),
            )
        )


async def _cancel_request_status(route, row) -> str:  # type: ignore[no-untyped-def]
    async with route.db.read() as conn:
        return await conn.scalar(
            select(cancel_requests.c.status).where(cancel_requests.c.order_id == row.id)
        )


async def test_an_order_the_operator_changed_meanwhile_goes_through_the_life_cycle(
    forwarding_route, upstream_fake, upstream_client
):
    """Claimed Pending, canceled by the operator before the reading is applied: the reading
    (In progress) is checked against the order as it is now, refused, and refunds nothing more."""
    row = await sent_order(forwarding_route, upstream_client)
    upstream_fake.set_order(row.upstream_order_id, status="In progress", start_count=10)
    async with forwarding_route.db.write() as conn:
        tracked = [t for t in await claim_polls(conn, 1000, FAST_POLLING) if t.order_id == row.id]
    readings = await read_statuses(upstream_client, tracked)
    async with forwarding_route.db.write() as conn:
        await update_order(conn, row.id, status=CANCELED)

    async with forwarding_route.db.write() as conn:
        await apply_readings(conn, tracked, readings, BACKING_OFF)

    done = await forwarding_route.order(row.id)
    assert (done.status, done.start_count) == (CANCELED, row.start_count)
    assert "not applied" in done.last_error
    assert await forwarding_route.refunds(row.id) == [row.charge]
    assert await forwarding_route.audit() == []
