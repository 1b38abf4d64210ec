"""Posts of a subscription fulfilled by hand, as its operator records them (`record_post`):
each post's order placed once, charged by the subscription's rule, never past `posts`."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.service import adjust_funds
from smmpanel.errors import Refusal
from smmpanel.money import charge_micros, parse, partial_refund_micros, to_micros
from smmpanel.orders import subscriptions as post_rules
from smmpanel.orders.lifecycle import NO_ORDER, REMAINS_BY_POSTS, update_order
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.placement import place_order
from smmpanel.orders.subscriptions import expire_subscriptions, record_post
from smmpanel.providers.service import add_provider

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

RATE = "1.234567"
MIN, MAX = 100, 500


@dataclass(frozen=True)
class Subscribed:
    order_id: int
    customer_id: int


async def subscribe(db, shop, balance: str, posts: int | None = None) -> Subscribed:  # type: ignore[no-untyped-def]
    """A new customer's subscription to a service fulfilled by hand."""
    customer_id, _ = await shop.customer(balance)
    service = await shop.service("Subscriptions", rate=RATE, min_quantity=10, max_quantity=1000)
    fields = {"service": str(service), "username": "natgeo", "min": str(MIN), "max": str(MAX)}
    fields["delay"] = "0"
    if posts:
        fields["posts"] = str(posts)
    async with db.write() as conn:
        return Subscribed(await place_order(conn, customer_id, fields), customer_id)


async def record(db, order_id: int, quantity: int):  # type: ignore[no-untyped-def]
    async with db.write() as conn:
        return await record_post(conn, order_id, quantity)


async def state(db, sub: Subscribed) -> tuple:  # type: ignore[no-untyped-def]
    """Everything recording a post may change: the subscription, its posts' orders, the money."""
    async with db.read() as conn:
        parent = (
            await conn.execute(
                select(
                    orders.c.status,
                    orders.c.updated_at,
                    subscriptions.c.posts_delivered,
                    subscriptions.c.pause_reason,
                )
                .join(subscriptions, subscriptions.c.order_id == orders.c.id)
                .where(orders.c.id == sub.order_id)
            )
        ).one()
        children = (
            await conn.execute(
                select(orders.c.id, orders.c.quantity, orders.c.charge, orders.c.status)
                .where(orders.c.parent_id == sub.order_id)
                .order_by(orders.c.id)
            )
        ).all()
        balance = await conn.scalar(
            select(customers.c.balance).where(customers.c.id == sub.customer_id)
        )
        entries = await conn.scalar(
            select(func.count()).where(ledger_entries.c.customer_id == sub.customer_id)
        )
    return tuple(parent), [tuple(child) for child in children], balance, entries


async def balance_of(db, customer_id: int) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return int(
            await conn.scalar(select(customers.c.balance).where(customers.c.id == customer_id))
        )


async def assert_books_right(db) -> None:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        assert await audit(conn) == []


def per(quantity: int) -> int:
    return charge_micros(to_micros(parse(RATE)), quantity)


