"""Forwarded subscriptions: each post order the upstream lists is mirrored here exactly once.

A mirrored order is a child of our subscription, already `sent` with the upstream's id, so
polling keeps it in step and forwarding never sends it; (provider, upstream id) is unique.
Its quantity is the one the upstream lists with it, else the subscription's `max` (what the
customer agreed to pay at most per post). Charging, pausing and the refund at the end are the
subscription rules of orders.subscriptions.
"""

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import services
from smmpanel.db.dialect import one_of
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import PAUSED, is_finished
from smmpanel.orders.subscriptions import (
    POST_ORDER_TYPE,
    Forwarded,
    Placed,
    Subscription,
    place_post_order,
    set_pause_reason,
    subscription,
)
from smmpanel.panel.rates import conversion
from smmpanel.providers.costs import cost_in_panel_currency, upstream_charge
from smmpanel.providers.models import providers

if TYPE_CHECKING:
    from smmpanel.providers.polling import Reading, Tracked

log = logging.getLogger("smmpanel.polling")

MAX_UPSTREAM_ID = 64  # orders.upstream_order_id


@dataclass(frozen=True)
class UpstreamChild:
    upstream_id: str
    quantity: int | None = None  # None: the upstream did not say


def upstream_children(entry: dict[str, Any]) -> tuple[UpstreamChild, ...]:
    """The post orders a status reply lists: `"orders": [ids]`, or objects with `order` (or
    `id`) and `quantity`. Anything else in the list is skipped."""
    listed = entry.get("orders")
    if not isinstance(listed, list):
        return ()
    children = (_child(item) for item in listed)
    return tuple(child for child in children if child is not None)


def _child(item: object) -> UpstreamChild | None:
    quantity = None
    if isinstance(item, dict):
        quantity = _positive(item.get("quantity"))
        item = item.get("order", item.get("id"))
    if isinstance(item, bool) or not isinstance(item, int | str):
        return None
    upstream_id = str(item).strip()
    if not upstream_id or len(upstream_id) > MAX_UPSTREAM_ID:
        return None
    return UpstreamChild(upstream_id, quantity)


def _positive(value: object) -> int | None:
    text = str(value).strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


async def follow_subscription(
    conn: AsyncConnection, item: "Tracked", reading: "Reading"
) -> tuple["Reading", bool]:
    """Mirror the post orders the upstream lists that are new here; the reading to apply to
    the subscription itself, and whether anything changed.

    A post the balance cannot pay for is not mirrored and keeps the subscription Paused; each
    poll tries again, and once every post is paid the subscription follows the upstream again.
    """
    sub = await subscription(conn, item.order_id)
    new = await _not_mirrored(conn, item.endpoint.provider_id, sub.order_id, reading.children)
    placed, short = await _mirror(conn, sub, item.endpoint.provider_id, new)
    was_short = sub.pause_reason is not None
    if was_short and not short:
        await set_pause_reason(conn, sub.order_id, None)
    return _own_reading(reading, short), placed or short != was_short


async def _not_mirrored(
    conn: AsyncConnection, provider_id: int, order_id: int, children: tuple[UpstreamChild, ...]
) -> list[UpstreamChild]:
    """The listed children no order of ours holds yet; one look-up instead of an insert each."""
    if not children:
        return []
    held = (
        await conn.execute(
            select(orders.c.upstream_order_id, orders.c.parent_id).where(
                orders.c.provider_id == provider_id,
                one_of(conn, orders.c.upstream_order_id, [child.upstream_id for child in children]),
            )
        )
    ).all()
    for row in held:
        if row.parent_id != order_id:
            log.warning(
                "upstream lists an order another order of ours holds",
                extra={"order_id": order_id, "upstream_id": row.upstream_order_id},
            )
    taken = {row.upstream_order_id for row in held}
    return [child for child in dict.fromkeys(children) if child.upstream_id not in taken]


async def _mirror(
    conn: AsyncConnection, sub: Subscription, provider_id: int, new: list[UpstreamChild]
) -> tuple[bool, bool]:
    """Place the new children in the upstream's order, stopping at the first the balance cannot
    pay for; whether any was placed, and whether one was short."""
    placed: list[UpstreamChild] = []
    short = False
    for child in new:
        forwarded = Forwarded(provider_id, child.upstream_id)
        quantity = _quantity(sub, child)
        outcome = await place_post_order(conn, sub, quantity, forwarded)
        if outcome is Placed.SHORT:
            short = True
            break
        if outcome is Placed.PLACED:
            placed.append(UpstreamChild(child.upstream_id, quantity))
    if placed and not sub.paid_up_front:
        await _record_costs(conn, sub, provider_id, placed)
    return bool(placed), short


async def _record_costs(
    conn: AsyncConnection, sub: Subscription, provider_id: int, placed: list[UpstreamChild]
) -> None:
    """Posts paid one by one hold their charge, so they hold the upstream's cost too (a
    subscription paid up front holds both itself)."""
    upstream = (
        await conn.execute(
            select(services.c.upstream_rate, providers.c.balance_currency)
            .select_from(services.outerjoin(providers, providers.c.id == services.c.provider_id))
            .where(services.c.id == sub.service_id)
        )
    ).one()
    if upstream.upstream_rate is None:
        return
    rates_now = await conversion(conn)
    costs = [
        {
            "upstream": child.upstream_id,
            "post_cost": cost_in_panel_currency(
                rates_now,
                upstream_charge(POST_ORDER_TYPE, upstream.upstream_rate, child.quantity or 0),
                upstream.balance_currency,
                sub.order_id,
            ),
        }
        for child in placed
    ]
    await conn.execute(
        update(orders)
        .where(
            orders.c.provider_id == provider_id,
            orders.c.upstream_order_id == bindparam("upstream"),
        )
        .values(cost=bindparam("post_cost")),
        costs,
    )


def _quantity(sub: Subscription, child: UpstreamChild) -> int:
    return min(child.quantity or sub.max_quantity, sub.max_quantity)


def _own_reading(reading: "Reading", short: bool) -> "Reading":
    """The upstream's reading as it applies to our subscription: held Paused while a post is
    unpaid, and at its end refunding by our rule, not the upstream's remains (the life cycle
    counts the posts paid up front and not delivered)."""
    if reading.status is not None and is_finished(reading.status):
        return replace(reading, remains=None)
    if short:
        return replace(reading, status=PAUSED)
    return reading
