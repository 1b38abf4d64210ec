"""Operators: the people who run the panel from the admin pages.

An operator is active, disabled (cannot sign in until enabled again) or removed. A removed
operator keeps its row, so whatever refers to it still does, but loses its name key: it cannot
sign in, is no longer listed, and its name may be given to a new operator. Whatever stops an
operator or changes its password ends its sessions.
"""

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import (
    OPERATOR_ACTIVE,
    OPERATOR_DISABLED,
    OPERATOR_REMOVED,
    operators,
    web_sessions,
)
from smmpanel.accounts.names import check_new_name, name_key
from smmpanel.db.base import AnyRow, utcnow
from smmpanel.db.dialect import insert_or_ignore, locked
from smmpanel.errors import N_, check_fits, refusal

OPERATOR_NEEDS_NAME = refusal("operator_needs_name", "an operator needs a name")
OPERATOR_NAME_TAKEN = refusal("operator_name_taken", "an operator named %(name)r exists already")
NO_OPERATOR = refusal("no_operator", "no operator is named %(name)r; see `smmpanel operator list`")
LAST_ACTIVE_OPERATOR = refusal(
    "last_active_operator",
    "%(name)r is the only active operator: nobody could sign in to the admin pages. "
    "Add another first with `smmpanel operator add NAME`",
)


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    status: str
    password_hash: str


async def create_operator(conn: AsyncConnection, name: str, password_hash: str) -> int:
    name = name.strip()
    if not name:
        raise OPERATOR_NEEDS_NAME()
    check_new_name(name)
    check_fits(operators.c.name, name, N_("the name"))
    key = name_key(name)
    check_fits(operators.c.name_key, key, N_("the name"))
    operator_id = await conn.scalar(
        insert_or_ignore(conn, operators)
        .values(name=name, name_key=key, password_hash=password_hash, created_at=utcnow())
        .returning(operators.c.id)
    )
    if operator_id is None:
        raise OPERATOR_NAME_TAKEN(name=name)
    return operator_id


async def operator_by_name(conn: AsyncConnection, name: str) -> Operator | None:
    """The operator, active or disabled, of this name as names are compared; None if removed."""
    row = (
        await conn.execute(
            select(
                operators.c.id, operators.c.name, operators.c.status, operators.c.password_hash
            ).where(operators.c.name_key == name_key(name))
        )
    ).first()
    return None if row is None else Operator(*row)


async def set_operator_password(conn: AsyncConnection, name: str, password_hash: str) -> None:
    operator = await _known_operator(conn, name)
    await conn.execute(
        update(operators).where(operators.c.id == operator.id).values(password_hash=password_hash)
    )
    await _end_sessions(conn, operator.id)


async def disable_operator(conn: AsyncConnection, name: str) -> str:
    """Stop an operator from signing in, at once; its name as stored."""
    return await _stop(conn, name, status=OPERATOR_DISABLED)


async def remove_operator(conn: AsyncConnection, name: str) -> str:
    """Remove an operator for good, freeing its name; its name as stored."""
    return await _stop(conn, name, status=OPERATOR_REMOVED, name_key=None)


async def enable_operator(conn: AsyncConnection, name: str) -> str:
    operator = await _known_operator(conn, name)
    await conn.execute(
        update(operators).where(operators.c.id == operator.id).values(status=OPERATOR_ACTIVE)
    )
    return operator.name


async def _stop(conn: AsyncConnection, name: str, **values: object) -> str:
    operator = await _known_operator(conn, name)
    # Locked, so two operators stopped at once cannot both see the other still active.
    active = await conn.execute(
        locked(conn, select(operators.c.id).where(operators.c.status == OPERATOR_ACTIVE))
    )
    others_active = [row.id for row in active if row.id != operator.id]
    if operator.status == OPERATOR_ACTIVE and not others_active:
        raise LAST_ACTIVE_OPERATOR(name=operator.name)
    await conn.execute(update(operators).where(operators.c.id == operator.id).values(**values))
    await _end_sessions(conn, operator.id)
    return operator.name


async def _known_operator(conn: AsyncConnection, name: str) -> Operator:
    operator = await operator_by_name(conn, name)
    if operator is None:
        raise NO_OPERATOR(name=name)
    return operator


async def _end_sessions(conn: AsyncConnection, operator_id: int) -> None:
    await conn.execute(delete(web_sessions).where(web_sessions.c.operator_id == operator_id))


async def list_operators(conn: AsyncConnection) -> list[AnyRow]:
    """Every operator not removed, with its status."""
    return list(
        await conn.execute(
            select(operators.c.id, operators.c.name, operators.c.status, operators.c.created_at)
            .where(operators.c.status != OPERATOR_REMOVED)
            .order_by(operators.c.id)
        )
    )
