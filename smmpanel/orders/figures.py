"""The dashboard's figures, each aggregated in the database (GROUP BY day), never in Python.

Days are UTC dates. Revenue is what customers paid for orders: charges minus refunds, counted
on the day the money moved. Profit is that revenue minus the upstream's share of it: an order
sent to a provider records what it costs there, in the panel's currency, when it is sent
(orders.cost); each unit of money kept costs cost / charge of it, so a refund takes back its
share of the cost. Orders not sent (yet), and those fulfilled here, cost nothing.
Deposits are what paid payments added to balances (credited and bonus), on the day they were
credited.

What a view costs must not grow with the orders the panel has ever taken, so a view counts
only today and yesterday (LIVE_DAYS, read through the indexes on created_at). A day before
those is over: its figures are written once to `daily_figures` and read from there (an order
sent, and so costed, more than a day after it was paid is the one thing left out of its day's
profit). The orders per status cover every order: the worker counts them every few minutes
into `order_status_counts` (a snapshot, shown with its time), rather than each view counting
a million rows, and rather than a counter row that every placed order would have to update
and wait on. A view that finds a figure missing (a new panel, a worker not running yet)
writes it first, once.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Numeric,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import insert_or_ignore, utc_day
from smmpanel.orders.models import daily_figures, order_status_counts, orders
from smmpanel.orders.statuses import ALL_STATUSES, FORWARD_IN_DOUBT

CHART_DAYS = 30
LIVE_DAYS = 2  # today and yesterday: counted at each view
STATUS_COUNT_SECONDS = 300  # how often the worker counts the orders per status (jobs.py)
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


@dataclass(frozen=True)
class StatusCounts:
    counted_at: datetime
    rows: list[tuple[str, int]]  # the statuses with orders, most orders first


@dataclass(frozen=True)
class Board:
    """What the dashboard shows, and what it found missing from the kept figures."""

    today: Figures
    days: list[Day]  # the last CHART_DAYS, today last
    statuses: StatusCounts | None
    days_missing: bool  # some day that is over is not written yet


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def whole(value: Decimal | float | None) -> int:
    """A SUM as an integer: PostgreSQL answers numeric, SQLite an integer (or a float)."""
    return round(value or 0)


def kept_window(today: date) -> list[date]:
    """The days of the charts whose figures are kept rather than counted at each view."""
    first = today - timedelta(days=CHART_DAYS - 1)
    return [first + timedelta(days=n) for n in range(CHART_DAYS - LIVE_DAYS)]


async def read_board(conn: AsyncConnection, today: date) -> Board:
    live = await count_days(conn, today - timedelta(days=LIVE_DAYS - 1), today)
    window = kept_window(today)
    kept = await _kept_days(conn, window[0], window[-1])
    days = [kept.get(day, Day(day)) for day in window] + live
    customer_count = select(func.count()).select_from(customers).scalar_subquery()
    in_doubt = select(func.count()).where(orders.c.forward_state == FORWARD_IN_DOUBT)
    counts = (await conn.execute(select(customer_count, in_doubt.scalar_subquery()))).one()
    return Board(
        today=Figures(
            orders_today=live[-1].orders,
            revenue_today=live[-1].revenue,
            deposits_today=live[-1].deposits,
            customers=counts[0],
            in_doubt=counts[1],
        ),
        days=days,
        statuses=await status_counts(conn),
        days_missing=len(kept) < len(window),
    )


async def count_days(conn: AsyncConnection, first: date, last: date) -> list[Day]:
    """Orders, revenue, profit and deposits of each day from `first` to `last`, counted."""
    since, until = start_of_day(first), start_of_day(last + timedelta(days=1))
    found: dict[tuple[int, date], tuple[Any, Any]] = {
        (part, as_date(day)): (first_sum, second_sum)
        for part, day, first_sum, second_sum in await conn.execute(_days_query(conn, since, until))
    }
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        revenue, cost = found.get((_MONEY, day), (0, 0))
        days.append(
            Day(
                day,
                whole(found.get((_ORDERS, day), (0, None))[0]),
                whole(revenue),
                whole(revenue) - whole(cost),
                whole(found.get((_DEPOSITS, day), (0, None))[0]),
            )
        )
    return days


# count_days reads three figures per day in one statement, each part's rows marked with these.
_ORDERS, _MONEY, _DEPOSITS = 0, 1, 2


def _days_query(conn: AsyncConnection, since: datetime, until: datetime) -> CompoundSelect:
    """(part, day, figure, second figure or NULL) of each part per day."""
    order_day = utc_day(conn, orders.c.created_at)
    money_day = utc_day(conn, ledger_entries.c.created_at)
    return union_all(
        _orders_query(since, until, literal_column(str(_ORDERS)), order_day)
        .add_columns(null())
        .group_by(order_day),
        _money_query(since, until, literal_column(str(_MONEY)), money_day).group_by(money_day),
        _deposits_query(since, until, literal_column(str(_DEPOSITS)), money_day)
        .add_columns(null())
        .group_by(money_day),
    )


async def _kept_days(conn: AsyncConnection, first: date, last: date) -> dict[date, Day]:
    query = select(daily_figures).where(daily_figures.c.day.between(first, last))
    return {as_date(row.day): Day(as_date(row.day), *row[1:]) for row in await conn.execute(query)}


async def count_days_to_keep(conn: AsyncConnection, today: date) -> list[Day]:
    """The figures of the chart's days that are over and not yet written, counted."""
    window = kept_window(today)
    query = select(daily_figures.c.day).where(daily_figures.c.day.between(window[0], window[-1]))
    kept = {as_date(day) for day in await conn.scalars(query)}
    missing = [day for day in window if day not in kept]
    if not missing:
        return []
    return [day for day in await count_days(conn, missing[0], missing[-1]) if day.day in missing]


