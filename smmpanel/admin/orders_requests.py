"""Operator pages: refill and cancel requests, answered through the same domain functions as
`smmpanel refill update` and `smmpanel cancel resolve`."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.admin.orders_forms import (
    check_remains,
    page_number,
    refund_message,
    status_label,
)
from smmpanel.admin.orders_queries import (
    cancel_requests_page,
    order_of_cancel_request,
    refill_requests,
)
from smmpanel.errors import Refusal, refusal
from smmpanel.orders.requests import resolve_cancel, update_refill
from smmpanel.orders.statuses import CANCEL_PENDING, REFILL_OPEN, REFILL_STATUSES
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import optional_count
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.pagekit.pagination import Page

router = APIRouter()

REFILLS = "/admin/refills"
CANCELS = "/admin/cancels"
ACCEPT, REJECT = "accept", "reject"

CHOOSE_REFILL_STATUS = refusal("form_choose_refill_status", "Choose a refill status from the list.")
ACCEPT_OR_REJECT = refusal("form_accept_or_reject", "Accept or reject the request.")
REMAINS_WHEN_REJECTING = refusal(
    "form_remains_when_rejecting",
    "Remains go with accepting only: a rejected request leaves the order as it is.",
)
NO_CANCEL_REQUEST = refusal("form_no_cancel_request", "There is no cancel request %(id)s.")
CANCEL_ANSWERED = refusal(
    "form_cancel_answered", "Cancel request %(id)s is answered already; nothing was changed."
)


async def _requests_page(
    current: Visit,
    path: str,
    read: Callable[[AsyncConnection, int], Awaitable[Page]],
    template: str,
    status_code: int,
    error: str | None,
    **context: object,
) -> Response:
    """One page of refill or cancel requests, the page number taken from the address."""
    try:
        number = page_number(current.request.query_params.get("page", ""))
    except Refusal as refused:
        number, status_code, error = 1, 400, i18n.explain(refused)
    async with current.db.read() as conn:
        found = await read(conn, number)
    return current.render(
        template,
        status_code,
        found=found,
        error=error,
        page_url=lambda number: f"{path}?page={number}",
        **context,
    )


# ---- refills


@router.get(REFILLS)
async def refills_page(current: OperatorVisit) -> Response:
    return await _refills_page(current)


async def _refills_page(
    current: Visit, status_code: int = 200, error: str | None = None
) -> Response:
    return await _requests_page(
        current,
        REFILLS,
        refill_requests,
        "admin/refills.html",
        status_code,
        error,
        statuses=REFILL_STATUSES,
        open_statuses=REFILL_OPEN,
    )


@router.post(REFILLS + "/{refill_id:id}")
async def change_refill(refill_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    status = str(form.get("status", ""))
    try:
        if status not in REFILL_STATUSES:
            raise CHOOSE_REFILL_STATUS()
        async with current.db.write() as conn:
            await update_refill(conn, refill_id, status)
            await note(conn, current, "refill.status", f"refill:{refill_id}", status)
    except Refusal as refused:
        return await _refills_page(current, status_code=400, error=i18n.explain(refused))
    message = _("Refill %(id)s is now %(status)s.") % {
        "id": refill_id,
        "status": status_label(status),
    }
    return current.redirect(REFILLS, message)


# ---- cancel requests


@router.get(CANCELS)
async def cancels_page(current: OperatorVisit) -> Response:
    return await _cancels_page(current)


async def _cancels_page(
    current: Visit, status_code: int = 200, error: str | None = None
) -> Response:
    return await _requests_page(
        current,
        CANCELS,
        cancel_requests_page,
        "admin/cancels.html",
        status_code,
        error,
        pending=CANCEL_PENDING,
    )


@router.post(CANCELS + "/{cancel_id:id}")
async def answer_cancel(cancel_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    decision = str(form.get("decision", ""))
    remains_text = str(form.get("remains", ""))
    try:
        async with current.db.write() as conn:
            message = await _answer(conn, cancel_id, decision, remains_text, current.panel.currency)
            detail = f"{decision} {remains_text}".strip()
            await note(conn, current, "cancel.answer", f"cancel:{cancel_id}", detail)
    except Refusal as refused:
        return await _cancels_page(current, status_code=400, error=i18n.explain(refused))
    return current.redirect(CANCELS, message)


async def _answer(
    conn: AsyncConnection, cancel_id: int, decision: str, remains_text: str, currency: str
) -> str:
    if decision not in (ACCEPT, REJECT):
        raise ACCEPT_OR_REJECT()
    remains = optional_count(remains_text, _("Remains"))
    if remains is not None and decision == REJECT:
        raise REMAINS_WHEN_REJECTING()
    order = await order_of_cancel_request(conn, cancel_id)
    if order is None:
        raise NO_CANCEL_REQUEST(id=cancel_id)
    if order.request_status != CANCEL_PENDING:
        raise CANCEL_ANSWERED(id=cancel_id)
    if remains is not None:
        check_remains(order, remains, becomes_partial=True)
    change = await resolve_cancel(conn, cancel_id, accept=decision == ACCEPT, remains=remains)
    names = {"id": cancel_id, "order": order.id, "status": status_label(change.status)}
    if decision == REJECT:
        return _("Cancel request %(id)s rejected: order %(order)s stays %(status)s.") % names
    accepted = _("Cancel request %(id)s accepted: order %(order)s is %(status)s.") % names
    return f"{accepted} {refund_message(change.refunded, currency)}"
