"""Signed-in browsers. The cookie carries a random token; the database keeps its digest."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Column, ColumnElement, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import (
    CUSTOMER_ACTIVE,
    OPERATOR_ACTIVE,
    customers,
    operators,
    web_sessions,
)
from smmpanel.db.base import utcnow

CUSTOMER_SESSION_DAYS = 14
OPERATOR_SESSION_HOURS = 12


@dataclass(frozen=True)
class SignedIn:
    """Who a session belongs to."""

    account_id: int
    name: str


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
        conn, token, customers, web_sessions.c.customer_id, customers.c.status == CUSTOMER_ACTIVE
    )


async def operator_of_session(conn: AsyncConnection, token: str) -> SignedIn | None:
    """The active operator a live session belongs to; a disabled one is signed out at once."""
    return await _owner(
        conn, token, operators, web_sessions.c.operator_id, operators.c.status == OPERATOR_ACTIVE
    )


async def _owner(
    conn: AsyncConnection,
    token: str,
    accounts: Table,
    owner_id: Column,
    *conditions: ColumnElement[bool],
) -> SignedIn | None:
    """The account of `accounts` a live session with this token belongs to."""
    row = (
        await conn.execute(
            select(accounts.c.id, accounts.c.name)
            .join(web_sessions, owner_id == accounts.c.id)
            .where(
                web_sessions.c.token_hash == _digest(token),
                web_sessions.c.expires_at > utcnow(),
                *conditions,
            )
        )
    ).first()
    return SignedIn(row.id, row.name) if row else None


async def end_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _digest(token)))
    await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= utcnow()))
