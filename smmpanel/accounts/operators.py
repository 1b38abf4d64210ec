"""Operators: the people who run the panel from the admin pages."""

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import operators
from smmpanel.db.base import utcnow
from smmpanel.errors import DomainError, check_fits


class OperatorError(DomainError):
    """A refused change to operators."""


async def create_operator(conn: AsyncConnection, name: str, password_hash: str) -> int:
    name = name.strip()
    if not name:
        raise OperatorError("an operator needs a name")
    check_fits(operators.c.name, name, "the name")
    if await operator_by_name(conn, name) is not None:
        raise OperatorError(f"an operator named {name!r} exists already")
    return await conn.scalar(
        insert(operators)
        .values(name=name, password_hash=password_hash, created_at=utcnow())
        .returning(operators.c.id)
    )


async def operator_by_name(conn: AsyncConnection, name: str):  # type: ignore[no-untyped-def]
    """The operator's id and password hash, or None."""
    return (
        await conn.execute(
            select(operators.c.id, operators.c.name, operators.c.password_hash).where(
                operators.c.name == name.strip()
            )
        )
    ).first()


async def set_operator_password(conn: AsyncConnection, name: str, password_hash: str) -> None:
    result = await conn.execute(
        update(operators).where(operators.c.name == name).values(password_hash=password_hash)
    )
    if not result.rowcount:
        raise OperatorError(f"no operator is named {name!r}; see `smmpanel operator list`")


async def list_operators(conn: AsyncConnection) -> list:
    return list(
        await conn.execute(select(operators.c.id, operators.c.name, operators.c.created_at))
    )
