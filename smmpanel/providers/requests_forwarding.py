"""Refill and cancel requests of forwarded orders, carried upstream and followed up.

Neither moves money by itself: a cancel accepted upstream shows as the order's Canceled or
Partial status, which polling applies (and refunds) like any other.
"""

import asyncio
from collections.abc import Awaitable, Iterable
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.config import get_settings
from smmpanel.db import Database
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.db.dialect import locked, one_of
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import cancel_requests, orders, refills
from smmpanel.orders.statuses import (
    CANCEL_PENDING,
    CANCEL_REJECTED,
    CANCELED,
    FORWARD_DRIPFEED,
    FORWARD_QUEUED,
    FORWARD_REJECTED,
    FORWARD_SENT,
    REFILL_OPEN,
)
from smmpanel.providers.client import Endpoint, Rejected, UpstreamClient, UpstreamError
from smmpanel.providers.dripfeed import stop_runs
from smmpanel.providers.models import providers
from smmpanel.providers.statuses import refill_status


def refill_poll() -> timedelta:
    """How often a refill sent upstream is asked about (SMMPANEL_REFILL_POLL_SECONDS)."""
    return timedelta(seconds=get_settings().refill_poll_seconds)


# How long a claimed request is left to its worker; one whose call failed is tried again after.
REQUEST_LEASE = timedelta(seconds=60)
CONCURRENCY = 8

# What the upstream answered to a call (its decoded JSON), or why there is no answer.
Reply = Any | UpstreamError


class ClaimedRequest(NamedTuple):
    """A refill or cancel request claimed for carrying upstream, with its order's state."""

    id: int
    forward_state: str
    order_id: int
    order_state: str
    upstream_order_id: str | None
    endpoint: Endpoint
    upstream_refill_id: str | None


def _claimed(row: AnyRow) -> ClaimedRequest:
    endpoint = Endpoint(row.provider_id, row.api_url, row.api_key, row.timeout_seconds)
    return ClaimedRequest(
        row.id,
        row.forward_state,
        row.order_id,
        row.order_state,
        row.upstream_order_id,
        endpoint,
        getattr(row, "upstream_refill_id", None),
    )


async def _claim(
    conn: AsyncConnection,
    table: Table,
    states: tuple[str, ...],
    open_statuses: Iterable[str],
    batch: int,
) -> list[ClaimedRequest]:
    """Due requests of `table` in `states`, still open (one of `open_statuses`), with their
    order and provider, leased to this worker for REQUEST_LEASE."""
    now = utcnow()
    due = (
        select(
            table.c.id,
            table.c.forward_state,
            orders.c.id.label("order_id"),
            orders.c.forward_state.label("order_state"),
            orders.c.upstream_order_id,
            providers.c.id.label("provider_id"),
            providers.c.api_url,
            providers.c.api_key,
            providers.c.timeout_seconds,
        )
        .join(orders, orders.c.id == table.c.order_id)
        .join(providers, providers.c.id == orders.c.provider_id)
        .where(
            table.c.forward_state.in_(states),
            table.c.status.in_(list(open_statuses)),
            table.c.next_action_at <= now,
        )
        .limit(batch)
    )
    if table is refills:
        due = due.add_columns(refills.c.upstream_refill_id)
    due = locked(conn, due, of=table, skip_locked=True)
    claimed = [_claimed(row) for row in await conn.execute(due)]
    if claimed:
        await conn.execute(
            update(table)
            .where(one_of(conn, table.c.id, [request.id for request in claimed]))
            .values(next_action_at=now + REQUEST_LEASE)
        )
    return claimed


async def _gather(calls: Iterable[Awaitable[Any]]) -> list[Reply]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(call: Awaitable[Any]) -> Reply:
        async with limit:
            try:
                return await call
            except UpstreamError as exc:
                return exc

    return list(await asyncio.gather(*(bounded(call) for call in calls)))


async def forward_refills(db: Database, client: UpstreamClient, batch: int = 100) -> int:
    """Send new refill requests upstream and follow the ones sent; how many were handled."""
    states = (FORWARD_QUEUED, FORWARD_SENT)
    async with db.write() as conn:
        claimed = await _claim(conn, refills, states, REFILL_OPEN, batch)
    if not claimed:
        return 0
    results = await _gather(_refill_call(client, request) for request in claimed)
    async with db.write() as conn:
        for request, result in zip(claimed, results, strict=True):
            await _record_refill(conn, request, result)
    return len(claimed)


def _refill_call(client: UpstreamClient, request: ClaimedRequest) -> Awaitable[Any]:
    if request.forward_state == FORWARD_QUEUED:
        return client.call(request.endpoint, "refill", order=request.upstream_order_id)
    return client.call(request.endpoint, "refill_status", refill=request.upstream_refill_id)


