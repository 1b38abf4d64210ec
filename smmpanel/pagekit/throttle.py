"""Throttling of sign-ins (too many failures for one name, or from one address, refuse for a
while) and of sign-ups (so many accounts per address per hour).

Attempts live in the database so every web process of the panel counts the same ones. An
attempt is recorded, and committed, before it is judged: each attempt then counts every one
committed before it, itself included, so however many arrive at once, at most the limit pass.
"""

from datetime import timedelta

from sqlalchemy import ColumnElement, Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import sign_in_failures, sign_ups
from smmpanel.accounts.names import name_key
from smmpanel.db.base import utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20
SIGN_UP_WINDOW = timedelta(hours=1)


def throttle_key(prefix: str, name: str) -> str:
    """What failures are counted under: the account's kind and its name as names are compared,
    so " admin" and "ADMIN" count against the same account as "admin"."""
    return (prefix + name_key(name))[:254]  # as long as sign_in_failures.name


def _address(address: str) -> str:
    return address[:64]  # as long as the tables' `address`


async def record_attempt(conn: AsyncConnection, key: str, address: str) -> int:
    """Count a sign-in as failed before its password is checked; the attempt's id."""
    return await _record(conn, sign_in_failures, WINDOW, name=key, address=_address(address))


async def is_throttled(conn: AsyncConnection, key: str, address: str) -> bool:
    """Whether an attempt recorded (and committed) is one too many, for its name or address."""
    per_name = await _recent(conn, sign_in_failures, WINDOW, sign_in_failures.c.name == key)
    if per_name > MAX_FAILURES_PER_NAME:
        return True
    same_address = sign_in_failures.c.address == _address(address)
    return await _recent(conn, sign_in_failures, WINDOW, same_address) > MAX_FAILURES_PER_ADDRESS


async def drop_attempt(conn: AsyncConnection, attempt_id: int) -> None:
    """An attempt whose password was not checked, or was right, is no failure."""
    await _drop(conn, sign_in_failures, attempt_id)


async def forget_failures(conn: AsyncConnection, key: str) -> None:
    """After a successful sign-in, that name's failures no longer count (its address's still do,
    so signing in to one's own account does not reset guessing at others)."""
    await conn.execute(delete(sign_in_failures).where(sign_in_failures.c.name == key))


async def record_sign_up(conn: AsyncConnection, address: str) -> int:
    """Count a sign-up from this address before it is judged; its id."""
    return await _record(conn, sign_ups, SIGN_UP_WINDOW, address=_address(address))


async def too_many_sign_ups(conn: AsyncConnection, address: str, allowed: int) -> bool:
    """Whether a sign-up recorded (and committed) is past the address's allowance."""
    from_address = sign_ups.c.address == _address(address)
    return await _recent(conn, sign_ups, SIGN_UP_WINDOW, from_address) > allowed


async def drop_sign_up(conn: AsyncConnection, sign_up_id: int) -> None:
    """A sign-up refused for being too many does not count, so waiting out the hour works."""
    await _drop(conn, sign_ups, sign_up_id)


async def _record(conn: AsyncConnection, attempts: Table, window: timedelta, **values: str) -> int:
    """Forget the attempts older than the window, then record this one; its id."""
    now = utcnow()
    await conn.execute(delete(attempts).where(attempts.c.created_at <= now - window))
    inserted = insert(attempts).values(created_at=now, **values).returning(attempts.c.id)
    return await conn.scalar(inserted)


async def _drop(conn: AsyncConnection, attempts: Table, attempt_id: int) -> None:
    await conn.execute(delete(attempts).where(attempts.c.id == attempt_id))


async def _recent(
    conn: AsyncConnection, attempts: Table, window: timedelta, whose: ColumnElement[bool]
) -> int:
    recent = attempts.c.created_at > utcnow() - window
    return (await conn.execute(select(func.count()).where(recent, whose))).scalar_one()
