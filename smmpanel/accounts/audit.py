"""Checks the money: every balance against its ledger, every order's refunds against its charge."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.orders.models import orders


async def audit(conn: AsyncConnection) -> list[str]:
    """Every problem found, as a sentence; an empty list means the books are right."""
    return (
        await _balances_off_ledger(conn)
        + await _charges_off_orders(conn)
        + await _refunds_beyond_charge(conn)
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


async def _refunds_beyond_charge(conn: AsyncConnection) -> list[str]:
    refunded = (
        select(ledger_entries.c.order_id, func.sum(ledger_entries.c.amount).label("refunded"))
        .where(ledger_entries.c.kind == "refund")
        .group_by(ledger_entries.c.order_id)
        .subquery()
    )
    rows = await conn.execute(
        select(orders.c.id, orders.c.charge, refunded.c.refunded)
        .join(refunded, refunded.c.order_id == orders.c.id)
        .where(refunded.c.refunded > orders.c.charge)
    )
    return [
        f"order {row.id}: refunded {int(row.refunded)} millionths, "
        f"more than its charge {row.charge}"
        for row in rows
    ]