async def write_days(conn: AsyncConnection, days: list[Day]) -> None:
    if not days:
        return
    rows = [
        {
            "day": day.day,
            "orders": day.orders,
            "revenue": day.revenue,
            "profit": day.profit,
            "deposits": day.deposits,
        }
        for day in days
    ]
    # Another view or the worker may write the same day at once: the same figures, either wins.
    await conn.execute(insert_or_ignore(conn, daily_figures), rows)


def _orders_query(since: datetime, until: datetime, *group: ColumnElement[Any]) -> Select[Any]:
    """Orders placed by customers in that time; drip-feed runs placed here are not orders."""
    return select(*group, func.count()).where(
        orders.c.created_at >= since, orders.c.created_at < until, orders.c.parent_id.is_(None)
    )


def _money_query(since: datetime, until: datetime, *group: ColumnElement[Any]) -> Select[Any]:
    kept = -ledger_entries.c.amount
    return (
        select(*group, func.sum(kept), func.sum(_upstream_cost(kept)))
        .select_from(ledger_entries.join(orders, orders.c.id == ledger_entries.c.order_id))
        .where(
            ledger_entries.c.created_at >= since,
            ledger_entries.c.created_at < until,
            ledger_entries.c.kind.in_(ORDER_MONEY_KINDS),
        )
    )


def _deposits_query(since: datetime, until: datetime, *group: ColumnElement[Any]) -> Select[Any]:
    """What payments credited in that time: their ledger entries, the credit and the bonus."""
    return select(*group, func.sum(ledger_entries.c.amount)).where(
        ledger_entries.c.created_at >= since,
        ledger_entries.c.created_at < until,
        ledger_entries.c.payment_id.is_not(None),
    )


def _upstream_cost(kept: ColumnElement) -> ColumnElement:
    """The upstream's share of money kept; numeric so a large charge times a cost cannot
    overflow a BIGINT."""
    costed = and_(orders.c.cost.is_not(None), orders.c.charge > 0)
    share = cast(kept, Numeric(38, 6)) * orders.c.cost / orders.c.charge
    return case((costed, share), else_=0)


async def count_statuses(conn: AsyncConnection) -> dict[str, int]:
    """Every order per status now, drip-feed runs aside; every status, 0 when it has none.
    Counted in a read: a write transaction would hold SQLite's writers back meanwhile."""
    query = (
        select(orders.c.status, func.count())
        .where(orders.c.parent_id.is_(None))
        .group_by(orders.c.status)
    )
    counted = {status: count for status, count in await conn.execute(query)}
    return dict.fromkeys(ALL_STATUSES, 0) | counted


async def write_status_counts(conn: AsyncConnection, counted: dict[str, int]) -> None:
    """Keep this count, and it alone."""
    now = utcnow()
    rows = [{"counted_at": now, "status": status, "orders": n} for status, n in counted.items()]
    await conn.execute(insert(order_status_counts), rows)
    await conn.execute(delete(order_status_counts).where(order_status_counts.c.counted_at < now))


async def status_counts(conn: AsyncConnection) -> StatusCounts | None:
    """The newest count of orders per status, or None before the first."""
    newest = select(func.max(order_status_counts.c.counted_at)).scalar_subquery()
    query = (
        select(order_status_counts)
        .where(order_status_counts.c.counted_at == newest)
        .order_by(order_status_counts.c.orders.desc(), order_status_counts.c.status)
    )
    rows = (await conn.execute(query)).all()
    if not rows:
        return None
    shown = [(row.status, row.orders) for row in rows if row.orders]
    return StatusCounts(counted_at=rows[0].counted_at, rows=shown)
