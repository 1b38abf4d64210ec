"""Balances move only with a ledger row: debit, credit (once per order and cause), adjust_funds,
and the audit that finds a balance off its ledger."""

import pytest
from domain_helpers import Books, ledger_of, micros, new_customer, new_service, place
from sqlalchemy import update

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import customers
from smmpanel.accounts.service import (
    ADJUSTMENT_WITHOUT_REASON,
    BALANCE_TOO_SMALL,
    CUSTOMER_NAME_TAKEN,
    CUSTOMER_NEEDS_NAME,
    NO_CUSTOMER_ID,
    NOT_AN_EMAIL,
    ZERO_ADJUSTMENT,
    adjust_funds,
    balance_of,
    create_customer,
    credit,
    debit,
    ledger_page,
)
from smmpanel.errors import Refusal
from smmpanel.orders.models import orders

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def test_an_opening_balance_is_one_deposit(conn, books: Books):
    customer_id = await new_customer(conn, "12.345678")
    assert await books.balance(customer_id) == 12_345_678
    assert await ledger_of(conn, customer_id) == [("deposit", 12_345_678, None, "opening")]
    await books.check()


async def test_a_customer_without_funds_has_no_ledger(conn, books: Books):
    customer_id = await new_customer(conn)
    assert await books.balance(customer_id) == 0
    assert await ledger_of(conn, customer_id) == []
    await books.check()


async def test_customer_names_are_unique_and_needed(conn):
    alice = await create_customer(conn, "alice")
    with pytest.raises(Refusal) as caught:
        await create_customer(conn, "  alice ")
    assert caught.value.kind is CUSTOMER_NAME_TAKEN
    assert caught.value.params == {"name": "alice", "id": alice}
    with pytest.raises(Refusal) as caught:
        await create_customer(conn, "   ")
    assert caught.value.kind is CUSTOMER_NEEDS_NAME
    with pytest.raises(Refusal) as caught:
        await create_customer(conn, "bob", email="not-an-address")
    assert caught.value.kind is NOT_AN_EMAIL
    assert caught.value.params == {"email": "not-an-address"}


async def test_debit_takes_what_the_balance_covers_and_records_it(conn, books: Books):
    customer_id = await new_customer(conn, "10")
    assert await debit(conn, customer_id, micros("9.999999"), kind="adjustment", reason="r")
    assert await books.balance(customer_id) == 1
    assert await debit(conn, customer_id, 1, kind="adjustment", reason="r")
    assert await books.balance(customer_id) == 0
    assert (await ledger_of(conn, customer_id))[1:] == [
        ("adjustment", -9_999_999, None, None),
        ("adjustment", -1, None, None),
    ]
    await books.check()


async def test_debit_beyond_the_balance_changes_nothing(conn, books: Books):
    customer_id = await new_customer(conn, "5")
    before = await ledger_of(conn, customer_id)
    assert not await debit(conn, customer_id, micros("5.000001"), kind="adjustment")
    assert await books.balance(customer_id) == micros("5")
    assert await ledger_of(conn, customer_id) == before
    await books.check()


async def test_a_credit_with_a_cause_is_made_once_per_order(conn, books: Books):
    customer_id = await new_customer(conn, "1")
    service_id = await new_service(conn, rate="1")
    order_id = await place(conn, customer_id, service_id, quantity=100)  # charges 0.10
    # Partial with 70 of 100 undelivered: the refund the audit expects is 0.07.
    await conn.execute(
        update(orders).where(orders.c.id == order_id).values(status="Partial", remains=70)
    )
    cause = "refund:partial"
    first = await credit(conn, customer_id, 70_000, kind="refund", order_id=order_id, cause=cause)
    again = await credit(conn, customer_id, 70_000, kind="refund", order_id=order_id, cause=cause)
    assert (first, again) == (True, False)
    assert await books.balance(customer_id) == micros("1") - 100_000 + 70_000
    refunds = [entry for entry in await ledger_of(conn, customer_id) if entry[0] == "refund"]
    assert refunds == [("refund", 70_000, order_id, cause)]
    await books.check()


async def test_credits_without_a_cause_all_count(conn, books: Books):
    customer_id = await new_customer(conn)
    for _ in range(3):
        assert await credit(conn, customer_id, 250_000, kind="deposit", reason="top-up")
    assert await books.balance(customer_id) == 750_000
    await books.check()


async def test_adjust_funds_adds_and_subtracts_with_a_reason(conn, books: Books):
    customer_id = await new_customer(conn, "3")
    assert await adjust_funds(conn, customer_id, micros("2.5"), "bank transfer") == micros("5.5")
    assert await adjust_funds(conn, customer_id, -micros("5.5"), "chargeback") == 0
    kinds = [(kind, amount) for kind, amount, _, _ in await ledger_of(conn, customer_id)]
    assert kinds == [("deposit", 3_000_000), ("deposit", 2_500_000), ("adjustment", -5_500_000)]
    page = await ledger_page(conn, customer_id, offset=0, limit=2)
    assert [(row.kind, row.amount, row.reason) for row in page] == [
        ("adjustment", -5_500_000, "chargeback"),
        ("deposit", 2_500_000, "bank transfer"),
    ]
    await books.check()


async def test_adjust_funds_refuses_and_changes_nothing(conn, books: Books):
    customer_id = await new_customer(conn, "1")
    with pytest.raises(Refusal) as caught:
        await adjust_funds(conn, customer_id, 0, "nothing")
    assert caught.value.kind is ZERO_ADJUSTMENT
    with pytest.raises(Refusal) as caught:
        await adjust_funds(conn, customer_id, micros("1"), "   ")
    assert caught.value.kind is ADJUSTMENT_WITHOUT_REASON
    with pytest.raises(Refusal) as caught:
        await adjust_funds(conn, customer_id, -micros("1.000001"), "too much")
    assert caught.value.kind is BALANCE_TOO_SMALL
    assert await balance_of(conn, customer_id) == micros("1")
    assert len(await ledger_of(conn, customer_id)) == 1
    await books.check()


async def test_balance_of_an_unknown_customer_is_refused(conn):
    with pytest.raises(Refusal) as caught:
        await balance_of(conn, 987_654_321)
    assert caught.value.kind is NO_CUSTOMER_ID
    assert caught.value.params == {"id": 987_654_321}


async def test_the_audit_finds_a_balance_changed_behind_the_ledger(conn):
    customer_id = await new_customer(conn, "2")
    await conn.execute(
        update(customers).where(customers.c.id == customer_id).values(balance=micros("3"))
    )
    problems = await audit(conn)
    assert len(problems) == 1
    assert f"customer {customer_id}" in problems[0]
    assert "3000000" in problems[0] and "2000000" in problems[0]
