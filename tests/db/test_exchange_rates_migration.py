"""Migration 0011 adds exchange_rates and orders.cost, costing the forwarded orders there are as
the dashboard used to (charge × upstream rate / the rate paid); its downgrade takes both away."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import harness
import pytest
import sqlalchemy as sa
from alembic import command

from smmpanel.accounts.service import create_customer
from smmpanel.catalog.service import category_id_for, create_service, set_customer_price
from smmpanel.db import Database
from smmpanel.db.base import Timestamp
from smmpanel.providers.service import add_provider

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

orders_cost = sa.table("orders", sa.column("id", sa.Integer), sa.column("cost", sa.BigInteger))
# `orders` as revision 0010 has it, the columns this test writes: today's place_order reads
# columns that revision lacks.
orders_0010 = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("customer_id", sa.Integer),
    sa.column("service_id", sa.Integer),
    sa.column("provider_id", sa.Integer),
    sa.column("link", sa.String),
    sa.column("type", sa.String),
    sa.column("status", sa.String),
    sa.column("quantity", sa.Integer),
    sa.column("charge", sa.BigInteger),
    sa.column("created_at", Timestamp),
    sa.column("updated_at", Timestamp),
)


async def test_0011_costs_the_forwarded_orders_and_goes_back(backend: str, tmp_path: Path):
    async with harness.database_at(backend, tmp_path, "0010") as (config, db):
        listed, custom, manual = await _three_orders(db)

        await asyncio.to_thread(command.upgrade, config, "0011")
        async with db.read() as conn:
            costs = dict((await conn.execute(sa.select(orders_cost))).all())
            assert await conn.scalar(sa.text("SELECT count(*) FROM exchange_rates")) == 0
        # 500 at 3.00 (list) costs 500 at 1.20; 500 at 2.40 (custom) costs the same.
        assert costs == {listed: 600_000, custom: 600_000, manual: None}

        await asyncio.to_thread(command.downgrade, config, "0010")
        async with db.read() as conn:
            tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("orders")]
            )
        assert "exchange_rates" not in tables and "cost" not in columns


async def _three_orders(db: Database) -> tuple[int, int, int]:
    """Forwarded at the list price, forwarded at a customer's price, fulfilled here."""
    async with db.write() as conn:
        provider = await add_provider(conn, "up", "http://127.0.0.1:9/api/v2", "key")
        category = await category_id_for(conn, "Migrated")
        common = {"type": "Default", "min_quantity": 10, "max_quantity": 1000}
        forwarded = await create_service(
            conn,
            category,
            name="Forwarded",
            rate=3_000_000,
            fulfilment="provider",
            provider_id=provider,
            provider_service_id="5",
            upstream_rate=1_200_000,
            **common,
        )
        by_hand = await create_service(conn, category, name="Manual", rate=1_000_000, **common)
        listed_buyer = await create_customer(conn, "listed", 100_000_000)
        custom_buyer = await create_customer(conn, "custom", 100_000_000)
        await set_customer_price(conn, custom_buyer, forwarded, 2_400_000)
        ids = []
        for customer, service, upstream, charge in (
            (listed_buyer, forwarded, provider, 1_500_000),  # 500 at 3.00
            (custom_buyer, forwarded, provider, 1_200_000),  # 500 at 2.40
            (listed_buyer, by_hand, None, 500_000),
        ):
            now = datetime.now(UTC)
            order = {"customer_id": customer, "service_id": service, "provider_id": upstream}
            ids.append(
                await conn.scalar(
                    sa.insert(orders_0010)
                    .values(
                        **order,
                        link=f"https://x.example/{service}/{customer}",
                        type="Default",
                        status="Pending",
                        quantity=500,
                        charge=charge,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(orders_0010.c.id)
                )
            )
    return ids[0], ids[1], ids[2]
