"""The audit log: which operator changed what on the admin pages, and when.

A row is written by `record` in the same write transaction as the change it tells of, so the
log holds a row exactly when the change happened. `subject` names what was changed the same
way everywhere ("customer:12", "order:5", "service:3", "settings"), so that a search for a
subject finds every change to it.
"""

from dataclasses import dataclass

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from smmpanel.accounts.models import operators
from smmpanel.db.base import BigId, Timestamp, metadata, utcnow

ACTION_LENGTH = 40
SUBJECT_LENGTH = 100
DETAIL_LENGTH = 2000

operator_audit = Table(
    "operator_audit",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("operator_id", BigId, ForeignKey("operators.id"), nullable=False),
    Column("action", String(ACTION_LENGTH), nullable=False),
    Column("subject", String(SUBJECT_LENGTH), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Column("created_at", Timestamp, nullable=False),
    # The page lists newest first, all of it or one operator's or one action's rows.
    Index("ix_operator_audit_operator_id_id", "operator_id", "id"),
    Index("ix_operator_audit_action_id", "action", "id"),
)


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page is narrowed to; empty: everything."""

    operator_id: int | None = None
    action: str = ""
    subject: str = ""


async def record(
    conn: AsyncConnection, *, operator_id: int, action: str, subject: str, detail: str = ""
) -> None:
    """One change made by an operator, in the caller's transaction."""
    await conn.execute(
        insert(operator_audit).values(
            operator_id=operator_id,
            action=action[:ACTION_LENGTH],
            subject=subject[:SUBJECT_LENGTH],
            detail=detail[:DETAIL_LENGTH],
            created_at=utcnow(),
        )
    )


def audit_query(filters: AuditFilters) -> Select:
    """The rows the page shows, with the operator's name, for `admin.keyset.keyset_page`."""
    query = select(
        operator_audit.c.id,
        operator_audit.c.operator_id,
        operators.c.name.label("operator"),
        operator_audit.c.action,
        operator_audit.c.subject,
        operator_audit.c.detail,
        operator_audit.c.created_at,
    ).join(operators, operators.c.id == operator_audit.c.operator_id)
    if filters.operator_id is not None:
        query = query.where(operator_audit.c.operator_id == filters.operator_id)
    if filters.action:
        query = query.where(operator_audit.c.action == filters.action)
    if filters.subject:
        needle = filters.subject.lower()
        query = query.where(func.lower(operator_audit.c.subject).contains(needle, autoescape=True))
    return query


async def audit_actions(conn: AsyncConnection) -> list[str]:
    """Every action the log holds, for the page's filter."""
    rows = await conn.execute(
        select(operator_audit.c.action).distinct().order_by(operator_audit.c.action)
    )
    return [row.action for row in rows]
