"""The dashboard's figures, each aggregated in the database (GROUP BY day), never in Python.

Days are UTC dates. Revenue is what customers paid for orders: charges minus refunds, counted
on the day the money moved. Profit is that revenue minus the upstream's share of it: an order
sent to a provider records what it costs there, in the panel's currency, when it is sent
(orders.cost); each unit of money kept costs cost / charge of it, so a refund takes back its
share of the cost. Orders not sent (yet), and those fulfilled here, cost nothing.
Deposits are what paid payments added to balances (credited and bonus), on the day they were
credited.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Select, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import utc_day
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import FORWARD_IN_DOUBT

CHART_DAYS = 30
ORDER_MONEY_KINDS = ("charge", "refund")


@dataclass(frozen=True)
class Day:
    day: date
    orders: int = 0
    revenue: int = 0
    profit: int = 0
    deposits: int = 0


@dataclass(frozen=True)
class Figures:
    orders_today: int
    revenue_today: int
    deposits_today: int
    customers: int
    in_doubt: int


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def whole(value: Decimal | float | None) -> int:
    """A SUM as an integer: PostgreSQL answers numeric, SQLite an integer (or a float)."""
    return round(value or 0)


async def figures(conn: AsyncConnection) -> Figures:
    today = start_of_day(utcnow().date())
    revenue, _cost = (await conn.execute(_money_query(today))).one()
    in_doubt = select(func.count()).where(orders.c.forward_state == FORWARD_IN_DOUBT)
    return Figures(
        orders_today=await conn.scalar(_orders_query(today)) or 0,
        revenue_today=whole(revenue),
        deposits_today=whole(await conn.scalar(_deposits_query(today))),
        customers=await conn.scalar(select(func.count()).select_from(customers)) or 0,
        in_doubt=await conn.scalar(in_doubt) or 0,
    )


async def last_days(conn: AsyncConnection, count: int = CHART_DAYS) -> list[Day]:
    """Orders, revenue and profit of each of the last `count` days, today included."""
    today = utcnow().date()
    first = today - timedelta(days=count - 1)
    since = start_of_day(first)
    order_day = utc_day(conn, orders.c.created_at)
    order_rows = await conn.execute(_orders_query(since, order_day).group_by(order_day))
    orders_by_day = {as_date(day): number for day, number in order_rows}
    money_day = utc_day(conn, ledger_entries.c.created_at)
    money_rows = await conn.execute(_money_query(since, money_day).group_by(money_day))
    money_by_day = {as_date(day): (revenue, cost) for day, revenue, cost in money_rows}
    deposit_rows = await conn.execute(_deposits_query(since, money_day).group_by(money_day))
    deposits_by_day = {as_date(day): whole(deposits) for day, deposits in deposit_rows}
    days = []
    for offset in range(count):
        day = first + timedelta(days=offset)
        revenue, cost = money_by_day.get(day, (0, 0))
        days.append(
            Day(
                day,
                orders_by_day.get(day, 0),
                whole(revenue),
                whole(revenue) - whole(cost),
                deposits_by_day.get(day, 0),
            )
        )
    return days


def _orders_query(since: datetime, *group: ColumnElement[Any]) -> Select[Any]:
    """Orders placed by customers since then; drip-feed runs placed here are not orders."""
    return select(*group, func.count()).where(
        orders.c.created_at >= since, orders.c.parent_id.is_(None)
    )


def _money_query(since: datetime, *group: ColumnElement[Any]) -> Select[Any]:
    kept = -ledger_entries.c.amount
    return (
        select(*group, func.sum(kept), func.sum(_upstream_cost(kept)))
        .select_from(ledger_entries.join(orders, orders.c.id == ledger_entries.c.order_id))
        .where(
            ledger_entries.c.created_at >= since,
            ledger_entries.c.kind.in_(ORDER_MONEY_KINDS),
        )
    )


def _deposits_query(since: datetime, *group: ColumnElement[Any]) -> Select[Any]:
    """What payments credited since then: their ledger entries, the credit and the bonus."""
    return select(*group, func.sum(ledger_entries.c.amount)).where(
        ledger_entries.c.created_at >= since, ledger_entries.c.payment_id.is_not(None)
    )


def _upstream_cost(kept: ColumnElement) -> ColumnElement:
    """The upstream's share of money kept; numeric so a large charge times a cost cannot
    overflow a BIGINT."""
    costed = and_(orders.c.cost.is_not(None), orders.c.charge > 0)
    share = cast(kept, Numeric(38, 6)) * orders.c.cost / orders.c.charge
    return case((costed, share), else_=0)


async def counts_by_status(conn: AsyncConnection) -> list[tuple[str, int]]:
    status_count = func.count().label("count")
    query = (
        select(orders.c.status, status_count)
        .where(orders.c.parent_id.is_(None))
        .group_by(orders.c.status)
        .order_by(status_count.desc(), orders.c.status)
    )
    return [(status, count) for status, count in await conn.execute(query)]
