"""Subscriptions: the order each new post gets, and the end that refunds the posts not delivered.

With `posts` the customer paid `max × posts` up front: a post's order is charged nothing, and
what was not delivered is refunded when the subscription ends. Without it, each post's order is
charged at the customer's rate when it is placed; a balance too short for it pauses the
subscription (the reason is kept in `subscriptions.pause_reason`) and places nothing.

A forwarded subscription's post orders come from the upstream (providers/subscriptions.py); one
fulfilled by hand here gets them from the operator, one `record_post` per new post.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NoReturn

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.service import debit
from smmpanel.catalog.service import customer_rate
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import insert_or_ignore, locked
from smmpanel.errors import N_, refusal
from smmpanel.money import charge_micros, render_charge
from smmpanel.orders.lifecycle import NO_ORDER, update_order
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.polls import start_polling
from smmpanel.orders.statuses import (
    ACTIVE,
    COMPLETED,
    EXPIRED,
    FORWARD_SENT,
    PAUSED,
    PENDING,
    is_finished,
)

POST_ORDER_TYPE = "Default"  # a post's order counts its quantity, like a plain order

NOT_A_SUBSCRIPTION = refusal(
    "post_not_a_subscription",
    "order %(id)s is a %(type)s order, not a subscription: only a subscription's posts are "
    "recorded",
)
POSTS_FORWARDED = refusal(
    "post_subscription_forwarded",
    "subscription %(id)s is forwarded to a provider: its posts are the provider's to record, "
    "and polling brings their orders here",
)
POSTS_FINISHED = refusal(
    "post_subscription_finished",
    "subscription %(id)s is %(status)s: a finished subscription takes no more posts",
)
POSTS_PAUSED = refusal(
    "post_subscription_paused",
    "subscription %(id)s is Paused (%(reason)s): top up the customer's balance "
    "(`smmpanel funds add`) if it is short, resume it with "
    "`smmpanel order update %(id)s --status Active`, then record the post",
)
ALL_POSTS_RECORDED = refusal(
    "post_subscription_full",
    "subscription %(id)s has all its %(posts)s posts already: end it with "
    "`smmpanel order update %(id)s --status Completed`",
)
POST_QUANTITY = refusal(
    "post_quantity_out_of_range",
    "a post of subscription %(id)s gets between %(min)s and %(max)s (its min and max), "
    "not %(quantity)s: give a quantity in that range",
)


class Placed(Enum):
    PLACED = "placed"
    ALREADY = "already"  # an order of ours has this upstream id already
    SHORT = "short"  # the balance does not cover it: nothing placed


@dataclass(frozen=True)
class Subscription:
    order_id: int
    customer_id: int
    service_id: int
    status: str
    posts: int | None
    max_quantity: int
    pause_reason: str | None

    @property
    def paid_up_front(self) -> bool:
        return bool(self.posts)


@dataclass(frozen=True)
class Forwarded:
    """Where a post's order already exists upstream: it is kept in step, never sent."""

    provider_id: int
    upstream_order_id: str


@dataclass(frozen=True)
class PostOrder:
    outcome: Placed
    order_id: int | None  # the new order, when placed
    charge: int  # what it costs the customer (or would have: SHORT); 0 when paid up front


@dataclass(frozen=True)
class RecordedPost:
    """What recording a post did. Without `order_id` the balance was short: nothing was
    placed and the subscription is Paused."""

    order_id: int | None
    quantity: int
    charge: int  # what the post's order costs the customer (or would have)
    posts_delivered: int
    posts: int | None
    status: str  # the subscription's, after
    refunded: int  # by the subscription's end at its last post


@dataclass(frozen=True)
class PostTarget:
    """A subscription as recording a post reads it, its rows locked."""

    sub: Subscription
    provider_id: int | None
    posts_delivered: int
    min_quantity: int


def _subscription_query(order_id: int) -> Select[Any]:
    """A subscription's fields, in the order of `Subscription`'s."""
    return (
        select(
            orders.c.id,
            orders.c.customer_id,
            orders.c.service_id,
            orders.c.status,
            subscriptions.c.posts,
            subscriptions.c.max_quantity,
            subscriptions.c.pause_reason,
        )
        .join(subscriptions, subscriptions.c.order_id == orders.c.id)
        .where(orders.c.id == order_id)
    )


async def subscription(conn: AsyncConnection, order_id: int) -> Subscription:
    return Subscription(*(await conn.execute(_subscription_query(order_id))).one())


async def place_post_order(
    conn: AsyncConnection, sub: Subscription, quantity: int, forwarded: Forwarded | None = None
) -> Placed:
    """The order of one new post of `sub`, charged when the subscription is pay-per-post.
    A forwarded one is placed once per upstream id (a unique constraint decides)."""
    return (await _place_post_order(conn, sub, quantity, forwarded)).outcome


async def _place_post_order(
    conn: AsyncConnection, sub: Subscription, quantity: int, forwarded: Forwarded | None
) -> PostOrder:
    charge = 0 if sub.paid_up_front else await _post_charge(conn, sub, quantity)
    order_id = await _insert_post_order(conn, sub, quantity, charge, forwarded)
    if order_id is None:
        return PostOrder(Placed.ALREADY, None, charge)
    if charge and not await _charge(conn, sub, order_id, charge):
        await conn.execute(delete(orders).where(orders.c.id == order_id))
        await set_pause_reason(conn, sub.order_id, _short_of(charge, forwarded))
        return PostOrder(Placed.SHORT, None, charge)
    if forwarded is not None:
        await start_polling(conn, [order_id])
    return PostOrder(Placed.PLACED, order_id, charge)


