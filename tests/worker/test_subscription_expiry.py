"""Subscriptions past their expiry end as Expired and refund the posts not delivered."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from smmpanel.accounts.audit import audit
from smmpanel.orders.models import subscriptions
from smmpanel.orders.subscriptions import expire_subscriptions


def future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%d/%m/%Y")


async def subscribe(api, shop, posts: int) -> tuple[str, int]:
    _, key = await shop.customer("100")
    service = await shop.service("Subscriptions", rate="2", min_quantity=10, max_quantity=1000)
    reply = await api.call(
        key=key,
        action="add",
        service=service,
        username="someone",
        min=100,
        max=300,
        posts=posts,
        delay=0,
        expiry=future(10),
    )
    return key, reply["order"]


async def move_expiry_to_yesterday(db, order_id: int, delivered: int = 0) -> None:
    async with db.write() as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.order_id == order_id)
            .values(
                expiry=(datetime.now(UTC) - timedelta(days=1)).date(), posts_delivered=delivered
            )
        )


async def test_expired_subscription_refunds_undelivered_posts(api, shop, db):
    key, order_id = await subscribe(api, shop, posts=3)
    assert await api.balance(key) == Decimal("100") - Decimal("1.8")  # 2 × 300 × 3 / 1000
    await move_expiry_to_yesterday(db, order_id, delivered=1)

    assert await expire_subscriptions(db) >= 1

    status = await api.call(key=key, action="status", order=order_id)
    assert status["status"] == "Expired"
    assert await api.balance(key) == Decimal("100") - Decimal("1.8") + Decimal("1.2")
    assert await expire_subscriptions(db) == 0  # nothing left to end, nothing refunded twice
    assert await api.balance(key) == Decimal("99.4")
    async with db.read() as conn:
        assert await audit(conn) == []


async def test_unexpired_subscription_stays_active(api, shop, db):
    key, order_id = await subscribe(api, shop, posts=2)
    await expire_subscriptions(db)
    assert (await api.call(key=key, action="status", order=order_id))["status"] == "Active"
