"""What happens to a ticket: a customer opens it and replies, operators answer, assign, close
and reopen it; each side's unread count. A customer is throttled: a few tickets an hour, a few
messages a minute, counted in the database under a lock of the customer's row, so that
simultaneous posts cannot all pass.

The messages a change tells about (an alert of a new ticket, the customer's e-mail of a reply)
are queued in the same transaction, so they exist exactly when the change does.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ScalarSelect, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.db.dialect import locked, one_of
from smmpanel.errors import N_, refusal
from smmpanel.orders.models import orders
from smmpanel.outbox.languages import mail_language
from smmpanel.outbox.queue import queue_alert, queue_mail
from smmpanel.support.models import (
    MESSAGE_LENGTH,
    SUBJECTS,
    TICKET_ANSWERED,
    TICKET_CLOSED,
    TICKET_OPEN,
    TITLE_LENGTH,
    ticket_messages,
    tickets,
)

TICKETS_PER_HOUR = 5
MESSAGES_PER_MINUTE = 5
MAX_ORDER_IDS = 20
ORDER_ID = re.compile(r"#?([0-9]{1,18})")
CUSTOMER_TICKET_PATH = "/tickets/{id}"
OPERATOR_TICKET_PATH = "/admin/tickets/{id}"

UNKNOWN_SUBJECT = refusal("ticket_unknown_subject", "Choose what the ticket is about.")
TEXT_MISSING = refusal("ticket_text_missing", "%(field)s: this field is required.")
TEXT_TOO_LONG = refusal(
    "ticket_text_too_long", "%(field)s is %(length)s characters long; at most %(limit)s fit."
)
NOT_AN_ORDER_ID = refusal(
    "ticket_not_an_order_id", "“%(text)s” is not an order id: write order ids like 123, 456."
)
TOO_MANY_ORDER_IDS = refusal(
    "ticket_too_many_order_ids", "A ticket may name at most %(count)s orders."
)
NOT_YOUR_ORDER = refusal("ticket_not_your_order", "You have no order %(id)s.")
NO_SUCH_TICKET = refusal("ticket_not_found", "There is no ticket %(id)s.")
TOO_MANY_TICKETS = refusal(
    "ticket_too_many_tickets",
    "You opened %(count)s tickets in the last hour. Please wait before opening another,"
    " or add to an open one.",
)
TOO_MANY_MESSAGES = refusal(
    "ticket_too_many_messages",
    "You sent %(count)s messages in the last minute. Please wait a minute and send it again.",
)
ALREADY_CLOSED = refusal("ticket_already_closed", "The ticket is closed already.")
NOT_CLOSED = refusal("ticket_not_closed", "The ticket is not closed.")


@dataclass(frozen=True)
class NewTicket:
    """What a customer typed to open a ticket."""

    subject: str
    title: str
    message: str
    order_ids: str = ""


async def open_ticket(
    conn: AsyncConnection, customer_id: int, typed: NewTicket, *, base_url: str
) -> int:
    """A new ticket with its first message; an alert for the operators. Its id."""
    if typed.subject not in SUBJECTS:
        raise UNKNOWN_SUBJECT()
    title = bounded_text(typed.title, N_("Title"), TITLE_LENGTH)
    body = bounded_text(typed.message, N_("Message"), MESSAGE_LENGTH)
    order_ids = parse_order_ids(typed.order_ids)
    customer_name = await _lock_customer(conn, customer_id)
    await _check_ticket_pace(conn, customer_id)
    await _check_message_pace(conn, customer_id)
    await _check_orders_are_theirs(conn, customer_id, order_ids)
    now = utcnow()
    ticket_id: int = await conn.scalar(
        insert(tickets)
        .values(
            customer_id=customer_id,
            subject=typed.subject,
            title=title,
            status=TICKET_OPEN,
            order_ids=",".join(map(str, order_ids)),
            created_at=now,
            updated_at=now,
            operator_unread=True,
        )
        .returning(tickets.c.id)
    )
    await _add_message(conn, ticket_id, body, customer_id=customer_id)
    url = base_url.rstrip("/") + OPERATOR_TICKET_PATH.format(id=ticket_id)
    context = {"ticket_id": str(ticket_id), "customer": customer_name, "subject": title, "url": url}
    await queue_alert(conn, kind="new_ticket", dedup_key=f"ticket:{ticket_id}", context=context)
    return ticket_id


async def customer_reply(
    conn: AsyncConnection, customer_id: int, ticket_id: int, text: str
) -> None:
    """The customer writes again: the ticket is open (again), waiting for an operator."""
    body = bounded_text(text, N_("Message"), MESSAGE_LENGTH)
    await _lock_customer(conn, customer_id)
    await _ticket_of(conn, ticket_id, customer_id)
    await _check_message_pace(conn, customer_id)
    await _add_message(conn, ticket_id, body, customer_id=customer_id)
    await _change(conn, ticket_id, status=TICKET_OPEN, operator_unread=True, customer_unread=False)


async def operator_reply(
    conn: AsyncConnection, operator_id: int, ticket_id: int, text: str, *, base_url: str
) -> None:
    """An operator answers: the ticket waits for the customer, who is told by e-mail if they
    have an address."""
    body = bounded_text(text, N_("Message"), MESSAGE_LENGTH)
    ticket = await _ticket_of(conn, ticket_id)
    message_id = await _add_message(conn, ticket_id, body, operator_id=operator_id)
    await _change(
        conn, ticket_id, status=TICKET_ANSWERED, customer_unread=True, operator_unread=False
    )
    await _mail_the_customer(conn, ticket, message_id, base_url)


async def close_ticket(
    conn: AsyncConnection, ticket_id: int, *, customer_id: int | None = None
) -> None:
    """Closed by its customer (`customer_id`) or by an operator."""
    ticket = await _ticket_of(conn, ticket_id, customer_id)
    if ticket.status == TICKET_CLOSED:
        raise ALREADY_CLOSED()
    await _change(conn, ticket_id, status=TICKET_CLOSED)


async def reopen_ticket(conn: AsyncConnection, ticket_id: int) -> None:
    """An operator opens a closed ticket again: it waits for an operator."""
    ticket = await _ticket_of(conn, ticket_id)
    if ticket.status != TICKET_CLOSED:
        raise NOT_CLOSED()
    await _change(conn, ticket_id, status=TICKET_OPEN)


async def assign(conn: AsyncConnection, ticket_id: int, operator_id: int | None) -> None:
    """The ticket is taken by this operator, or by nobody (None). Not a change the customer
    sees, so the queue's order stays."""
    await _ticket_of(conn, ticket_id)
    await conn.execute(
        update(tickets).where(tickets.c.id == ticket_id).values(operator_id=operator_id)
    )


