"""Customer pages: the order list, one order's detail, its refill and cancel requests.

The new-order and mass-order pages live in their own modules and are served from here.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.catalog.service import customer_rate
from smmpanel.db.base import as_utc, utcnow
from smmpanel.errors import Refusal
from smmpanel.money import charge_micros
from smmpanel.orders.lifecycle import refunded_total
from smmpanel.orders.requests import request_cancel, request_refill
from smmpanel.orders.statuses import (
    ALL_STATUSES,
    CANCEL_PENDING,
    COMPLETED,
    PARTIAL,
    REFILL_OPEN,
    SUBSCRIPTIONS,
    is_finished,
)
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.pagekit.pagination import list_address, page_number
from smmpanel.pagekit.upstream_cancels import upstream_cancel
from smmpanel.web import customer_mass_order, customer_new_order
from smmpanel.web.customer_fields import type_fields
from smmpanel.web.customer_orders_queries import OrderFilters, OrdersPage, PageAt, orders_page
from smmpanel.web.customer_placing import explain_refusal
from smmpanel.web.customer_queries import (
    child_orders,
    order_cancel_requests,
    order_detail,
    order_refills,
)

router = APIRouter()
router.include_router(customer_new_order.router)
router.include_router(customer_mass_order.router)


def _page_at(page: str, before: str, after: str) -> PageAt:
    return PageAt(
        number=page_number(page),
        before=parse_positive_int(before),
        after=parse_positive_int(after),
    )


def _page_links(filters: OrderFilters, found: OrdersPage) -> Callable[[int], str]:
    """Page addresses for the list's links: the next page starts below this page's last order,
    the previous one above its first; the first page needs neither."""

    def address(number: int) -> str:
        cursor: dict[str, int | None] = {}
        if number > found.number:
            cursor = {"before": found.last_id}
        elif 1 < number < found.number:
            cursor = {"after": found.first_id}
        return list_address(
            "/orders",
            number,
            q=filters.search,
            status=filters.status,
            service=filters.service,
            **cursor,
        )

    return address


@router.get("/orders")
async def order_list(
    current: CustomerVisit,
    q: str = "",
    status: str = "",
    service: str = "",
    page: str = "",
    before: str = "",
    after: str = "",
) -> Response:
    filters = OrderFilters(
        search=q.strip(),
        status=status if status in ALL_STATUSES else "",
        service=service.strip(),
    )
    async with current.db.read() as conn:
        at = _page_at(page, before, after)
        found = await orders_page(conn, current.customer_id, filters, at, current.language)
    return current.render(
        "web/orders.html",
        filters=filters,
        found=found,
        statuses=ALL_STATUSES,
        page_url=_page_links(filters, found),
    )


async def _own_order(current: Visit, order_id: int) -> Row[Any]:
    """The signed-in customer's order of this id; anything else is a page not found."""
    async with current.db.read() as conn:
        order = await order_detail(conn, current.customer_id, order_id, current.language)
    if not order:
        raise HTTPException(404)
    return order


def _typed_fields(order: Row[Any]) -> list[tuple[str, str]]:
    """(label, value) of each field of the order's type that is set."""
    if order.type == SUBSCRIPTIONS:
        expiry = order.subscription_expiry
        values = {
            "username": order.subscription_username,
            "min": order.subscription_min,
            "max": order.subscription_max,
            "posts": order.subscription_posts,
            "delay": order.subscription_delay,
            "expiry": expiry.strftime("%d/%m/%Y") if expiry else None,
        }
    else:
        values = dict(order._mapping)
    return [
        (f.label, str(values[f.name]))
        for f in type_fields(order.type)
        if values.get(f.name) not in (None, "")
    ]


def _can_refill(order: Row[Any], refills: list) -> bool:
    """As orders.requests.request_refill allows it."""
    if not order.service_refill or order.status not in (COMPLETED, PARTIAL):
        return False
    finished = as_utc(order.finished_at or order.created_at)
    in_period = utcnow() <= finished + timedelta(days=order.refill_days)
    return in_period and not any(refill.status in REFILL_OPEN for refill in refills)


def _can_cancel(order: Row[Any], cancels: list) -> bool:
    """As orders.requests.request_cancel allows it."""
    if not order.service_cancel or is_finished(order.status):
        return False
    return not any(cancel.status == CANCEL_PENDING for cancel in cancels)


async def _per_post_charge(conn: AsyncConnection, order: Row[Any]) -> tuple[int, int] | None:
    """What each post of a subscription without a post limit costs at the customer's rate
    now, for its least and most quantity per post; None when nothing is charged per post."""
    if order.type != SUBSCRIPTIONS or order.subscription_posts is not None:
        return None
    rate = await customer_rate(conn, order.customer_id, order.service_id)
    least, most = order.subscription_min, order.subscription_max
    return charge_micros(rate, least), charge_micros(rate, most)


@router.get("/orders/{order_id:id}")
async def order_page(order_id: int, current: CustomerVisit) -> Response:
    order = await _own_order(current, order_id)
    async with current.db.read() as conn:
        children = await child_orders(conn, order.id)
        refills = await order_refills(conn, order.id)
        cancels = await order_cancel_requests(conn, order.id)
        refunded = await refunded_total(conn, order.id)
        per_post = await _per_post_charge(conn, order)
    return current.render(
        "web/order_detail.html",
        order=order,
        typed_fields=_typed_fields(order),
        children=children,
        refills=refills,
        cancels=cancels,
        refunded=refunded,
        per_post=per_post,
        can_refill=_can_refill(order, refills),
        can_cancel=_can_cancel(order, cancels),
        upstream_cancel=upstream_cancel,
    )


async def _ask(
    current: Visit,
    order_id: int,
    request: Callable[[AsyncConnection, int, int], Awaitable[object]],
    done: Callable[[object], str],
) -> Response:
    """Ask a refill or a cancel of the customer's order; `done` says what became of it."""
    await current.form()
    order = await _own_order(current, order_id)
    try:
        async with current.db.write() as conn:
            asked = await request(conn, current.customer_id, order.id)
    except Refusal as refused:
        return current.redirect(f"/orders/{order.id}", explain_refusal(refused), "error")
    return current.redirect(f"/orders/{order.id}", done(asked))


@router.post("/orders/{order_id:id}/refill")
async def ask_refill(order_id: int, current: CustomerVisit) -> Response:
    return await _ask(
        current,
        order_id,
        request_refill,
        lambda refill_id: _("Refill %(id)s requested.") % {"id": refill_id},
    )


@router.post("/orders/{order_id:id}/cancel")
async def ask_cancel(order_id: int, current: CustomerVisit) -> Response:
    return await _ask(
        current,
        order_id,
        request_cancel,
        lambda _asked: _("Cancel requested. Once accepted, what was not delivered is refunded."),
    )