async def _record_refill(conn: AsyncConnection, request: ClaimedRequest, result: Reply) -> None:
    values: dict[str, object] = {"updated_at": utcnow()}
    if isinstance(result, Rejected):
        values.update(status="Rejected", forward_state=FORWARD_REJECTED, open_order_id=None)
        values.update(next_action_at=None, last_error=f"rejected upstream: {result}")
    elif isinstance(result, Exception) or not isinstance(result, dict):
        values["last_error"] = f"upstream: {result}"
    elif request.forward_state == FORWARD_QUEUED and "refill" in result:
        values.update(upstream_refill_id=str(result["refill"]), forward_state=FORWARD_SENT)
        values.update(next_action_at=utcnow() + refill_poll(), last_error=None)
    else:
        values.update(_refill_progress(result.get("status")))
    # A refill the order's full refund closed meanwhile stays closed.
    await conn.execute(
        update(refills)
        .where(refills.c.id == request.id, refills.c.status.in_(REFILL_OPEN))
        .values(**values)
    )


def _refill_progress(upstream_status: object) -> dict[str, object]:
    status = refill_status(upstream_status)
    if status is None:
        return {"last_error": f"unknown upstream refill status {str(upstream_status)[:60]!r}"}
    still_open = status in REFILL_OPEN
    return {
        "status": status,
        "last_error": None,
        "next_action_at": utcnow() + refill_poll() if still_open else None,
        **({} if still_open else {"open_order_id": None}),
    }


async def forward_cancels(db: Database, client: UpstreamClient, batch: int = 100) -> int:
    """Cancel requests: stop what was never sent here, carry the rest upstream."""
    async with db.write() as conn:
        claimed = await _claim(conn, cancel_requests, (FORWARD_QUEUED,), (CANCEL_PENDING,), batch)
    # A transaction of its own, locking each order before its requests as the life cycle does:
    # the claim's locks on the requests are gone.
    async with db.write() as conn:
        upstream = [request for request in claimed if not await _cancel_here(conn, request)]
    sendable = [request for request in upstream if request.order_state == FORWARD_SENT]
    results = await _gather(
        client.call(request.endpoint, "cancel", orders=request.upstream_order_id)
        for request in sendable
    )
    async with db.write() as conn:
        for request, result in zip(sendable, results, strict=True):
            await _record_cancel(conn, request, result)
    return len(claimed)


async def _cancel_here(conn: AsyncConnection, request: ClaimedRequest) -> bool:
    """Cancel without asking upstream where nothing was sent yet; whether it was done here."""
    if request.order_state == FORWARD_DRIPFEED:
        return await stop_runs(conn, request.order_id)
    if request.order_state != FORWARD_QUEUED:
        return False
    result = await conn.execute(
        update(orders)
        .where(orders.c.id == request.order_id, orders.c.forward_state == FORWARD_QUEUED)
        .values(
            forward_state=FORWARD_REJECTED,
            next_action_at=None,
            last_error="canceled before sending",
        )
    )
    if result.rowcount != 1:
        return False
    await update_order(conn, request.order_id, status=CANCELED)
    return True


async def _record_cancel(conn: AsyncConnection, request: ClaimedRequest, result: Reply) -> None:
    refusal = cancel_refusal(result)
    values: dict[str, object]
    if refusal is None:
        values = {"forward_state": FORWARD_SENT, "next_action_at": None, "last_error": None}
    elif isinstance(result, Rejected) or not isinstance(result, Exception):
        values = {
            "status": CANCEL_REJECTED,
            "forward_state": FORWARD_REJECTED,
            "open_order_id": None,
            "resolved_at": utcnow(),
            "next_action_at": None,
            "last_error": refusal,
        }
    else:
        values = {"last_error": refusal}  # unreachable or no answer: asked again later
    # A request the order's end closed meanwhile keeps its answer.
    await conn.execute(
        update(cancel_requests)
        .where(cancel_requests.c.id == request.id, cancel_requests.c.status == CANCEL_PENDING)
        .values(**values)
    )


def cancel_refusal(result: Reply) -> str | None:
    """None if the upstream accepted the cancel, else why not."""
    if isinstance(result, Exception):
        return f"upstream: {result}"
    entry = result[0] if isinstance(result, list) and result else result
    answer = entry.get("cancel") if isinstance(entry, dict) else None
    if answer in (1, "1", True):
        return None
    if isinstance(answer, dict) and "error" in answer:
        return f"rejected upstream: {answer['error']}"
    return f"unexpected cancel reply: {str(result)[:200]}"
