"""What the worker does, and how often it looks."""

from datetime import timedelta

from smmpanel.db.base import utcnow
from smmpanel.orders.counts import FOLD_BATCH, fold_changes
from smmpanel.orders.figures import (
    STATUS_COUNT_SECONDS,
    count_days_to_keep,
    count_statuses,
    write_days,
    write_status_counts,
)
from smmpanel.orders.subscriptions import expire_subscriptions
from smmpanel.outbox.channels import configured_senders
from smmpanel.outbox.retention import prune_outbox
from smmpanel.outbox.sending import RetryPolicy, send_due
from smmpanel.payments.service import expire_due
from smmpanel.providers.catalog_sync import refresh_due_balances, sync_due_providers
from smmpanel.providers.dripfeed import place_due_runs
from smmpanel.providers.forwarding import ForwardingTimes, forward_due_orders, sweep_stale_sending
from smmpanel.providers.polling import PollingTimes, poll_due_orders
from smmpanel.providers.requests_forwarding import forward_cancels, forward_refills
from smmpanel.worker.context import Job, WorkerContext


def _forwarding_times(context: WorkerContext) -> ForwardingTimes:
    return ForwardingTimes.from_settings(context.settings)


def _polling_times(context: WorkerContext) -> PollingTimes:
    return PollingTimes.from_settings(context.settings)


async def forward_orders(context: WorkerContext) -> int:
    return await forward_due_orders(
        context.db, context.upstream, context.settings.forward_batch, _forwarding_times(context)
    )


async def poll_orders(context: WorkerContext) -> int:
    return await poll_due_orders(
        context.db, context.upstream, context.settings.poll_batch, _polling_times(context)
    )


async def sweep_sending(context: WorkerContext) -> int:
    grace = timedelta(seconds=context.settings.sending_grace_seconds)
    return await sweep_stale_sending(context.db, grace)


async def place_dripfeed_runs(context: WorkerContext) -> int:
    return await place_due_runs(context.db, _polling_times(context).fastest)


async def carry_refills(context: WorkerContext) -> int:
    return await forward_refills(context.db, context.upstream)


async def carry_cancels(context: WorkerContext) -> int:
    return await forward_cancels(context.db, context.upstream)


async def sync_catalogues(context: WorkerContext) -> int:
    return await sync_due_providers(context.db, context.upstream)


async def refresh_balances(context: WorkerContext) -> int:
    every = timedelta(seconds=context.settings.balance_check_seconds)
    return await refresh_due_balances(context.db, context.upstream, every)


async def end_expired_subscriptions(context: WorkerContext) -> int:
    return await expire_subscriptions(context.db)


async def expire_payments(context: WorkerContext) -> int:
    async with context.db.write() as conn:
        return await expire_due(conn)


async def keep_dashboard_figures(context: WorkerContext) -> int:
    """The dashboard's orders per status and past days (orders/figures.py), counted
    in a read and written in a short write; 0 whatever it finds, so it keeps its schedule."""
    async with context.db.read() as conn:
        counted = await count_statuses(conn)
        days = await count_days_to_keep(conn, utcnow().date())
    async with context.db.write() as conn:
        await write_status_counts(conn, counted)
        await write_days(conn, days)
    return 0


async def fold_order_counts(context: WorkerContext) -> int:
    """The customers' order counts brought up to date (orders/counts.py); at once again only
    while a backlog fills whole batches."""
    async with context.db.write() as conn:
        folded = await fold_changes(conn)
    return folded if folded == FOLD_BATCH else 0


async def send_outbox(context: WorkerContext) -> int:
    settings = context.settings
    return await send_due(
        context.db, configured_senders(settings), RetryPolicy.from_settings(settings)
    )


async def prune_outbox_messages(context: WorkerContext) -> int:
    keep = timedelta(days=context.settings.outbox_keep_days)
    return await prune_outbox(context.db, utcnow(), keep)


JOBS = (
    Job("forward_orders", 1.0, forward_orders),
    Job("poll_orders", 1.0, poll_orders),
    Job("place_dripfeed_runs", 5.0, place_dripfeed_runs),
    Job("carry_refills", 5.0, carry_refills),
    Job("carry_cancels", 2.0, carry_cancels),
    Job("sweep_sending", 30.0, sweep_sending),
    Job("expire_subscriptions", 60.0, end_expired_subscriptions),
    Job("expire_payments", 60.0, expire_payments),
    Job("sync_catalogues", 60.0, sync_catalogues),
    Job("refresh_balances", 60.0, refresh_balances),
    Job("keep_dashboard_figures", STATUS_COUNT_SECONDS, keep_dashboard_figures),
    Job("fold_order_counts", 2.0, fold_order_counts),
    Job("send_outbox", 5.0, send_outbox),
    Job("prune_outbox", 3600.0, prune_outbox_messages),
)
