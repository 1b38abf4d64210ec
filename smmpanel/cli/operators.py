"""operator: the people who may sign in to the admin pages."""

import asyncio
import sys

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.operators import create_operator, list_operators, set_operator_password
from smmpanel.accounts.passwords import hash_password
from smmpanel.cli.common import fail, in_transaction, read_only
from smmpanel.cli.tables import moment, print_table
from smmpanel.errors import Refusal

operator_app = typer.Typer(help="Add operators and set their passwords for the admin pages.")

PASSWORD_STDIN_HELP = "Read the password from the first line of standard input (for scripts)."


def _password_hash(from_stdin: bool) -> str:
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
) -> None:
    """Add an operator; asks for the password twice."""
    password_hash = _password_hash(password_stdin)

    async def use_case(conn: AsyncConnection) -> int:
        return await create_operator(conn, name, password_hash)

    operator_id = in_transaction(use_case)
    typer.echo(f"added operator {operator_id} ({name.strip()}): sign in at /admin/signin")


@operator_app.command("password")
def change_password(
    name: str = typer.Argument(..., help="The operator's name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Set a new password for an operator."""
    password_hash = _password_hash(password_stdin)

    async def use_case(conn: AsyncConnection) -> None:
        await set_operator_password(conn, name, password_hash)

    in_transaction(use_case)
    typer.echo(f"the password of operator {name} is changed")


@operator_app.command("list")
def list_operators_command() -> None:
    """Every operator."""
    rows = read_only(list_operators)
    print_table(
        ("id", "name", "added"),
        [(row.id, row.name, moment(row.created_at)) for row in rows],
        empty="no operators yet: add one with `smmpanel operator add NAME`",
    )
