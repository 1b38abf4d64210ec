"""The operator records a new post of a subscription fulfilled by hand, on its order page."""

import uuid

from page_client import customer_with_password, text_of
from sqlalchemy import select

from smmpanel.accounts.service import balance_of
from smmpanel.money import charge_micros, parse, to_micros
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import orders, subscriptions
from smmpanel.orders.placement import place_order
from smmpanel.pagekit.money_format import format_money
from smmpanel.providers.service import add_provider

RATE = "1.234567"


async def subscription(db, shop, balance: str = "100", **fields: str) -> tuple[int, int]:
    """A customer's subscription (min 100, max 500): (customer, order)."""
    customer_id, _ = await customer_with_password(db, balance=balance)
    service_id = await shop.service("Subscriptions", rate=RATE, max_quantity=1000)
    return customer_id, await subscribe(db, customer_id, service_id, **fields)


async def subscribe(db, customer_id: int, service_id: int, **fields: str) -> int:
    wanted = {"service": str(service_id), "username": "natgeo", "min": "100", "max": "500"}
    wanted.update(delay="0", **fields)
    async with db.write() as conn:
        return await place_order(conn, customer_id, wanted)


async def record(operator, order_id: int, quantity: object):
    page = f"/admin/orders/{order_id}"
    return await operator.submit(f"{page}/post", {"quantity": quantity}, page=page)


async def state(db, customer_id: int, order_id: int) -> tuple:
    """What recording a post may change: the subscription, its posts' orders, the balance."""
    async with db.read() as conn:
        parent = (
            await conn.execute(
                select(orders.c.status, orders.c.updated_at, subscriptions.c.posts_delivered)
                .join(subscriptions, subscriptions.c.order_id == orders.c.id)
                .where(orders.c.id == order_id)
            )
        ).one()
        children = (
            await conn.execute(
                select(orders.c.id, orders.c.quantity, orders.c.charge)
                .where(orders.c.parent_id == order_id)
                .order_by(orders.c.id)
            )
        ).all()
        return tuple(parent), [tuple(c) for c in children], await balance_of(conn, customer_id)


def shown(micros: int) -> str:
    """An amount as a message writes it in English, as text_of reads it (no-break space)."""
    return format_money(micros, "charge", "en", "USD").replace("\u00a0", " ")


def per(quantity: int) -> int:
    return charge_micros(to_micros(parse(RATE)), quantity)


async def test_a_post_is_recorded_and_charged_with_its_order_named(operator, db, shop):
    customer_id, order_id = await subscription(db, shop)
    page = text_of(await operator.page(f"/admin/orders/{order_id}"))
    assert "Record a new post" in page and "between 100 and 500" in page

    response = await record(operator, order_id, "250")

    (status, _, delivered), children, balance = await state(db, customer_id, order_id)
    [(child, quantity, charge)] = children
    assert (status, delivered, quantity, charge) == ("Active", 1, 250, per(250))
    assert balance == to_micros(parse("100")) - per(250)
    page = text_of(await operator.follow(response))
    assert f"New post recorded: order {child} for 250, charged {shown(per(250))}." in page
    assert "Orders of its posts" in page and "Posts 1 / unlimited" in page


async def test_the_last_post_completes_a_paid_up_front_subscription(operator, db, shop):
    customer_id, order_id = await subscription(db, shop, posts="2")
    before = await state(db, customer_id, order_id)
    await operator.follow(await record(operator, order_id, "100"))
    page = text_of(await operator.follow(await record(operator, order_id, "500")))

    assert "nothing charged (paid up front)" in page
    assert f"Subscription {order_id} has all its posts and is Completed. Nothing refunded." in page
    assert "Record a new post" not in page  # a finished subscription takes no more
    (status, _, delivered), children, balance = await state(db, customer_id, order_id)
    assert (status, delivered, balance) == ("Completed", 2, before[2])
    assert [(quantity, charge) for _, quantity, charge in children] == [(100, 0), (500, 0)]


async def test_a_short_balance_pauses_the_subscription_and_says_so(operator, db, shop):
    customer_id, order_id = await subscription(db, shop, balance="0.3")
    response = await record(operator, order_id, "500")

    page = text_of(await operator.follow(response))
    assert f"balance is short of {shown(per(500))} for this post" in page
    assert "the subscription is now Paused" in page
    assert "Record a new post" not in page
    (status, _, delivered), children, balance = await state(db, customer_id, order_id)
    assert (status, delivered, children, balance) == ("Paused", 0, [], to_micros(parse("0.3")))


async def test_bad_posts_are_refused_with_400_and_change_nothing(operator, db, shop):
    customer_id, order_id = await subscription(db, shop)
    before = await state(db, customer_id, order_id)
    for typed, message in (
        ("", "Type the quantity of the new post's order."),
        ("12abc", "Quantity must be a whole number"),
        ("-5", "Quantity must be a whole number"),
        ("99", "gets between 100 and 500"),
        ("501", "gets between 100 and 500"),
        ("9" * 40, "Quantity must be a whole number"),
    ):
        response = await record(operator, order_id, typed)
        assert response.status_code == 400, (typed, response.text[:300])
        assert message in text_of(response.text), typed
        assert f'value="{typed}"' in response.text  # what was typed stays in the form
        assert await state(db, customer_id, order_id) == before


async def test_subscriptions_that_take_no_post_here_are_refused(operator, db, shop):
    customer_id, paused = await subscription(db, shop)
    async with db.write() as conn:
        await update_order(conn, paused, status="Paused")
        provider_id = await add_provider(
            conn, f"upstream-{uuid.uuid4().hex[:6]}", "https://upstream.test/api/v2", "k"
        )
    forwarded_service = await shop.service(
        "Subscriptions",
        rate=RATE,
        max_quantity=1000,
        fulfilment="provider",
        provider_id=provider_id,
        provider_service_id="7",
    )
    forwarded = await subscribe(db, customer_id, forwarded_service)
    plain_service = await shop.service(rate=RATE)
    async with db.write() as conn:
        plain = await place_order(
            conn,
            customer_id,
            {"service": str(plain_service), "link": "https://x.test/p/1", "quantity": "100"},
        )
    for order_id, message in (
        (paused, "This subscription is Paused"),
        (forwarded, "forwarded to a provider"),
        (plain, f"Order {plain} is not a subscription"),
    ):
        page = text_of(await operator.page(f"/admin/orders/{order_id}"))
        assert "Record a new post" not in page
        before = await state(db, customer_id, order_id) if order_id != plain else None
        response = await record(operator, order_id, "200")
        assert response.status_code == 400
        assert message in text_of(response.text)
        if before is not None:
            assert await state(db, customer_id, order_id) == before
    missing = f"/admin/orders/{10**15}/post"
    response = await operator.submit(missing, {"quantity": "200"}, page="/admin/orders")
    assert response.status_code == 404


async def test_the_form_speaks_traditional_chinese(operator, db, shop):
    _, order_id = await subscription(db, shop)
    await operator.get("/language/zh_TW")
    try:
        page = await operator.page(f"/admin/orders/{order_id}")
        refused = await record(operator, order_id, "99")
    finally:
        await operator.get("/language/en")
    assert "登記一則新貼文" in page and "登記貼文" in page
    assert "每則貼文的數量須介於 100 到 500 之間" in text_of(refused.text)
