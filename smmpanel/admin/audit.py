"""The audit log on the pages: `note`, which every admin change calls in its write transaction,
and /admin/audit, the owner's list of who changed what, filtered and read a page at a time."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts.operator_audit import (
    AuditFilters,
    audit_actions,
    audit_query,
    operator_audit,
    record,
)
from smmpanel.accounts.operators import list_operators
from smmpanel.admin.keyset import AFTER, BEFORE, cursor_from, keyset_address, keyset_page
from smmpanel.db.base import MAX_INT64
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit.pages import OperatorVisit, Visit

router = APIRouter()
PATH = "/admin/audit"
PAGE_SIZE = 50
LONGEST_SEARCH = 100


async def note(
    conn: AsyncConnection, current: Visit, action: str, subject: str, detail: str = ""
) -> None:
    """Record that the signed-in operator made this change, in the change's transaction."""
    assert current.operator is not None
    await record(
        conn,
        operator_id=current.operator.account_id,
        action=action,
        subject=subject,
        detail=detail,
    )


@router.get(PATH)
async def audit_page(
    current: OperatorVisit, operator: str = "", action: str = "", subject: str = ""
) -> Response:
    operator_id = parse_positive_int(operator)
    if operator_id is not None and operator_id > MAX_INT64:
        operator_id = None
    filters = AuditFilters(
        operator_id=operator_id,
        action=action.strip()[:LONGEST_SEARCH],
        subject=subject.strip()[:LONGEST_SEARCH],
    )
    cursor = cursor_from(current.request.query_params)
    async with current.db.read() as conn:
        found = await keyset_page(
            conn, audit_query(filters), operator_audit.c.id, cursor, PAGE_SIZE
        )
        operators = await list_operators(conn)
        actions = await audit_actions(conn)
    typed = {
        "operator": "" if operator_id is None else str(operator_id),
        "action": filters.action,
        "subject": filters.subject,
    }
    return current.render(
        "admin/audit.html",
        found=found,
        typed=typed,
        operators=operators,
        actions=actions,
        page_url=lambda before=None, after=None: keyset_address(
            PATH, typed, **{BEFORE: before, AFTER: after}
        ),
    )
