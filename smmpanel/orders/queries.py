"""Reading orders for their owner: the API's status look-ups, on the hot path."""

from collections.abc import Sequence

from smmpanel.db.hotpath import HotReader

STATUS_FIELDS = (
    "id",
    "status",
    "charge",
    "start_count",
    "remains",
    "runs",
    "type",
    "posts_delivered",
)
STATUS_SQL = (
    "SELECT o.id, o.status, o.charge, o.start_count, o.remains, o.runs, o.type,"
    " s.posts_delivered FROM orders o LEFT JOIN subscriptions s ON s.order_id = o.id"
    " WHERE o.customer_id = ? AND {among}"
)
CHILDREN_SQL = "SELECT parent_id, id FROM orders WHERE {among} ORDER BY id"


async def customer_orders_status(
    reader: HotReader, customer_id: int, order_ids: Sequence[int]
) -> dict[int, dict]:
    """The status fields of the caller's orders among `order_ids`, keyed by id."""
    if not order_ids:
        return {}
    among, params = reader.among("o.id", list(order_ids))
    rows = await reader.fetch_all(STATUS_SQL.format(among=among), customer_id, *params)
    found = {row[0]: dict(zip(STATUS_FIELDS, row, strict=True)) for row in rows}
    parents = [
        oid for oid, row in found.items() if row["runs"] or row["posts_delivered"] is not None
    ]
    for parent_id, child_ids in (await _children(reader, parents)).items():
        found[parent_id]["orders"] = child_ids
    return found


async def _children(reader: HotReader, parent_ids: list[int]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {parent_id: [] for parent_id in parent_ids}
    if parent_ids:
        among, params = reader.among("parent_id", parent_ids)
        for parent_id, child_id in await reader.fetch_all(
            CHILDREN_SQL.format(among=among), *params
        ):
            children[parent_id].append(child_id)
    return children
