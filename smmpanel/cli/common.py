"""What every command shares: running a use case in one transaction, and clear failures.

A command group's module is imported to build its options and help, so it imports only typer
and light modules at the top; the settings, SQLAlchemy and the domains (half a second of CPU)
are imported inside the functions that use them, and Alembic only when the database is behind.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from smmpanel.errors import DomainError
from smmpanel.integers import MAX_INT32, MAX_INT64
from smmpanel.money import parse_amount as parse_money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.db import Database

T = TypeVar("T")


def bounded_option(
    default: Any, help: str, *, low: int = 0, high: int = MAX_INT32, name: str = ""
) -> Any:
    """An integer option refused outside low..high (exit 2, the range named): a number past
    its column would otherwise reach the database driver and end in a traceback. Where the
    domain has a narrower rule with its own advice, bound by the column only."""
    names = (name,) if name else ()
    return typer.Option(default, *names, min=low, max=high, help=help)


def id_argument(help: str, required: bool = True) -> Any:
    """A row's id: a whole number from 1 that a BIGINT holds."""
    return typer.Argument(... if required else None, min=1, max=MAX_INT64, help=help)


def one_of_ids(given: dict[str, int | None]) -> tuple[str, int]:
    """The one id given of alternatives (an argument, or an option naming it otherwise)."""
    named = [(name, value) for name, value in given.items() if value is not None]
    if len(named) != 1:
        fail(f"give exactly one of: {', '.join(given)}")
    return named[0]


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def database() -> Database:
    from sqlalchemy.exc import ArgumentError

    from smmpanel.config import get_settings
    from smmpanel.db import Database

    url = get_settings().database_url
    try:
        missing = _missing_sqlite_folder(url)
        db = Database(url, pool_size=2)
    except (ArgumentError, ValueError) as exc:  # a URL the driver cannot read, e.g. its port
        fail(f"cannot use the database ({exc}); check SMMPANEL_DATABASE_URL")
    if missing:
        fail(f"cannot use the database (no folder {missing}); check SMMPANEL_DATABASE_URL")
    return db


def _missing_sqlite_folder(url: str) -> str | None:
    """The folder a SQLite file would be in, if it does not exist: SQLite cannot create it."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    folder = Path(parsed.database).parent
    return None if folder.is_dir() else str(folder)


def migrate_database() -> None:
    from smmpanel.config import get_settings
    from smmpanel.db.migrate import upgrade

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

    async def run() -> T:
        db = database()
        try:
            if not await _is_at_head(db):
                await asyncio.to_thread(migrate_database)  # Alembic runs its own event loop
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:  # a refusal; anything else is a bug and keeps its traceback
        fail(str(exc))


async def _is_at_head(db: Database) -> bool:
    """Whether the database is known to be at the newest revision. One that cannot tell (never
    migrated, unreachable, refusing connections) is migrated as ever, which says what is wrong."""
    from smmpanel.db.schema_revision import is_at_head

    try:
        async with db.read() as conn:
            return await is_at_head(conn)
    except Exception:
        return False


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


def show_progress(label: str, done: int, total: int) -> None:
    """`label: done/total (percent)` on one line of stderr, rewritten in place; a newline at
    the end. Only on a terminal: in a pipe or a log the command's summary stands alone."""
    if not sys.stderr.isatty():
        return
    percent = 100 * done // total if total else 100
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r{label}: {done}/{total} ({percent}%){end}")
    sys.stderr.flush()
