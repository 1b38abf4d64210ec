"""Lists read by key (admin/keyset.py): pages newest first, back and forth, and a filter no
index serves reading at most its window of ids a page."""

from page_client import unique
from sqlalchemy import select

from smmpanel.accounts.models import customers
from smmpanel.accounts.service import create_customer
from smmpanel.admin.keyset import Cursor, keyset_page


def named(prefix: str):
    return select(customers.c.id).where(customers.c.name.startswith(prefix))


def ids(page) -> list[int]:
    return [row.id for row in page.rows]


async def test_pages_go_older_and_back_newer_by_key(db):
    prefix = unique("keyset")
    async with db.write() as conn:
        made = [await create_customer(conn, f"{prefix}-{n}", 0) for n in range(5)]
        query, key = named(prefix), customers.c.id
        newest = await keyset_page(conn, query, key, Cursor(), 2)
        middle = await keyset_page(conn, query, key, Cursor(before=newest.older), 2)
        oldest = await keyset_page(conn, query, key, Cursor(before=middle.older), 2)
        back = await keyset_page(conn, query, key, Cursor(after=middle.newer), 2)
    assert ids(newest) == [made[4], made[3]] and newest.newer is None
    assert ids(middle) == [made[2], made[1]]
    assert ids(oldest) == [made[0]] and oldest.older is None
    assert ids(back) == [made[4], made[3]] and back.newer is None


async def test_a_window_bounds_what_a_page_reads_and_the_next_goes_on_below_it(db):
    prefix = unique("windowed")
    async with db.write() as conn:
        matching = []
        for n in range(3):
            matching.append(await create_customer(conn, f"{prefix}-{n}", 0))
            if n < 2:
                for m in range(3):
                    await create_customer(conn, unique(f"other-{m}"), 0)
        query, key = named(prefix), customers.c.id

        async def page(cursor: Cursor):
            return await keyset_page(conn, query, key, cursor, 2, window=4)

        first = await page(Cursor())
        second = await page(Cursor(before=first.older))
        third = await page(Cursor(before=second.older))
        back = await page(Cursor(after=second.newer))
    # Four ids a page: one match in each, and a link on below each window.
    assert ids(first) == [matching[2]] and first.older == matching[2] - 3
    assert ids(second) == [matching[1]] and second.older == matching[1] - 3
    assert ids(third) == [matching[0]]
    assert first.windowed and ids(back) == [matching[2]] and back.newer is None
