"""Migration 0029 counts the orders already there per customer and status, and its triggers
count from then on; its downgrade takes tables, triggers and functions away again."""

import asyncio
import uuid
from pathlib import Path

import harness
import pytest
from alembic import command
from sqlalchemy import inspect, update

from smmpanel.accounts.service import create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.db import Database
from smmpanel.orders.counts import customer_status_counts
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.orders.statuses import COMPLETED, PENDING

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def test_0029_counts_the_orders_there_then_keeps_counting(backend: str, tmp_path: Path):
    async with harness.database_at(backend, tmp_path, "0028") as (config, db):
        customer_id, service_id = await _customer_and_service(db)
        first = await _place(db, customer_id, service_id)
        await _place(db, customer_id, service_id)

        await asyncio.to_thread(command.upgrade, config, "head")
        async with db.write() as conn:
            await conn.execute(update(orders).where(orders.c.id == first).values(status=COMPLETED))
        await _place(db, customer_id, service_id)
        async with db.read() as conn:
            assert await customer_status_counts(conn, customer_id) == [
                (PENDING, 2),
                (COMPLETED, 1),
            ]

        await asyncio.to_thread(command.downgrade, config, "0028")
        await _place(db, customer_id, service_id)  # no trigger left to write anywhere
        async with db.read() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "customer_order_counts" not in tables
        assert "customer_order_count_changes" not in tables
        await asyncio.to_thread(command.upgrade, config, "head")
        async with db.read() as conn:
            assert await customer_status_counts(conn, customer_id) == [
                (PENDING, 3),
                (COMPLETED, 1),
            ]


async def _customer_and_service(db: Database) -> tuple[int, int]:
    async with db.write() as conn:
        customer_id = await create_customer(conn, "counted", 100_000_000)
        service_id = await create_service(
            conn,
            await category_id_for(conn, "Counted"),
            name="Counted",
            type="Default",
            rate=1_000_000,
            min_quantity=10,
            max_quantity=1000,
        )
    return customer_id, service_id


async def _place(db: Database, customer_id: int, service_id: int) -> int:
    link = f"https://instagram.com/p/{uuid.uuid4().hex[:12]}"
    async with db.write() as conn:
        return await place_order(
            conn, customer_id, {"service": str(service_id), "link": link, "quantity": "100"}
        )
