"""Checks the money: every balance against its ledger, every order's charge against its ledger,
every order's refunds against what its status and remains call for (orders.refunds), no
open request that could still move money for an order past it, and every payment's credit
against its ledger (what a paid payment credited and its bonus; nothing for any other)."""

from typing import Any

from sqlalchemy import Row, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.orders.models import cancel_requests, orders, refills, subscriptions
from smmpanel.orders.refunds import Charged
from smmpanel.orders.statuses import ALL_FINISHED, CANCELED
from smmpanel.payments.models import PAID, payments

ORDERS_PER_READ = 5_000  # the refund check reads the orders in chunks of this many


async def audit(conn: AsyncConnection) -> list[str]:
    """Every problem found, as a sentence; an empty list means the books are right."""
    return (
        await _balances_off_ledger(conn)
        + await _charges_off_orders(conn)
        + await _refunds_off_rule(conn)
        + await _requests_past_their_order(conn)
        + await _payments_off_ledger(conn)
    )


async def _balances_off_ledger(conn: AsyncConnection) -> list[str]:
    ledger = (
        select(ledger_entries.c.customer_id, func.sum(ledger_entries.c.amount).label("total"))
        .group_by(ledger_entries.c.customer_id)
        .subquery()
    )
    total = func.coalesce(ledger.c.total, 0)
    rows = await conn.execute(
        select(customers.c.id, customers.c.name, customers.c.balance, total.label("total"))
        .outerjoin(ledger, ledger.c.customer_id == customers.c.id)
        .where(customers.c.balance != total)
    )
    return [
        f"customer {row.id} ({row.name}): balance {row.balance} millionths, "
        f"ledger sums to {int(row.total)}"
        for row in rows
    ]


async def _charges_off_orders(conn: AsyncConnection) -> list[str]:
    charged = (
        select(ledger_entries.c.order_id, func.sum(-ledger_entries.c.amount).label("charged"))
        .where(ledger_entries.c.kind == "charge")
        .group_by(ledger_entries.c.order_id)
        .subquery()
    )
    taken = func.coalesce(charged.c.charged, 0)
    rows = await conn.execute(
        select(orders.c.id, orders.c.charge, taken.label("taken"))
        .outerjoin(charged, charged.c.order_id == orders.c.id)
        .where(orders.c.charge != taken)
    )
    return [
        f"order {row.id}: charge {row.charge} millionths, ledger charged {int(row.taken)}"
        for row in rows
    ]


def _refund_rows() -> Select[Any]:
    """Each order with what the refund rule reads (Charged's fields) and what it was refunded."""
    refunded = (
        select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
        .where(ledger_entries.c.order_id == orders.c.id, ledger_entries.c.kind == "refund")
        .scalar_subquery()
    )
    return (
        select(
            orders.c.id,
            orders.c.status,
            *(orders.c[name] for name in ("type", "charge", "quantity", "runs", "remains")),
            subscriptions.c.posts,
            subscriptions.c.posts_delivered,
            subscriptions.c.max_quantity,
            refunded.label("refunded"),
        )
        .outerjoin(subscriptions, subscriptions.c.order_id == orders.c.id)
        .order_by(orders.c.id)
        .limit(ORDERS_PER_READ)
    )


async def _refunds_off_rule(conn: AsyncConnection) -> list[str]:
    """Orders refunded other than their status and remains say: nothing while unfinished or
    Completed, the charge once Canceled, pro rata once Partial or a subscription paid up front
    ended (orders.refunds.Charged.refund_due)."""
    problems: list[str] = []
    last_id = 0
    while rows := (await conn.execute(_refund_rows().where(orders.c.id > last_id))).all():
        for row in rows:
            charged = Charged(*(getattr(row, name) for name in Charged._fields))
            due = charged.refund_due(row.status)
            if int(row.refunded) != due:
                problems.append(
                    f"order {row.id} ({_described(row, charged)}): refunded "
                    f"{int(row.refunded)} millionths, its status calls for {due} "
                    f"of its charge {row.charge}"
                )
        last_id = rows[-1].id
    return problems


def _described(row: Row[Any], charged: Charged) -> str:
    """The status and what the refund rule counts as undelivered."""
    if charged.is_subscription and charged.posts:
        return f"{row.status}, {row.posts_delivered} of {row.posts} posts delivered"
    return f"{row.status}, remains {row.remains} of {charged.units}"


async def _requests_past_their_order(conn: AsyncConnection) -> list[str]:
    """Open cancel requests of finished orders (accepting one would refund a finished order),
    and open refills of canceled ones."""
    found = []
    for table, kind, finished in (
        (cancel_requests, "cancel request", ALL_FINISHED),
        (refills, "refill", {CANCELED}),
    ):
        rows = await conn.execute(
            select(table.c.id, table.c.order_id, table.c.status, orders.c.status.label("order"))
            .join(orders, orders.c.id == table.c.open_order_id)
            .where(orders.c.status.in_(sorted(finished)))
            .order_by(table.c.id)
        )
        found += [
            f"order {row.order_id} ({row.order}): {kind} {row.id} is still {row.status}"
            for row in rows
        ]
    return found


async def _payments_off_ledger(conn: AsyncConnection) -> list[str]:
    credited = (
        select(ledger_entries.c.payment_id, func.sum(ledger_entries.c.amount).label("credited"))
        .where(ledger_entries.c.payment_id.is_not(None))
        .group_by(ledger_entries.c.payment_id)
        .subquery()
    )
    booked = func.coalesce(credited.c.credited, 0)
    due = case((payments.c.status == PAID, payments.c.credited + payments.c.bonus), else_=0)
    rows = await conn.execute(
        select(payments.c.id, payments.c.status, due.label("due"), booked.label("booked"))
        .outerjoin(credited, credited.c.payment_id == payments.c.id)
        .where(due != booked)
        .order_by(payments.c.id)
    )
    return [
        f"payment {row.id} ({row.status}): the ledger credited {int(row.booked)} millionths, "
        f"its status calls for {int(row.due)}"
        for row in rows
    ]
