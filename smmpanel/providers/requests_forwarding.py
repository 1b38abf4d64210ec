"""Refill and cancel requests of forwarded orders, carried upstream and followed up.

Neither moves money by itself: a cancel accepted upstream shows as the order's Canceled or
Partial status, which polling applies (and refunds) like any other.
"""

import asyncio
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import locked
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import cancel_requests, orders, refills
from smmpanel.orders.statuses import (
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

RETRY = timedelta(seconds=60)
REFILL_POLL = timedelta(minutes=5)
CONCURRENCY = 8


def _endpoint_columns():  # type: ignore[no-untyped-def]
    return (
        providers.c.id.label("provider_id"),
        providers.c.api_url,
        providers.c.api_key,
        providers.c.timeout_seconds,
    )


def _endpoint(row) -> Endpoint:  # type: ignore[no-untyped-def]
    return Endpoint(row.provider_id, row.api_url, row.api_key, row.timeout_seconds)


async def _claim(conn: AsyncConnection, table, states: tuple[str, ...], batch: int) -> list:  # type: ignore[no-untyped-def]
    """Due requests of `table` in `states`, with their order and provider; leased for RETRY."""
    now = utcnow()
    due = (
        select(
            table.c.id,
            table.c.forward_state,
            orders.c.id.label("order_id"),
            orders.c.forward_state.label("order_state"),
            orders.c.upstream_order_id,
            *_endpoint_columns(),
        )
        .join(orders, orders.c.id == table.c.order_id)
        .join(providers, providers.c.id == orders.c.provider_id)
        .where(table.c.forward_state.in_(states), table.c.next_action_at <= now)
        .limit(batch)
    )
    if table is refills:
        due = due.add_columns(refills.c.upstream_refill_id)
    due = locked(conn, due, of=table, skip_locked=True)
    rows = (await conn.execute(due)).all()
    if rows:
        await conn.execute(
            update(table)
            .where(table.c.id.in_([r.id for r in rows]))
            .values(next_action_at=now + RETRY)
        )
    return rows


async def _gather(calls) -> list:  # type: ignore[no-untyped-def]
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(call):  # type: ignore[no-untyped-def]
        async with limit:
            try:
                return await call
            except UpstreamError as exc:
                return exc

    return await asyncio.gather(*(bounded(call) for call in calls))


async def forward_refills(db: Database, client: UpstreamClient, batch: int = 100) -> int:
    """Send new refill requests upstream and follow the ones sent; how many were handled."""
    async with db.write() as conn:
        rows = await _claim(conn, refills, (FORWARD_QUEUED, FORWARD_SENT), batch)
    if not rows:
        return 0
    results = await _gather(_refill_call(client, row) for row in rows)
    async with db.write() as conn:
        for row, result in zip(rows, results, strict=True):
            await _record_refill(conn, row, result)
    return len(rows)


def _refill_call(client: UpstreamClient, row):  # type: ignore[no-untyped-def]
    if row.forward_state == FORWARD_QUEUED:
        return client.call(_endpoint(row), "refill", order=row.upstream_order_id)
    return client.call(_endpoint(row), "refill_status", refill=row.upstream_refill_id)


async def _record_refill(conn: AsyncConnection, row, result) -> None:  # type: ignore[no-untyped-def]
    values: dict = {"updated_at": utcnow()}
    if isinstance(result, Rejected):
        values.update(status="Rejected", forward_state=FORWARD_REJECTED, open_order_id=None)
        values.update(next_action_at=None, last_error=f"rejected upstream: {result}")
    elif isinstance(result, Exception) or not isinstance(result, dict):
        values["last_error"] = f"upstream: {result}"
    elif row.forward_state == FORWARD_QUEUED and "refill" in result:
        values.update(upstream_refill_id=str(result["refill"]), forward_state=FORWARD_SENT)
        values.update(next_action_at=utcnow() + REFILL_POLL, last_error=None)
    else:
        values.update(_refill_progress(result.get("status")))
    await conn.execute(update(refills).where(refills.c.id == row.id).values(**values))


def _refill_progress(upstream_status: object) -> dict:
    status = refill_status(upstream_status)
    if status is None:
        return {"last_error": f"unknown upstream refill status {str(upstream_status)[:60]!r}"}
    still_open = status in REFILL_OPEN
    return {
        "status": status,
        "last_error": None,
        "next_action_at": utcnow() + REFILL_POLL if still_open else None,
        **({} if still_open else {"open_order_id": None}),
    }


async def forward_cancels(db: Database, client: UpstreamClient, batch: int = 100) -> int:
    """Cancel requests: stop what was never sent here, carry the rest upstream."""
    async with db.write() as conn:
        rows = await _claim(conn, cancel_requests, (FORWARD_QUEUED,), batch)
        upstream_rows = [row for row in rows if not await _cancel_here(conn, row)]
    sendable = [row for row in upstream_rows if row.order_state == FORWARD_SENT]
    results = await _gather(
        client.call(_endpoint(row), "cancel", orders=row.upstream_order_id) for row in sendable
    )
    async with db.write() as conn:
        for row, result in zip(sendable, results, strict=True):
            await _record_cancel(conn, row, result)
    return len(rows)


async def _cancel_here(conn: AsyncConnection, row) -> bool:  # type: ignore[no-untyped-def]
    """Cancel without asking upstream where nothing was sent yet; whether it was done here."""
    if row.order_state == FORWARD_DRIPFEED:
        return await stop_runs(conn, row.order_id)
    if row.order_state != FORWARD_QUEUED:
        return False
    result = await conn.execute(
        update(orders)
        .where(orders.c.id == row.order_id, orders.c.forward_state == FORWARD_QUEUED)
        .values(
            forward_state=FORWARD_REJECTED,
            next_action_at=None,
            last_error="canceled before sending",
        )
    )
    if result.rowcount != 1:
        return False
    await update_order(conn, row.order_id, status=CANCELED)
    return True


async def _record_cancel(conn: AsyncConnection, row, result) -> None:  # type: ignore[no-untyped-def]
    refusal = _cancel_refusal(result)
    if refusal is None:
        values: dict = {"forward_state": FORWARD_SENT, "next_action_at": None, "last_error": None}
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
    await conn.execute(
        update(cancel_requests).where(cancel_requests.c.id == row.id).values(**values)
    )


def _cancel_refusal(result: object) -> str | None:
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
