"""Keeping forwarded orders in step: multi-status calls of up to 100 ids per provider.

Quiet orders are polled less and less often; a change resets the pace. An error, garbage or
an unknown status never fails an order: it is noted and tried again later.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import locked, one_of
from smmpanel.errors import Refusal
from smmpanel.orders.lifecycle import Progress, apply_progress, settle_finished, update_order
from smmpanel.orders.models import order_polls, orders, subscriptions
from smmpanel.orders.statuses import (
    COMPLETED,
    FORWARD_SENT,
    SUBSCRIPTIONS,
    is_finished,
)
from smmpanel.providers.client import Endpoint, UpstreamClient, UpstreamError
from smmpanel.providers.models import providers
from smmpanel.providers.service import record_outcome
from smmpanel.providers.statuses import order_status
from smmpanel.providers.subscriptions import UpstreamChild, follow_subscription, upstream_children

log = logging.getLogger("smmpanel.polling")

IDS_PER_CALL = 100
CALL_CONCURRENCY = 8  # status calls in flight per batch
BATCHES_PER_RUN = 8
BATCHES_IN_FLIGHT = 2
# A run claims no new batch once it is this old, so a slow upstream (each batch waiting out its
# timeout) keeps a run, and the worker's stop, about as short as one batch.
CLAIMING_SECONDS = 1.0


@dataclass(frozen=True)
class PollingTimes:
    """The pace of polling; the settings say (config.Settings holds the defaults)."""

    fastest: timedelta
    slowest: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "PollingTimes":
        return cls(
            fastest=timedelta(seconds=settings.poll_fastest_seconds),
            slowest=timedelta(seconds=settings.poll_slowest_seconds),
        )


@dataclass(frozen=True)
class Tracked:
    order_id: int
    endpoint: Endpoint
    upstream_id: str
    type: str
    status: str
    start_count: int
    remains: int
    poll_interval: int
    parent_id: int | None


@dataclass(frozen=True)
class Reading:
    """What the upstream said of one order, in our terms; `problem` if nothing usable."""

    status: str | None = None
    start_count: int | None = None
    remains: int | None = None
    posts: int | None = None
    children: tuple[UpstreamChild, ...] = ()  # a subscription's post orders
    problem: str | None = None


@dataclass
class PollCounts:
    """What a batch's polls of one provider came to, for its counters and its last error."""

    polled: int = 0
    error: str | None = None


async def poll_due_orders(
    db: Database,
    client: UpstreamClient,
    limit: int,
    times: PollingTimes,
    batches: int = BATCHES_PER_RUN,
) -> int:
    """Poll up to `batches` batches of the orders due when the run starts (so each at most
    once); how many were polled.

    The next batch is claimed while the one before is read and applied, at most
    BATCHES_IN_FLIGHT at once, so the database, this process and the upstream work side by
    side; none is claimed once the run is CLAIMING_SECONDS old. Claims commit before any call
    and never overlap, so no order is in two batches."""
    due_by = utcnow()
    claiming_until = time.monotonic() + CLAIMING_SECONDS
    in_flight: set[asyncio.Task[int]] = set()
    polled = 0
    try:
        for claimed in range(batches):
            if len(in_flight) >= BATCHES_IN_FLIGHT:
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                polled += sum(task.result() for task in done)
            if claimed and time.monotonic() > claiming_until:
                break
            async with db.write() as conn:
                tracked = await claim_polls(conn, limit, times, due_by)
            if not tracked:
                break
            in_flight.add(asyncio.create_task(_read_and_apply(db, client, tracked, times)))
    finally:
        finished = await asyncio.gather(*in_flight, return_exceptions=True)
    for result in finished:
        if isinstance(result, BaseException):
            raise result
        polled += result
    return polled


async def _read_and_apply(
    db: Database, client: UpstreamClient, tracked: list[Tracked], times: PollingTimes
) -> int:
    readings = await read_statuses(client, tracked)
    async with db.write() as conn:
        await apply_readings(conn, tracked, readings, times)
    return len(tracked)


