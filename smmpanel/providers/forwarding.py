"""Sending paid orders upstream, at most once.

A batch is claimed (queued -> sending) and committed before any call is made, so a crash or a
lost answer leaves the order `sending`, which the sweeper turns `in_doubt` for the operator:
nothing is ever sent twice on its own. A definite rejection refunds the order (or tries the
service's fallback provider); an unreachable upstream or one short of funds makes it wait.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import BigInteger, ColumnElement, bindparam, cast, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import services
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.db.dialect import locked, one_of
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.polls import start_polling
from smmpanel.orders.statuses import (
    CANCELED,
    FORWARD_IN_DOUBT,
    FORWARD_QUEUED,
    FORWARD_REJECTED,
    FORWARD_SENDING,
    FORWARD_SENT,
    SUBSCRIPTIONS,
)
from smmpanel.outbox.queue import panel_url, queue_alert
from smmpanel.panel.rates import Conversion, conversion
from smmpanel.providers.alerts import (
    FORWARDING,
    alert_short_of_funds,
    count_failure,
    count_success,
)
from smmpanel.providers.client import Endpoint, NoAnswer, Rejected, Unreachable, UpstreamClient
from smmpanel.providers.costs import cost_in_panel_currency, upstream_charge
from smmpanel.providers.models import providers
from smmpanel.providers.service import pause_provider, record_outcome

log = logging.getLogger("smmpanel.forwarding")

# Calls in flight per batch. On loopback (bench/worker.py) 32 forward no faster than 8, at the
# same client CPU per call (aiohttp's, unlike httpx's, does not grow with them).
SEND_CONCURRENCY = 8


@dataclass(frozen=True)
class Claimed:
    """An order claimed for sending, with what the call needs."""

    order_id: int
    endpoint: Endpoint
    fields: dict[str, object]
    has_fallback: bool
    cost: int | None = None  # what the upstream charges, in the panel's currency
    dripfeed_parent: int | None = None  # the order a drip-feed run here is a run of


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    upstream_id: str | None = None
    rejection: Rejected | None = None
    unreachable: Unreachable | None = None
    no_answer: NoAnswer | None = None


@dataclass(frozen=True)
class ForwardingTimes:
    """How long forwarding waits; the settings say (config.Settings holds the defaults)."""

    first_poll: timedelta
    retry_unreachable: timedelta
    pause_short_of_funds: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "ForwardingTimes":
        return cls(
            first_poll=timedelta(seconds=settings.poll_fastest_seconds),
            retry_unreachable=timedelta(seconds=settings.retry_unreachable_seconds),
            pause_short_of_funds=timedelta(seconds=settings.pause_short_of_funds_seconds),
        )


class SentOrder(TypedDict):
    """An order the upstream took, as the parameters of the statement that marks it sent."""

    order: int
    upstream_id: str
    order_cost: int | None


@dataclass
class ProviderCounts:
    """What a batch did with one provider, for its counters and its last error or success."""

    sent: int = 0
    rejected: int = 0
    in_doubt: int = 0
    error: str | None = None
    success: bool = False


async def forward_due_orders(
    db: Database, client: UpstreamClient, batch: int, times: ForwardingTimes
) -> int:
    """Send one batch of due orders; how many were claimed."""
    async with db.write() as conn:
        claimed = await claim_orders(conn, batch)
    if not claimed:
        return 0
    outcomes = await send_all(client, claimed)
    async with db.write() as conn:
        await record_outcomes(conn, outcomes, times)
    return len(claimed)


async def claim_orders(conn: AsyncConnection, batch: int) -> list[Claimed]:
    now = utcnow()
    due = (
        select(orders.c.id)
        .join(providers, providers.c.id == orders.c.provider_id)
        .where(
            orders.c.forward_state == FORWARD_QUEUED,
            orders.c.next_action_at <= now,
            providers.c.enabled.is_(True),
            or_(providers.c.paused_until.is_(None), providers.c.paused_until <= now),
        )
        .order_by(orders.c.next_action_at, orders.c.id)
        .limit(batch)
    )
    due = locked(conn, due, of=orders, skip_locked=True)
    order_ids = list((await conn.scalars(due)).all())
    if not order_ids:
        return []
    await conn.execute(
        update(orders)
        .where(one_of(conn, orders.c.id, order_ids))
        .values(forward_state=FORWARD_SENDING, sending_since=now, updated_at=now)
    )
    return await _load_claimed(conn, order_ids)


async def _load_claimed(conn: AsyncConnection, order_ids: list[int]) -> list[Claimed]:
    # The provider whose rate services.upstream_rate is: the service's main one.
    main = providers.alias("main_provider")
    rows = await conn.execute(
        select(
            orders,
            providers.c.api_url,
            providers.c.api_key,
            providers.c.timeout_seconds,
            services.c.upstream_rate,
            main.c.balance_currency.label("upstream_currency"),
            services.c.provider_service_id,
            services.c.fallback_provider_id,
            services.c.fallback_provider_service_id,
            services.c.upstream_dripfeed,
            subscriptions.c.username.label("sub_username"),
            subscriptions.c.min_quantity.label("sub_min"),
            subscriptions.c.max_quantity.label("sub_max"),
            subscriptions.c.posts.label("sub_posts"),
            subscriptions.c.delay.label("sub_delay"),
            subscriptions.c.expiry.label("sub_expiry"),
        )
        .join(providers, providers.c.id == orders.c.provider_id)
        .join(services, services.c.id == orders.c.service_id)
        .outerjoin(main, main.c.id == services.c.provider_id)
        .outerjoin(subscriptions, subscriptions.c.order_id == orders.c.id)
        .where(one_of(conn, orders.c.id, order_ids))
        .order_by(orders.c.id)
    )
    rates_now = await conversion(conn)
    return [_claimed(row, rates_now) for row in rows]


def _claimed(row: AnyRow, rates_now: Conversion) -> Claimed:
    on_fallback = row.tried_fallback
    upstream_service = row.fallback_provider_service_id if on_fallback else row.provider_service_id
    endpoint = Endpoint(row.provider_id, row.api_url, row.api_key, row.timeout_seconds)
    has_fallback = row.fallback_provider_id is not None and not on_fallback
    # A run of a drip-feed order run here is charged nothing: its parent holds the charge.
    parent = row.parent_id if row.parent_id is not None and row.charge == 0 else None
    fields = upstream_fields(row, upstream_service)
    return Claimed(row.id, endpoint, fields, has_fallback, _cost(row, rates_now), parent)


def _cost(row: AnyRow, rates_now: Conversion) -> int | None:
    if row.upstream_rate is None:
        return None
    posts = row.sub_posts if row.type == SUBSCRIPTIONS else None
    charge = upstream_charge(row.type, row.upstream_rate, row.quantity, row.runs, posts)
    return cost_in_panel_currency(rates_now, charge, row.upstream_currency, row.id)


def upstream_fields(row: AnyRow, upstream_service: str | None) -> dict[str, object]:
    """The `add` fields for an order of this type, as the upstream expects them."""
    fields: dict[str, object] = {"service": upstream_service}
    if row.type == SUBSCRIPTIONS:
        fields.update(
            username=row.sub_username,
            min=row.sub_min,
            max=row.sub_max,
            posts=row.sub_posts,
            delay=row.sub_delay,
            expiry=row.sub_expiry.strftime("%d/%m/%Y") if row.sub_expiry else None,
        )
        return fields
    for name in SERVICE_TYPES[row.type].required:
        fields[name] = row.quantity if name == "quantity" else getattr(row, name)
    if row.runs and row.upstream_dripfeed:
        fields.update(runs=row.runs, interval=row.interval)
    return fields


async def send_all(client: UpstreamClient, claimed: list[Claimed]) -> list[Outcome]:
    limit = asyncio.Semaphore(SEND_CONCURRENCY)

    async def send(item: Claimed) -> Outcome:
        async with limit:
            return await send_one(client, item)

    return list(await asyncio.gather(*(send(item) for item in claimed)))


async def send_one(client: UpstreamClient, item: Claimed) -> Outcome:
    try:
        return Outcome(item, upstream_id=await client.add(item.endpoint, item.fields))
    except Rejected as rejection:
        return Outcome(item, rejection=rejection)
    except Unreachable as unreachable:
        return Outcome(item, unreachable=unreachable)
    except NoAnswer as no_answer:
        return Outcome(item, no_answer=no_answer)


async def record_outcomes(
    conn: AsyncConnection, outcomes: list[Outcome], times: ForwardingTimes
) -> None:
    """Write a batch's results: the orders the upstream took in one statement, the others
    one by one (each may pause a provider, requeue, refund or put in doubt)."""
    taken = await _upstream_ids_taken(conn, outcomes)
    sent: list[SentOrder] = []
    repeated: set[int] = set()
    for outcome in outcomes:
        order_id = outcome.claimed.order_id
        if outcome.upstream_id is None:
            await _record_failure(conn, outcome, times)
        elif _claims_id(outcome.claimed, outcome.upstream_id, taken):
            sent.append(
                {
                    "order": order_id,
                    "upstream_id": outcome.upstream_id,
                    "order_cost": outcome.claimed.cost,
                }
            )
        else:
            repeated.add(order_id)
            why = f"the upstream gave id {outcome.upstream_id}, which another order holds already"
            await _in_doubt(conn, order_id, why, outcome.claimed.cost)
    await _mark_sent(conn, sent, times)
    taken_now = {row["order"] for row in sent}
    await _cost_dripfeed_parents(
        conn, [o.claimed for o in outcomes if o.claimed.order_id in taken_now]
    )
    for provider_id, counts in _counts_by_provider(outcomes, repeated).items():
        await record_outcome(
            conn,
            provider_id,
            sent=counts.sent,
            rejected=counts.rejected,
            in_doubt=counts.in_doubt,
            error=counts.error,
            success=counts.success,
        )
        if counts.success:
            await count_success(conn, provider_id)
        elif counts.error is not None:
            await count_failure(conn, provider_id, FORWARDING, counts.error, utcnow())


def _claims_id(claimed: Claimed, upstream_id: str, taken: set[tuple[int, str]]) -> bool:
    """Whether the upstream id is this order's: no other order holds it, here or before."""
    key = (claimed.endpoint.provider_id, upstream_id)
    if key in taken:
        return False
    taken.add(key)
    return True


