"""What every command shares: running a use case in one transaction, and clear failures."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.config import get_settings
from smmpanel.db import Database
from smmpanel.db.migrate import upgrade
from smmpanel.errors import DomainError
from smmpanel.money import parse_amount as parse_money

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def database() -> Database:
    settings = get_settings()
    return Database(settings.database_url, pool_size=2)


def migrate_database() -> None:
    try:
        upgrade(get_settings().database_url)
    except DomainError as refused:
        fail(str(refused))
    except Exception as exc:  # the driver's own message says what is wrong with the URL
        fail(f"cannot migrate the database ({exc}); check SMMPANEL_DATABASE_URL")


def in_transaction(use_case: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run one use case in one write transaction on a migrated database."""

    async def work(db: Database) -> T:
        async with db.write() as conn:
            return await use_case(conn)

    return with_database(work)


def with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run work that manages its own transactions (imports with progress, audits)."""
    migrate_database()

    async def run() -> T:
        db = database()
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:  # a refusal; anything else is a bug and keeps its traceback
        fail(str(exc))


def read_only(query: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run a look-up that changes nothing (lists, exports, the audit)."""

    async def work(db: Database) -> T:
        async with db.read() as conn:
            return await query(conn)

    return with_database(work)


def parse_amount(text: str, what: str) -> int:
    """An amount typed on the command line, in millionths."""
    try:
        return parse_money(text)
    except DomainError as exc:
        fail(f"{what}: {exc}")
