"""A database of the payments tests, and helpers to make methods, customers and payments."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import harness
import pytest
import pytest_asyncio
from harness import payment_method

from smmpanel.accounts.audit import audit
from smmpanel.accounts.service import balance_of, create_customer
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.payments.methods import add_method, method_by_id
from smmpanel.payments.service import Payment, open_payment, payment_by_id

DAY = timedelta(days=1)


def micros(amount: str) -> int:
    return to_micros(parse(amount))


@pytest_asyncio.fixture(scope="session")
async def payments_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A migrated database of the payments tests alone, with a small pool."""
    url = await harness.migrated(backend, tmp_path_factory.mktemp(f"payments-{backend}"))
    database = Database(url, pool_size=4)
    try:
        yield database
    finally:
        await database.dispose()
        if backend == "postgresql":
            await harness.drop_postgres_database(url)


class Till:
    """A customer and a method on the payments database, and the books to check."""

    def __init__(self, db: Database, customer_id: int, method_id: int) -> None:
        self.db = db
        self.customer_id = customer_id
        self.method_id = method_id

    @classmethod
    async def new(cls, db: Database, **method: Any) -> "Till":
        async with db.write() as conn:
            customer_id = await create_customer(conn, f"payer-{uuid.uuid4().hex[:8]}", 0)
            method_id = await add_method(conn, **payment_method(**method))
        return cls(db, customer_id, method_id)

    async def open(
        self, amount: str, reference: str | None = None, lifetime: timedelta = DAY
    ) -> int:
        async with self.db.write() as conn:
            method = await method_by_id(conn, self.method_id)
            return await open_payment(
                conn, self.customer_id, method, micros(amount), lifetime, reference
            )

    async def payment(self, payment_id: int) -> Payment:
        async with self.db.read() as conn:
            return await payment_by_id(conn, payment_id)

    async def balance(self) -> int:
        async with self.db.read() as conn:
            return await balance_of(conn, self.customer_id)

    async def audit(self) -> list[str]:
        async with self.db.read() as conn:
            return await audit(conn)
