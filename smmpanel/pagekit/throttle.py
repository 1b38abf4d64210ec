"""Sign-in throttling: too many failures for one name, or from one address, refuse for a while.

Failures live in the database so every web process of the panel counts the same ones.
"""

from datetime import timedelta

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import sign_in_failures
from smmpanel.db.base import utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20


def _normal(name: str) -> str:
    return name.strip().lower()[:254]


async def is_throttled(conn: AsyncConnection, name: str, address: str) -> bool:
    per_name = await _recent_failures(conn, sign_in_failures.c.name == _normal(name))
    if per_name >= MAX_FAILURES_PER_NAME:
        return True
    per_address = await _recent_failures(conn, sign_in_failures.c.address == address[:64])
    return per_address >= MAX_FAILURES_PER_ADDRESS


async def _recent_failures(conn: AsyncConnection, whose: ColumnElement[bool]) -> int:
    recent = sign_in_failures.c.created_at > utcnow() - WINDOW
    return (await conn.execute(select(func.count()).where(recent, whose))).scalar_one()


async def record_failure(conn: AsyncConnection, name: str, address: str) -> None:
    now = utcnow()
    await conn.execute(
        delete(sign_in_failures).where(sign_in_failures.c.created_at <= now - WINDOW)
    )
    await conn.execute(
        insert(sign_in_failures).values(name=_normal(name), address=address[:64], created_at=now)
    )


async def forget_failures(conn: AsyncConnection, name: str) -> None:
    """After a successful sign-in, that name's failures no longer count (its address's still do,
    so signing in to one's own account does not reset guessing at others)."""
    await conn.execute(delete(sign_in_failures).where(sign_in_failures.c.name == _normal(name)))