async def _upstream_ids_taken(
    conn: AsyncConnection, outcomes: list[Outcome]
) -> set[tuple[int, str]]:
    """Upstream ids already held by other orders: the upstream repeated itself."""
    wanted: dict[int, set[str]] = {}
    for outcome in outcomes:
        if outcome.upstream_id:
            wanted.setdefault(outcome.claimed.endpoint.provider_id, set()).add(outcome.upstream_id)
    taken: set[tuple[int, str]] = set()
    for provider_id, upstream_ids in wanted.items():
        held = await conn.scalars(
            select(orders.c.upstream_order_id).where(
                orders.c.provider_id == provider_id,
                one_of(conn, orders.c.upstream_order_id, sorted(upstream_ids)),
            )
        )
        taken |= {(provider_id, upstream_id) for upstream_id in held}
    return taken


async def _mark_sent(conn: AsyncConnection, sent: list[SentOrder], times: ForwardingTimes) -> None:
    """The orders the upstream took, `sent` with their upstream ids, in one statement (one
    round trip), each unless it has left `sending` meanwhile (see _set)."""
    if not sent:
        return
    now = utcnow()
    await conn.execute(
        update(orders)
        .where(orders.c.id == bindparam("order"), _awaits_answer())
        .values(
            forward_state=FORWARD_SENT,
            upstream_order_id=bindparam("upstream_id"),
            cost=bindparam("order_cost"),
            last_error=None,
            sending_since=None,
            updated_at=now,
        ),
        sent,
    )
    await start_polling(conn, [row["order"] for row in sent], times.first_poll)


