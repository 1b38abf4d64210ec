"""audit: check the books."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from smmpanel.cli.common import fail, read_only

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


def audit_command() -> None:
    """Check every balance against its ledger and every order's charge and refunds."""
    from sqlalchemy import func, select

    from smmpanel.accounts.audit import audit
    from smmpanel.accounts.models import customers
    from smmpanel.orders.models import orders

    async def query(conn: AsyncConnection) -> tuple[list[str], int, int]:
        problems = await audit(conn)
        customer_count = await conn.scalar(select(func.count()).select_from(customers))
        order_count = await conn.scalar(select(func.count()).select_from(orders))
        return problems, customer_count or 0, order_count or 0

    problems, customer_count, order_count = read_only(query)
    if not problems:
        typer.echo(f"books are right: {customer_count} customers, {order_count} orders checked")
        return
    for problem in problems:
        typer.echo(problem)
    fail(
        f"{len(problems)} problem(s) in the books, listed above. The ledger is the truth: "
        "find what changed these rows outside the panel before correcting anything"
    )