async def claim_polls(
    conn: AsyncConnection, limit: int, times: PollingTimes, due_by: datetime | None = None
) -> list[Tracked]:
    """Claim orders due by `due_by` (now if not given) by giving each the next poll time it has
    if nothing changes: most don't, and need no second write; a worker that dies mid-batch
    leaves them to that time. The schedules of orders no longer polled (finished, or moved
    on by the operator) are dropped."""
    now = utcnow()
    due = (
        select(
            order_polls.c.order_id,
            providers.c.id,
            providers.c.api_url,
            providers.c.api_key,
            providers.c.timeout_seconds,
            orders.c.upstream_order_id,
            orders.c.type,
            orders.c.status,
            orders.c.start_count,
            orders.c.remains,
            order_polls.c.every,
            orders.c.parent_id,
            orders.c.forward_state,
        )
        .join(orders, orders.c.id == order_polls.c.order_id)
        .join(providers, providers.c.id == orders.c.provider_id)
        .where(order_polls.c.due_at <= (due_by or now), providers.c.enabled.is_(True))
        .order_by(order_polls.c.due_at)
        .limit(limit)
    )
    due = locked(conn, due, of=order_polls, skip_locked=True)
    rows = (await conn.execute(due)).all()
    tracked: list[Tracked] = []
    dropped: list[int] = []
    for row in rows:
        if row.forward_state != FORWARD_SENT or is_finished(row.status):
            dropped.append(row.order_id)
            continue
        endpoint = Endpoint(row.id, row.api_url, row.api_key, row.timeout_seconds)
        tracked.append(
            Tracked(
                row.order_id,
                endpoint,
                row.upstream_order_id,
                row.type,
                row.status,
                row.start_count,
                row.remains,
                row.every,
                row.parent_id,
            )
        )
    schedule = Schedule(now, times)
    for item in tracked:
        schedule.plan(item, changed=False)
    await _save_schedule(conn, schedule)
    await _stop_polling(conn, dropped)
    return tracked


async def read_statuses(client: UpstreamClient, tracked: list[Tracked]) -> dict[int, Reading]:
    chunks: list[list[Tracked]] = []
    by_provider: dict[int, list[Tracked]] = {}
    for item in tracked:
        by_provider.setdefault(item.endpoint.provider_id, []).append(item)
    for items in by_provider.values():
        chunks += [items[i : i + IDS_PER_CALL] for i in range(0, len(items), IDS_PER_CALL)]
    limit = asyncio.Semaphore(CALL_CONCURRENCY)

    async def read(chunk: list[Tracked]) -> dict[int, Reading]:
        async with limit:
            return await _read_chunk(client, chunk)

    readings: dict[int, Reading] = {}
    for part in await asyncio.gather(*(read(chunk) for chunk in chunks)):
        readings.update(part)
    return readings


async def _read_chunk(client: UpstreamClient, chunk: list[Tracked]) -> dict[int, Reading]:
    try:
        reply = await client.statuses(chunk[0].endpoint, [item.upstream_id for item in chunk])
    except UpstreamError as exc:
        problem = f"status call failed: {exc}"
        return {item.order_id: Reading(problem=problem) for item in chunk}
    return {item.order_id: interpret(reply.get(item.upstream_id)) for item in chunk}


def interpret(entry: object) -> Reading:
    if not isinstance(entry, dict):
        return Reading(problem=f"no status for this order: {str(entry)[:200]}")
    if "error" in entry:
        return Reading(problem=f"upstream says: {str(entry['error'])[:200]}")
    status = order_status(entry.get("status"))
    if status is None:
        return Reading(problem=f"unknown upstream status {str(entry.get('status'))[:60]!r}")
    return Reading(
        status=status,
        start_count=_count(entry.get("start_count")),
        remains=_count(entry.get("remains")),
        posts=_count(entry.get("posts")),
        children=upstream_children(entry),
    )


def _count(value: object) -> int | None:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return int(number) if number.is_finite() and number == number.to_integral_value() else None


async def apply_readings(
    conn: AsyncConnection,
    tracked: list[Tracked],
    readings: dict[int, Reading],
    times: PollingTimes,
) -> None:
    """Apply a batch's readings in a few statements: changes that move no money all at once,
    then the refunds (Partial, Canceled) all at once; subscriptions, drip-feed runs and what
    the bulk steps leave one by one. Quiet orders were scheduled by the claim; only the others
    are scheduled again. The problem of the last poll is noted on each order, and cleared
    once it answers."""
    schedule = Schedule(utcnow(), times)
    problems: dict[int, str] = {}
    outcomes: dict[int, PollCounts] = {}
    progress: dict[int, tuple[Tracked, Reading]] = {}
    one_by_one: list[tuple[Tracked, Reading]] = []
    for item in tracked:
        reading = readings[item.order_id]
        _count_outcome(outcomes, item, reading.problem)
        if reading.problem is not None:
            problems[item.order_id] = reading.problem
            schedule.plan(item, changed=False)
        elif item.type == SUBSCRIPTIONS:
            one_by_one.append((item, reading))
        elif _differs(item, reading):
            progress[item.order_id] = (item, reading)
    changes = [_progress(item, reading) for item, reading in progress.values()]
    left = await settle_finished(conn, await apply_progress(conn, changes))
    left_ids = {change.order_id for change in left}
    for order_id, (item, reading) in progress.items():
        if order_id in left_ids:
            one_by_one.append((item, reading))
        else:
            schedule.plan(item, changed=True, finished=_finishes(reading))
    for item, reading in one_by_one:
        changed, problem = await _apply(conn, item, reading)
        if problem:
            problems[item.order_id] = problem
            _count_outcome(outcomes, item, problem, polled=0)
        if changed or problem:
            schedule.plan(item, changed=changed, finished=changed and _finishes(reading))
    await _save_schedule(conn, schedule)
    await _note_problems(conn, tracked, problems)
    for provider_id, outcome in outcomes.items():
        await record_outcome(
            conn,
            provider_id,
            polled=outcome.polled,
            error=outcome.error,
            success=outcome.error is None,
        )


