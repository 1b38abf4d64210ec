"""Helpers for the API v2 contract tests: place orders, move them, and check the books."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import api_keys
from smmpanel.accounts.service import hash_key
from smmpanel.catalog.models import services
from smmpanel.db.base import utcnow
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import orders, subscriptions


@pytest.fixture
def place(api) -> Callable[..., Awaitable[int]]:
    """Place an order through the API and return its id, asserting the success reply's shape."""

    async def place(key: str, service: int, **fields: object) -> int:
        reply = await api.call(key=key, action="add", service=service, **fields)
        assert isinstance(reply, dict) and reply.keys() == {"status", "order"}, reply
        assert reply["status"] == "success"
        assert type(reply["order"]) is int
        return reply["order"]

    return place


@pytest.fixture
def set_order(db) -> Callable[..., Awaitable[object]]:
    """Move an order through its life cycle as the operator (or the upstream) would."""

    async def set_order(order_id: int, **changes: object) -> object:
        async with db.write() as conn:
            return await update_order(conn, order_id, **changes)

    return set_order


@pytest.fixture
def execute(db) -> Callable[..., Awaitable[None]]:
    """Run statements in one write transaction."""

    async def execute(*statements: object) -> None:
        async with db.write() as conn:
            for statement in statements:
                await conn.execute(statement)

    return execute


@pytest.fixture
def finished_days_ago(execute) -> Callable[[int, float], Awaitable[None]]:
    async def finished_days_ago(order_id: int, days: float) -> None:
        await execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(finished_at=utcnow() - timedelta(days=days))
        )

    return finished_days_ago


@pytest.fixture
def disable_service(execute) -> Callable[[int], Awaitable[None]]:
    async def disable_service(service_id: int) -> None:
        await execute(update(services).where(services.c.id == service_id).values(enabled=False))

    return disable_service


@pytest.fixture
def add_child_orders(db) -> Callable[[int, int], Awaitable[list[int]]]:
    """Child orders of a drip-feed or subscription parent, as delivery would create them."""

    async def add_child_orders(parent_id: int, count: int) -> list[int]:
        async with db.write() as conn:
            parent = (await conn.execute(select(orders).where(orders.c.id == parent_id))).one()
            child_ids = []
            for _ in range(count):
                child_ids.append(
                    await conn.scalar(
                        insert(orders)
                        .values(
                            customer_id=parent.customer_id,
                            service_id=parent.service_id,
                            type="Default",
                            status="Pending",
                            link=parent.link or "https://instagram.com/p/child",
                            quantity=parent.quantity,
                            charge=0,  # paid by the parent
                            parent_id=parent_id,
                            created_at=utcnow(),
                            updated_at=utcnow(),
                        )
                        .returning(orders.c.id)
                    )
                )
            return child_ids

    return add_child_orders


@pytest.fixture
def set_posts_delivered(execute) -> Callable[[int, int], Awaitable[None]]:
    async def set_posts_delivered(order_id: int, posts: int) -> None:
        await execute(
            update(subscriptions)
            .where(subscriptions.c.order_id == order_id)
            .values(posts_delivered=posts)
        )

    return set_posts_delivered


@pytest.fixture
def key_id(db) -> Callable[[str], Awaitable[int]]:
    async def key_id(key: str) -> int:
        async with db.read() as conn:
            return await conn.scalar(
                select(api_keys.c.id).where(api_keys.c.key_hash == hash_key(key))
            )

    return key_id


@pytest.fixture
def check_books(db) -> Callable[[], Awaitable[None]]:
    """Every balance equals its ledger, every charge its order, no refund beyond its charge."""

    async def check_books() -> None:
        async with db.read() as conn:
            assert await audit(conn) == []

    return check_books


@pytest.fixture
def orders_of(db) -> Callable[[int], Awaitable[list[int]]]:
    async def orders_of(customer_id: int) -> list[int]:
        async with db.read() as conn:
            return list(
                await conn.scalars(
                    select(orders.c.id)
                    .where(orders.c.customer_id == customer_id)
                    .order_by(orders.c.id)
                )
            )

    return orders_of