async def _cost_dripfeed_parents(conn: AsyncConnection, sent: list[Claimed]) -> None:
    """A drip-feed run here costs, as a whole, its first run sent times its runs: the parent
    holds the charge, so it holds the cost too."""
    parents = [
        {"parent": item.dripfeed_parent, "run_cost": item.cost}
        for item in sent
        if item.dripfeed_parent is not None and item.cost is not None
    ]
    if parents:
        await conn.execute(
            update(orders)
            .where(orders.c.id == bindparam("parent"), orders.c.cost.is_(None))
            .values(cost=cast(bindparam("run_cost"), BigInteger) * orders.c.runs),
            parents,
        )


async def _record_failure(conn: AsyncConnection, outcome: Outcome, times: ForwardingTimes) -> None:
    """Write a send that got no upstream id: wait, refund or put in doubt."""
    order_id, provider_id = outcome.claimed.order_id, outcome.claimed.endpoint.provider_id
    now = utcnow()
    if outcome.rejection is not None and outcome.rejection.short_of_funds:
        why = f"upstream short of funds: {outcome.rejection}"
        await pause_provider(conn, provider_id, now + times.pause_short_of_funds, why)
        await _requeue(conn, order_id, now + times.pause_short_of_funds, why)
        await alert_short_of_funds(conn, provider_id, now)
    elif outcome.rejection is not None:
        await _rejected(conn, outcome, str(outcome.rejection))
    elif outcome.unreachable is not None:
        await _requeue(
            conn,
            order_id,
            now + times.retry_unreachable,
            f"upstream unreachable: {outcome.unreachable}",
        )
    else:
        why = f"no answer to add: {outcome.no_answer}"
        await _in_doubt(conn, order_id, why, outcome.claimed.cost)


