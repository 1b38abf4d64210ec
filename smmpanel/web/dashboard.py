"""Customer pages: the dashboard (balance, orders per status, the latest orders)."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.orders.counts import customer_status_counts
from smmpanel.pagekit.pages import CustomerVisit
from smmpanel.web.customer_orders_queries import recent_orders

router = APIRouter()
RECENT_ORDERS = 10


@router.get("/dashboard")
async def dashboard(current: CustomerVisit) -> Response:
    async with current.db.read() as conn:
        counts = await customer_status_counts(conn, current.customer_id)
        recent = await recent_orders(conn, current.customer_id, RECENT_ORDERS, current.language)
    return current.render(
        "web/dashboard.html", balance=current.balance, counts=counts, recent=recent
    )
