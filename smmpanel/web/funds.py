"""Customer pages: funds (the panel's payment instructions and the customer's ledger)."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.service import balance_of
from smmpanel.pagekit.ledger import ledger_page
from smmpanel.pagekit.pages import CustomerVisit
from smmpanel.pagekit.pagination import list_address, page_number

router = APIRouter()


@router.get("/funds")
async def funds(current: CustomerVisit, page: str = "") -> Response:
    async with current.db.read() as conn:
        balance = await balance_of(conn, current.customer_id)
        entries = await ledger_page(conn, current.customer_id, page_number(page))
    return current.render(
        "web/funds.html",
        balance=balance,
        entries=entries,
        page_url=lambda number: list_address("/funds", number),
    )
