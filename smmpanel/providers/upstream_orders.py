"""An order as its upstream has it: where it was forwarded, and asking the upstream to cancel.

The operator's own changes to an order (status, start count, remains) are made here only; this
says what they leave as it is upstream, and carries a cancel there when asked.
"""

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.orders.models import orders
from smmpanel.orders.statuses import FORWARD_SENT
from smmpanel.providers.client import Endpoint, UpstreamClient, UpstreamError
from smmpanel.providers.models import providers
from smmpanel.providers.requests_forwarding import cancel_refusal


class Forwarded(NamedTuple):
    """The provider of a forwarded order, and the order's id and state there."""

    provider: str
    upstream_order_id: str | None
    forward_state: str
    endpoint: Endpoint

    @property
    def placed_upstream(self) -> bool:
        return self.forward_state == FORWARD_SENT and self.upstream_order_id is not None

    def describe(self, order_id: int) -> str:
        if self.upstream_order_id is not None:
            return (
                f"order {order_id} is forwarded to provider {self.provider}"
                f" as {self.upstream_order_id} ({self.forward_state})"
            )
        return (
            f"order {order_id} is for provider {self.provider},"
            f" not placed there ({self.forward_state})"
        )


async def forwarded_order(conn: AsyncConnection, order_id: int) -> Forwarded | None:
    """Where an order was forwarded; None for one fulfilled by hand (or no such order)."""
    row = (
        await conn.execute(
            select(
                providers.c.id,
                providers.c.name,
                providers.c.api_url,
                providers.c.api_key,
                providers.c.timeout_seconds,
                orders.c.upstream_order_id,
                orders.c.forward_state,
            )
            .join(providers, providers.c.id == orders.c.provider_id)
            .where(orders.c.id == order_id, orders.c.forward_state.is_not(None))
        )
    ).first()
    if row is None:
        return None
    endpoint = Endpoint(row.id, row.api_url, row.api_key, row.timeout_seconds)
    return Forwarded(row.name, row.upstream_order_id, row.forward_state, endpoint)


async def ask_to_cancel(client: UpstreamClient, forwarded: Forwarded) -> str | None:
    """Ask the upstream to cancel the order through its API `cancel` action: None if it
    accepted, else why not (its refusal, or that it could not be asked)."""
    try:
        reply = await client.call(forwarded.endpoint, "cancel", orders=forwarded.upstream_order_id)
    except UpstreamError as exc:
        return cancel_refusal(exc)
    return cancel_refusal(reply)