async def mark_read_by_customer(conn: AsyncConnection, ticket_id: int) -> None:
    await conn.execute(
        update(tickets)
        .where(tickets.c.id == ticket_id, tickets.c.customer_unread)
        .values(customer_unread=False)
    )


async def mark_read_by_operators(conn: AsyncConnection, ticket_id: int) -> None:
    await conn.execute(
        update(tickets)
        .where(tickets.c.id == ticket_id, tickets.c.operator_unread)
        .values(operator_unread=False)
    )


def unread_for_customer() -> ScalarSelect[int]:
    """The customer's tickets with a reply they have not read (their tickets' index entries),
    as a column of a query over `customers`."""
    query = select(func.count()).where(
        tickets.c.customer_id == customers.c.id, tickets.c.customer_unread
    )
    return query.scalar_subquery()


def unread_for_operators() -> ScalarSelect[int]:
    """Tickets with a customer's message no operator has read yet (ix_tickets_operator_unread),
    as a column of any query."""
    return select(func.count()).where(tickets.c.operator_unread).scalar_subquery()


def bounded_text(text: str, field: str, limit: int) -> str:
    """What a person typed, trimmed, required and at most `limit` characters."""
    value = text.strip()
    if not value:
        raise TEXT_MISSING(field=field)
    if len(value) > limit:
        raise TEXT_TOO_LONG(field=field, length=len(value), limit=limit)
    return value


