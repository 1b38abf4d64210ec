"""What the database knows, read when /metrics is scraped: the same figures from every process.

Each figure is one small statement on an index: orders by forwarding state
(`ix_orders_forward_state_next_action_at`), polls due (`order_polls.due_at`), orders ended
Canceled or Partial (`ix_orders_status`), and the providers' own counters (a row per provider).
"""

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db import Database
from smmpanel.db.base import as_utc, utcnow
from smmpanel.orders.models import order_polls, orders
from smmpanel.orders.statuses import (
    CANCELED,
    FORWARD_IN_DOUBT,
    FORWARD_QUEUED,
    FORWARD_SENDING,
    PARTIAL,
)
from smmpanel.providers.models import providers

FORWARD_STATES = {
    FORWARD_QUEUED: "Orders waiting to be forwarded to their provider",
    FORWARD_SENDING: "Orders being sent to their provider",
    FORWARD_IN_DOUBT: "Orders sent with no clear answer, waiting for the operator",
}
PROVIDER_COUNTS = {
    "sent": (providers.c.sent_count, "Orders forwarded to the provider and taken"),
    "rejected": (providers.c.rejected_count, "Orders the provider rejected (refunded)"),
    "in_doubt": (providers.c.in_doubt_count, "Orders left in doubt with the provider"),
    "polled": (providers.c.polled_count, "Statuses read from the provider"),
}


class Snapshot(Collector):
    """Metric families read already, for a registry to render."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


async def database_figures(db: Database) -> Snapshot:
    async with db.read() as conn:
        families = await _queues(conn) + await _refunded(conn) + await _providers(conn)
    return Snapshot(families)


async def _count(conn: AsyncConnection, condition: ColumnElement[bool]) -> int:
    return await conn.scalar(select(func.count()).select_from(orders).where(condition)) or 0


async def _queues(conn: AsyncConnection) -> list[Metric]:
    families: list[Metric] = []
    for state, help_text in FORWARD_STATES.items():
        count = await _count(conn, orders.c.forward_state == state)
        families.append(GaugeMetricFamily(f"smmpanel_orders_{state}", help_text, value=count))
    due = await conn.scalar(
        select(func.count()).select_from(order_polls).where(order_polls.c.due_at <= utcnow())
    )
    families.append(
        GaugeMetricFamily("smmpanel_polls_due", "Forwarded orders due to be polled", value=due or 0)
    )
    return families


async def _refunded(conn: AsyncConnection) -> list[Metric]:
    family = GaugeMetricFamily(
        "smmpanel_orders_refunded",
        "Orders ended Canceled or Partial, each refunded what was not delivered",
        labels=["status"],
    )
    for status in (CANCELED, PARTIAL):
        family.add_metric([status], await _count(conn, orders.c.status == status))
    return [family]


async def _providers(conn: AsyncConnection) -> list[Metric]:
    columns = [column for column, _help in PROVIDER_COUNTS.values()]
    rows = (
        await conn.execute(
            select(
                providers.c.name,
                providers.c.last_error_at,
                providers.c.last_success_at,
                *columns,
            ).order_by(providers.c.id)
        )
    ).all()
    counters = {
        name: CounterMetricFamily(
            f"smmpanel_provider_orders_{name}", help_text, labels=["provider"]
        )
        for name, (_column, help_text) in PROVIDER_COUNTS.items()
    }
    last_error = GaugeMetricFamily(
        "smmpanel_provider_last_error_timestamp_seconds",
        "When the provider last failed (unreachable, garbled, rejected), as a Unix time",
        labels=["provider"],
    )
    last_success = GaugeMetricFamily(
        "smmpanel_provider_last_success_timestamp_seconds",
        "When the provider last answered well, as a Unix time",
        labels=["provider"],
    )
    for name, error_at, success_at, *counts in rows:
        for family, count in zip(counters.values(), counts, strict=True):
            family.add_metric([name], count)
        last_error.add_metric([name], _unix_time(error_at))
        last_success.add_metric([name], _unix_time(success_at))
    return [*counters.values(), last_error, last_success]


def _unix_time(moment: datetime | None) -> float:
    return as_utc(moment).timestamp() if moment else 0.0
