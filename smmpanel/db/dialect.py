"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_or_ignore(conn: AsyncConnection, table: Table):  # type: ignore[no-untyped-def]
    """INSERT ... ON CONFLICT DO NOTHING: a unique constraint decides, no look-up first."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def one_of(conn: AsyncConnection, column: ColumnElement, values: Iterable) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL one array parameter (`= ANY($1)`): the statement's
    text is the same whatever the count, so it is prepared once, not once per batch size with
    a parameter per value."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))
