"""Each customer's orders per status, kept by the writes rather than counted at each view.

Triggers on `orders` (migration 0029) add a change row for every order placed, deleted or moved
to another status; nothing else writes the changes, so no code path can miss one, and a write
only appends a row: it never waits on a counter another transaction holds. The worker folds the
changes into one row per customer and status (`fold_changes`); a customer's count is the sum of
their folded rows and of the changes not folded yet, so it is exact whether or not a worker
runs, and reading it costs the few rows of one customer, however many orders they have.
"""

from collections import Counter

from sqlalchemy import delete, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.dialect import insert_adding
from smmpanel.orders.models import customer_order_count_changes as changes
from smmpanel.orders.models import customer_order_counts as counts
from smmpanel.orders.statuses import ALL_STATUSES

FOLD_BATCH = 10_000  # changes folded in one transaction: a backlog goes in short steps


async def customer_status_counts(conn: AsyncConnection, customer_id: int) -> list[tuple[str, int]]:
    """(status, number of orders) of the statuses this customer has orders in."""
    rows = union_all(
        select(counts.c.status, counts.c.orders.label("orders")).where(
            counts.c.customer_id == customer_id
        ),
        select(changes.c.status, changes.c.change).where(changes.c.customer_id == customer_id),
    ).subquery()
    query = select(rows.c.status, func.sum(rows.c.orders)).group_by(rows.c.status)
    found = {status: int(total) for status, total in await conn.execute(query)}
    return [(status, found[status]) for status in ALL_STATUSES if found.get(status)]


async def fold_changes(conn: AsyncConnection) -> int:
    """Folds the oldest changes into the counts, in the caller's write transaction; how many.

    The rows deleted are the rows added: on PostgreSQL a change committed meanwhile is either
    deleted here and counted, or left for the next fold, never one without the other.
    """
    oldest = select(changes.c.id).order_by(changes.c.id).limit(FOLD_BATCH).scalar_subquery()
    taken = await conn.execute(
        delete(changes)
        .where(changes.c.id.in_(oldest))
        .returning(changes.c.customer_id, changes.c.status, changes.c.change)
    )
    sums: Counter[tuple[int, str]] = Counter()
    folded = 0
    for customer_id, status, change in taken:
        sums[customer_id, status] += change
        folded += 1
    added = [
        {"customer_id": customer_id, "status": status, "orders": total}
        for (customer_id, status), total in sorted(sums.items())
        if total
    ]
    if added:
        await conn.execute(insert_adding(conn, counts, "orders"), added)
    return folded
