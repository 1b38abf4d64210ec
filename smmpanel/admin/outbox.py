"""Operator page: the outbox, newest messages first, by status, with each one's attempts and
last error; and whether e-mail and Telegram are set up at all.

A message's body is not shown: a password reset or address check carries a single-use link
that is the customer's alone.
"""

from dataclasses import dataclass

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.db.base import AnyRow
from smmpanel.errors import N_, Refusal, refusal
from smmpanel.outbox.models import FAILED, PENDING, SENT, STATUSES, outbox
from smmpanel.pagekit import forms, i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit
from smmpanel.pagekit.pagination import list_address

router = APIRouter()
OUTBOX = "/admin/outbox"
PAGE_SIZE = 100
STATUS_LABELS = {PENDING: N_("Waiting"), SENT: N_("Sent"), FAILED: N_("Failed")}

CHOOSE_OUTBOX_STATUS = refusal(
    "form_choose_outbox_status", "Choose a message status from the list."
)


@dataclass(frozen=True)
class Listing:
    rows: list[AnyRow]
    older_than: int | None  # the id the next page starts below; None on the last page
    counts: dict[str, int]


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def chosen_status(typed: str) -> str | None:
    if typed and typed not in STATUSES:
        raise CHOOSE_OUTBOX_STATUS()
    return typed or None


async def find_messages(
    conn: AsyncConnection, status: str | None, before_id: int | None
) -> Listing:
    query = select(
        outbox.c.id,
        outbox.c.created_at,
        outbox.c.channel,
        outbox.c.kind,
        outbox.c.alert,
        outbox.c.recipient,
        outbox.c.subject,
        outbox.c.status,
        outbox.c.attempts,
        outbox.c.next_attempt_at,
        outbox.c.sent_at,
        outbox.c.last_error,
    )
    if status is not None:
        query = query.where(outbox.c.status == status)
    if before_id is not None:
        query = query.where(outbox.c.id < before_id)
    rows = list(await conn.execute(query.order_by(outbox.c.id.desc()).limit(PAGE_SIZE + 1)))
    counted = await conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    older_than = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return Listing(rows[:PAGE_SIZE], older_than, {row[0]: row[1] for row in counted})


@router.get(OUTBOX)
async def outbox_page(current: OperatorVisit) -> Response:
    typed_status = current.request.query_params.get("status", "").strip()
    before = current.request.query_params.get("before", "").strip()
    settings = current.pages.settings
    listing: Listing | None = None
    error: str | None = None
    try:
        status = chosen_status(typed_status)
    except Refusal as refused:
        error = i18n.explain(refused)
    else:
        async with current.db.read() as conn:
            listing = await find_messages(
                conn, status, int(before) if forms.is_id(before) else None
            )
    return current.render(
        "admin/outbox.html",
        400 if error else 200,
        listing=listing,
        error=error,
        typed_status=typed_status,
        before=before,
        statuses=STATUSES,
        status_label=status_label,
        mail_set_up=settings.smtp is not None,
        telegram_set_up=settings.telegram_configured,
        alert_addresses=settings.alert_addresses,
        first_page=list_address(OUTBOX, 1, status=typed_status),
        older_page=lambda before_id: list_address(OUTBOX, 1, status=typed_status, before=before_id),
    )
