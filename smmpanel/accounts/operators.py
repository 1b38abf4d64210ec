"""Operators: the people who run the panel from the admin pages."""

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import operators
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.errors import N_, check_fits, refusal

OPERATOR_NEEDS_NAME = refusal("operator_needs_name", "an operator needs a name")
OPERATOR_NAME_TAKEN = refusal("operator_name_taken", "an operator named %(name)r exists already")
NO_OPERATOR = refusal("no_operator", "no operator is named %(name)r; see `smmpanel operator list`")


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    password_hash: str


async def create_operator(conn: AsyncConnection, name: str, password_hash: str) -> int:
    name = name.strip()
    if not name:
        raise OPERATOR_NEEDS_NAME()
    check_fits(operators.c.name, name, N_("the name"))
    if await operator_by_name(conn, name) is not None:
        raise OPERATOR_NAME_TAKEN(name=name)
    return await conn.scalar(
        insert(operators)
        .values(name=name, password_hash=password_hash, created_at=utcnow())
        .returning(operators.c.id)
    )


async def operator_by_name(conn: AsyncConnection, name: str) -> Operator | None:
    row = (
        await conn.execute(
            select(operators.c.id, operators.c.name, operators.c.password_hash).where(
                operators.c.name == name.strip()
            )
        )
    ).first()
    return None if row is None else Operator(*row)


async def set_operator_password(conn: AsyncConnection, name: str, password_hash: str) -> None:
    result = await conn.execute(
        update(operators).where(operators.c.name == name).values(password_hash=password_hash)
    )
    if not result.rowcount:
        raise NO_OPERATOR(name=name)


async def list_operators(conn: AsyncConnection) -> list[AnyRow]:
    return list(
        await conn.execute(select(operators.c.id, operators.c.name, operators.c.created_at))
    )
