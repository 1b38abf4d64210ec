"""Operator pages: the dashboard (today's figures, the last 30 days, statuses, providers).

Deposits are a column beside revenue in the table of the revenue chart, not a chart of their own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from babel.numbers import format_decimal
from fastapi import APIRouter
from markupsafe import Markup
from starlette.responses import Response

from smmpanel.admin.charts import bar_chart
from smmpanel.db.base import utcnow
from smmpanel.money import render_balance
from smmpanel.orders.figures import (
    STATUS_COUNT_SECONDS,
    Board,
    Day,
    count_days_to_keep,
    count_statuses,
    read_board,
    write_days,
    write_status_counts,
)
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.providers.service import provider_stats

router = APIRouter()


@dataclass(frozen=True)
class Chart:
    """A chart and the same numbers as a table, for those who cannot see the bars."""

    svg: Markup
    columns: list[str]
    rows: list[tuple[str, ...]]  # the day, then a value per column


# A column of the table beside the chart's own: its title and a day's value, as shown.
Beside = tuple[str, Callable[[Day], str]]


def chart_of(
    days: list[Day],
    value: Callable[[Day], int],
    render: Callable[[int], str],
    *,
    title: str,
    beside: tuple[Beside, ...] = (),
) -> Chart:
    points = [(day.day.isoformat(), value(day)) for day in days]
    render = cache(render)  # each value is shown twice: on its bar and in the table
    return Chart(
        svg=bar_chart(points, title=title, value_label=render),
        columns=[title, *(column for column, _shown in beside)],
        rows=[
            (label, render(amount), *(shown(day) for _column, shown in beside))
            for (label, amount), day in zip(points, days, strict=True)
        ],
    )


def count_label(count: int) -> str:
    return _count_in(count, i18n.current_language.get())


@lru_cache(maxsize=4096)
def _count_in(count: int, language: str) -> str:
    """Babel takes some 20 µs a count, and the same counts come back on every visit."""
    return format_decimal(count, locale=language)


@router.get("/admin")
async def dashboard(current: OperatorVisit) -> Response:
    today = utcnow().date()
    async with current.db.read() as conn:
        board = await read_board(conn, today)
        providers = await provider_stats(conn, with_archived=False)
    if board.statuses is None or board.days_missing:
        board = await _board_counted(current, board, today)
    days = board.days
    charts = [
        chart_of(days, lambda day: day.orders, count_label, title=_("Orders per day")),
        chart_of(
            days,
            lambda day: day.revenue,
            render_balance,
            title=_("Revenue per day"),
            beside=((_("Deposits per day"), lambda day: render_balance(day.deposits)),),
        ),
        chart_of(days, lambda day: day.profit, render_balance, title=_("Profit per day")),
    ]
    return current.render(
        "admin/dashboard.html",
        today=board.today,
        charts=charts,
        statuses=board.statuses,
        count_minutes=round(STATUS_COUNT_SECONDS / 60),
        providers=providers,
        # Read from what the worker and the pages stored: no provider is asked while drawing.
        providers_to_look_at=[row for row in providers if row.below_threshold or row.failing],
        mail_set_up=current.pages.settings.smtp is not None,
    )


async def _board_counted(current: Visit, board: Board, today: date) -> Board:
    """The figures again, once those the worker keeps but has not yet written are counted and
    written."""
    async with current.db.read() as conn:
        counted = await count_statuses(conn) if board.statuses is None else None
        days = await count_days_to_keep(conn, today)
    async with current.db.write() as conn:
        if counted is not None:
            await write_status_counts(conn, counted)
        await write_days(conn, days)
    async with current.db.read() as conn:
        return await read_board(conn, today)
