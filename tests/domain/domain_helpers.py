"""Setting up customers, services and orders through the domain functions, on `conn`.

Savepoints (`conn.begin_nested()`) stand in for the caller's rollback where a refused change
leaves rows behind (`place_order` stores the order before the debit refuses it) or where a
failed statement would end the whole transaction on PostgreSQL.
"""

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import balance_of, create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.errors import Refusal
from smmpanel.money import parse, to_micros
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order


def micros(amount: str) -> int:
    return to_micros(parse(amount))


def new_link() -> str:
    return f"https://instagram.com/p/{uuid.uuid4().hex[:12]}"


async def new_customer(conn: AsyncConnection, balance: str = "0") -> int:
    return await create_customer(conn, f"customer-{uuid.uuid4().hex[:10]}", micros(balance))


async def new_service(
    conn: AsyncConnection,
    type: str = "Default",
    rate: str = "1",
    min_quantity: int = 10,
    max_quantity: int = 10_000,
    **flags: object,
) -> int:
    category_id = await category_id_for(conn, "Domain tests")
    return await create_service(
        conn,
        category_id,
        name=f"{type} service {uuid.uuid4().hex[:6]}",
        type=type,
        rate=micros(rate),
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        **flags,
    )


async def place(conn: AsyncConnection, customer_id: int, service_id: int, **fields: object) -> int:
    """Place an order of the service as the API would; `link` is a new one unless given."""
    given = {"service": service_id, "link": new_link(), **fields}
    return await place_order(conn, customer_id, {k: str(v) for k, v in given.items()})


async def refused(conn: AsyncConnection, change: Awaitable[object]) -> Refusal:
    """Run a change that must be refused, in a savepoint rolled back with the refusal (as the
    API's transaction would be); the refusal."""
    with pytest.raises(Refusal) as caught:
        async with conn.begin_nested():
            await change
    return caught.value


async def order_row(conn: AsyncConnection, order_id: int):  # type: ignore[no-untyped-def]
    return (await conn.execute(select(orders).where(orders.c.id == order_id))).one()


async def orders_of(conn: AsyncConnection, customer_id: int) -> list[int]:
    query = select(orders.c.id).where(orders.c.customer_id == customer_id).order_by(orders.c.id)
    return list(await conn.scalars(query))


async def ledger_of(conn: AsyncConnection, customer_id: int) -> list[tuple]:
    """The customer's ledger entries, oldest first: (kind, amount, order id, cause)."""
    rows = await conn.execute(
        select(
            ledger_entries.c.kind,
            ledger_entries.c.amount,
            ledger_entries.c.order_id,
            ledger_entries.c.cause,
        )
        .where(ledger_entries.c.customer_id == customer_id)
        .order_by(ledger_entries.c.id)
    )
    return [tuple(row) for row in rows]


@dataclass
class Books:
    conn: AsyncConnection

    async def balance(self, customer_id: int) -> int:
        return await balance_of(self.conn, customer_id)

    async def check(self) -> None:
        """Every balance equals its ledger, every charge its order, no refund beyond a charge."""
        assert await audit(self.conn) == []
