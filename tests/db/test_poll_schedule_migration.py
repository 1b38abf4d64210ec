"""Migration 0007 moves the poll schedule of forwarded orders out of `orders` into order_polls,
keeping each order's next poll and pace, and its downgrade puts them back."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import harness
import pytest
import sqlalchemy as sa
from alembic import command

from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.db import Database
from smmpanel.db.base import Timestamp, as_utc
from smmpanel.orders.models import order_polls
from smmpanel.providers.service import add_provider

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

NEXT_POLL = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)
NEXT_SEND = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

# `customers` as revision 0006 has it: today's create_customer writes columns it lacks.
customers_0006 = sa.table(
    "customers",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("created_at", Timestamp),
)

# `orders` as revision 0006 has it, the columns this test writes and reads.
orders_0006 = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("customer_id", sa.Integer),
    sa.column("service_id", sa.Integer),
    sa.column("provider_id", sa.Integer),
    sa.column("type", sa.String),
    sa.column("status", sa.String),
    sa.column("quantity", sa.Integer),
    sa.column("charge", sa.Integer),
    sa.column("upstream_order_id", sa.String),
    sa.column("forward_state", sa.String),
    sa.column("next_action_at", Timestamp),
    sa.column("poll_interval", sa.Integer),
    sa.column("created_at", Timestamp),
    sa.column("updated_at", Timestamp),
)


async def test_0007_moves_each_polled_orders_schedule_and_back(backend: str, tmp_path: Path):
    async with harness.database_at(backend, tmp_path, "0006") as (config, db):
        polled, never_polled, queued = await _three_forwarded_orders(db)

        await asyncio.to_thread(command.upgrade, config, "head")
        async with db.read() as conn:
            moved = {
                row.order_id: (as_utc(row.due_at), row.every)
                for row in await conn.execute(sa.select(order_polls))
            }
            left = dict(
                (
                    await conn.execute(sa.select(orders_0006.c.id, orders_0006.c.next_action_at))
                ).all()
            )
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("orders")]
            )
        assert moved == {polled: (NEXT_POLL, 240), never_polled: (NEXT_POLL, 0)}
        assert {k: v and as_utc(v) for k, v in left.items()} == {
            polled: None,
            never_polled: None,
            queued: NEXT_SEND,
        }
        assert "poll_interval" not in columns

        await asyncio.to_thread(command.downgrade, config, "0006")
        async with db.read() as conn:
            back = {
                row.id: (as_utc(row.next_action_at), row.poll_interval)
                for row in await conn.execute(
                    sa.select(
                        orders_0006.c.id,
                        orders_0006.c.next_action_at,
                        orders_0006.c.poll_interval,
                    )
                )
            }
        assert back == {
            polled: (NEXT_POLL, 240),
            never_polled: (NEXT_POLL, None),
            queued: (NEXT_SEND, None),
        }


async def _three_forwarded_orders(db: Database) -> tuple[int, int, int]:
    """Sent and polled before, sent and not polled yet, queued to be sent."""
    now = datetime.now(UTC)
    async with db.write() as conn:
        customer = await conn.scalar(
            sa.insert(customers_0006)
            .values(name="migrated", created_at=now)
            .returning(customers_0006.c.id)
        )
        provider = await add_provider(conn, "up", "http://127.0.0.1:9/api/v2", "key")
        service = await create_service(
            conn,
            await category_id_for(conn, "Migrated"),
            name="Forwarded",
            type="Default",
            rate=1_000_000,
            min_quantity=10,
            max_quantity=1000,
            fulfilment="provider",
            provider_id=provider,
            provider_service_id="5",
        )
        ids = []
        for number, (state, due, every) in enumerate(
            [("sent", NEXT_POLL, 240), ("sent", NEXT_POLL, None), ("queued", NEXT_SEND, None)]
        ):
            values = {
                "customer_id": customer,
                "service_id": service,
                "provider_id": provider,
                "type": "Default",
                "status": "Pending",
                "quantity": 100,
                "charge": 100_000,
                "upstream_order_id": str(number) if state == "sent" else None,
                "forward_state": state,
                "next_action_at": due,
                "poll_interval": every,
                "created_at": now,
                "updated_at": now,
            }
            ids.append(
                await conn.scalar(sa.insert(orders_0006).values(values).returning(orders_0006.c.id))
            )
    return ids[0], ids[1], ids[2]