def _count_outcome(
    outcomes: dict[int, PollCounts], item: Tracked, problem: str | None, polled: int = 1
) -> None:
    outcome = outcomes.setdefault(item.endpoint.provider_id, PollCounts())
    outcome.polled += polled
    if problem:
        outcome.error = problem
        log.warning("poll problem", extra={"order_id": item.order_id, "problem": problem})


def _progress(item: Tracked, reading: Reading) -> Progress:
    return Progress(
        item.order_id,
        seen_status=item.status,
        status=reading.status,
        start_count=reading.start_count,
        remains=_remains_for(reading),
    )


class Schedule:
    """When polled orders are polled next, written to order_polls as one statement per distinct
    schedule (the intervals double while nothing changes: a batch has a handful at most); a
    finished order's schedule is dropped."""

    def __init__(self, now: datetime, times: PollingTimes) -> None:
        self.now = now
        self.times = times
        self.groups: dict[tuple[int, datetime | None], list[int]] = {}

    def plan(self, item: Tracked, changed: bool, finished: bool = False) -> None:
        interval = _next_interval(item.poll_interval, changed, self.times)
        at = None if finished else self.now + interval
        key = (int(interval.total_seconds()), at)
        self.groups.setdefault(key, []).append(item.order_id)


async def _save_schedule(conn: AsyncConnection, schedule: Schedule) -> None:
    for (every, at), order_ids in schedule.groups.items():
        if at is None:
            await _stop_polling(conn, order_ids)
        else:
            await conn.execute(
                update(order_polls)
                .where(one_of(conn, order_polls.c.order_id, order_ids))
                .values(every=every, due_at=at)
            )


async def _stop_polling(conn: AsyncConnection, order_ids: list[int]) -> None:
    if order_ids:
        await conn.execute(
            delete(order_polls).where(one_of(conn, order_polls.c.order_id, order_ids))
        )


async def _note_problems(
    conn: AsyncConnection, tracked: list[Tracked], problems: dict[int, str]
) -> None:
    """Each order's `last_error`: the problem of its last poll, or none once it answered;
    one statement per distinct problem (the call's error, usually one a batch)."""
    by_problem: dict[str | None, list[int]] = {}
    for item in tracked:
        by_problem.setdefault(problems.get(item.order_id), []).append(item.order_id)
    for problem, order_ids in by_problem.items():
        await _note_problem(conn, order_ids, problem)


async def _note_problem(conn: AsyncConnection, order_ids: list[int], problem: str | None) -> None:
    """Only the rows whose note changes are written."""
    changes: ColumnElement[bool] = (
        orders.c.last_error.is_not(None)
        if problem is None
        else orders.c.last_error.is_distinct_from(problem)
    )
    await conn.execute(
        update(orders)
        .where(one_of(conn, orders.c.id, order_ids), changes)
        .values(last_error=problem)
    )


async def _apply(conn: AsyncConnection, item: Tracked, reading: Reading) -> tuple[bool, str | None]:
    """Apply a reading through the life cycle; whether anything changed, and the problem if
    there was one."""
    posts_changed = await _apply_posts(conn, item, reading.posts)
    if item.type == SUBSCRIPTIONS:
        reading, mirrored = await follow_subscription(conn, item, reading)
        posts_changed = posts_changed or mirrored
    if not _differs(item, reading):
        return posts_changed, None
    try:
        await update_order(
            conn,
            item.order_id,
            status=reading.status,
            start_count=reading.start_count,
            remains=_remains_for(reading),
        )
    except Refusal as refused:
        return False, f"upstream reports {reading.status}, not applied: {refused}"
    return True, None


def _finishes(reading: Reading) -> bool:
    return reading.status is not None and is_finished(reading.status)


def _remains_for(reading: Reading) -> int | None:
    """Completed means nothing left to refund: only over-delivery (negative) is kept."""
    if reading.status == COMPLETED and reading.remains is not None and reading.remains > 0:
        return None
    return reading.remains


def _differs(item: Tracked, reading: Reading) -> bool:
    return (
        reading.status != item.status
        or (reading.start_count is not None and reading.start_count != item.start_count)
        or (reading.remains is not None and reading.remains != item.remains)
    )


async def _apply_posts(conn: AsyncConnection, item: Tracked, posts: int | None) -> bool:
    if item.type != SUBSCRIPTIONS or posts is None:
        return False
    result = await conn.execute(
        update(subscriptions)
        .where(subscriptions.c.order_id == item.order_id, subscriptions.c.posts_delivered != posts)
        .values(posts_delivered=posts)
    )
    return result.rowcount == 1


def _next_interval(current: int | None, changed: bool, times: PollingTimes) -> timedelta:
    if changed or not current:
        return times.fastest
    return min(timedelta(seconds=current * 2), times.slowest)