async def record_post(conn: AsyncConnection, order_id: int, quantity: int) -> RecordedPost:
    """A new post of a subscription fulfilled by hand, as its operator records it: the post's
    order is placed (charged when paid per post; a short balance pauses the subscription
    instead), the post is counted, and the last of `posts` completes the subscription, which
    refunds by the subscription rule (as expiry does: the posts not delivered, none here).

    The subscription's rows stay locked until the transaction ends, so two operators recording
    at once never count past `posts` (on SQLite a writer holds the database's lock from BEGIN).
    """
    target = await _locked_for_post(conn, order_id)
    _check_post(target, quantity)
    sub = target.sub
    placed = await _place_post_order(conn, sub, quantity, None)
    if placed.outcome is Placed.SHORT:
        await update_order(conn, order_id, status=PAUSED)
        return RecordedPost(
            None, quantity, placed.charge, target.posts_delivered, sub.posts, PAUSED, 0
        )
    delivered = target.posts_delivered + 1
    await conn.execute(
        update(subscriptions)
        .where(subscriptions.c.order_id == order_id)
        .values(posts_delivered=delivered, pause_reason=None)
    )
    status, refunded = sub.status, 0
    if delivered == sub.posts:
        ended = await update_order(conn, order_id, status=COMPLETED)
        status, refunded = ended.status, ended.refunded
    return RecordedPost(
        placed.order_id, quantity, placed.charge, delivered, sub.posts, status, refunded
    )


async def _locked_for_post(conn: AsyncConnection, order_id: int) -> PostTarget:
    query = _subscription_query(order_id).add_columns(
        orders.c.provider_id, subscriptions.c.posts_delivered, subscriptions.c.min_quantity
    )
    row = (await conn.execute(locked(conn, query))).first()
    if row is None:
        await _refuse_missing(conn, order_id)
    sub = Subscription(
        row.id,
        row.customer_id,
        row.service_id,
        row.status,
        row.posts,
        row.max_quantity,
        row.pause_reason,
    )
    return PostTarget(sub, row.provider_id, row.posts_delivered, row.min_quantity)


async def _refuse_missing(conn: AsyncConnection, order_id: int) -> NoReturn:
    order_type = await conn.scalar(select(orders.c.type).where(orders.c.id == order_id))
    if order_type is None:
        raise NO_ORDER(id=order_id)
    raise NOT_A_SUBSCRIPTION(id=order_id, type=order_type)


def _check_post(target: PostTarget, quantity: int) -> None:
    sub = target.sub
    if target.provider_id is not None:
        raise POSTS_FORWARDED(id=sub.order_id)
    if is_finished(sub.status):
        raise POSTS_FINISHED(id=sub.order_id, status=N_(sub.status))
    if sub.status == PAUSED:
        raise POSTS_PAUSED(id=sub.order_id, reason=sub.pause_reason or N_("by hand"))
    if sub.posts and target.posts_delivered >= sub.posts:
        raise ALL_POSTS_RECORDED(id=sub.order_id, posts=sub.posts)
    if not target.min_quantity <= quantity <= sub.max_quantity:
        raise POST_QUANTITY(
            id=sub.order_id, min=target.min_quantity, max=sub.max_quantity, quantity=quantity
        )


async def set_pause_reason(conn: AsyncConnection, order_id: int, reason: str | None) -> None:
    await conn.execute(
        update(subscriptions)
        .where(subscriptions.c.order_id == order_id)
        .values(pause_reason=reason)
    )


async def _post_charge(conn: AsyncConnection, sub: Subscription, quantity: int) -> int:
    """The customer's rate now (their own price, else the list rate less their discount) for
    `quantity`."""
    return charge_micros(await customer_rate(conn, sub.customer_id, sub.service_id), quantity)


async def _insert_post_order(
    conn: AsyncConnection,
    sub: Subscription,
    quantity: int,
    charge: int,
    forwarded: Forwarded | None,
) -> int | None:
    now = utcnow()
    values: dict[str, Any] = {
        "customer_id": sub.customer_id,
        "service_id": sub.service_id,
        "type": POST_ORDER_TYPE,
        "status": PENDING,
        "quantity": quantity,
        "remains": quantity,
        "charge": charge,
        "parent_id": sub.order_id,
        "created_at": now,
        "updated_at": now,
    }
    if forwarded is not None:
        values.update(
            provider_id=forwarded.provider_id,
            upstream_order_id=forwarded.upstream_order_id,
            forward_state=FORWARD_SENT,
        )
    inserted = await conn.execute(
        insert_or_ignore(conn, orders).values(**values).returning(orders.c.id)
    )
    return inserted.scalar()


async def _charge(conn: AsyncConnection, sub: Subscription, order_id: int, charge: int) -> bool:
    return await debit(
        conn,
        sub.customer_id,
        charge,
        kind="charge",
        reason=f"order {order_id} (post of subscription {sub.order_id})",
        order_id=order_id,
        cause="charge",
    )


def _short_of(charge: int, forwarded: Forwarded | None) -> str:
    post = f"upstream order {forwarded.upstream_order_id}" if forwarded else "a new post"
    return f"balance short of {render_charge(charge)} for {post}"


async def expire_subscriptions(db: Database) -> int:
    """End every Active or Paused subscription whose expiry date has passed; how many ended."""
    today = datetime.now(UTC).date()
    async with db.read() as conn:
        due = (
            await conn.scalars(
                select(orders.c.id)
                .join(subscriptions, subscriptions.c.order_id == orders.c.id)
                .where(orders.c.status.in_((ACTIVE, PAUSED)), subscriptions.c.expiry < today)
            )
        ).all()
    for order_id in due:
        async with db.write() as conn:
            await update_order(conn, order_id, status=EXPIRED)
    return len(due)