async def test_pay_per_post_charges_each_post_and_pauses_when_short(db, shop):
    opening = per(120) + per(450) + per(MAX) // 2  # two posts and half a third
    sub = await subscribe(db, shop, str(parse(opening) / 1_000_000))

    first = await record(db, sub.order_id, 120)
    second = await record(db, sub.order_id, 450)
    assert [(p.charge, p.posts_delivered, p.status) for p in (first, second)] == [
        (per(120), 1, "Active"),
        (per(450), 2, "Active"),
    ]
    (_, _, delivered, _), children, balance, _ = await state(db, sub)
    assert children == [
        (first.order_id, 120, per(120), "Pending"),
        (second.order_id, 450, per(450), "Pending"),
    ]
    assert (delivered, balance) == (2, opening - per(120) - per(450))

    # Too short for the third: nothing placed, the subscription Paused, the balance untouched.
    short = await record(db, sub.order_id, MAX)
    assert (short.order_id, short.charge, short.status) == (None, per(MAX), "Paused")
    (status, _, delivered, reason), after, balance, _ = await state(db, sub)
    assert (status, delivered, after, balance) == ("Paused", 2, children, per(MAX) // 2)
    assert "balance short" in reason

    async with db.write() as conn:  # the customer tops up, the operator resumes it
        await adjust_funds(conn, sub.customer_id, per(MAX), "top-up")
        await update_order(conn, sub.order_id, status="Active")
    (status, _, _, reason), _, _, _ = await state(db, sub)
    assert (status, reason) == ("Active", None), "a resumed subscription keeps no pause reason"
    third = await record(db, sub.order_id, MAX)
    (status, _, delivered, reason), children, balance, _ = await state(db, sub)
    assert (third.charge, status, delivered, reason, len(children)) == (
        per(MAX),
        "Active",
        3,
        None,
        3,
    )
    assert balance == per(MAX) // 2
    await assert_books_right(db)


async def test_paid_up_front_charges_nothing_more_and_completes_at_its_last_post(db, shop):
    sub = await subscribe(db, shop, "10", posts=3)
    paid = per(3 * MAX)
    assert await balance_of(db, sub.customer_id) == to_micros(parse("10")) - paid

    recorded = [await record(db, sub.order_id, quantity) for quantity in (MIN, MAX, 300)]
    assert [(p.charge, p.posts_delivered, p.status, p.refunded) for p in recorded] == [
        (0, 1, "Active", 0),
        (0, 2, "Active", 0),
        (0, 3, "Completed", 0),  # every post delivered: nothing to refund
    ]
    (status, _, delivered, _), children, balance, _ = await state(db, sub)
    assert (status, delivered, balance) == ("Completed", 3, to_micros(parse("10")) - paid)
    assert [(quantity, charge) for _, quantity, charge, _ in children] == [
        (MIN, 0),
        (MAX, 0),
        (300, 0),
    ]
    await assert_books_right(db)


async def test_paid_up_front_ending_early_refunds_the_posts_not_recorded(db, shop):
    sub = await subscribe(db, shop, "10", posts=3)
    await record(db, sub.order_id, 200)
    async with db.write() as conn:  # its expiry date passes after one post of three
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.order_id == sub.order_id)
            .values(expiry=(datetime.now(UTC) - timedelta(days=1)).date())
        )
    assert await expire_subscriptions(db) >= 1

    paid = per(3 * MAX)
    refund = partial_refund_micros(paid, 2 * MAX, 3 * MAX)
    (status, _, delivered, _), _, balance, _ = await state(db, sub)
    assert (status, delivered) == ("Expired", 1)
    assert balance == to_micros(parse("10")) - paid + refund
    await assert_books_right(db)


@pytest.mark.parametrize(
    ("status", "delivered"), [("Completed", 0), ("Completed", 1), ("Expired", 0), ("Expired", 1)]
)
async def test_ending_by_hand_refunds_the_posts_not_delivered(db, shop, status, delivered):
    sub = await subscribe(db, shop, "10", posts=2)
    for quantity in (MAX, MIN)[:delivered]:
        await record(db, sub.order_id, quantity)
    paid = per(2 * MAX)
    owed = partial_refund_micros(paid, (2 - delivered) * MAX, 2 * MAX)

    async with db.write() as conn:  # `smmpanel order update ID --status ...`
        ended = await update_order(conn, sub.order_id, status=status)

    assert (ended.status, ended.refunded, ended.remains) == (status, owed, (2 - delivered) * MAX)
    assert await balance_of(db, sub.customer_id) == to_micros(parse("10")) - paid + owed
    await assert_books_right(db)


async def test_remains_other_than_the_posts_not_delivered_are_refused(db, shop):
    sub = await subscribe(db, shop, "10", posts=2)
    before = await state(db, sub)
    with pytest.raises(Refusal) as refused:
        async with db.write() as conn:
            await update_order(conn, sub.order_id, status="Completed", remains=0)
    assert refused.value.kind is REMAINS_BY_POSTS
    assert str(refused.value) == (
        f"subscription {sub.order_id} ends with the units of its posts not delivered as its "
        f"remains ({2 * MAX}): leave out --remains"
    )
    assert await state(db, sub) == before


