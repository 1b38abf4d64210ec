"""operator: the people who may sign in to the admin pages."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import typer

from smmpanel.cli.common import fail, in_transaction, read_only
from smmpanel.cli.tables import moment, print_table
from smmpanel.errors import Refusal

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

operator_app = typer.Typer(
    help="Add, disable, enable and remove operators, set their roles and passwords for the admin "
    "pages."
)

PASSWORD_STDIN_HELP = "Read the password from the first line of standard input (for scripts)."
ROLE_HELP = (
    "owner (everything), admin (catalogue, providers, orders, customers), support (orders, "
    "refills, cancels) or finance (funds, payments, payment methods)."
)


def _password_hash(from_stdin: bool) -> str:
    from smmpanel.accounts.passwords import hash_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        return asyncio.run(hash_password(password))
    except Refusal as refused:
        fail(refused.message)


@operator_app.command("add")
def add_operator(
    name: str = typer.Argument(..., help="The name to sign in with at /admin/signin."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
    role: str = typer.Option("owner", "--role", help=ROLE_HELP),
) -> None:
    """Add an operator; asks for the password twice."""
    from smmpanel.accounts.operators import check_role, create_operator

    try:
        check_role(role)
    except Refusal as refused:
        fail(refused.message)
    password_hash = _password_hash(password_stdin)

    async def use_case(conn: AsyncConnection) -> int:
        return await create_operator(conn, name, password_hash, role)

    operator_id = in_transaction(use_case)
    typer.echo(f"added operator {operator_id} ({name.strip()}) as {role}: sign in at /admin/signin")


@operator_app.command("role")
def change_role(
    name: str = typer.Argument(..., help="The operator's name."),
    role: str = typer.Argument(..., help=ROLE_HELP),
) -> None:
    """Give an operator another role; the last active owner stays an owner."""
    from smmpanel.accounts.operators import set_operator_role

    async def use_case(conn: AsyncConnection) -> str:
        return await set_operator_role(conn, name, role)

    typer.echo(f"operator {in_transaction(use_case)} is now {role}")


@operator_app.command("password")
def change_password(
    name: str = typer.Argument(..., help="The operator's name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Set a new password for an operator."""
    from smmpanel.accounts.operators import set_operator_password

    password_hash = _password_hash(password_stdin)

    async def use_case(conn: AsyncConnection) -> None:
        await set_operator_password(conn, name, password_hash)

    in_transaction(use_case)
    typer.echo(f"the password of operator {name} is changed; its sessions are ended")


@operator_app.command("two-factor-off")
def two_factor_off(name: str = typer.Argument(..., help="The operator's name.")) -> None:
    """Turn off an operator's two-factor sign-in (a lost phone and lost recovery codes); its
    sessions end, and it signs in with the password alone, or sets it up again when the owner
    requires it."""

    async def use_case(conn: AsyncConnection) -> str:
        return await _turn_off_two_factor(conn, name)

    stored = in_transaction(use_case)
    typer.echo(f"two-factor sign-in of operator {stored} is off; its sessions are ended")


async def _turn_off_two_factor(conn: AsyncConnection, name: str) -> str:
    from sqlalchemy import delete

    from smmpanel.accounts import two_factor
    from smmpanel.accounts.models import web_sessions
    from smmpanel.accounts.operators import NO_OPERATOR, operator_by_name

    operator = await operator_by_name(conn, name)
    if operator is None:
        raise NO_OPERATOR(name=name)
    await two_factor.turn_off(conn, two_factor.Account("operator", operator.id))
    await conn.execute(delete(web_sessions).where(web_sessions.c.operator_id == operator.id))
    return operator.name


@operator_app.command("disable")
def disable_operator_command(name: str = typer.Argument(..., help="The operator's name.")) -> None:
    """Stop an operator from signing in; its open sessions end at once."""
    from smmpanel.accounts.operators import disable_operator

    stored = _change(disable_operator, name)
    typer.echo(f"operator {stored} is disabled: enable it again with `smmpanel operator enable`")


@operator_app.command("enable")
def enable_operator_command(name: str = typer.Argument(..., help="The operator's name.")) -> None:
    """Let a disabled operator sign in again."""
    from smmpanel.accounts.operators import enable_operator

    typer.echo(f"operator {_change(enable_operator, name)} is enabled")


@operator_app.command("remove")
def remove_operator_command(name: str = typer.Argument(..., help="The operator's name.")) -> None:
    """Remove an operator for good; its sessions end and its name is free again."""
    from smmpanel.accounts.operators import remove_operator

    typer.echo(f"operator {_change(remove_operator, name)} is removed")


def _change(change: Callable[[AsyncConnection, str], Awaitable[str]], name: str) -> str:
    async def use_case(conn: AsyncConnection) -> str:
        return await change(conn, name)

    return in_transaction(use_case)


@operator_app.command("list")
def list_operators_command() -> None:
    """Every operator, active or disabled."""
    from smmpanel.accounts.operators import list_operators

    rows = read_only(list_operators)
    print_table(
        ("id", "name", "status", "role", "added"),
        [(row.id, row.name, row.status, row.role, moment(row.created_at)) for row in rows],
        empty="no operators yet: add one with `smmpanel operator add NAME`",
    )
