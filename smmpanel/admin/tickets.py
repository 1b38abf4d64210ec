"""Operator pages: the ticket queue (filters, pages by key), a ticket (reply with a canned reply,
assign, close, reopen) and the canned replies (add, change, remove)."""

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.errors import Refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.support import canned, queries
from smmpanel.support import tickets as support
from smmpanel.support.labels import STATUS_LABELS, SUBJECT_LABELS
from smmpanel.support.models import MESSAGE_LENGTH, STATUSES, TICKET_CLOSED

router = APIRouter()
LONGEST_SEARCH = 100
ASSIGNED_CHOICES = ("", queries.ASSIGNED_TO_ME, queries.UNASSIGNED)
CANNED_FIELDS = ("title", "body_en", "body_zh_tw")
EMPTY_CANNED = dict.fromkeys(CANNED_FIELDS, "")
CANNED_PATH = "/admin/canned-replies"


def ticket_path(ticket_id: int) -> str:
    return f"/admin/tickets/{ticket_id}"


def ticket_subject(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def canned_subject(reply_id: int) -> str:
    return f"canned_reply:{reply_id}"


def operator_id(current: Visit) -> int:
    assert current.operator is not None, "operator pages take an OperatorVisit"
    return current.operator.account_id


@router.get("/admin/tickets")
async def queue(
    current: OperatorVisit, status: str = "", assigned: str = "", q: str = "", before: str = ""
) -> Response:
    wanted = queries.QueueFilter(
        status=status if status in STATUSES else "",
        assigned=assigned if assigned in ASSIGNED_CHOICES else "",
        search=q.strip()[:LONGEST_SEARCH],
    )
    async with current.db.read() as conn:
        found = await queries.operator_queue(
            conn, operator_id(current), wanted, queries.position_of(before)
        )
    filters = {"status": wanted.status, "assigned": wanted.assigned, "q": wanted.search}
    return current.render(
        "admin/tickets.html",
        found=found,
        wanted=wanted,
        unread=current.operator_unread_tickets,
        statuses=STATUSES,
        subject_labels=SUBJECT_LABELS,
        status_labels=STATUS_LABELS,
        filters={name: value for name, value in filters.items() if value},
    )


@router.get("/admin/tickets/{ticket_id:id}")
async def ticket_page(current: OperatorVisit, ticket_id: int, canned_reply: str = "") -> Response:
    return await _ticket_page(current, ticket_id, canned_choice=canned_reply)


async def _ticket_page(
    current: Visit,
    ticket_id: int,
    *,
    error: str | None = None,
    typed: str = "",
    canned_choice: str = "",
) -> Response:
    async with current.db.read() as conn:
        ticket = await queries.ticket_by_id(conn, ticket_id)
        if ticket is None:
            raise HTTPException(404)
        messages = await queries.thread(conn, ticket_id)
        replies = await canned.list_canned_replies(conn)
    if ticket.operator_unread:
        async with current.db.write() as conn:
            await support.mark_read_by_operators(conn, ticket_id)
        # The header's count was read before this visit read the message.
        current.operator_unread_tickets = max(0, current.operator_unread_tickets - 1)
    return current.render(
        "admin/ticket.html",
        status_code=400 if error else 200,
        ticket=ticket,
        order_ids=support.order_ids_of(ticket.order_ids),
        messages=messages,
        replies=replies,
        closed=ticket.status == TICKET_CLOSED,
        mine=ticket.operator_id == operator_id(current),
        error=error,
        typed=typed or _canned_text(replies, canned_choice),
        canned_choice=canned_choice,
        subject_labels=SUBJECT_LABELS,
        status_labels=STATUS_LABELS,
        message_length=MESSAGE_LENGTH,
    )


def _canned_text(replies: list, choice: str) -> str:
    """The text of the canned reply chosen as `<id>-<language>`; empty if none matches."""
    reply_id, _, language = choice.partition("-")
    for reply in replies:
        if str(reply.id) == reply_id:
            return canned.body_in(reply, language)
    return ""


@router.post("/admin/tickets/{ticket_id:id}/reply")
async def reply(current: OperatorVisit, ticket_id: int) -> Response:
    form = await current.form()
    typed = text(form, "message")
    base_url = current.pages.settings.public_url or str(current.request.base_url)
    try:
        async with current.db.write() as conn:
            await support.operator_reply(
                conn, operator_id(current), ticket_id, typed, base_url=base_url
            )
            await note(conn, current, "ticket.reply", ticket_subject(ticket_id), typed)
    except Refusal as refused:
        return await _refused(current, ticket_id, refused, typed)
    return current.redirect(ticket_path(ticket_id), _("The reply is sent."))


@router.post("/admin/tickets/{ticket_id:id}/assign")
async def assign(current: OperatorVisit, ticket_id: int) -> Response:
    form = await current.form()
    to_me = text(form, "to") == queries.ASSIGNED_TO_ME
    try:
        async with current.db.write() as conn:
            await support.assign(conn, ticket_id, operator_id(current) if to_me else None)
            detail = "to me" if to_me else "to nobody"
            await note(conn, current, "ticket.assign", ticket_subject(ticket_id), detail)
    except Refusal as refused:
        return await _refused(current, ticket_id, refused)
    message = _("The ticket is yours.") if to_me else _("The ticket is assigned to nobody.")
    return current.redirect(ticket_path(ticket_id), message)


@router.post("/admin/tickets/{ticket_id:id}/close")
async def close(current: OperatorVisit, ticket_id: int) -> Response:
    await current.form()
    try:
        async with current.db.write() as conn:
            await support.close_ticket(conn, ticket_id)
            await note(conn, current, "ticket.close", ticket_subject(ticket_id))
    except Refusal as refused:
        return await _refused(current, ticket_id, refused)
    return current.redirect(ticket_path(ticket_id), _("The ticket is closed."))


@router.post("/admin/tickets/{ticket_id:id}/reopen")
async def reopen(current: OperatorVisit, ticket_id: int) -> Response:
    await current.form()
    try:
        async with current.db.write() as conn:
            await support.reopen_ticket(conn, ticket_id)
            await note(conn, current, "ticket.reopen", ticket_subject(ticket_id))
    except Refusal as refused:
        return await _refused(current, ticket_id, refused)
    return current.redirect(ticket_path(ticket_id), _("The ticket is open again."))


async def _refused(current: Visit, ticket_id: int, refused: Refusal, typed: str = "") -> Response:
    if refused.kind is support.NO_SUCH_TICKET:
        raise HTTPException(404)
    return await _ticket_page(current, ticket_id, error=i18n.explain(refused), typed=typed)


# ---- canned replies


@router.get(CANNED_PATH)
async def canned_list(current: OperatorVisit) -> Response:
    return await _canned_page(current)


@router.get(CANNED_PATH + "/{reply_id:id}")
async def canned_edit(current: OperatorVisit, reply_id: int) -> Response:
    async with current.db.read() as conn:
        try:
            found = await canned.canned_reply(conn, reply_id)
        except Refusal:
            raise HTTPException(404) from None
    typed = {name: str(getattr(found, name)) for name in CANNED_FIELDS}
    return await _canned_page(current, editing=reply_id, typed=typed)


async def _canned_page(
    current: Visit,
    *,
    editing: int | None = None,
    error: str | None = None,
    typed: dict[str, str] = EMPTY_CANNED,
) -> Response:
    async with current.db.read() as conn:
        replies = await canned.list_canned_replies(conn)
    return current.render(
        "admin/canned_replies.html",
        status_code=400 if error else 200,
        replies=replies,
        editing=editing,
        error=error,
        typed=typed,
        message_length=MESSAGE_LENGTH,
    )


@router.post(CANNED_PATH)
async def canned_add(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: text(form, name) for name in CANNED_FIELDS}
    try:
        async with current.db.write() as conn:
            reply_id = await canned.add_canned_reply(conn, canned.CannedReply(**typed))
            await note(conn, current, "canned_reply.add", canned_subject(reply_id), typed["title"])
    except Refusal as refused:
        return await _canned_page(current, error=i18n.explain(refused), typed=typed)
    return current.redirect(CANNED_PATH, _("The canned reply is added."))


@router.post(CANNED_PATH + "/{reply_id:id}")
async def canned_save(current: OperatorVisit, reply_id: int) -> Response:
    form = await current.form()
    typed = {name: text(form, name) for name in CANNED_FIELDS}
    try:
        async with current.db.write() as conn:
            await canned.change_canned_reply(conn, reply_id, canned.CannedReply(**typed))
            await note(conn, current, "canned_reply.edit", canned_subject(reply_id), typed["title"])
    except Refusal as refused:
        if refused.kind is canned.NO_SUCH_CANNED_REPLY:
            raise HTTPException(404) from None
        explained = i18n.explain(refused)
        return await _canned_page(current, editing=reply_id, error=explained, typed=typed)
    return current.redirect(CANNED_PATH, _("The canned reply is saved."))


@router.post(CANNED_PATH + "/{reply_id:id}/delete")
async def canned_remove(current: OperatorVisit, reply_id: int) -> Response:
    await current.form()
    try:
        async with current.db.write() as conn:
            await canned.remove_canned_reply(conn, reply_id)
            await note(conn, current, "canned_reply.remove", canned_subject(reply_id))
    except Refusal:
        raise HTTPException(404) from None
    return current.redirect(CANNED_PATH, _("The canned reply is removed."))