async def _rejected(conn: AsyncConnection, outcome: Outcome, message: str) -> None:
    order_id = outcome.claimed.order_id
    if outcome.claimed.has_fallback:
        fallback = await conn.scalar(
            select(services.c.fallback_provider_id)
            .join(orders, orders.c.service_id == services.c.id)
            .where(orders.c.id == order_id)
        )
        await _set(
            conn,
            order_id,
            provider_id=fallback,
            tried_fallback=True,
            forward_state=FORWARD_QUEUED,
            next_action_at=utcnow(),
            last_error=f"rejected upstream, trying the fallback: {message}",
        )
        return
    rejected = await _set(
        conn,
        order_id,
        forward_state=FORWARD_REJECTED,
        next_action_at=None,
        last_error=f"rejected upstream: {message}",
    )
    if rejected:
        await update_order(conn, order_id, status=CANCELED)


async def _requeue(conn: AsyncConnection, order_id: int, when: datetime, why: str) -> None:
    await _set(conn, order_id, forward_state=FORWARD_QUEUED, next_action_at=when, last_error=why)


async def _in_doubt(conn: AsyncConnection, order_id: int, why: str, cost: int | None) -> None:
    """Perhaps taken upstream: it costs what it would if it was."""
    log.warning("order in doubt", extra={"order_id": order_id, "reason": why})
    put_in_doubt = await _set(
        conn,
        order_id,
        forward_state=FORWARD_IN_DOUBT,
        next_action_at=None,
        last_error=why,
        cost=cost,
    )
    if put_in_doubt:
        await alert_doubt(conn, order_id)


async def alert_doubt(conn: AsyncConnection, order_id: int) -> None:
    """Tell the operators, once per order, that it waits for them to settle it."""
    await queue_alert(
        conn,
        kind="order_doubt",
        dedup_key=str(order_id),
        context={"order_id": str(order_id), "url": panel_url(f"/admin/orders/{order_id}")},
    )


async def _set(conn: AsyncConnection, order_id: int, **values: object) -> bool:
    """Write a send's result, unless the order has left `sending` meanwhile (sweeper aside)."""
    result = await conn.execute(
        update(orders)
        .where(orders.c.id == order_id, _awaits_answer())
        .values(sending_since=None, updated_at=utcnow(), **values)
    )
    return result.rowcount == 1


def _awaits_answer() -> ColumnElement[bool]:
    """Still `sending`, or put in doubt meanwhile by the sweeper: a send's result is written
    (spelled without IN: a statement run for many rows takes no expanding parameter)."""
    return or_(*(orders.c.forward_state == state for state in (FORWARD_SENDING, FORWARD_IN_DOUBT)))


def _counts_by_provider(outcomes: list[Outcome], repeated: set[int]) -> dict[int, ProviderCounts]:
    """Per provider: sent, rejected and in doubt; `repeated` orders got an id already held."""
    counts: dict[int, ProviderCounts] = {}
    for outcome in outcomes:
        entry = counts.setdefault(outcome.claimed.endpoint.provider_id, ProviderCounts())
        if outcome.claimed.order_id in repeated:
            entry.in_doubt += 1
            entry.error = f"gave id {outcome.upstream_id} again, for another order"
        elif outcome.upstream_id is not None:
            entry.sent += 1
            entry.success = True
        elif outcome.rejection is not None and not outcome.rejection.short_of_funds:
            entry.rejected += 1
            entry.success = True
        elif outcome.no_answer is not None:
            entry.in_doubt += 1
        error = outcome.rejection or outcome.unreachable or outcome.no_answer
        if error is not None:
            entry.error = str(error)
    return counts


async def sweep_stale_sending(db: Database, grace: timedelta) -> int:
    """Orders left `sending` longer than their timeout and `grace`: in doubt, for the operator."""
    now = utcnow()
    async with db.write() as conn:
        timeouts = (await conn.execute(select(providers.c.id, providers.c.timeout_seconds))).all()
        swept = 0
        for provider_id, timeout in timeouts:
            doubted = await conn.scalars(
                update(orders)
                .where(
                    orders.c.provider_id == provider_id,
                    orders.c.forward_state == FORWARD_SENDING,
                    orders.c.sending_since < now - grace - timedelta(seconds=timeout),
                )
                .values(
                    forward_state=FORWARD_IN_DOUBT,
                    sending_since=None,
                    last_error="no answer recorded: the worker stopped while sending",
                )
                .returning(orders.c.id)
            )
            order_ids = list(doubted)
            if order_ids:
                swept += len(order_ids)
                await record_outcome(conn, provider_id, in_doubt=len(order_ids))
                for order_id in order_ids:
                    await alert_doubt(conn, order_id)
    return swept
