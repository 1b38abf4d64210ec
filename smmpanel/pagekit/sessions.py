"""Signed-in browsers. The cookie carries a random token; the database keeps its digest."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, ScalarSelect, Table, delete, insert, null, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import (
    CUSTOMER_ACTIVE,
    OPERATOR_ACTIVE,
    customers,
    operators,
    web_sessions,
)
from smmpanel.db.base import utcnow
from smmpanel.support.tickets import unread_for_customer, unread_for_operators

CUSTOMER_SESSION_DAYS = 14
OPERATOR_SESSION_HOURS = 12


@dataclass(frozen=True)
class SignedIn:
    """Who a session belongs to."""

    account_id: int
    name: str
    # The account's own IANA zone; None: the panel's default.
    time_zone: str | None = None
    # An operator's role (admin/roles.py), read with the session; None for a customer.
    role: str | None = None
    # Tickets with news for this account (a customer's replies, any operator's messages).
    unread_tickets: int = 0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_customer_session(conn: AsyncConnection, customer_id: int) -> str:
    return await _start(conn, timedelta(days=CUSTOMER_SESSION_DAYS), customer_id=customer_id)


async def start_operator_session(conn: AsyncConnection, operator_id: int) -> str:
    return await _start(conn, timedelta(hours=OPERATOR_SESSION_HOURS), operator_id=operator_id)


async def _start(conn: AsyncConnection, lifetime: timedelta, **account: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await conn.execute(
        insert(web_sessions).values(
            token_hash=_digest(token), created_at=now, expires_at=now + lifetime, **account
        )
    )
    return token


async def customer_of_session(conn: AsyncConnection, token: str) -> SignedIn | None:
    """The active customer a live session belongs to; a suspended customer is signed out."""
    return await _owner(
        conn,
        token,
        customers,
        web_sessions.c.customer_id,
        null(),
        unread_for_customer(),
        customers.c.status == CUSTOMER_ACTIVE,
    )


async def operator_of_session(conn: AsyncConnection, token: str) -> SignedIn | None:
    """The active operator a live session belongs to; a disabled one is signed out at once."""
    return await _owner(
        conn,
        token,
        operators,
        web_sessions.c.operator_id,
        operators.c.role,
        unread_for_operators(),
        operators.c.status == OPERATOR_ACTIVE,
    )


async def _owner(
    conn: AsyncConnection,
    token: str,
    accounts: Table,
    owner_id: Column,
    role: ColumnElement[Any],
    unread: ScalarSelect[int],
    *conditions: ColumnElement[bool],
) -> SignedIn | None:
    """The account of `accounts` a live session with this token belongs to, with what the
    pages' headers show of it, in one statement."""
    row = (
        await conn.execute(
            select(
                accounts.c.id,
                accounts.c.name,
                accounts.c.time_zone,
                role.label("role"),
                unread.label("unread"),
            )
            .join(web_sessions, owner_id == accounts.c.id)
            .where(
                web_sessions.c.token_hash == _digest(token),
                web_sessions.c.expires_at > utcnow(),
                *conditions,
            )
        )
    ).first()
    return SignedIn(row.id, row.name, row.time_zone, row.role, row.unread) if row else None


async def end_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _digest(token)))
    await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= utcnow()))


@dataclass(frozen=True)
class SessionShown:
    """One of a customer's signed-in browsers, as their account page lists it."""

    created_at: datetime
    expires_at: datetime
    current: bool


async def customer_sessions(
    conn: AsyncConnection, customer_id: int, current_token: str | None
) -> list[SessionShown]:
    """The customer's live sessions, newest first; `current` marks the one of `current_token`."""
    current = _digest(current_token) if current_token else None
    rows = await conn.execute(
        select(web_sessions.c.token_hash, web_sessions.c.created_at, web_sessions.c.expires_at)
        .where(web_sessions.c.customer_id == customer_id, web_sessions.c.expires_at > utcnow())
        .order_by(web_sessions.c.id.desc())
    )
    return [SessionShown(row.created_at, row.expires_at, row.token_hash == current) for row in rows]


async def end_customer_sessions(
    conn: AsyncConnection, customer_id: int, keep_token: str | None = None
) -> None:
    """Sign the customer out everywhere, or everywhere but the session of `keep_token`."""
    query = delete(web_sessions).where(web_sessions.c.customer_id == customer_id)
    if keep_token is not None:
        query = query.where(web_sessions.c.token_hash != _digest(keep_token))
    await conn.execute(query)
