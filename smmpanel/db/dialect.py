"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Select,
    Table,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:  # imported where used: a command on SQLite need not load PostgreSQL's dialect
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert


def is_postgresql(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def insert_or_ignore(conn: AsyncConnection, table: Table) -> "PostgresInsert | SqliteInsert":
    """INSERT ... ON CONFLICT DO NOTHING: a unique constraint decides, no look-up first."""
    if is_postgresql(conn):
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_adding(
    conn: AsyncConnection, table: Table, added: str
) -> "PostgresInsert | SqliteInsert":
    """INSERT ... ON CONFLICT (primary key) DO UPDATE: a row already there gets the new row's
    `added` column added to its own."""
    if is_postgresql(conn):
        from sqlalchemy.dialects import postgresql

        statement: PostgresInsert | SqliteInsert = postgresql.insert(table)
    else:
        statement = sqlite.insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={added: table.c[added] + statement.excluded[added]},
    )


def one_of(conn: AsyncConnection, column: ColumnElement, values: Iterable) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL one array parameter (`= ANY($1)`): the statement's
    text is the same whatever the count, so it is prepared once, not once per batch size with
    a parameter per value."""
    if is_postgresql(conn):
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def locked(
    conn: AsyncConnection, query: Select, *, of: FromClause | None = None, skip_locked: bool = False
) -> Select:
    """`query` locking its rows until commit (`FOR UPDATE`, `SKIP LOCKED` to pass rows another
    transaction holds). On PostgreSQL only: SQLite takes the whole database for each write
    transaction, which serialises writers already."""
    if is_postgresql(conn):
        return query.with_for_update(of=of, skip_locked=skip_locked)
    return query


def utc_day(conn: AsyncConnection, column: ColumnElement) -> ColumnElement:
    """The UTC date of a timestamp: SQLite keeps UTC text, PostgreSQL a zoned instant."""
    if is_postgresql(conn):
        # A literal, not a parameter: the SELECT and GROUP BY must show the same expression.
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return func.date(column)


async def move_sequence_past_ids(conn: AsyncConnection, table: str) -> None:
    """After rows were inserted with explicit ids, move PostgreSQL's id sequence past them
    (never backwards); SQLite takes the next id from the table itself."""
    if not is_postgresql(conn):
        return
    await conn.execute(
        text(
            f"SELECT setval(seq, GREATEST((SELECT MAX(id) FROM {table}),"
            " COALESCE(pg_sequence_last_value(seq), 0)))"
            f" FROM CAST(pg_get_serial_sequence('{table}', 'id') AS regclass) AS seq"
        )
    )
