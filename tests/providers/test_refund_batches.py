"""Refunds of many finished orders at once (`settle_finished`, used by status sync) give, to the
millionth, what `update_order` gives one order at a time; never a refund twice. On SQLite and
PostgreSQL, each test on a new database of its own.
"""

import uuid
from dataclasses import dataclass

import pytest
import pytest_asyncio
from harness import Shop
from sqlalchemy import insert, select

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.service import credit
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.orders.lifecycle import Progress, settle_finished, update_order
from smmpanel.orders.models import cancel_requests, orders
from smmpanel.orders.placement import place_order
from smmpanel.orders.statuses import (
    CANCELED,
    COMPLETED,
    IN_PROGRESS,
    PARTIAL,
    PENDING,
    REFUND_PRO_RATA,
)

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

RATE = "1.234567"  # per 1000: charges that do not divide evenly
OPENING = "100"

# (customer, quantity, status read, remains read); two customers hold several orders each.
BATCH = [
    ("a", 777, PARTIAL, 333),
    ("a", 1000, CANCELED, 1000),
    ("a", 313, PARTIAL, 1),
    ("b", 999, PARTIAL, 998),
    ("b", 500, CANCELED, None),  # no remains read: update_order keeps the order's own
    ("c", 4321, CANCELED, 17),
    ("c", 250, PARTIAL, 250),
]


