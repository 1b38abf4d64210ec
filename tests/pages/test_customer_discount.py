"""A discount percent per customer (issue 14): the list rate less the discount, rounded half up
to the millionth, wherever the customer's rate is read (the API, the pages, the charge); a
custom price wins over it; the operator sets it on the customer's page."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from page_client import text_of
from sqlalchemy import select, update

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.service import create_api_key
from smmpanel.catalog.models import services
from smmpanel.catalog.service import (
    customer_rate,
    enabled_services,
    orderable_service,
    orderable_service_hot,
    set_customer_price,
)
from smmpanel.money import LARGEST_MICROS, discounted_micros, render_rate
from smmpanel.orders.models import orders

AWKWARD_RATES = [1, 3, 7, 1_234_567, 999_999, 10_000, LARGEST_MICROS - 1, LARGEST_MICROS]
DISCOUNTS_BP = [0, 1, 1234, 5000, 9999]


def exact_discounted(rate: int, discount_bp: int) -> int:
    """The rule apart from the code: rate × (100 % − discount), half up to the millionth."""
    exact = Decimal(rate) * (10_000 - discount_bp) / 10_000
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


async def set_discount_bp(db, customer_id: int, discount_bp: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            update(customers).where(customers.c.id == customer_id).values(discount_bp=discount_bp)
        )


async def discount_bp_of(db, customer_id: int) -> int:
    async with db.read() as conn:
        return await conn.scalar(
            select(customers.c.discount_bp).where(customers.c.id == customer_id)
        )


async def new_key(db, customer_id: int) -> str:
    async with db.write() as conn:
        return await create_api_key(conn, customer_id)


async def api_rate(api, key: str, service_id: int) -> Decimal:
    reply = await api.call(key=key, action="services")
    [entry] = [entry for entry in reply if entry["service"] == service_id]
    return Decimal(entry["rate"])


def test_the_rounding_is_exact_and_half_up():
    for rate in AWKWARD_RATES:
        for discount_bp in DISCOUNTS_BP:
            assert discounted_micros(rate, discount_bp) == exact_discounted(rate, discount_bp)
    assert discounted_micros(1, 5000) == 1  # 0.5 rounds up
    assert discounted_micros(1, 5001) == 0
    assert discounted_micros(3, 1234) == 3  # 2.6298
    assert discounted_micros(1_234_567, 1234) == 1_082_221  # 1,082,221.4322


async def test_sql_and_python_give_the_same_integer(db, shop):
    """The listings (SQL), placing (SQLAlchemy and the hot path) and the subscriptions' charge
    agree with money.discounted_micros, up to the largest rate (no BIGINT overflow)."""
    customer_id, _key = await shop.customer()
    service_ids = {rate: await shop.service(rate=render_rate(rate)) for rate in AWKWARD_RATES}
    for discount_bp in DISCOUNTS_BP:
        await set_discount_bp(db, customer_id, discount_bp)
        async with db.read() as conn:
            listed = {row.id: row.rate for row in await enabled_services(conn, customer_id)}
            for rate, service_id in service_ids.items():
                expected = exact_discounted(rate, discount_bp)
                assert listed[service_id] == expected, (rate, discount_bp)
                orderable = await orderable_service(conn, service_id, customer_id)
                assert orderable is not None and orderable.rate == expected
                assert await customer_rate(conn, customer_id, service_id) == expected
        for rate, service_id in service_ids.items():
            hot = await orderable_service_hot(db.hot, service_id, customer_id)
            assert hot is not None and hot.rate == exact_discounted(rate, discount_bp)


async def test_the_api_lists_and_charges_the_discounted_rate_exactly(api, shop, db):
    service_id = await shop.service(rate="1.234567")
    customer_id, key = await shop.customer(balance="10")
    _other_id, other_key = await shop.customer()
    assert await api_rate(api, key, service_id) == Decimal("1.234567")  # cached for everyone
    await set_discount_bp(db, customer_id, 1234)  # now a reply of their own, never cached
    rate = exact_discounted(1_234_567, 1234)  # 1.082221
    assert await api_rate(api, key, service_id) == Decimal(rate) / 1_000_000
    assert await api_rate(api, other_key, service_id) == Decimal("1.234567")

    reply = await api.call(key=key, action="add", service=service_id, link="https://x.example/a",
                           quantity=1_001)  # fmt: skip
    charge = (rate * 1_001 + 500) // 1000  # 1.083303221, half up
    assert charge == 1_083_303
    async with db.read() as conn:
        order = await conn.execute(select(orders.c.charge).where(orders.c.id == reply["order"]))
        assert order.scalar_one() == charge
        ledger = await conn.scalar(
            select(ledger_entries.c.amount).where(ledger_entries.c.order_id == reply["order"])
        )
        assert ledger == -charge
    assert await api.balance(key) == (Decimal(10_000_000 - charge) / 1_000_000)


async def test_a_custom_price_wins_and_no_discount_is_the_list_rate(api, shop, db):
    listed_id = await shop.service(rate="2")
    own_id = await shop.service(rate="2")
    customer_id, key = await shop.customer(balance="5")
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, own_id, 1_500_000)
    await set_discount_bp(db, customer_id, 5000)
    assert await api_rate(api, key, listed_id) == Decimal("1")
    assert await api_rate(api, key, own_id) == Decimal("1.5")
    reply = await api.call(key=key, action="add", service=own_id, link="https://x.example/b",
                           quantity=1000)  # fmt: skip
    async with db.read() as conn:
        charged = await conn.scalar(select(orders.c.charge).where(orders.c.id == reply["order"]))
    assert charged == 1_500_000

    await set_discount_bp(db, customer_id, 0)
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, own_id, None)
    assert await api_rate(api, key, listed_id) == Decimal("2")
    assert await api_rate(api, key, own_id) == Decimal("2")


async def test_the_pages_show_the_rate_the_api_gives(customer, api, shop, db):
    client, customer_id = customer
    service_id = await shop.service(rate="0.000003")
    await set_discount_bp(db, customer_id, 1234)
    key = await new_key(db, customer_id)
    async with db.read() as conn:
        category_id = await conn.scalar(
            select(services.c.category_id).where(services.c.id == service_id)
        )
    from_api = await api_rate(api, key, service_id)
    assert from_api == Decimal("0.000003")  # 2.6298 millionths, rounded half up
    listed = (await client.get("/order/services", category=category_id)).json()["services"]
    [entry] = [entry for entry in listed if entry["id"] == service_id]
    assert Decimal(entry["rate"]) / 1_000_000 == from_api


async def post_discount(operator, customer_id: int, percent: str):
    page = f"/admin/customers/{customer_id}"
    return await operator.submit(f"{page}/discount", {"percent": percent}, page=page)


async def discount_audit(db, customer_id: int) -> list[str]:
    async with db.read() as conn:
        rows = await conn.scalars(
            select(operator_audit.c.detail)
            .where(
                operator_audit.c.subject == f"customer:{customer_id}",
                operator_audit.c.action == "customer.discount",
            )
            .order_by(operator_audit.c.id)
        )
        return list(rows)


async def test_the_operator_sets_a_discount_and_orders_placed_keep_their_charge(
    operator, api, shop, db
):
    service_id = await shop.service(rate="1")
    customer_id, key = await shop.customer(balance="10")
    placed = await api.call(key=key, action="add", service=service_id, link="https://x.example/c",
                            quantity=1000)  # fmt: skip
    assert await api_rate(api, key, service_id) == Decimal("1")

    html = text_of(await operator.follow(await post_discount(operator, customer_id, "12.34")))
    assert "discount is now 12.34%" in html and "Discount on the list rates: 12.34%" in html
    assert await discount_bp_of(db, customer_id) == 1234
    assert await api_rate(api, key, service_id) == Decimal("0.8766")
    assert await discount_audit(db, customer_id) == ["0% → 12.34%"]

    await operator.follow(await post_discount(operator, customer_id, "0"))
    assert await api_rate(api, key, service_id) == Decimal("1")
    assert await discount_audit(db, customer_id) == ["0% → 12.34%", "12.34% → 0%"]
    async with db.read() as conn:
        charged = await conn.scalar(select(orders.c.charge).where(orders.c.id == placed["order"]))
    assert charged == 1_000_000


@pytest.mark.parametrize("percent", ["-1", "100", "12.345", "text", "", "1e1", "５"])
async def test_a_bad_percent_is_refused_and_changes_nothing(operator, shop, db, percent):
    customer_id, _key = await shop.customer()
    await set_discount_bp(db, customer_id, 500)
    response = await post_discount(operator, customer_id, percent)
    html = text_of(await operator.follow(response))
    assert "The discount is a percent from 0 to 99.99 with at most 2 decimals" in html
    assert await discount_bp_of(db, customer_id) == 500
    assert await discount_audit(db, customer_id) == []


async def test_the_discount_form_in_chinese(operator, shop):
    customer_id, _key = await shop.customer()
    await operator.get("/language/zh_TW")
    html = text_of(await operator.follow(await post_discount(operator, customer_id, "7.5")))
    assert "已設定折扣：依牌價減 7.5%" in html and "牌價折扣：7.5%" in html
