"""Pages of a long list: which page the address asks for, and reading one page of rows."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.orders.validation import parse_positive_int

LAST_PAGE = 1_000_000  # far past any real list; keeps the offset small


@dataclass(frozen=True)
class Page:
    """One page of rows, and whether there is a next one."""

    rows: list
    number: int
    has_next: bool


def page_number(text: str) -> int:
    """A page number from the address; anything that is not one is the first page."""
    number = parse_positive_int(text)
    return number if number is not None and number <= LAST_PAGE else 1


def list_address(path: str, number: int, **filters: object) -> str:
    """The address of page `number` of a list with these filters; empty ones and page 1 left out."""
    query = {**filters, "page": number if number > 1 else None}
    kept = {name: value for name, value in query.items() if value not in ("", None)}
    return f"{path}?{urlencode(kept)}" if kept else path


async def read_page(read: Callable[[int, int], Awaitable[list]], number: int, size: int) -> Page:
    """Page `number` of `size` rows; `read(offset, limit)` reads one more to know of a next."""
    rows = await read((number - 1) * size, size + 1)
    return Page(rows=rows[:size], number=number, has_next=len(rows) > size)


async def select_page(conn: AsyncConnection, query: Select, number: int, size: int) -> Page:
    async def read(offset: int, limit: int) -> list:
        return list((await conn.execute(query.offset(offset).limit(limit))).all())

    return await read_page(read, number, size)
