"""Customer pages: support tickets (the list and a new ticket, one ticket's thread, replying and
closing). A customer sees only their own tickets: another's id answers the 404 page."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.errors import Refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import is_id, not_found, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.support import queries
from smmpanel.support import tickets as support
from smmpanel.support.labels import STATUS_LABELS, SUBJECT_LABELS
from smmpanel.support.models import MESSAGE_LENGTH, SUBJECTS, TICKET_CLOSED, TITLE_LENGTH

router = APIRouter()
NEW_TICKET_FIELDS = ("subject", "title", "message", "order_ids")


def ticket_path(ticket_id: int) -> str:
    return f"/tickets/{ticket_id}"


def base_url(current: Visit) -> str:
    return current.pages.settings.public_url or str(current.request.base_url)


@router.get("/tickets")
async def ticket_list(current: CustomerVisit, before: str = "", order: str = "") -> Response:
    """The list; `order` (from an order's page, "Ask about this order") fills in the new
    ticket's order id and subject. Whose order it is, is checked when the ticket is opened."""
    asked = {"subject": "order", "order_ids": order} if is_id(order) else None
    return await _list_page(current, before=before, typed=asked)


async def _list_page(
    current: Visit,
    *,
    before: str = "",
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with current.db.read() as conn:
        found = await queries.customer_tickets(
            conn, current.customer_id, queries.position_of(before)
        )
    return current.render(
        "web/tickets.html",
        status_code=400 if error else 200,
        found=found,
        unread=current.customer_unread_tickets,
        error=error,
        typed=typed or {},
        subjects=SUBJECTS,
        subject_labels=SUBJECT_LABELS,
        status_labels=STATUS_LABELS,
        title_length=TITLE_LENGTH,
        message_length=MESSAGE_LENGTH,
    )


@router.post("/tickets")
async def open_ticket(current: CustomerVisit) -> Response:
    form = await current.form()
    typed = {name: text(form, name) for name in NEW_TICKET_FIELDS}
    try:
        async with current.db.write() as conn:
            ticket_id = await support.open_ticket(
                conn, current.customer_id, support.NewTicket(**typed), base_url=base_url(current)
            )
    except Refusal as refused:
        return await _list_page(current, error=i18n.explain(refused), typed=typed)
    message = _("Your ticket is open. We answer here, and by e-mail if you gave an address.")
    return current.redirect(ticket_path(ticket_id), message)


@router.get("/tickets/{ticket_id:id}")
async def ticket_page(current: CustomerVisit, ticket_id: int) -> Response:
    return await _ticket_page(current, ticket_id)


async def _ticket_page(
    current: Visit, ticket_id: int, *, error: str | None = None, typed: str = ""
) -> Response:
    async with current.db.read() as conn:
        ticket = await queries.ticket_by_id(conn, ticket_id)
        if ticket is None or ticket.customer_id != current.customer_id:
            return not_found(current)
        messages = await queries.thread(conn, ticket_id)
    if ticket.customer_unread:
        async with current.db.write() as conn:
            await support.mark_read_by_customer(conn, ticket_id)
        # The header's count was read before this visit read the reply.
        current.customer_unread_tickets = max(0, current.customer_unread_tickets - 1)
    return current.render(
        "web/ticket.html",
        status_code=400 if error else 200,
        ticket=ticket,
        order_ids=support.order_ids_of(ticket.order_ids),
        messages=messages,
        closed=ticket.status == TICKET_CLOSED,
        error=error,
        typed=typed,
        subject_labels=SUBJECT_LABELS,
        status_labels=STATUS_LABELS,
        message_length=MESSAGE_LENGTH,
    )


@router.post("/tickets/{ticket_id:id}/reply")
async def reply(current: CustomerVisit, ticket_id: int) -> Response:
    form = await current.form()
    typed = text(form, "message")
    try:
        async with current.db.write() as conn:
            await support.customer_reply(conn, current.customer_id, ticket_id, typed)
    except Refusal as refused:
        if refused.kind is support.NO_SUCH_TICKET:
            return not_found(current)
        return await _ticket_page(current, ticket_id, error=i18n.explain(refused), typed=typed)
    return current.redirect(ticket_path(ticket_id), _("Your message is sent."))


@router.post("/tickets/{ticket_id:id}/close")
async def close(current: CustomerVisit, ticket_id: int) -> Response:
    await current.form()
    try:
        async with current.db.write() as conn:
            await support.close_ticket(conn, ticket_id, customer_id=current.customer_id)
    except Refusal as refused:
        if refused.kind is support.NO_SUCH_TICKET:
            return not_found(current)
        return await _ticket_page(current, ticket_id, error=i18n.explain(refused))
    message = _("The ticket is closed. Write in it again to open it again.")
    return current.redirect(ticket_path(ticket_id), message)
