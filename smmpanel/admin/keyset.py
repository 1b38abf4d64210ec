"""Long lists read a page at a time by key, newest first: a page starts below (or above) the
id where the last one ended, so the thousandth page costs what the first does, where an
offset would read and skip every row before it.

A list whose filter no index serves reads a window of at most `window` ids per page: were
nothing to match, a page would otherwise read every row. Such a page may show fewer rows than
fit, or none, and still have older ones: its link goes on below the window.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.base import MAX_INT64
from smmpanel.orders.validation import parse_positive_int

BEFORE, AFTER = "before", "after"


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: below `before` (older), or above `after` (newer); neither: newest."""

    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    newer: int | None  # `after` of the newer page; None on the newest
    older: int | None  # `before` of the older page; None on the oldest
    windowed: bool = False  # read a window of ids only


def cursor_from(params: Mapping[str, str]) -> Cursor:
    """The cursor of the address; a value that is not an id is left out (the newest page)."""
    return Cursor(before=_id(params.get(BEFORE, "")), after=_id(params.get(AFTER, "")))


def _id(text: str) -> int | None:
    value = parse_positive_int(text)
    return value if value is not None and value <= MAX_INT64 else None


def keyset_address(path: str, filters: Mapping[str, str], **cursor: int | None) -> str:
    """The address of a page of the list with these filters; empty ones left out."""
    query = {**filters, **cursor}
    kept = {name: value for name, value in query.items() if value not in ("", None)}
    return f"{path}?{urlencode(kept)}" if kept else path


async def keyset_page(
    conn: AsyncConnection,
    query: Select,
    key: ColumnElement[int],
    cursor: Cursor,
    size: int,
    window: int | None = None,
) -> KeysetPage:
    """One page of `query`'s rows by `key` (an id, higher is newer), newest first."""
    if cursor.after is not None:
        return await _newer_page(conn, query, key, cursor.after, size, window)
    return await _older_page(conn, query, key, cursor.before, size, window)


async def _older_page(
    conn: AsyncConnection,
    query: Select,
    key: ColumnElement[int],
    before: int | None,
    size: int,
    window: int | None,
) -> KeysetPage:
    start = before
    if start is None and window is not None:
        start = (await _highest(conn, key)) + 1
    if start is not None:
        query = query.where(key < start)
    floor = None if window is None or start is None else start - window
    if floor is not None:
        query = query.where(key >= floor)
    rows = list((await conn.execute(query.order_by(key.desc()).limit(size + 1))).all())
    if len(rows) > size:
        rows, older = rows[:size], rows[size - 1].id
    else:
        older = floor if floor is not None and floor > 1 else None
    newer = None
    if before is not None:
        newer = rows[0].id if rows else before - 1
    return KeysetPage(rows, newer, older, window is not None)


async def _newer_page(
    conn: AsyncConnection,
    query: Select,
    key: ColumnElement[int],
    after: int,
    size: int,
    window: int | None,
) -> KeysetPage:
    query = query.where(key > after)
    ceiling = None if window is None else after + 1 + window
    if ceiling is not None:
        query = query.where(key < ceiling)
    rows = list((await conn.execute(query.order_by(key.asc()).limit(size + 1))).all())
    if len(rows) > size:
        rows, newer = rows[:size], rows[size - 1].id
    elif ceiling is not None and ceiling <= await _highest(conn, key):
        newer = ceiling - 1
    else:
        newer = None
    older = rows[0].id if rows else after + 1
    return KeysetPage(rows[::-1], newer, older, window is not None)


async def _highest(conn: AsyncConnection, key: ColumnElement[int]) -> int:
    return await conn.scalar(select(func.max(key))) or 0
