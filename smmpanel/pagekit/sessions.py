"""Signed-in browsers. The cookie carries a random token; the database keeps its digest."""

import hashlib
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    RowMapping,
    ScalarSelect,
    Select,
    Subquery,
    Table,
    bindparam,
    delete,
    insert,
    null,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import (
    CUSTOMER_ACTIVE,
    OPERATOR_ACTIVE,
    customers,
    operators,
    web_sessions,
)
from smmpanel.db.base import utcnow
from smmpanel.panel.models import panel_settings
from smmpanel.panel.service import PanelSettings
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
    # A customer's balance (millionths) as the visit began; None for an operator.
    balance: int | None = None


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


def _owner_query(
    token: str,
    accounts: Table,
    owner_id: Column,
    role: ColumnElement[Any],
    balance: ColumnElement[Any],
    unread: ScalarSelect[int],
    *conditions: ColumnElement[bool],
) -> Subquery:
    """The account of `accounts` a live session belongs to, with what the pages show of it;
    bound to the digest `token` and to `now` when run."""
    return (
        select(
            accounts.c.id,
            accounts.c.name,
            accounts.c.time_zone,
            role.label("role"),
            balance.label("balance"),
            unread.label("unread"),
        )
        .join(web_sessions, owner_id == accounts.c.id)
        .where(
            web_sessions.c.token_hash == bindparam(token),
            web_sessions.c.expires_at > bindparam("now"),
            *conditions,
        )
        .subquery(token)
    )


# An active customer's session: a suspended customer is signed out.
_CUSTOMER_OF_SESSION = _owner_query(
    "customer_token",
    customers,
    web_sessions.c.customer_id,
    null(),
    customers.c.balance,
    unread_for_customer(),
    customers.c.status == CUSTOMER_ACTIVE,
)
# An active operator's session: a disabled one is signed out at once.
_OPERATOR_OF_SESSION = _owner_query(
    "operator_token",
    operators,
    web_sessions.c.operator_id,
    operators.c.role,
    null(),
    unread_for_operators(),
    operators.c.status == OPERATOR_ACTIVE,
)
# PanelSettings' fields are panel_settings' columns of the same names (panel.service.get_settings).
_PANEL_COLUMNS = [panel_settings.c[setting.name] for setting in fields(PanelSettings)]


@dataclass(frozen=True)
class Visitor:
    """What every page starts from: the panel's settings and who is signed in."""

    panel: PanelSettings
    customer: SignedIn | None
    operator: SignedIn | None


async def visitor(
    conn: AsyncConnection, customer_token: str | None, operator_token: str | None
) -> Visitor:
    """The panel's settings and the sessions of these tokens (none when empty), in one
    statement: each costs a page some 400 µs of CPU (measured on PostgreSQL)."""
    query = _visitor_query(bool(customer_token), bool(operator_token))
    tokens = {"customer_token": customer_token, "operator_token": operator_token}
    params = {name: _digest(token) for name, token in tokens.items() if token}
    row = (await conn.execute(query, {**params, "now": utcnow()})).one()._mapping
    return Visitor(
        panel=PanelSettings(**{column.name: row[column] for column in _PANEL_COLUMNS}),
        customer=_signed_in(row, _CUSTOMER_OF_SESSION) if customer_token else None,
        operator=_signed_in(row, _OPERATOR_OF_SESSION) if operator_token else None,
    )


# Built once for each set of tokens: SQLAlchemy keeps a statement's cache key, which it would
# compute again for every new statement object.
@lru_cache(maxsize=4)
def _visitor_query(with_customer: bool, with_operator: bool) -> Select[Any]:
    query = select(*_PANEL_COLUMNS).select_from(panel_settings)
    if with_customer:
        query = query.outerjoin(_CUSTOMER_OF_SESSION, true()).add_columns(*_CUSTOMER_OF_SESSION.c)
    if with_operator:
        query = query.outerjoin(_OPERATOR_OF_SESSION, true()).add_columns(*_OPERATOR_OF_SESSION.c)
    return query


def _signed_in(row: RowMapping, owner: Subquery) -> SignedIn | None:
    if row[owner.c.id] is None:
        return None
    return SignedIn(
        account_id=row[owner.c.id],
        name=row[owner.c.name],
        time_zone=row[owner.c.time_zone],
        role=row[owner.c.role],
        unread_tickets=row[owner.c.unread],
        balance=row[owner.c.balance],
    )


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
