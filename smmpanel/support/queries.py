"""What the ticket pages read: a customer's tickets, the operators' queue, one ticket's thread.

Lists go newest-updated first, a page at a time by the key (updated_at, id): a page starts
below where the last one ended, read from the index of its filter.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers, operators
from smmpanel.db.base import MAX_INT64, AnyRow, as_utc
from smmpanel.support.models import STATUSES, ticket_messages, tickets

PAGE_SIZE = 50
# The latest messages of a thread shown; throttling keeps a thread far shorter in practice.
THREAD_MESSAGES = 200
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ASSIGNED_TO_ME, UNASSIGNED = "me", "none"

TICKET_COLUMNS = (
    tickets.c.id,
    tickets.c.customer_id,
    tickets.c.subject,
    tickets.c.title,
    tickets.c.status,
    tickets.c.operator_id,
    tickets.c.order_ids,
    tickets.c.created_at,
    tickets.c.updated_at,
    tickets.c.customer_unread,
    tickets.c.operator_unread,
)


@dataclass(frozen=True)
class Position:
    """Where a list's page starts: below this (updated_at, id)."""

    updated_at: datetime
    ticket_id: int

    def token(self) -> str:
        return f"{(as_utc(self.updated_at) - EPOCH) // timedelta(microseconds=1)}-{self.ticket_id}"


@dataclass(frozen=True)
class TicketPage:
    rows: list[AnyRow]
    older: str | None  # the token of the next (older) page; None on the last


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""  # one of STATUSES, or "" for any
    assigned: str = ""  # ASSIGNED_TO_ME, UNASSIGNED, or "" for anyone
    search: str = ""  # a ticket id, or part of the customer's name


def position_of(token: str) -> Position | None:
    """The position a page's address names; anything unreadable is the first page."""
    micros, _, ticket_id = token.partition("-")
    if not (micros.isdigit() and ticket_id.isdigit() and len(micros) < 19 and len(ticket_id) < 19):
        return None
    try:
        return Position(EPOCH + timedelta(microseconds=int(micros)), int(ticket_id))
    except OverflowError:  # past the year 9999
        return None


async def customer_tickets(
    conn: AsyncConnection, customer_id: int, start: Position | None
) -> TicketPage:
    query = select(*TICKET_COLUMNS).where(tickets.c.customer_id == customer_id)
    return await _page(conn, query, start)


async def operator_queue(
    conn: AsyncConnection, operator_id: int, wanted: QueueFilter, start: Position | None
) -> TicketPage:
    assignee = operators.alias("assignee")
    query = (
        select(
            *TICKET_COLUMNS,
            customers.c.name.label("customer_name"),
            assignee.c.name.label("operator_name"),
        )
        .join(customers, customers.c.id == tickets.c.customer_id)
        .outerjoin(assignee, assignee.c.id == tickets.c.operator_id)
    )
    if wanted.status in STATUSES:
        query = query.where(tickets.c.status == wanted.status)
    if wanted.assigned == ASSIGNED_TO_ME:
        query = query.where(tickets.c.operator_id == operator_id)
    elif wanted.assigned == UNASSIGNED:
        query = query.where(tickets.c.operator_id.is_(None))
    if wanted.search:
        query = query.where(_matches(wanted.search))
    return await _page(conn, query, start)


def _matches(search: str) -> ColumnElement[bool]:
    found = [func.lower(customers.c.name).contains(search.lower(), autoescape=True)]
    number = search.removeprefix("#")
    if number.isdigit() and len(number) <= 18 and int(number) <= MAX_INT64:
        found.append(tickets.c.id == int(number))
    return or_(*found)


async def _page(conn: AsyncConnection, query: Select, start: Position | None) -> TicketPage:
    if start is not None:
        query = query.where(
            or_(
                tickets.c.updated_at < start.updated_at,
                and_(tickets.c.updated_at == start.updated_at, tickets.c.id < start.ticket_id),
            )
        )
    query = query.order_by(tickets.c.updated_at.desc(), tickets.c.id.desc()).limit(PAGE_SIZE + 1)
    rows = list((await conn.execute(query)).all())
    if len(rows) <= PAGE_SIZE:
        return TicketPage(rows, None)
    last = rows[PAGE_SIZE - 1]
    return TicketPage(rows[:PAGE_SIZE], Position(last.updated_at, last.id).token())


async def ticket_by_id(conn: AsyncConnection, ticket_id: int) -> AnyRow | None:
    """The ticket with its customer's name and e-mail and its operator's name, or None."""
    assignee = operators.alias("assignee")
    query = (
        select(
            *TICKET_COLUMNS,
            customers.c.name.label("customer_name"),
            customers.c.email.label("customer_email"),
            assignee.c.name.label("operator_name"),
        )
        .join(customers, customers.c.id == tickets.c.customer_id)
        .outerjoin(assignee, assignee.c.id == tickets.c.operator_id)
        .where(tickets.c.id == ticket_id)
    )
    return (await conn.execute(query)).first()


async def thread(conn: AsyncConnection, ticket_id: int) -> list[AnyRow]:
    """The ticket's latest messages, oldest first, each with its author's name."""
    query = (
        select(
            ticket_messages.c.id,
            ticket_messages.c.body,
            ticket_messages.c.created_at,
            ticket_messages.c.customer_id,
            ticket_messages.c.operator_id,
            func.coalesce(customers.c.name, operators.c.name).label("author"),
        )
        .outerjoin(customers, customers.c.id == ticket_messages.c.customer_id)
        .outerjoin(operators, operators.c.id == ticket_messages.c.operator_id)
        .where(ticket_messages.c.ticket_id == ticket_id)
        .order_by(ticket_messages.c.id.desc())
        .limit(THREAD_MESSAGES)
    )
    return list((await conn.execute(query)).all())[::-1]
