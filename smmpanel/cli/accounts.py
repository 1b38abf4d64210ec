"""customer, key and funds: who may call the API, and with how much money."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from smmpanel.cli.common import in_transaction, parse_amount, read_only
from smmpanel.cli.tables import moment, print_table
from smmpanel.money import render_balance

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.db.base import AnyRow

customer_app = typer.Typer(help="Create, list, suspend and reactivate customers.")
key_app = typer.Typer(help="Create, list and revoke customers' API keys.")
funds_app = typer.Typer(help="Add or subtract a customer's funds by hand.")

KEY_SHOWN_ONCE = "(shown only this once: hand it over now, it cannot be read again)"


@customer_app.command("create")
def create_customer_command(
    name: str = typer.Argument(..., help="A unique name, e.g. the customer's login."),
    balance: str = typer.Option("0", help="Opening balance, e.g. 25.00."),
    email: str = typer.Option(None, help="Contact address."),
) -> None:
    """Create a customer and a first API key; prints the key once."""
    from smmpanel.accounts.service import create_api_key, create_customer

    opening = parse_amount(balance, "--balance")

    async def use_case(conn: AsyncConnection) -> tuple[int, str]:
        customer_id = await create_customer(conn, name, opening, email)
        return customer_id, await create_api_key(conn, customer_id)

    customer_id, key = in_transaction(use_case)
    typer.echo(
        f"created customer {customer_id} ({name.strip()}), balance {render_balance(opening)}"
    )
    typer.echo(f"API key: {key}")
    typer.echo(KEY_SHOWN_ONCE)


@customer_app.command("list")
def list_customers_command() -> None:
    """Every customer with status and balance."""
    from smmpanel.accounts.service import list_customers

    rows = read_only(list_customers)
    print_table(
        ("id", "name", "status", "balance"),
        [(row.id, row.name, row.status, render_balance(row.balance)) for row in rows],
        empty="no customers yet: add one with `smmpanel customer create NAME`",
    )


@customer_app.command("suspend")
def suspend_customer(customer: str = typer.Argument(..., help="Id or name.")) -> None:
    """Stop a customer's API keys from working (the balance is kept)."""
    customer_id, name = _set_status(customer, active=False)
    typer.echo(f"customer {customer_id} ({name}) is suspended: its API keys are refused")


@customer_app.command("activate")
def activate_customer(customer: str = typer.Argument(..., help="Id or name.")) -> None:
    """Let a suspended customer use the API again."""
    customer_id, name = _set_status(customer, active=True)
    typer.echo(f"customer {customer_id} ({name}) is active")


def _set_status(customer: str, active: bool) -> tuple[int, str]:
    from smmpanel.accounts.service import customer_name, find_customer, set_customer_status

    async def use_case(conn: AsyncConnection) -> tuple[int, str]:
        customer_id = await find_customer(conn, customer)
        await set_customer_status(conn, customer_id, active)
        return customer_id, await customer_name(conn, customer_id)

    return in_transaction(use_case)


@key_app.command("create")
def create_key(customer: str = typer.Argument(..., help="Id or name.")) -> None:
    """Give a customer a new API key (older keys keep working until revoked)."""
    from smmpanel.accounts.service import create_api_key, find_customer

    async def use_case(conn: AsyncConnection) -> str:
        return await create_api_key(conn, await find_customer(conn, customer))

    key = in_transaction(use_case)
    typer.echo(f"API key: {key}")
    typer.echo(KEY_SHOWN_ONCE)


@key_app.command("revoke")
def revoke_key(key_id: int = typer.Argument(..., help="The id from `smmpanel key list`.")) -> None:
    """Stop one API key from working, for good."""
    from smmpanel.accounts.service import revoke_api_key

    async def use_case(conn: AsyncConnection) -> None:
        await revoke_api_key(conn, key_id)

    in_transaction(use_case)
    typer.echo(f"key {key_id} is revoked: requests with it get `Invalid API key`")


@key_app.command("list")
def list_keys(customer: str = typer.Argument(..., help="Id or name.")) -> None:
    """A customer's keys: id, prefix and use; the keys themselves are never stored."""
    from smmpanel.accounts.service import find_customer, list_api_keys

    async def query(conn: AsyncConnection) -> list[AnyRow]:
        return await list_api_keys(conn, await find_customer(conn, customer))

    rows = read_only(query)
    print_table(
        ("id", "prefix", "created", "last used", "revoked"),
        [
            (
                row.id,
                f"{row.prefix}…",
                moment(row.created_at),
                moment(row.last_used_at),
                moment(row.revoked_at),
            )
            for row in rows
        ],
        empty=f"{customer} has no API keys: create one with `smmpanel key create {customer}`",
    )


@funds_app.command(
    "add",
    # A negative amount ("-5") is a value here, not an unknown option.
    context_settings={"ignore_unknown_options": True},
)
def add_funds(
    customer: str = typer.Argument(..., help="Id or name."),
    amount: str = typer.Argument(..., help="e.g. 25.00 to add, -5 to subtract."),
    reason: str = typer.Option(..., "--reason", help="Kept in the customer's ledger."),
) -> None:
    """Add (or, with a negative amount, subtract) funds; never below zero."""
    from smmpanel.accounts.service import adjust_funds, customer_name, find_customer

    micros = parse_amount(amount, "AMOUNT")

    async def use_case(conn: AsyncConnection) -> tuple[str, int]:
        customer_id = await find_customer(conn, customer)
        balance = await adjust_funds(conn, customer_id, micros, reason)
        return await customer_name(conn, customer_id), balance

    name, balance = in_transaction(use_case)
    typer.echo(f"balance of {name}: {render_balance(balance)}")
