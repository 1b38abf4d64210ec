"""The operator's dashboard: today's figures, the 30-day charts, statuses and providers."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from page_client import customer_with_password, text_of, unique
from sqlalchemy import delete, select, update

from smmpanel.accounts.models import ledger_entries
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import parse, to_micros
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import daily_figures, orders
from smmpanel.orders.placement import place_order
from smmpanel.orders.statuses import CANCELED, FORWARD_IN_DOUBT
from smmpanel.providers.service import add_provider
from smmpanel.worker.context import WorkerContext
from smmpanel.worker.jobs import keep_dashboard_figures


def card(html: str, name: str) -> Decimal:
    found = re.search(rf'id="{name}">(?:<a [^>]*>)?([^<]+)<', html)
    assert found, f"no card {name}"
    return Decimal(found.group(1).replace(",", "").removeprefix("USD\u00a0"))


def today_in_chart(html: str, position: int) -> Decimal:
    """Today's number in the table under the chart at `position` (0: orders, 1: revenue...)."""
    return day_in_chart(html, position, datetime.now(UTC).date())


def day_in_chart(html: str, position: int, day: date) -> Decimal:
    figure = html.split("<figure>")[position + 1].split("</figure>")[0]
    found = re.search(rf'<td>{day.isoformat()}</td><td class="number">([^<]+)</td>', figure)
    assert found, f"no row for {day}"
    return Decimal(found.group(1).replace(",", ""))


def status_count(html: str, status: str) -> int:
    found = re.search(rf'<td>{status}</td><td class="number">(?:<a [^>]+>)?([^<]+)<', html)
    return int(found.group(1).replace(",", "")) if found else 0


async def service(db, rate: str, **upstream: object) -> int:
    async with db.write() as conn:
        category_id = await category_id_for(conn, "Dashboard tests")
        return await create_service(
            conn,
            category_id,
            name=unique("service"),
            type="Default",
            rate=to_micros(parse(rate)),
            min_quantity=10,
            max_quantity=10_000,
            **upstream,
        )


async def forwarded_service(db, rate: str, upstream_rate: str) -> int:
    async with db.write() as conn:
        provider_id = await add_provider(conn, unique("upstream"), "https://up.example", "k")
    return await service(
        db,
        rate,
        fulfilment="provider",
        provider_id=provider_id,
        provider_service_id="1",
        upstream_rate=to_micros(parse(upstream_rate)),
    )


async def worker_counts(db) -> None:
    """What the worker's job does every few minutes (it needs neither upstream nor settings)."""
    await keep_dashboard_figures(WorkerContext(db, None, None))  # type: ignore[arg-type]


async def test_dashboard_counts_and_money_follow_the_orders_placed_today(operator, db):
    await worker_counts(db)
    before = await operator.page("/admin")
    customer_id, _name = await customer_with_password(db, balance="50")
    manual = await service(db, rate="2")
    forwarded = await forwarded_service(db, rate="3", upstream_rate="1.2")
    async with db.write() as conn:
        fields = {"service": str(manual), "link": "https://x.example/a", "quantity": "1000"}
        await place_order(conn, customer_id, fields)  # 2.00, costs nothing
        fields = {"service": str(forwarded), "link": "https://x.example/b", "quantity": "500"}
        canceled = await place_order(conn, customer_id, fields)  # 1.50, refunded below
        fields = {"service": str(forwarded), "link": "https://x.example/c", "quantity": "500"}
        doubtful = await place_order(conn, customer_id, fields)  # 1.50, upstream cost 0.60
        await update_order(conn, canceled, status=CANCELED)
        # Sent without an answer: forwarding records its cost as it would for one taken.
        await conn.execute(
            update(orders)
            .where(orders.c.id == doubtful)
            .values(forward_state=FORWARD_IN_DOUBT, cost=to_micros(parse("0.60")))
        )
    counted_before = await operator.page("/admin")
    await worker_counts(db)
    after = await operator.page("/admin")

    # The statuses are the worker's count, shown with its time; the rest is counted live.
    assert status_count(counted_before, "Pending") == status_count(before, "Pending")
    assert card(counted_before, "orders-today") - card(before, "orders-today") == 3
    assert "As counted at" in after
    assert card(after, "orders-today") - card(before, "orders-today") == 3
    assert card(after, "revenue-today") - card(before, "revenue-today") == Decimal("3.50")
    assert card(after, "customers") - card(before, "customers") == 1
    assert card(after, "in-doubt") - card(before, "in-doubt") == 1
    assert today_in_chart(after, 0) - today_in_chart(before, 0) == 3
    assert today_in_chart(after, 1) - today_in_chart(before, 1) == Decimal("3.50")
    assert today_in_chart(after, 2) - today_in_chart(before, 2) == Decimal("2.90")
    assert status_count(after, "Pending") - status_count(before, "Pending") == 2
    assert status_count(after, "Canceled") - status_count(before, "Canceled") == 1


async def test_a_day_that_is_over_is_counted_once_then_read_as_kept(operator, db):
    """Days before yesterday come from daily_figures, written when missing from the orders
    and the ledger of that day, and not counted again."""
    customer_id, _name = await customer_with_password(db, balance="50")
    manual = await service(db, rate="2")
    day = datetime.now(UTC).date() - timedelta(days=5)
    kept = await operator.page("/admin")
    async with db.write() as conn:
        fields = {"service": str(manual), "link": "https://x.example/old", "quantity": "1000"}
        order_id = await place_order(conn, customer_id, fields)  # 2.00
        then = datetime.combine(day, time(12), tzinfo=UTC)
        await conn.execute(update(orders).where(orders.c.id == order_id).values(created_at=then))
        await conn.execute(
            update(ledger_entries)
            .where(ledger_entries.c.order_id == order_id)
            .values(created_at=then)
        )
    still_kept = await operator.page("/admin")
    async with db.write() as conn:
        await conn.execute(delete(daily_figures).where(daily_figures.c.day == day))
    counted = await operator.page("/admin")

    assert day_in_chart(still_kept, 0, day) == day_in_chart(kept, 0, day)
    assert day_in_chart(counted, 0, day) - day_in_chart(kept, 0, day) == 1
    assert day_in_chart(counted, 1, day) - day_in_chart(kept, 1, day) == Decimal("2.00")
    async with db.read() as conn:
        row = (await conn.execute(select(daily_figures).where(daily_figures.c.day == day))).one()
    assert row.orders == day_in_chart(counted, 0, day)


async def test_charts_are_well_formed_svg_with_titles(operator):
    html = await operator.page("/admin")
    charts = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(charts) == 3
    titles = []
    for chart in charts:
        svg = ET.fromstring(chart)
        titles.append(svg.find("{http://www.w3.org/2000/svg}title").text)
        assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 30
        assert svg.find("{http://www.w3.org/2000/svg}desc").text
    assert titles == ["Orders per day", "Revenue per day", "Profit per day"]


async def test_providers_are_listed_with_their_counts_and_names_escaped(operator, db):
    name = unique("<b>upstream</b>")
    async with db.write() as conn:
        await add_provider(conn, name, "https://up.example", "k")
    html = await operator.page("/admin")
    assert "<b>upstream</b>" not in html
    assert name in text_of(html)


async def test_the_dashboard_is_for_operators_only(browser, customer):
    response = await browser.get("/admin")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/signin")
    client, _id = customer
    response = await client.get("/admin")
    assert response.status_code == 303


async def test_the_dashboard_speaks_chinese(operator):
    await operator.get("/language/zh_TW")
    html = await operator.page("/admin")
    assert "今日訂單" in html and "每日訂單" in html