@dataclass
class Books:
    """A set of customers and their Pending orders, one per line of BATCH."""

    db: Database
    customer_ids: dict[str, int]
    order_ids: list[int]

    async def order_rows(self) -> list:
        async with self.db.read() as conn:
            query = select(orders).where(orders.c.id.in_(self.order_ids)).order_by(orders.c.id)
            return list(await conn.execute(query))

    async def refunds(self) -> list[list[tuple[str, int]]]:
        """Each order's refund entries (cause, amount), in the order of BATCH."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(ledger_entries.c.order_id, ledger_entries.c.cause, ledger_entries.c.amount)
                .where(
                    ledger_entries.c.order_id.in_(self.order_ids),
                    ledger_entries.c.kind == "refund",
                )
                .order_by(ledger_entries.c.id)
            )
            found: dict[int, list] = {order_id: [] for order_id in self.order_ids}
            for order_id, cause, amount in rows:
                found[order_id].append((cause, amount))
        return [found[order_id] for order_id in self.order_ids]

    async def cancel_requests(self) -> list[tuple]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(cancel_requests.c.status, cancel_requests.c.open_order_id)
                .where(cancel_requests.c.order_id.in_(self.order_ids))
                .order_by(cancel_requests.c.order_id)
            )
            return [tuple(row) for row in rows]

    async def balances(self) -> dict[str, int]:
        async with self.db.read() as conn:
            return {
                name: await conn.scalar(
                    select(customers.c.balance).where(customers.c.id == customer_id)
                )
                for name, customer_id in self.customer_ids.items()
            }

    def changes(self, seen_status: str = PENDING) -> list[Progress]:
        return [
            Progress(order_id, seen_status=seen_status, status=status, remains=remains)
            for order_id, (_, _, status, remains) in zip(self.order_ids, BATCH, strict=True)
        ]


@pytest_asyncio.fixture
async def fresh_shop(provider_fresh_db: Database) -> Shop:
    return Shop(provider_fresh_db)


async def new_books(shop: Shop) -> Books:
    service_id = await shop.service(rate=RATE, max_quantity=100_000)
    names = sorted({name for name, *_ in BATCH})
    customer_ids = {name: (await shop.customer(OPENING))[0] for name in names}
    order_ids = []
    async with shop.db.write() as conn:
        for name, quantity, _, _ in BATCH:
            fields = {
                "service": str(service_id),
                "link": f"https://instagram.com/p/{uuid.uuid4().hex[:12]}",
                "quantity": str(quantity),
            }
            order_ids.append(await place_order(conn, customer_ids[name], fields))
        for order_id in order_ids[:2]:
            await _open_cancel_request(conn, order_id, customer_ids[BATCH[0][0]])
    return Books(shop.db, customer_ids, order_ids)


async def _open_cancel_request(conn, order_id: int, customer_id: int) -> None:  # type: ignore[no-untyped-def]
    await conn.execute(
        insert(cancel_requests).values(
            order_id=order_id,
            customer_id=customer_id,
            status="Pending",
            open_order_id=order_id,
            created_at=utcnow(),
        )
    )


async def settle_in_bulk(books: Books, changes: list[Progress]) -> list[Progress]:
    async with books.db.write() as conn:
        return await settle_finished(conn, changes)


async def settle_one_by_one(books: Books, changes: list[Progress]) -> None:
    async with books.db.write() as conn:
        for change in changes:
            await update_order(conn, change.order_id, status=change.status, remains=change.remains)


def settled_state(rows: list) -> list[tuple]:
    return [
        (row.status, row.remains, row.start_count, row.active_link, row.finished_at is not None)
        for row in rows
    ]


async def assert_same_books(bulk: Books, twin: Books, off_rule: list[int] | None = None) -> None:
    """Both books alike, and the audit finds nothing wrong but the refunds of `off_rule`."""
    assert settled_state(await bulk.order_rows()) == settled_state(await twin.order_rows())
    assert await bulk.refunds() == await twin.refunds()
    assert await bulk.balances() == await twin.balances()
    assert await bulk.cancel_requests() == await twin.cancel_requests()
    async with bulk.db.read() as conn:
        problems = await audit(conn)
    assert [problem.split(" (")[0] for problem in problems] == [
        f"order {order_id}" for order_id in off_rule or []
    ]


async def test_a_batch_refunds_exactly_what_update_order_would(fresh_shop):
    bulk, twin = await new_books(fresh_shop), await new_books(fresh_shop)

    left = await settle_in_bulk(bulk, bulk.changes())
    await settle_one_by_one(twin, twin.changes())

    assert left == []
    await assert_same_books(bulk, twin)
    refunds = await bulk.refunds()
    assert all(len(entries) == 1 for entries in refunds), refunds
    assert [row.status for row in await bulk.order_rows()] == [status for *_, status, _ in BATCH]
    assert await bulk.cancel_requests() == [("Accepted", None), ("Accepted", None)]


async def test_the_same_batch_applied_again_refunds_nothing_more(fresh_shop):
    bulk, twin = await new_books(fresh_shop), await new_books(fresh_shop)
    await settle_in_bulk(bulk, bulk.changes())
    await settle_one_by_one(twin, twin.changes())
    refunds, balances = await bulk.refunds(), await bulk.balances()

    # Read against Pending, they find the orders finished: all are handed back, and
    # update_order (as polling then calls it) finds nothing left to do.
    left = await settle_in_bulk(bulk, bulk.changes())
    assert left == bulk.changes()
    await settle_one_by_one(bulk, left)
    # Read against their new statuses, they are moves no more: handed back too.
    again = [
        Progress(change.order_id, seen_status=change.status, status=change.status)
        for change in bulk.changes()
    ]
    assert await settle_in_bulk(bulk, again) == again

    assert await bulk.refunds() == refunds
    assert await bulk.balances() == balances
    await assert_same_books(bulk, twin)


async def test_the_ledger_refuses_a_refund_made_already_for_that_cause(fresh_shop):
    """An order that holds a refund of its cause already (however it came there) gets no
    second one in bulk, exactly as update_order gives none."""
    bulk, twin = await new_books(fresh_shop), await new_books(fresh_shop)
    for books in (bulk, twin):
        first = (await books.order_rows())[0]
        async with books.db.write() as conn:
            await credit(
                conn,
                first.customer_id,
                1,
                kind="refund",
                reason="refunded earlier",
                order_id=first.id,
                cause=REFUND_PRO_RATA,
            )

    await settle_in_bulk(bulk, bulk.changes())
    await settle_one_by_one(twin, twin.changes())

    assert (await bulk.refunds())[0] == [(REFUND_PRO_RATA, 1)]
    # The audit names the refunds made outside the rule, and only those.
    await assert_same_books(bulk, twin, off_rule=[bulk.order_ids[0], twin.order_ids[0]])


async def test_an_order_the_operator_changed_meanwhile_is_not_refunded_twice(fresh_shop):
    """Read while Pending; before the batch is applied the operator cancels the first order
    and makes the second Partial. The batch hands both back, and update_order (as polling
    then calls it) refuses the first and refunds only the rest of the second."""
    bulk = await new_books(fresh_shop)
    first, second = bulk.order_ids[0], bulk.order_ids[1]
    async with bulk.db.write() as conn:
        await update_order(conn, first, status=CANCELED)
        await update_order(conn, second, status=PARTIAL, remains=400)

    changes = bulk.changes()
    left = await settle_in_bulk(bulk, changes)

    assert [change.order_id for change in left] == [first, second]
    async with bulk.db.write() as conn:
        await update_order(conn, second, status=CANCELED, remains=changes[1].remains)
    rows = await bulk.order_rows()
    refunds = await bulk.refunds()
    assert sum(amount for _, amount in refunds[0]) == rows[0].charge
    assert sum(amount for _, amount in refunds[1]) == rows[1].charge
    assert [len(entries) for entries in refunds] == [1, 2, 1, 1, 1, 1, 1]
    async with bulk.db.read() as conn:
        assert await audit(conn) == []


async def test_what_it_cannot_settle_in_bulk_is_handed_back_untouched(fresh_shop):
    bulk = await new_books(fresh_shop)
    ids = bulk.order_ids
    changes = [
        Progress(ids[0], seen_status=PENDING, status=COMPLETED),  # moves no money
        Progress(ids[1], seen_status=PENDING, status=IN_PROGRESS, start_count=5),
        Progress(ids[2], seen_status=PENDING, status=PARTIAL, remains=0),  # refused by update_order
        Progress(ids[3], seen_status=PENDING, status=PARTIAL, remains=BATCH[3][1] + 1),
        Progress(ids[4], seen_status=IN_PROGRESS, status=CANCELED),  # read against another status
    ]
    before = settled_state(await bulk.order_rows())

    assert await settle_in_bulk(bulk, changes) == changes

    assert settled_state(await bulk.order_rows()) == before
    assert await bulk.refunds() == [[] for _ in ids]