def parse_order_ids(text: str) -> list[int]:
    """Order ids as a customer writes them: separated by commas or spaces, `#` allowed."""
    found: list[int] = []
    for part in re.split(r"[\s,;、，]+", text.strip()):
        if not part:
            continue
        matched = ORDER_ID.fullmatch(part)
        if matched is None or int(matched.group(1)) == 0:
            raise NOT_AN_ORDER_ID(text=part[:30])
        found.append(int(matched.group(1)))
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_ORDER_IDS:
        raise TOO_MANY_ORDER_IDS(count=MAX_ORDER_IDS)
    return unique


def order_ids_of(stored: str) -> list[int]:
    """A ticket's order ids as stored."""
    return [int(part) for part in stored.split(",") if part]


async def _lock_customer(conn: AsyncConnection, customer_id: int) -> str:
    """The customer's name, their row locked until commit: their posts are counted in turn."""
    query = locked(conn, select(customers.c.name).where(customers.c.id == customer_id))
    name: str = (await conn.execute(query)).scalar_one()
    return name


async def _check_ticket_pace(conn: AsyncConnection, customer_id: int) -> None:
    since = utcnow() - timedelta(hours=1)
    opened = await conn.scalar(
        select(func.count()).where(
            tickets.c.customer_id == customer_id, tickets.c.created_at > since
        )
    )
    if (opened or 0) >= TICKETS_PER_HOUR:
        raise TOO_MANY_TICKETS(count=opened)


async def _check_message_pace(conn: AsyncConnection, customer_id: int) -> None:
    since = utcnow() - timedelta(minutes=1)
    sent = await conn.scalar(
        select(func.count()).where(
            ticket_messages.c.customer_id == customer_id, ticket_messages.c.created_at > since
        )
    )
    if (sent or 0) >= MESSAGES_PER_MINUTE:
        raise TOO_MANY_MESSAGES(count=sent)


async def _check_orders_are_theirs(
    conn: AsyncConnection, customer_id: int, order_ids: list[int]
) -> None:
    if not order_ids:
        return
    query = select(orders.c.id).where(
        one_of(conn, orders.c.id, order_ids), orders.c.customer_id == customer_id
    )
    theirs = set((await conn.execute(query)).scalars())
    for order_id in order_ids:
        if order_id not in theirs:
            raise NOT_YOUR_ORDER(id=order_id)


async def _ticket_of(
    conn: AsyncConnection, ticket_id: int, customer_id: int | None = None
) -> AnyRow:
    """The ticket, of this customer when one is named; else refused as unknown."""
    query = select(tickets).where(tickets.c.id == ticket_id)
    if customer_id is not None:
        query = query.where(tickets.c.customer_id == customer_id)
    ticket = (await conn.execute(query)).first()
    if ticket is None:
        raise NO_SUCH_TICKET(id=ticket_id)
    return ticket


async def _add_message(
    conn: AsyncConnection,
    ticket_id: int,
    body: str,
    *,
    customer_id: int | None = None,
    operator_id: int | None = None,
) -> int:
    message_id: int = await conn.scalar(
        insert(ticket_messages)
        .values(
            ticket_id=ticket_id,
            customer_id=customer_id,
            operator_id=operator_id,
            body=body,
            created_at=utcnow(),
        )
        .returning(ticket_messages.c.id)
    )
    return message_id


async def _change(conn: AsyncConnection, ticket_id: int, **values: object) -> None:
    await conn.execute(
        update(tickets).where(tickets.c.id == ticket_id).values(updated_at=utcnow(), **values)
    )


async def _mail_the_customer(
    conn: AsyncConnection, ticket: AnyRow, message_id: int, base_url: str
) -> None:
    customer = (
        await conn.execute(
            select(customers.c.name, customers.c.email, customers.c.language).where(
                customers.c.id == ticket.customer_id
            )
        )
    ).one()
    if not customer.email:
        return
    language = await mail_language(conn, customer.language)
    url = base_url.rstrip("/") + CUSTOMER_TICKET_PATH.format(id=ticket.id)
    await queue_mail(
        conn,
        to=customer.email,
        language=language,
        kind="ticket_reply",
        context={
            "name": customer.name,
            "ticket_id": str(ticket.id),
            "subject": ticket.title,
            "url": url,
        },
        dedup_key=f"ticket_reply:{message_id}",
    )