@pytest.mark.parametrize(
    ("quantity", "why"), [(MIN - 1, post_rules.POST_QUANTITY), (MAX + 1, post_rules.POST_QUANTITY)]
)
async def test_a_quantity_outside_min_and_max_is_refused(db, shop, quantity, why):
    sub = await subscribe(db, shop, "10")
    before = await state(db, sub)
    with pytest.raises(Refusal) as refused:
        await record(db, sub.order_id, quantity)
    assert refused.value.kind is why
    assert f"between {MIN} and {MAX}" in str(refused.value)
    assert await state(db, sub) == before


async def test_refusals_say_what_to_do_and_change_nothing(db, shop):
    paused = await subscribe(db, shop, "10")
    async with db.write() as conn:
        await update_order(conn, paused.order_id, status="Paused")
    finished = await subscribe(db, shop, "10", posts=2)
    async with db.write() as conn:
        await update_order(conn, finished.order_id, status="Canceled")
    full = await subscribe(db, shop, "10", posts=1)
    async with db.write() as conn:  # counted by an earlier run of the panel, say
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.order_id == full.order_id)
            .values(posts_delivered=1)
        )
    cases = [
        (paused, post_rules.POSTS_PAUSED, "--status Active"),
        (finished, post_rules.POSTS_FINISHED, "is Canceled"),
        (full, post_rules.ALL_POSTS_RECORDED, "--status Completed"),
    ]
    for sub, why, advice in cases:
        before = await state(db, sub)
        with pytest.raises(Refusal) as refused:
            await record(db, sub.order_id, 200)
        assert (refused.value.kind, advice in str(refused.value)) == (why, True)
        assert await state(db, sub) == before


async def test_orders_that_are_not_subscriptions_of_ours_are_refused(db, shop):
    customer_id, _ = await shop.customer("10")
    plain_service = await shop.service(rate=RATE)
    async with db.write() as conn:
        plain = await place_order(
            conn,
            customer_id,
            {"service": str(plain_service), "link": "https://x.test/p/1", "quantity": "100"},
        )
        provider_id = await add_provider(
            conn, f"upstream-{uuid.uuid4().hex[:6]}", "https://upstream.test/api/v2", "k"
        )
    forwarded_service = await shop.service(
        "Subscriptions",
        rate=RATE,
        fulfilment="provider",
        provider_id=provider_id,
        provider_service_id="7",
    )
    async with db.write() as conn:
        forwarded = await place_order(
            conn,
            customer_id,
            {
                "service": str(forwarded_service),
                "username": "u",
                "min": str(MIN),
                "max": str(MAX),
                "delay": "0",
            },
        )
    for order_id, why in (
        (plain, post_rules.NOT_A_SUBSCRIPTION),
        (forwarded, post_rules.POSTS_FORWARDED),
        (10**15, NO_ORDER),
    ):
        with pytest.raises(Refusal) as refused:
            await record(db, order_id, 200)
        assert refused.value.kind is why
    async with db.read() as conn:
        children = await conn.scalar(
            select(func.count()).where(orders.c.parent_id.in_((plain, forwarded)))
        )
    assert children == 0
    assert await balance_of(db, customer_id) == to_micros(parse("10")) - per(100)


async def test_two_operators_recording_the_last_post_at_once_place_it_once(db, shop):
    sub = await subscribe(db, shop, "10", posts=2)
    await record(db, sub.order_id, 200)

    outcomes = await asyncio.gather(
        record(db, sub.order_id, 300), record(db, sub.order_id, 400), return_exceptions=True
    )
    placed = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert (len(placed), len(refused)) == (1, 1), outcomes
    assert placed[0].status == "Completed"
    assert refused[0].kind is post_rules.POSTS_FINISHED
    (status, _, delivered, _), children, _, _ = await state(db, sub)
    assert (status, delivered, len(children)) == ("Completed", 2, 2)
    await assert_books_right(db)
