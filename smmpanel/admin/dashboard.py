"""Operator pages: the dashboard (today's figures, the last 30 days, statuses, providers)."""

from collections.abc import Callable
from dataclasses import dataclass

from babel.numbers import format_decimal
from fastapi import APIRouter
from markupsafe import Markup
from starlette.responses import Response

from smmpanel.admin.charts import bar_chart
from smmpanel.admin.dashboard_queries import Day, counts_by_status, figures, last_days
from smmpanel.money import render_balance
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit
from smmpanel.providers.service import provider_stats

router = APIRouter()


@dataclass(frozen=True)
class Chart:
    """A chart and the same numbers as a table, for those who cannot see the bars."""

    svg: Markup
    column: str
    rows: list[tuple[str, str]]


def chart_of(
    days: list[Day], value: Callable[[Day], int], render: Callable[[int], str], *, title: str
) -> Chart:
    points = [(day.day.isoformat(), value(day)) for day in days]
    return Chart(
        svg=bar_chart(points, title=title, value_label=render),
        column=title,
        rows=[(label, render(amount)) for label, amount in points],
    )


def count_label(count: int) -> str:
    return format_decimal(count, locale=i18n.babel_locale())


@router.get("/admin")
async def dashboard(current: OperatorVisit) -> Response:
    async with current.db.read() as conn:
        today = await figures(conn)
        days = await last_days(conn)
        statuses = await counts_by_status(conn)
        providers = await provider_stats(conn)
    charts = [
        chart_of(days, lambda day: day.orders, count_label, title=_("Orders per day")),
        chart_of(days, lambda day: day.revenue, render_balance, title=_("Revenue per day")),
        chart_of(days, lambda day: day.profit, render_balance, title=_("Profit per day")),
    ]
    return current.render(
        "admin/dashboard.html", today=today, charts=charts, statuses=statuses, providers=providers
    )
