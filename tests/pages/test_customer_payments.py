"""Customers top up on the pages: /funds lists the methods, /funds/pay starts a payment, a
payment's page shows its status and never credits. On a panel with a database of its own (its
payment methods would show on every other test's funds page)."""

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from harness import PanelProcess, panel_of_its_own, payment_method
from page_client import PageClient, customer_with_password, text_of

from smmpanel.accounts.service import balance_of
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.payments.methods import add_method
from smmpanel.payments.service import approve, payment_rows

SECRET = "a-secret-key-long-enough-for-production-0123456789"


def micros(amount: str) -> int:
    return to_micros(parse(amount))


@pytest_asyncio.fixture(scope="module")
async def till(backend, tmp_path_factory) -> AsyncIterator[tuple[PanelProcess, Database]]:
    async with panel_of_its_own(backend, tmp_path_factory.mktemp("till")) as panel:
        yield panel


async def signed_in(till) -> tuple[PageClient, int]:  # type: ignore[no-untyped-def]
    process, db = till
    customer_id, name = await customer_with_password(db)
    client = PageClient(process.url)
    assert (await client.sign_in(name)).status_code == 303
    return client, customer_id


async def manual_method(db: Database, **terms: object) -> int:
    values = (
        payment_method(
            name=f"Bank {uuid.uuid4().hex[:6]}",
            name_zh="銀行轉帳",
            instructions="Transfer to account 123-456, then note the reference here.",
            max_amount=micros("50000"),
            bonus_percent=micros("10"),
            bonus_from=micros("1000"),
        )
        | terms
    )
    async with db.write() as conn:
        return await add_method(conn, **values)


async def test_a_manual_payment_waits_for_the_operator_and_is_credited_once(till):
    _process, db = till
    method_id = await manual_method(db)
    client, customer_id = await signed_in(till)

    funds = text_of(await client.page("/funds"))
    assert "TWD 100.00 – TWD 50,000.00" in funds
    assert "10% from TWD 1,000.00" in funds
    response = await client.submit(
        "/funds/pay",
        {"method": method_id, "amount": "1000", "reference": "TX-2024-0001"},
        page="/funds",
    )
    payment_page = await client.follow(response)
    payment_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert "Waiting for payment" in text_of(payment_page)
    assert "TX-2024-0001" in payment_page
    # Coming back to the payment's page, as a browser back from a gateway would, credits nothing.
    for _ in range(3):
        await client.page(f"/funds/payments/{payment_id}")
    async with db.read() as conn:
        assert await balance_of(conn, customer_id) == 0

    async with db.write() as conn:
        await approve(conn, payment_id)

    assert "Paid" in text_of(await client.page(f"/funds/payments/{payment_id}"))
    funds = text_of(await client.page("/funds"))
    assert "Balance USD 1,100.00" in funds, "1000 TWD at 1, and a 10 % bonus"
    assert f"Payment {payment_id}" in funds and f"Bonus of payment {payment_id}" in funds
    await client.close()


async def test_a_payment_refused_on_the_page_says_why_and_starts_nothing(till):
    _process, db = till
    method_id = await manual_method(db)
    client, customer_id = await signed_in(till)

    for amount, why in (
        ("50", "the amount must be between 100.00 and 50000.00 twd"),
        ("abc", "not an amount"),
        ("100.1234567", "at most 6 decimals"),
    ):
        response = await client.submit(
            "/funds/pay", {"method": method_id, "amount": amount, "reference": "R"}, page="/funds"
        )
        assert response.status_code == 400, amount
        assert why in text_of(response.text).lower(), amount
    response = await client.submit(
        "/funds/pay", {"method": "999999", "amount": "500"}, page="/funds"
    )
    assert response.status_code == 400
    async with db.read() as conn:
        assert await payment_rows(conn, customer_id=customer_id) == []
    await client.close()


async def test_a_customer_sees_only_their_own_payments(till):
    _process, db = till
    method_id = await manual_method(db)
    owner, _owner_id = await signed_in(till)
    other, _other_id = await signed_in(till)
    response = await owner.submit(
        "/funds/pay",
        {"method": method_id, "amount": "200", "reference": f"R-{uuid.uuid4().hex[:6]}"},
        page="/funds",
    )
    location = response.headers["location"]

    assert (await other.get(location)).status_code == 404
    assert (await other.get("/funds/payments/99999999")).status_code == 404
    assert (await owner.get(location)).status_code == 200
    await owner.close()
    await other.close()


async def test_the_funds_page_speaks_chinese(till):
    _process, db = till
    await manual_method(db)
    client, _customer_id = await signed_in(till)
    await client.get("/language/zh_TW")

    html = await client.page("/funds")

    assert "銀行轉帳" in html
    await client.close()
