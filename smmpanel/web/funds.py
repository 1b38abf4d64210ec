"""Customer pages: funds (the panel's payment instructions and the customer's ledger)."""

import re

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.service import balance_of
from smmpanel.web.customer_fields import N_
from smmpanel.web.customer_queries import ledger_page
from smmpanel.web.i18n import gettext as _
from smmpanel.web.pages import CustomerVisit
from smmpanel.web.pagination import list_address, page_number

router = APIRouter()
# The ledger's kinds (accounts.models.LEDGER_KINDS) as the page names them.
KIND_LABELS = {
    "deposit": N_("Deposit"),
    "charge": N_("Order charge"),
    "refund": N_("Refund"),
    "adjustment": N_("Adjustment"),
}

# The reasons the panel itself writes (orders.placement, orders.lifecycle, accounts.service);
# an operator's own words are shown as typed.
_ORDER_REASON = re.compile(r"order (\d+)(?: (partial|cancel))?")
ORDER_REASONS = {
    None: N_("Order %(id)s"),
    "partial": N_("Order %(id)s, refund of what was not delivered"),
    "cancel": N_("Order %(id)s, refund of the cancel"),
}


def describe_reason(reason: str) -> str:
    if reason == "opening balance":
        return _("Opening balance")
    found = _ORDER_REASON.fullmatch(reason)
    if found is None:
        return reason
    return _(ORDER_REASONS[found.group(2)]) % {"id": found.group(1)}


@router.get("/funds")
async def funds(current: CustomerVisit, page: str = "") -> Response:
    async with current.db.read() as conn:
        balance = await balance_of(conn, current.customer_id)
        entries = await ledger_page(conn, current.customer_id, page_number(page))
    return current.render(
        "web/funds.html",
        balance=balance,
        entries=entries,
        kind_labels=KIND_LABELS,
        describe_reason=describe_reason,
        page_url=lambda number: list_address("/funds", number),
    )
