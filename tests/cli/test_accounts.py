"""customer, key and funds, through the real command and the real API."""

from decimal import Decimal

import pytest
from cli_helpers import printed_key, table_rows, unique_name
from sqlalchemy import select

from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import NEGATIVE_OPENING_BALANCE, adjust_funds, create_customer
from smmpanel.errors import Refusal
from smmpanel.money import AMOUNT_TOO_LARGE, LARGEST_AMOUNT, to_micros

INVALID_KEY = {"error": "Invalid API key"}


async def test_customer_create_prints_a_working_key_once(cli, api):
    name = unique_name("alice")
    output = cli.ok("customer", "create", name, "--balance", "12.5", "--email", "a@example.com")
    key = printed_key(output)
    assert output.count(key) == 1
    assert await api.balance(key) == Decimal("12.5")
    [row] = [row for row in table_rows(cli.ok("customer", "list")) if row[1] == name]
    assert row[2:] == ["active", "12.50"]
    keys = cli.ok("key", "list", name)
    assert key not in keys and f"{key[:6]}…" in keys


async def test_customer_create_refuses_a_taken_name_and_a_negative_balance(cli, shop):
    taken = unique_name("bob")
    cli.ok("customer", "create", taken)
    assert "exists already" in cli.refused("customer", "create", taken)
    assert "cannot be negative" in cli.refused(
        "customer", "create", unique_name("c"), "--balance=-1"
    )


async def test_revoked_keys_and_suspended_customers_are_refused(cli, api, shop):
    customer_id, first_key = await shop.customer("3")
    second_key = printed_key(cli.ok("key", "create", customer_id))
    assert await api.balance(second_key) == Decimal(3)
    [first_id] = [
        row[0]
        for row in table_rows(cli.ok("key", "list", customer_id))
        if row[1] == f"{first_key[:6]}…"
    ]
    cli.ok("key", "revoke", first_id)
    assert await api.call(key=first_key, action="balance") == INVALID_KEY
    assert await api.balance(second_key) == Decimal(3)
    assert "no active key" in cli.refused("key", "revoke", first_id)

    cli.ok("customer", "suspend", customer_id)
    assert await api.call(key=second_key, action="balance") == INVALID_KEY
    cli.ok("customer", "activate", customer_id)
    assert await api.balance(second_key) == Decimal(3)


async def test_funds_add_and_subtract_but_never_below_zero(cli, api, shop, db):
    customer_id, key = await shop.customer("1")
    assert cli.ok("funds", "add", customer_id, "2.25", "--reason", "bank transfer 42").endswith(
        ": 3.25\n"
    )
    assert cli.ok("funds", "add", customer_id, "-0.75", "--reason", "correction").endswith(
        ": 2.50\n"
    )
    refusal = cli.refused("funds", "add", customer_id, "-2.500001", "--reason", "too much")
    assert "smaller than the amount" in refusal and "nothing changed" in refusal
    assert await api.balance(key) == Decimal("2.5")
    assert "not an amount" in cli.refused("funds", "add", customer_id, "2,5", "--reason", "x")
    assert "no customer 'nobody-here'" in cli.refused(
        "funds", "add", "nobody-here", "1", "--reason", "x"
    )
    async with db.read() as conn:
        rows = await conn.execute(
            select(ledger_entries.c.kind, ledger_entries.c.amount, ledger_entries.c.reason)
            .where(ledger_entries.c.customer_id == customer_id)
            .order_by(ledger_entries.c.id)
        )
        assert [tuple(row) for row in rows] == [
            ("deposit", 1_000_000, "opening balance"),
            ("deposit", 2_250_000, "bank transfer 42"),
            ("adjustment", -750_000, "correction"),
        ]
    assert await api.balance(key) == Decimal("2.5")


async def test_the_accounts_domain_bounds_every_caller_not_only_the_command_line(db):
    async with db.read() as conn:
        with pytest.raises(Refusal) as negative:
            await create_customer(conn, unique_name("neg"), balance=-1)
        assert negative.value.kind is NEGATIVE_OPENING_BALANCE
        beyond = to_micros(LARGEST_AMOUNT) + 1
        for amount in (beyond, -beyond):
            with pytest.raises(Refusal) as huge:
                await adjust_funds(conn, 1, amount, "too much")
            assert huge.value.kind is AMOUNT_TOO_LARGE
